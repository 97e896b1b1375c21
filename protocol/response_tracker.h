// ResponseTracker follows a server's response frame by frame and says when it
// is complete, so the proxy can relay bytes as they arrive without buffering a
// whole response. It understands OK/ERR/EOF with and without DEPRECATE_EOF,
// text and binary result sets, several result sets (SERVER_MORE_RESULTS_EXISTS),
// cursors, COM_STMT_PREPARE_OK with its definitions, COM_FIELD_LIST,
// COM_STATISTICS and the LOCAL INFILE exchange. It also collects what the
// analyzer and router need: rows, affected rows, status flags, errors.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "protocol/command.h"
#include "protocol/wire_codec.h"

namespace ql::protocol {

// Frames shorter than this must be fed whole; longer ones (row data) may be
// fed with only a prefix, since no packet the tracker parses is that large.
inline constexpr uint32_t kTrackerWholeFrameLimit = 1u << 20;

struct ResponseSummary {
  uint64_t rows = 0;             // rows sent, over all result sets
  uint64_t affected_rows = 0;    // summed over OK packets
  uint64_t last_insert_id = 0;   // from the last OK packet that set one
  uint32_t result_sets = 0;
  uint16_t warnings = 0;         // from the last OK/EOF
  uint16_t status_flags = 0;     // from the last OK/EOF
  uint16_t status_flags_seen = 0;  // OR of every OK/EOF (index and slow flags of each result)
  bool status_known = false;     // false if no OK/EOF was seen (ERR, statistics)
  uint16_t error_code = 0;       // 0 when the response ended without ERR
  std::string sql_state;         // with error_code
  std::string session_state;     // concatenated session-state blocks of the OK packets
  // COM_STMT_PREPARE_OK
  uint32_t statement_id = 0;
  uint16_t num_params = 0;
  uint16_t num_columns = 0;
};

class ResponseTracker {
 public:
  enum class Event {
    kContinue,            // more frames belong to this response
    kDone,                // the frame just fed ended the response
    kLocalInfileRequest,  // relay the client's file, then ResumeAfterLocalInfile()
  };

  // Begins tracking the response to a command. `capabilities` are the ones
  // negotiated on the connection the response arrives on. `cursor_requested`:
  // a COM_STMT_EXECUTE that asked for a cursor (RequestsCursor), whose result
  // may end after the column definitions. Otherwise SERVER_STATUS_CURSOR_EXISTS
  // means nothing for the result: MariaDB sets it on a text result sent by a
  // stored procedure that opened a cursor, and its rows still follow.
  void Start(ResponseKind kind, uint32_t capabilities, bool cursor_requested = false);

  // Feeds one frame. `payload` holds the whole frame when frame_length is
  // below kTrackerWholeFrameLimit, otherwise at least its first byte.
  absl::StatusOr<Event> OnFrame(uint32_t frame_length, ByteSpan payload);

  // After the client's last LOCAL INFILE packet (the empty one) went to the server.
  void ResumeAfterLocalInfile();

  bool done() const { return state_ == State::kDone; }
  const ResponseSummary& summary() const { return summary_; }

 private:
  enum class State {
    kDone,
    kFirst,          // first packet of a (possibly next) result
    kColumns,        // column definitions of a result set
    kColumnsEof,     // the EOF after column definitions (no DEPRECATE_EOF)
    kRows,
    kPrepareParams,
    kPrepareParamsEof,
    kPrepareColumns,
    kPrepareColumnsEof,
    kFieldList,
    kSingle,         // one packet of any kind ends it
    kLocalInfile,    // waiting for the client's file to be relayed
  };

  absl::StatusOr<Event> OnPacketStart(uint32_t length, ByteSpan payload);
  absl::StatusOr<Event> OnFirst(ByteSpan payload);
  absl::StatusOr<Event> OnOk(ByteSpan payload);
  absl::StatusOr<Event> OnErr(ByteSpan payload);
  absl::StatusOr<Event> OnTerminator(ByteSpan payload);
  absl::StatusOr<Event> OnPrepareOk(ByteSpan payload);
  bool IsTerminator(uint32_t length, ByteSpan payload) const;
  Event AfterPrepareDefinitions(State next_if_any);

  State state_ = State::kDone;
  uint32_t capabilities_ = 0;
  uint64_t remaining_ = 0;   // definitions left in the current block
  bool continuation_ = false;  // the previous frame was exactly 0xffffff long
  bool expect_prepare_ok_ = false;
  bool cursor_requested_ = false;
  ResponseSummary summary_;
};

}  // namespace ql::protocol
