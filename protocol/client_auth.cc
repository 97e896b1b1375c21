// Implementation of the client-side authentication state machine.
#include "protocol/client_auth.h"

#include "absl/strings/str_cat.h"
#include "protocol/auth_crypto.h"
#include "protocol/constants.h"
#include "protocol/generic_packets.h"

namespace ql::protocol {

std::string ClientAuthenticator::Scramble(std::string_view plugin) const {
  if (plugin == kCachingSha2Plugin) return CachingSha2Scramble(credentials_.password, nonce_);
  return NativePasswordScramble(credentials_.password, nonce_);
}

void ClientAuthenticator::BuildResponse(const HandshakeV10& greeting, uint32_t caps,
                                        uint32_t mariadb_caps, uint8_t charset, Bytes& out) {
  nonce_ = greeting.auth_plugin_data;
  plugin_ = greeting.auth_plugin_name == kCachingSha2Plugin ? std::string(kCachingSha2Plugin)
                                                            : std::string(kNativePasswordPlugin);
  HandshakeResponse41 resp;
  resp.capabilities = caps | cap::kProtocol41 | cap::kSecureConnection | cap::kPluginAuth;
  if (!credentials_.database.empty()) resp.capabilities |= cap::kConnectWithDb;
  else resp.capabilities &= ~cap::kConnectWithDb;
  resp.capabilities &= ~cap::kConnectAttrs;
  resp.max_packet_size = 1u << 30;
  resp.character_set = charset;
  resp.mariadb_capabilities = mariadb_caps;
  resp.username = credentials_.username;
  resp.auth_response = Scramble(plugin_);
  resp.database = credentials_.database;
  resp.auth_plugin_name = plugin_;
  EncodeHandshakeResponse41(out, resp);
}

ClientAuthenticator::Step ClientAuthenticator::OnServerPacket(ByteSpan payload) {
  to_send_.clear();
  if (payload.empty()) return Fail(absl::InvalidArgumentError("empty packet during authentication"));
  switch (payload[0]) {
    case kOkHeader:
      final_ok_.assign(payload.begin(), payload.end());
      return Step::kSucceeded;
    case kErrHeader:
      server_error_.assign(payload.begin(), payload.end());
      if (auto err = DecodeErr(payload); err.ok()) {
        return Fail(absl::PermissionDeniedError(
            absl::StrCat("backend refused login: ", err->error_code, " ", Sv(err->message))));
      }
      return Fail(absl::PermissionDeniedError("backend refused login"));
    case kAuthSwitchHeader: {
      auto sw = DecodeAuthSwitchRequest(payload);
      if (!sw.ok()) return Fail(sw.status());
      if (sw->plugin_name != kNativePasswordPlugin && sw->plugin_name != kCachingSha2Plugin) {
        return Fail(absl::UnimplementedError(
            absl::StrCat("backend asked for unsupported auth plugin '", sw->plugin_name, "'")));
      }
      plugin_ = sw->plugin_name;
      nonce_ = sw->plugin_data;
      std::string s = Scramble(plugin_);
      to_send_.assign(s.begin(), s.end());
      return Step::kSendAndWait;
    }
    case kAuthMoreDataHeader: {
      std::string_view data = AsStringView(payload.subspan(1));
      if (awaiting_public_key_) {
        auto encrypted = RsaEncryptPassword(data, credentials_.password, nonce_);
        if (!encrypted.ok()) return Fail(encrypted.status());
        to_send_.assign(encrypted->begin(), encrypted->end());
        awaiting_public_key_ = false;
        return Step::kSendAndWait;
      }
      if (plugin_ == kCachingSha2Plugin && data.size() == 1 && data[0] == 0x03) {
        return Step::kWait;  // fast auth succeeded; OK follows
      }
      if (plugin_ == kCachingSha2Plugin && data.size() == 1 && data[0] == 0x04) {
        if (tls_active_) {
          to_send_.assign(credentials_.password.begin(), credentials_.password.end());
          to_send_.push_back(0);
        } else {
          to_send_.push_back(0x02);  // ask for the server's public key
          awaiting_public_key_ = true;
        }
        return Step::kSendAndWait;
      }
      return Fail(absl::UnimplementedError("unexpected AuthMoreData from backend"));
    }
    default:
      return Fail(absl::InvalidArgumentError("unexpected packet during backend authentication"));
  }
}

ClientAuthenticator::Step ClientAuthenticator::Fail(absl::Status status) {
  error_ = std::move(status);
  return Step::kFailed;
}

}  // namespace ql::protocol
