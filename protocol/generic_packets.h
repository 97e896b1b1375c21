// OK, ERR and EOF packets (decode and encode), including the session-state
// tracking data an OK packet carries when CLIENT_SESSION_TRACK is on.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "protocol/constants.h"
#include "protocol/wire_codec.h"

namespace ql::protocol {

struct OkPacket {
  uint8_t header = 0x00;  // 0xfe when it ends a result set under DEPRECATE_EOF
  uint64_t affected_rows = 0;
  uint64_t last_insert_id = 0;
  uint16_t status_flags = 0;
  uint16_t warnings = 0;
  std::string_view info;           // human-readable status text
  std::string_view session_state;  // raw session-state-change block, may be empty
};

struct ErrPacket {
  uint16_t error_code = 0;
  std::string_view sql_state;  // five characters; empty for pre-4.1 style errors
  std::string_view message;
};

struct EofPacket {
  uint16_t warnings = 0;
  uint16_t status_flags = 0;
};

// True for payloads that are an EOF packet in the pre-DEPRECATE_EOF sense.
inline bool IsEofPacket(ByteSpan payload) {
  return !payload.empty() && payload[0] == 0xfe && payload.size() < 9;
}

// True when a 0xfe-headed response terminator is a classic EOF packet rather
// than an OK packet. Under CLIENT_DEPRECATE_EOF every terminator is an OK
// packet (7 bytes or more, and then the EOF reading of its bytes would take
// affected rows and last insert id for warnings and status); only one of at
// most 5 bytes can still be an EOF.
inline bool IsEofTerminator(ByteSpan payload, uint32_t capabilities) {
  if (!(capabilities & cap::kDeprecateEof)) return IsEofPacket(payload);
  return !payload.empty() && payload[0] == 0xfe && payload.size() <= 5;
}

// Views point into `payload`. Accepts header 0x00 and 0xfe.
absl::StatusOr<OkPacket> DecodeOk(ByteSpan payload, uint32_t capabilities);
absl::StatusOr<ErrPacket> DecodeErr(ByteSpan payload);
absl::StatusOr<EofPacket> DecodeEof(ByteSpan payload);

// Encoders append a payload (no frame header).
void EncodeOk(Bytes& out, const OkPacket& ok, uint32_t capabilities);
void EncodeErr(Bytes& out, uint16_t code, std::string_view sql_state, std::string_view message);
void EncodeEof(Bytes& out, uint16_t warnings, uint16_t status_flags);

// Status flags and warnings of a response terminator: an EOF packet, or an OK
// packet with header 0xfe (DEPRECATE_EOF). Returns false if malformed.
bool ReadTerminatorStatus(ByteSpan payload, uint32_t capabilities, uint16_t* status,
                          uint16_t* warnings);

// Session-state tracking entries (the types MySQL and MariaDB define).
enum class SessionTrackType : uint8_t {
  kSystemVariables = 0,
  kSchema = 1,
  kStateChange = 2,
  kGtids = 3,
  kTransactionCharacteristics = 4,
  kTransactionState = 5,
};

struct SessionTrackEntry {
  SessionTrackType type;
  std::string_view name;   // variable name (kSystemVariables) or empty
  std::string_view value;  // value, schema name, state flag, gtid data...
};

// Decodes the block held in OkPacket::session_state.
absl::StatusOr<std::vector<SessionTrackEntry>> DecodeSessionState(std::string_view block);

}  // namespace ql::protocol
