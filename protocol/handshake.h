// Connection-phase packets: HandshakeV10 (server greeting), SSLRequest,
// HandshakeResponse41, AuthSwitchRequest and AuthMoreData, and the
// COM_CHANGE_USER body that reuses the same authentication fields.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "protocol/wire_codec.h"

namespace ql::protocol {

inline constexpr size_t kNonceSize = 20;

struct HandshakeV10 {
  uint8_t protocol_version = 10;
  std::string server_version;
  uint32_t connection_id = 0;
  std::string auth_plugin_data;  // the nonce, normally 20 bytes (no trailing NUL)
  uint32_t capabilities = 0;
  uint32_t mariadb_capabilities = 0;  // only meaningful when kLongPassword is clear
  uint8_t character_set = 0;
  uint16_t status_flags = 0;
  std::string auth_plugin_name;
};

absl::StatusOr<HandshakeV10> DecodeHandshakeV10(ByteSpan payload);
void EncodeHandshakeV10(Bytes& out, const HandshakeV10& hs);

struct HandshakeResponse41 {
  uint32_t capabilities = 0;
  uint32_t max_packet_size = 0;
  uint8_t character_set = 0;
  uint32_t mariadb_capabilities = 0;
  std::string username;
  std::string auth_response;
  std::string database;  // only when kConnectWithDb
  std::string auth_plugin_name;
  std::string connect_attributes;  // raw key/value block, without its length prefix
};

// An SSLRequest is the first 32 bytes of a HandshakeResponse41 with kSsl set.
inline constexpr size_t kSslRequestSize = 32;
bool IsSslRequest(ByteSpan payload);

absl::StatusOr<HandshakeResponse41> DecodeHandshakeResponse41(ByteSpan payload);
void EncodeHandshakeResponse41(Bytes& out, const HandshakeResponse41& r);
void EncodeSslRequest(Bytes& out, uint32_t capabilities, uint32_t max_packet_size,
                      uint8_t character_set);

struct AuthSwitchRequest {
  std::string plugin_name;
  std::string plugin_data;  // trailing NUL removed
};

absl::StatusOr<AuthSwitchRequest> DecodeAuthSwitchRequest(ByteSpan payload);
void EncodeAuthSwitchRequest(Bytes& out, std::string_view plugin, std::string_view data);

// AuthMoreData: 0x01 then plugin-specific bytes.
absl::StatusOr<std::string_view> DecodeAuthMoreData(ByteSpan payload);
void EncodeAuthMoreData(Bytes& out, std::string_view data);

struct ChangeUserRequest {
  std::string username;
  std::string auth_response;
  std::string database;
  std::optional<uint16_t> character_set;
  std::string auth_plugin_name;
  std::string connect_attributes;
};

// `payload` includes the leading 0x11 command byte.
absl::StatusOr<ChangeUserRequest> DecodeChangeUser(ByteSpan payload, uint32_t capabilities);
void EncodeChangeUser(Bytes& out, const ChangeUserRequest& r, uint32_t capabilities);

}  // namespace ql::protocol
