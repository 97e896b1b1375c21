// Implementation of the response tracker.
#include "protocol/response_tracker.h"

#include "absl/strings/str_cat.h"
#include "protocol/constants.h"
#include "protocol/framing.h"
#include "protocol/generic_packets.h"

namespace ql::protocol {

void ResponseTracker::Start(ResponseKind kind, uint32_t caps, bool cursor_requested) {
  capabilities_ = caps;
  cursor_requested_ = cursor_requested;
  continuation_ = false;
  remaining_ = 0;
  expect_prepare_ok_ = kind == ResponseKind::kPrepare;
  summary_.rows = summary_.affected_rows = summary_.last_insert_id = 0;
  summary_.result_sets = 0;
  summary_.warnings = summary_.status_flags = summary_.status_flags_seen = 0;
  summary_.status_known = false;
  summary_.error_code = 0;
  summary_.sql_state.clear();
  summary_.session_state.clear();
  summary_.statement_id = 0;
  summary_.num_params = summary_.num_columns = 0;
  switch (kind) {
    case ResponseKind::kNone: state_ = State::kDone; break;
    case ResponseKind::kOkOrErr:
    case ResponseKind::kStatistics: state_ = State::kSingle; break;
    case ResponseKind::kResultSet: state_ = State::kFirst; break;
    case ResponseKind::kPrepare: state_ = State::kFirst; break;
    case ResponseKind::kFetch: state_ = State::kRows; break;
    case ResponseKind::kFieldList: state_ = State::kFieldList; break;
    case ResponseKind::kAuth: state_ = State::kSingle; break;
  }
}

absl::StatusOr<ResponseTracker::Event> ResponseTracker::OnFrame(uint32_t length,
                                                                ByteSpan payload) {
  if (state_ == State::kDone || state_ == State::kLocalInfile) {
    return absl::FailedPreconditionError("server sent data outside of a response");
  }
  bool is_continuation = continuation_;
  continuation_ = length == kMaxFramePayload;
  if (is_continuation) return Event::kContinue;  // the tail of a long row
  if (length < kTrackerWholeFrameLimit ? payload.size() != length
                                       : payload.empty() || payload.size() > length) {
    return absl::InternalError("response tracker fed a partial frame");
  }
  if (length == 0) return absl::InvalidArgumentError("server sent an empty packet");
  return OnPacketStart(length, payload);
}

bool ResponseTracker::IsTerminator(uint32_t length, ByteSpan payload) const {
  if (payload[0] != kEofHeader) return false;
  if (capabilities_ & cap::kDeprecateEof) return length < kMaxFramePayload;
  return length < 9;
}

absl::StatusOr<ResponseTracker::Event> ResponseTracker::OnPacketStart(uint32_t length,
                                                                      ByteSpan payload) {
  const uint8_t first = payload[0];
  switch (state_) {
    case State::kSingle:
      if (first == kErrHeader) return OnErr(payload);
      if (first == kOkHeader) return OnOk(payload);
      // An EOF, or under DEPRECATE_EOF a 0xfe OK (COM_SET_OPTION, COM_DEBUG),
      // which may be longer than an EOF when it carries session state.
      if (first == kEofHeader &&
          (IsEofPacket(payload) || (capabilities_ & cap::kDeprecateEof))) {
        return OnTerminator(payload);
      }
      state_ = State::kDone;  // COM_STATISTICS: a bare string
      return Event::kDone;
    case State::kFirst:
      return OnFirst(payload);
    case State::kColumns:
      if (--remaining_ == 0) {
        state_ = (capabilities_ & cap::kDeprecateEof) ? State::kRows : State::kColumnsEof;
      }
      return Event::kContinue;
    case State::kColumnsEof: {
      if (!IsEofPacket(payload)) {
        return absl::InvalidArgumentError("expected EOF after column definitions");
      }
      uint16_t st = 0, warn = 0;
      ReadTerminatorStatus(payload, capabilities_, &st, &warn);
      // A cursor was opened: rows will come through COM_STMT_FETCH.
      if (cursor_requested_ && (st & status::kCursorExists)) return OnTerminator(payload);
      state_ = State::kRows;
      return Event::kContinue;
    }
    case State::kRows:
      if (first == kErrHeader && length < kMaxFramePayload) return OnErr(payload);
      if (IsTerminator(length, payload)) return OnTerminator(payload);
      ++summary_.rows;
      return Event::kContinue;
    case State::kFieldList:
      if (first == kErrHeader) return OnErr(payload);
      if (first == kEofHeader) return OnTerminator(payload);
      return Event::kContinue;
    case State::kPrepareParams:
      if (--remaining_ == 0) return AfterPrepareDefinitions(State::kPrepareParamsEof);
      return Event::kContinue;
    case State::kPrepareColumns:
      if (--remaining_ == 0) return AfterPrepareDefinitions(State::kPrepareColumnsEof);
      return Event::kContinue;
    case State::kPrepareParamsEof:
    case State::kPrepareColumnsEof: {
      if (!IsEofPacket(payload)) {
        return absl::InvalidArgumentError("expected EOF after prepared statement definitions");
      }
      if (state_ == State::kPrepareParamsEof && summary_.num_columns > 0) {
        state_ = State::kPrepareColumns;
        remaining_ = summary_.num_columns;
        return Event::kContinue;
      }
      state_ = State::kDone;
      return Event::kDone;
    }
    default:
      return absl::InternalError("response tracker in an impossible state");
  }
}

absl::StatusOr<ResponseTracker::Event> ResponseTracker::OnFirst(ByteSpan payload) {
  const uint8_t first = payload[0];
  if (first == kErrHeader) return OnErr(payload);
  if (expect_prepare_ok_) {
    if (first != kOkHeader) return absl::InvalidArgumentError("malformed COM_STMT_PREPARE response");
    return OnPrepareOk(payload);
  }
  if (first == kOkHeader) return OnOk(payload);
  if (first == kLocalInfileHeader) {
    state_ = State::kLocalInfile;
    return Event::kLocalInfileRequest;
  }
  WireReader r(payload);
  uint64_t columns = r.LenEncInt();
  if (!r.ok() || !r.AtEnd() || columns == 0) {
    return absl::InvalidArgumentError("malformed result set header");
  }
  ++summary_.result_sets;
  remaining_ = columns;
  state_ = State::kColumns;
  return Event::kContinue;
}

absl::StatusOr<ResponseTracker::Event> ResponseTracker::OnOk(ByteSpan payload) {
  auto ok = DecodeOk(payload, capabilities_);
  if (!ok.ok()) return ok.status();
  summary_.affected_rows += ok->affected_rows;
  if (ok->last_insert_id != 0) summary_.last_insert_id = ok->last_insert_id;
  summary_.status_flags = ok->status_flags;
  summary_.status_flags_seen |= ok->status_flags;
  summary_.warnings = ok->warnings;
  summary_.status_known = true;
  summary_.session_state.append(ok->session_state);
  if (ok->status_flags & status::kMoreResultsExist) {
    state_ = State::kFirst;
    return Event::kContinue;
  }
  state_ = State::kDone;
  return Event::kDone;
}

absl::StatusOr<ResponseTracker::Event> ResponseTracker::OnErr(ByteSpan payload) {
  auto err = DecodeErr(payload);
  if (!err.ok()) return err.status();
  summary_.error_code = err->error_code;
  summary_.sql_state.assign(err->sql_state);
  state_ = State::kDone;
  return Event::kDone;
}

absl::StatusOr<ResponseTracker::Event> ResponseTracker::OnTerminator(ByteSpan payload) {
  uint16_t st = 0, warn = 0;
  if (!ReadTerminatorStatus(payload, capabilities_, &st, &warn)) {
    return absl::InvalidArgumentError("malformed EOF/OK terminator");
  }
  if (!IsEofTerminator(payload, capabilities_)) {
    // DEPRECATE_EOF terminator: an OK packet that may carry session state.
    auto ok = DecodeOk(payload, capabilities_);
    if (ok.ok()) summary_.session_state.append(ok->session_state);
  }
  summary_.status_flags = st;
  summary_.status_flags_seen |= st;
  summary_.warnings = warn;
  summary_.status_known = true;
  if ((st & status::kMoreResultsExist) && state_ == State::kRows) {
    state_ = State::kFirst;
    return Event::kContinue;
  }
  state_ = State::kDone;
  return Event::kDone;
}

absl::StatusOr<ResponseTracker::Event> ResponseTracker::OnPrepareOk(ByteSpan payload) {
  WireReader r(payload);
  r.U8();
  summary_.statement_id = r.U32();
  summary_.num_columns = r.U16();
  summary_.num_params = r.U16();
  r.U8();
  if (r.remaining() >= 2) summary_.warnings = r.U16();
  if (absl::Status s = r.Finish("COM_STMT_PREPARE_OK"); !s.ok()) return s;
  if (summary_.num_params > 0) {
    state_ = State::kPrepareParams;
    remaining_ = summary_.num_params;
    return Event::kContinue;
  }
  if (summary_.num_columns > 0) {
    state_ = State::kPrepareColumns;
    remaining_ = summary_.num_columns;
    return Event::kContinue;
  }
  state_ = State::kDone;
  return Event::kDone;
}

ResponseTracker::Event ResponseTracker::AfterPrepareDefinitions(State eof_state) {
  if (!(capabilities_ & cap::kDeprecateEof)) {
    state_ = eof_state;
    return Event::kContinue;
  }
  if (eof_state == State::kPrepareParamsEof && summary_.num_columns > 0) {
    state_ = State::kPrepareColumns;
    remaining_ = summary_.num_columns;
    return Event::kContinue;
  }
  state_ = State::kDone;
  return Event::kDone;
}

void ResponseTracker::ResumeAfterLocalInfile() { state_ = State::kFirst; }

}  // namespace ql::protocol
