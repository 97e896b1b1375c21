// Implementation of the connection-phase packet codecs.
#include "protocol/handshake.h"

#include <algorithm>

#include "protocol/constants.h"

namespace ql::protocol {
namespace {

// Strips the NUL that servers append to a nonce or plugin data.
std::string TrimTrailingNul(std::string_view s) {
  if (!s.empty() && s.back() == '\0') s.remove_suffix(1);
  return std::string(s);
}

// Reads a NUL-terminated string that some peers leave unterminated at the end.
std::string_view NulOrRest(WireReader& r) {
  if (r.AtEnd()) return {};
  size_t before = r.remaining();
  WireReader probe = r;
  std::string_view s = probe.NulString();
  if (probe.ok()) {
    r.Skip(before - probe.remaining());
    return s;
  }
  return r.Rest();
}

}  // namespace

absl::StatusOr<HandshakeV10> DecodeHandshakeV10(ByteSpan payload) {
  WireReader r(payload);
  HandshakeV10 hs;
  hs.protocol_version = r.U8();
  if (r.ok() && hs.protocol_version != 10) {
    return absl::InvalidArgumentError("unsupported handshake protocol version");
  }
  hs.server_version = std::string(r.NulString());
  hs.connection_id = r.U32();
  std::string nonce(r.Fixed(8));
  r.U8();  // filler
  hs.capabilities = r.U16();
  if (r.ok() && !r.AtEnd()) {
    hs.character_set = r.U8();
    hs.status_flags = r.U16();
    hs.capabilities |= uint32_t(r.U16()) << 16;
    uint8_t plugin_data_len = r.U8();
    r.Skip(6);
    uint32_t ext = r.U32();
    if (!(hs.capabilities & cap::kLongPassword)) hs.mariadb_capabilities = ext;
    if (hs.capabilities & cap::kSecureConnection) {
      size_t part2 = std::max<int>(13, int(plugin_data_len) - 8);
      part2 = std::min(part2, r.remaining());
      nonce += r.Fixed(part2);
    }
    if (hs.capabilities & cap::kPluginAuth) hs.auth_plugin_name = std::string(NulOrRest(r));
  }
  if (absl::Status s = r.Finish("HandshakeV10"); !s.ok()) return s;
  hs.auth_plugin_data = TrimTrailingNul(nonce);
  return hs;
}

void EncodeHandshakeV10(Bytes& out, const HandshakeV10& hs) {
  WireWriter w(out);
  w.U8(10);
  w.NulString(hs.server_version);
  w.U32(hs.connection_id);
  std::string_view nonce = hs.auth_plugin_data;
  w.Raw(nonce.substr(0, 8));
  w.U8(0);
  w.U16(uint16_t(hs.capabilities));
  w.U8(hs.character_set);
  w.U16(hs.status_flags);
  w.U16(uint16_t(hs.capabilities >> 16));
  w.U8(uint8_t(nonce.size() + 1));
  w.Zeros(6);
  w.U32((hs.capabilities & cap::kLongPassword) ? 0 : hs.mariadb_capabilities);
  std::string_view part2 = nonce.size() > 8 ? nonce.substr(8) : std::string_view();
  w.Raw(part2);
  // Part 2 is at least 13 bytes, NUL included.
  w.Zeros(part2.size() + 1 >= 13 ? 1 : 13 - part2.size());
  w.NulString(hs.auth_plugin_name);
}

bool IsSslRequest(ByteSpan payload) {
  if (payload.size() != kSslRequestSize) return false;
  WireReader r(payload);
  return (r.U32() & cap::kSsl) != 0;
}

absl::StatusOr<HandshakeResponse41> DecodeHandshakeResponse41(ByteSpan payload) {
  WireReader r(payload);
  HandshakeResponse41 resp;
  resp.capabilities = r.U32();
  if (r.ok() && !(resp.capabilities & cap::kProtocol41)) {
    return absl::InvalidArgumentError("client does not speak protocol 4.1");
  }
  resp.max_packet_size = r.U32();
  resp.character_set = r.U8();
  r.Skip(19);
  uint32_t ext = r.U32();
  if (!(resp.capabilities & cap::kLongPassword)) resp.mariadb_capabilities = ext;
  resp.username = std::string(r.NulString());
  if (resp.capabilities & cap::kPluginAuthLenencClientData) {
    resp.auth_response = std::string(r.LenEncString());
  } else if (resp.capabilities & cap::kSecureConnection) {
    uint8_t n = r.U8();
    resp.auth_response = std::string(r.Fixed(n));
  } else {
    resp.auth_response = std::string(r.NulString());
  }
  if ((resp.capabilities & cap::kConnectWithDb) && !r.AtEnd()) {
    resp.database = std::string(NulOrRest(r));
  }
  if ((resp.capabilities & cap::kPluginAuth) && !r.AtEnd()) {
    resp.auth_plugin_name = std::string(NulOrRest(r));
  }
  if ((resp.capabilities & cap::kConnectAttrs) && !r.AtEnd()) {
    resp.connect_attributes = std::string(r.LenEncString());
  }
  if (absl::Status s = r.Finish("HandshakeResponse41"); !s.ok()) return s;
  return resp;
}

void EncodeSslRequest(Bytes& out, uint32_t caps, uint32_t max_packet, uint8_t charset) {
  WireWriter w(out);
  w.U32(caps | cap::kSsl);
  w.U32(max_packet);
  w.U8(charset);
  w.Zeros(23);
}

void EncodeHandshakeResponse41(Bytes& out, const HandshakeResponse41& resp) {
  WireWriter w(out);
  uint32_t caps = resp.capabilities;
  w.U32(caps);
  w.U32(resp.max_packet_size);
  w.U8(resp.character_set);
  w.Zeros(19);
  w.U32((caps & cap::kLongPassword) ? 0 : resp.mariadb_capabilities);
  w.NulString(resp.username);
  if (caps & cap::kPluginAuthLenencClientData) {
    w.LenEncString(resp.auth_response);
  } else if (caps & cap::kSecureConnection) {
    w.U8(uint8_t(resp.auth_response.size()));
    w.Raw(resp.auth_response);
  } else {
    w.NulString(resp.auth_response);  // what the decoder expects without either flag
  }
  if (caps & cap::kConnectWithDb) w.NulString(resp.database);
  if (caps & cap::kPluginAuth) w.NulString(resp.auth_plugin_name);
  if (caps & cap::kConnectAttrs) w.LenEncString(resp.connect_attributes);
}

absl::StatusOr<AuthSwitchRequest> DecodeAuthSwitchRequest(ByteSpan payload) {
  WireReader r(payload);
  if (r.U8() != kAuthSwitchHeader) {
    return absl::InvalidArgumentError("malformed AuthSwitchRequest: bad header byte");
  }
  AuthSwitchRequest req;
  req.plugin_name = std::string(r.NulString());
  req.plugin_data = TrimTrailingNul(r.Rest());
  if (absl::Status s = r.Finish("AuthSwitchRequest"); !s.ok()) return s;
  return req;
}

void EncodeAuthSwitchRequest(Bytes& out, std::string_view plugin, std::string_view data) {
  WireWriter w(out);
  w.U8(kAuthSwitchHeader);
  w.NulString(plugin);
  w.NulString(data);
}

absl::StatusOr<std::string_view> DecodeAuthMoreData(ByteSpan payload) {
  if (payload.empty() || payload[0] != kAuthMoreDataHeader) {
    return absl::InvalidArgumentError("malformed AuthMoreData: bad header byte");
  }
  return AsStringView(payload.subspan(1));
}

void EncodeAuthMoreData(Bytes& out, std::string_view data) {
  WireWriter w(out);
  w.U8(kAuthMoreDataHeader);
  w.Raw(data);
}

absl::StatusOr<ChangeUserRequest> DecodeChangeUser(ByteSpan payload, uint32_t caps) {
  WireReader r(payload);
  if (r.U8() != uint8_t(Command::kChangeUser)) {
    return absl::InvalidArgumentError("malformed COM_CHANGE_USER: bad command byte");
  }
  ChangeUserRequest req;
  req.username = std::string(r.NulString());
  if (caps & cap::kSecureConnection) {
    uint8_t n = r.U8();
    req.auth_response = std::string(r.Fixed(n));
  } else {
    req.auth_response = std::string(r.NulString());
  }
  req.database = std::string(NulOrRest(r));
  if (r.ok() && r.remaining() >= 2) req.character_set = r.U16();
  if ((caps & cap::kPluginAuth) && r.ok() && !r.AtEnd()) {
    req.auth_plugin_name = std::string(NulOrRest(r));
  }
  if ((caps & cap::kConnectAttrs) && r.ok() && !r.AtEnd()) {
    req.connect_attributes = std::string(r.LenEncString());
  }
  if (absl::Status s = r.Finish("COM_CHANGE_USER"); !s.ok()) return s;
  return req;
}

void EncodeChangeUser(Bytes& out, const ChangeUserRequest& req, uint32_t caps) {
  WireWriter w(out);
  w.U8(uint8_t(Command::kChangeUser));
  w.NulString(req.username);
  if (caps & cap::kSecureConnection) {
    w.U8(uint8_t(req.auth_response.size()));
    w.Raw(req.auth_response);
  } else {
    w.NulString(req.auth_response);  // what DecodeChangeUser expects without the flag
  }
  w.NulString(req.database);
  w.U16(req.character_set.value_or(kUtf8mb4GeneralCi));
  if (caps & cap::kPluginAuth) w.NulString(req.auth_plugin_name);
  if (caps & cap::kConnectAttrs) w.LenEncString(req.connect_attributes);
}

}  // namespace ql::protocol
