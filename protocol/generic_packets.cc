// Implementation of the OK/ERR/EOF codecs.
#include "protocol/generic_packets.h"

#include "absl/strings/str_cat.h"
#include "protocol/constants.h"

namespace ql::protocol {

absl::StatusOr<OkPacket> DecodeOk(ByteSpan payload, uint32_t caps) {
  WireReader r(payload);
  OkPacket ok;
  ok.header = r.U8();
  if (r.ok() && ok.header != 0x00 && ok.header != 0xfe) {
    return absl::InvalidArgumentError("malformed OK packet: bad header byte");
  }
  ok.affected_rows = r.LenEncInt();
  ok.last_insert_id = r.LenEncInt();
  if (caps & cap::kProtocol41) {
    ok.status_flags = r.U16();
    ok.warnings = r.U16();
  } else if (caps & cap::kTransactions) {
    ok.status_flags = r.U16();
  }
  if (!r.ok()) return r.Finish("OK packet");
  // The info string is length-encoded and may be absent entirely. Servers
  // (MariaDB and MySQL alike) length-encode it with or without
  // CLIENT_SESSION_TRACK, and clients read it that way, whatever the
  // protocol documentation's string<EOF> says.
  if (!r.AtEnd()) ok.info = r.LenEncString();
  if ((caps & cap::kSessionTrack) && r.ok() &&
      (ok.status_flags & status::kSessionStateChanged) && !r.AtEnd()) {
    ok.session_state = r.LenEncString();
  }
  if (absl::Status s = r.Finish("OK packet"); !s.ok()) return s;
  return ok;
}

absl::StatusOr<ErrPacket> DecodeErr(ByteSpan payload) {
  WireReader r(payload);
  if (r.U8() != 0xff) return absl::InvalidArgumentError("malformed ERR packet: bad header byte");
  ErrPacket err;
  err.error_code = r.U16();
  if (r.remaining() >= 6 && r.PeekU8() == '#') {
    r.Skip(1);
    err.sql_state = r.Fixed(5);
  }
  err.message = r.Rest();
  if (absl::Status s = r.Finish("ERR packet"); !s.ok()) return s;
  return err;
}

absl::StatusOr<EofPacket> DecodeEof(ByteSpan payload) {
  // Either the 5-byte 4.1 form or the bare 0xfe of old servers; 2 to 4 bytes
  // is a truncated EOF.
  if (!IsEofPacket(payload) || (payload.size() > 1 && payload.size() < 5)) {
    return absl::InvalidArgumentError("malformed EOF packet");
  }
  WireReader r(payload);
  r.U8();
  EofPacket eof;
  if (payload.size() >= 5) {
    eof.warnings = r.U16();
    eof.status_flags = r.U16();
  }
  if (absl::Status s = r.Finish("EOF packet"); !s.ok()) return s;
  return eof;
}

void EncodeOk(Bytes& out, const OkPacket& ok, uint32_t caps) {
  WireWriter w(out);
  w.U8(ok.header);
  w.LenEncInt(ok.affected_rows);
  w.LenEncInt(ok.last_insert_id);
  w.U16(ok.status_flags);
  w.U16(ok.warnings);
  if (caps & cap::kSessionTrack) {
    if (!ok.info.empty() || !ok.session_state.empty()) w.LenEncString(ok.info);
    if (ok.status_flags & status::kSessionStateChanged) w.LenEncString(ok.session_state);
  } else if (!ok.info.empty()) {
    w.LenEncString(ok.info);
  }
}

void EncodeErr(Bytes& out, uint16_t code, std::string_view sql_state, std::string_view message) {
  WireWriter w(out);
  w.U8(0xff);
  w.U16(code);
  w.U8('#');
  std::string_view state = sql_state.size() == 5 ? sql_state : std::string_view("HY000");
  w.Raw(state);
  w.Raw(message);
}

void EncodeEof(Bytes& out, uint16_t warnings, uint16_t status_flags) {
  WireWriter w(out);
  w.U8(0xfe);
  w.U16(warnings);
  w.U16(status_flags);
}

bool ReadTerminatorStatus(ByteSpan payload, uint32_t caps, uint16_t* status_flags,
                          uint16_t* warnings) {
  if (payload.empty() || payload[0] != 0xfe) return false;
  if (IsEofTerminator(payload, caps)) {
    auto eof = DecodeEof(payload);
    if (!eof.ok()) return false;
    *status_flags = eof->status_flags;
    *warnings = eof->warnings;
    return true;
  }
  auto ok = DecodeOk(payload, caps);
  if (!ok.ok()) return false;
  *status_flags = ok->status_flags;
  *warnings = ok->warnings;
  return true;
}

absl::StatusOr<std::vector<SessionTrackEntry>> DecodeSessionState(std::string_view block) {
  std::vector<SessionTrackEntry> entries;
  WireReader r(AsBytes(block));
  while (r.ok() && !r.AtEnd()) {
    auto type = static_cast<SessionTrackType>(r.U8());
    WireReader entry(AsBytes(r.LenEncString()));
    if (!r.ok()) break;
    SessionTrackEntry e{type, {}, {}};
    switch (type) {
      case SessionTrackType::kSystemVariables:
        e.name = entry.LenEncString();
        e.value = entry.LenEncString();
        break;
      case SessionTrackType::kStateChange:
        // The tracked flag itself ("1"), not a length-encoded string.
        e.value = entry.Rest();
        break;
      case SessionTrackType::kSchema:
      case SessionTrackType::kTransactionCharacteristics:
      case SessionTrackType::kTransactionState:
        e.value = entry.LenEncString();
        break;
      case SessionTrackType::kGtids:
        // One byte of encoding specification, then the GTID set.
        entry.U8();
        e.value = entry.LenEncString();
        break;
      default:
        // Unknown types are skipped whole: newer servers may add some.
        continue;
    }
    if (absl::Status s = entry.Finish("session state entry"); !s.ok()) return s;
    entries.push_back(e);
  }
  if (absl::Status s = r.Finish("session state block"); !s.ok()) return s;
  return entries;
}

}  // namespace ql::protocol
