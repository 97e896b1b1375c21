// Implementation of the server-side authentication state machine.
#include "protocol/server_auth.h"

#include "protocol/handshake.h"

namespace ql::protocol {
namespace {
constexpr char kFastAuthSuccess = 0x03;
constexpr char kPerformFullAuth = 0x04;
constexpr uint8_t kRequestPublicKey = 0x02;
}  // namespace

ServerAuthenticator::Step ServerAuthenticator::Start(std::string_view client_plugin,
                                                     std::string_view auth_response,
                                                     std::optional<std::string> password) {
  password_ = std::move(password);
  if (client_plugin.empty()) client_plugin = kNativePasswordPlugin;
  if (client_plugin == kNativePasswordPlugin || client_plugin == kCachingSha2Plugin) {
    return Verify(client_plugin, auth_response);
  }
  // A plugin we do not speak (ed25519, clear text...): ask for ours instead.
  plugin_ = options_.default_plugin;
  to_send_.clear();
  EncodeAuthSwitchRequest(to_send_, plugin_, options_.nonce);
  state_ = State::kAwaitSwitchResponse;
  return Step::kSendAndWait;
}

ServerAuthenticator::Step ServerAuthenticator::OnClientPacket(ByteSpan payload) {
  switch (state_) {
    case State::kAwaitSwitchResponse:
      return Verify(plugin_, AsStringView(payload));
    case State::kAwaitFullAuth:
      if (options_.tls_active) {
        std::string_view clear = AsStringView(payload);
        if (!clear.empty() && clear.back() == '\0') clear.remove_suffix(1);
        return CheckClearPassword(clear);
      }
      if (payload.size() == 1 && payload[0] == kRequestPublicKey && options_.rsa) {
        to_send_.clear();
        EncodeAuthMoreData(to_send_, options_.rsa->public_key_pem());
        state_ = State::kAwaitRsaPassword;
        return Step::kSendAndWait;
      }
      return Fail();
    case State::kAwaitRsaPassword: {
      auto clear = options_.rsa->DecryptPassword(AsStringView(payload), options_.nonce);
      if (!clear.ok()) return Fail();
      return CheckClearPassword(*clear);
    }
    default:
      return Fail();
  }
}

ServerAuthenticator::Step ServerAuthenticator::Verify(std::string_view plugin,
                                                      std::string_view response) {
  // `plugin` may view plugin_ itself (after an AuthSwitchRequest): copy, then
  // use only plugin_.
  plugin_ = std::string(plugin);
  to_send_.clear();
  if (!password_) return Fail();
  if (plugin_ == kNativePasswordPlugin) {
    bool ok = ConstantTimeEquals(response, NativePasswordScramble(*password_, options_.nonce));
    state_ = State::kDone;
    return ok ? Step::kSucceeded : Fail();
  }
  // caching_sha2_password. An empty password has an empty scramble and is
  // accepted at once, as MySQL does.
  if (password_->empty()) return response.empty() ? Step::kSucceeded : Fail();
  if (!ConstantTimeEquals(response, CachingSha2Scramble(*password_, options_.nonce))) {
    return Fail();
  }
  if (options_.fast_path_allowed) {
    EncodeAuthMoreData(to_send_, std::string_view(&kFastAuthSuccess, 1));
    state_ = State::kDone;
    return Step::kSucceeded;
  }
  EncodeAuthMoreData(to_send_, std::string_view(&kPerformFullAuth, 1));
  state_ = State::kAwaitFullAuth;
  return Step::kSendAndWait;
}

ServerAuthenticator::Step ServerAuthenticator::CheckClearPassword(std::string_view candidate) {
  state_ = State::kDone;
  to_send_.clear();
  if (password_ && ConstantTimeEquals(candidate, *password_)) {
    completed_full_auth_ = true;
    return Step::kSucceeded;
  }
  return Fail();
}

ServerAuthenticator::Step ServerAuthenticator::Fail() {
  state_ = State::kDone;
  to_send_.clear();
  return Step::kFailed;
}

}  // namespace ql::protocol
