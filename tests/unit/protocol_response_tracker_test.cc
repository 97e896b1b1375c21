// Unit tests of ResponseTracker (protocol/response_tracker.h), the piece that
// tells the proxy where each response ends while it streams bytes through.
//
// 1. Replay of every capture in tests/data/captures: each command's response,
//    exactly as a real MariaDB 10.11 sent it, goes frame by frame through the
//    tracker, which must say kDone on the last frame of the response and never
//    before, and kLocalInfileRequest at the 0xfb packet; then a table checks
//    the summaries (rows, result sets, affected rows, status, errors,
//    COM_STMT_PREPARE_OK fields).
// The synthetic cases (what captures cannot hold) are in
// protocol_response_tracker_synthetic_test.cc.
#include "protocol/response_tracker.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "protocol/constants.h"
#include "protocol/framing.h"
#include "protocol/generic_packets.h"
#include "tests/unit/capture_file.h"
#include "tests/unit/capture_test_support.h"

namespace ql::protocol {
namespace {

using ql::testing::Capture;
using ql::testing::LoadNamed;
using ql::testing::AllCaptureNames;
using ql::testing::CaptureDir;
using ql::testing::CapturedFrame;
using Event = ResponseTracker::Event;

const char* EventName(Event e) {
  switch (e) {
    case Event::kContinue: return "kContinue";
    case Event::kDone: return "kDone";
    case Event::kLocalInfileRequest: return "kLocalInfileRequest";
  }
  return "?";
}

// =============================================================================
// 1. Replay of the captures
// =============================================================================

// Capabilities in effect on the captured connection.
uint32_t NegotiatedCaps(const Capture& c) { return c.client_capabilities & c.server_capabilities; }

// MariaDB extended metadata: a client that clears CLIENT_MYSQL sends extended
// capabilities, and with MARIADB_CLIENT_CACHE_METADATA the column-count packet
// of every result set gets an extra "metadata follows" byte (and a COM_STMT_
// EXECUTE may omit the column definitions entirely); EXTENDED_TYPE_INFO adds
// fields to column definitions. The proxy never negotiates CACHE_METADATA
// (it relays only EXTENDED_TYPE_INFO, which the tracker never parses), and
// these captures negotiated both, so their result-set shapes are skipped. Captures made with
// libmariadb clients (capture_client.c, MySQLdb, the mariadb CLI) negotiated
// them: there, responses that contain a result set are skipped, and
// everything else (OK/ERR, COM_STMT_PREPARE, COM_STMT_FETCH, COM_FIELD_LIST,
// COM_STATISTICS, ...) is still replayed and checked.
bool NegotiatedExtendedMetadata(const Capture& c) {
  if (c.client_capabilities & cap::kLongPassword) return false;  // no extended caps sent
  uint32_t ext = c.client_mariadb_ext_capabilities & c.server_mariadb_ext_capabilities;
  return ext & (mariadb_cap::kCacheMetadata | mariadb_cap::kExtendedTypeInfo);
}

struct ReplayedCommand {
  size_t index = 0;  // ordinal of the command in the capture, COM_QUIT included
  uint8_t command = 0;
  std::string step;
  int line = 0;
  bool skipped = false;
  std::string skip_reason;
  size_t server_frames = 0;
  ResponseSummary summary;
};

// Replays the command phase of `cap` through a ResponseTracker, recording a
// test failure wherever the tracker's events differ from the frames' real
// boundaries.
std::vector<ReplayedCommand> Replay(const Capture& cap) {
  const uint32_t caps = NegotiatedCaps(cap);
  const bool ext_metadata = NegotiatedExtendedMetadata(cap);
  const std::vector<CapturedFrame>& frames = cap.frames;
  std::vector<ReplayedCommand> out;

  // The connection phase (greeting, login, auth switches) is the proxy's own
  // business, not the tracker's: the command phase starts with the first
  // client frame that has sequence id 0.
  size_t i = 0;
  while (i < frames.size() && !(frames[i].direction == 'C' && frames[i].sequence_id == 0)) ++i;

  ResponseTracker tracker;
  while (i < frames.size()) {
    const CapturedFrame& cmd = frames[i];
    size_t end = i + 1;
    while (end < frames.size() && !(frames[end].direction == 'C' && frames[end].sequence_id == 0)) {
      ++end;
    }
    ReplayedCommand r;
    r.index = out.size();
    r.command = cmd.payload.empty() ? 0 : cmd.payload[0];
    r.step = cmd.step;
    r.line = cmd.line;
    for (size_t k = i + 1; k < end; ++k) r.server_frames += frames[k].direction == 'S';
    SCOPED_TRACE(cap.name + ":" + std::to_string(cmd.line) + " (" + cmd.step + ")");

    CommandInfo info = DescribeCommand(r.command);
    EXPECT_TRUE(info.supported);
    if (info.response == ResponseKind::kAuth) {
      // COM_CHANGE_USER: an authentication exchange the proxy runs itself.
      r.skipped = true;
      r.skip_reason = "COM_CHANGE_USER";
    } else if (ext_metadata && info.response == ResponseKind::kResultSet && r.server_frames > 1) {
      r.skipped = true;
      r.skip_reason = "result set with MariaDB extended metadata";
    }
    if (r.skipped) {
      out.push_back(std::move(r));
      i = end;
      continue;
    }

    tracker.Start(info.response, caps, RequestsCursor(cmd.payload));
    if (info.response == ResponseKind::kNone) {
      EXPECT_TRUE(tracker.done()) << "no response expected";
      EXPECT_EQ(r.server_frames, 0u) << "the server answered a command that gets no answer";
    }
    bool in_infile = false;
    bool failed = false;
    for (size_t k = i + 1; k < end; ++k) {
      const CapturedFrame& f = frames[k];
      SCOPED_TRACE("frame at line " + std::to_string(f.line));
      if (f.direction == 'C') {
        // The client's LOCAL INFILE contents; the empty packet ends them.
        EXPECT_TRUE(in_infile) << "client frame in the middle of a response";
        if (f.payload.empty()) {
          tracker.ResumeAfterLocalInfile();
          in_infile = false;
        }
        continue;
      }
      EXPECT_FALSE(in_infile) << "server frame while the client sends its file";
      EXPECT_FALSE(tracker.done()) << "a frame after the response was complete";
      auto event = tracker.OnFrame(uint32_t(f.payload.size()), f.payload);
      if (!event.ok()) {
        ADD_FAILURE() << "tracker error: " << event.status();
        failed = true;
        break;
      }
      bool last_server_frame = true;
      for (size_t n = k + 1; n < end; ++n) last_server_frame &= frames[n].direction != 'S';
      Event want = Event::kContinue;
      if (k + 1 < end && frames[k + 1].direction == 'C') {
        want = Event::kLocalInfileRequest;
      } else if (last_server_frame) {
        want = Event::kDone;
      }
      EXPECT_EQ(EventName(*event), std::string(EventName(want)));
      if (*event == Event::kLocalInfileRequest) in_infile = true;
      if (last_server_frame && *event == Event::kDone) {
        EXPECT_TRUE(tracker.done());
        // Anything more from the server would be out of step.
        auto extra = tracker.OnFrame(uint32_t(f.payload.size()), f.payload);
        EXPECT_FALSE(extra.ok());
      }
    }
    if (!failed) {
      EXPECT_TRUE(tracker.done()) << "response incomplete at the next command";
    }
    r.summary = tracker.summary();
    out.push_back(std::move(r));
    i = end;
  }
  return out;
}

class CaptureReplayTest : public ::testing::TestWithParam<std::string> {};

TEST_P(CaptureReplayTest, TrackerEndsEveryResponseOnItsLastFrame) {
  const Capture& cap = LoadNamed(GetParam());
  ASSERT_FALSE(cap.frames.empty());
  std::vector<ReplayedCommand> replayed = Replay(cap);
  size_t checked = 0;
  for (const ReplayedCommand& r : replayed) checked += !r.skipped;
  if (GetParam() == "handshake_wrong_password") {
    EXPECT_TRUE(replayed.empty()) << "the login failed: no command phase";
  } else {
    EXPECT_GE(checked, 1u) << "nothing of this capture was replayed";
  }
  // Without extended metadata nothing but COM_CHANGE_USER may be skipped.
  if (!NegotiatedExtendedMetadata(cap)) {
    for (const ReplayedCommand& r : replayed) {
      EXPECT_TRUE(!r.skipped || r.command == uint8_t(Command::kChangeUser)) << r.step;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllCaptures, CaptureReplayTest, ::testing::ValuesIn(AllCaptureNames()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

TEST(CaptureReplayInventory, AllCapturesAreThere) {
  EXPECT_GE(AllCaptureNames().size(), 31u);
  // Guard against responses silently dropping out of the replay: with the
  // committed captures, 137 commands (341 server frames) are replayed and 18
  // skipped (3 COM_CHANGE_USER, 15 result sets with extended metadata).
  size_t replayed = 0, skipped = 0, frames = 0;
  for (const std::string& name : AllCaptureNames()) {
    for (const ReplayedCommand& r : Replay(LoadNamed(name))) {
      if (r.skipped) {
        ++skipped;
      } else {
        ++replayed;
        frames += r.server_frames;
      }
    }
  }
  EXPECT_GE(replayed, 137u);
  EXPECT_GE(frames, 341u);
  EXPECT_LE(skipped, 18u);
}

// What the tracker must report for particular commands of the captures.
struct Expect {
  const char* capture;
  size_t command;        // ordinal of the command in the capture (COM_QUIT counts)
  uint8_t command_byte;  // guards against a miscounted ordinal
  uint64_t rows = 0;
  uint32_t result_sets = 0;
  uint64_t affected_rows = 0;
  uint64_t last_insert_id = 0;
  uint16_t status = 0;
  bool status_known = true;
  uint16_t warnings = 0;
  uint16_t error = 0;
  const char* sql_state = "";
  uint32_t statement_id = 0;
  uint16_t params = 0;
  uint16_t columns = 0;
  bool session_state = false;
};

std::vector<Expect> Expectations() {
  const uint16_t ac = status::kAutocommit;
  return {
      // Text result sets, with and without DEPRECATE_EOF.
      {.capture = "resultset_text_eof", .command = 0, .command_byte = 0x03, .rows = 0,
       .result_sets = 1, .status = ac},
      {.capture = "resultset_text_eof", .command = 1, .command_byte = 0x03, .rows = 3,
       .result_sets = 1, .status = ac | status::kNoIndexUsed},
      {.capture = "resultset_text_eof", .command = 2, .command_byte = 0x03, .rows = 1,
       .result_sets = 1, .status = ac},
      {.capture = "resultset_text_deprecate_eof", .command = 0, .command_byte = 0x03, .rows = 0,
       .result_sets = 1, .status = ac},
      {.capture = "resultset_text_deprecate_eof", .command = 1, .command_byte = 0x03, .rows = 3,
       .result_sets = 1, .status = ac | status::kNoIndexUsed},
      {.capture = "resultset_text_deprecate_eof", .command = 2, .command_byte = 0x03, .rows = 1,
       .result_sets = 1, .status = ac},
      // OK packets.
      {.capture = "query_ok_insert", .command = 0, .command_byte = 0x03, .affected_rows = 1,
       .last_insert_id = 1, .status = ac},
      {.capture = "query_ok_insert", .command = 1, .command_byte = 0x03, .affected_rows = 3,
       .last_insert_id = 2, .status = ac},
      {.capture = "query_ok_insert", .command = 2, .command_byte = 0x03, .affected_rows = 3,
       .status = ac},
      {.capture = "query_ok_insert", .command = 3, .command_byte = 0x03, .affected_rows = 0,
       .status = ac},
      {.capture = "query_ok_insert", .command = 4, .command_byte = 0x03, .affected_rows = 1,
       .last_insert_id = 300, .status = ac},
      {.capture = "query_ok_insert", .command = 5, .command_byte = 0x03, .affected_rows = 1,
       .last_insert_id = 70000, .status = ac},
      {.capture = "query_ok_insert", .command = 6, .command_byte = 0x03, .status = ac,
       .warnings = 1},
      {.capture = "query_ok_insert", .command = 7, .command_byte = 0x03, .status = ac,
       .warnings = 1},
      {.capture = "query_ok_insert", .command = 8, .command_byte = 0x03, .affected_rows = 2,
       .status = ac},
      // Errors, alone and after rows.
      {.capture = "query_error", .command = 0, .command_byte = 0x03, .status_known = false,
       .error = 1064, .sql_state = "42000"},
      {.capture = "query_error", .command = 1, .command_byte = 0x03, .status_known = false,
       .error = 1146, .sql_state = "42S02"},
      {.capture = "query_error", .command = 2, .command_byte = 0x03, .status_known = false,
       .error = 1054, .sql_state = "42S22"},
      {.capture = "query_error", .command = 3, .command_byte = 0x03, .status_known = false,
       .error = 1062, .sql_state = "23000"},
      {.capture = "query_error", .command = 4, .command_byte = 0x03, .rows = 2, .result_sets = 1,
       .status_known = false, .error = 1242, .sql_state = "21000"},
      // Multiple results.
      {.capture = "multi_statement", .command = 0, .command_byte = 0x03, .rows = 3,
       .result_sets = 3, .affected_rows = 1, .status = ac},
      {.capture = "multi_statement", .command = 1, .command_byte = 0x03, .rows = 1,
       .result_sets = 1, .status = ac | status::kMoreResultsExist, .error = 1146,
       .sql_state = "42S02"},
      {.capture = "multi_statement_deprecate_eof", .command = 0, .command_byte = 0x03, .rows = 3,
       .result_sets = 3, .affected_rows = 1, .status = ac},
      {.capture = "multi_statement_deprecate_eof", .command = 1, .command_byte = 0x03, .rows = 1,
       .result_sets = 1, .status = ac | status::kMoreResultsExist, .error = 1146,
       .sql_state = "42S02"},
      {.capture = "call_procedure", .command = 0, .command_byte = 0x03, .rows = 3,
       .result_sets = 2, .status = ac},
      {.capture = "call_procedure_deprecate_eof", .command = 0, .command_byte = 0x03, .rows = 3,
       .result_sets = 2, .status = ac},
      // Prepared statements.
      {.capture = "prepare_execute_deprecate_eof", .command = 0, .command_byte = 0x16,
       .status_known = false, .statement_id = 5, .params = 2, .columns = 6},
      {.capture = "prepare_execute_deprecate_eof", .command = 1, .command_byte = 0x17, .rows = 2,
       .result_sets = 1, .status = ac},
      {.capture = "prepare_execute_deprecate_eof", .command = 2, .command_byte = 0x17, .rows = 2,
       .result_sets = 1, .status = ac},
      {.capture = "prepare_execute_deprecate_eof", .command = 3, .command_byte = 0x17, .rows = 0,
       .result_sets = 1, .status = ac},
      {.capture = "prepare_execute_deprecate_eof", .command = 5, .command_byte = 0x16,
       .status_known = false, .statement_id = 6, .params = 2, .columns = 0},
      {.capture = "prepare_execute_deprecate_eof", .command = 8, .command_byte = 0x17,
       .affected_rows = 1, .status = ac},
      {.capture = "prepare_execute_deprecate_eof", .command = 10, .command_byte = 0x1a,
       .status = ac},
      {.capture = "prepare_execute_deprecate_eof", .command = 12, .command_byte = 0x16,
       .status_known = false, .statement_id = 7, .params = 0, .columns = 4},
      {.capture = "prepare_execute_deprecate_eof", .command = 13, .command_byte = 0x17, .rows = 1,
       .result_sets = 1, .status = ac},
      {.capture = "prepare_execute_deprecate_eof", .command = 15, .command_byte = 0x16,
       .status_known = false, .error = 1054, .sql_state = "42S22"},
      {.capture = "prepare_execute_deprecate_eof", .command = 16, .command_byte = 0x17,
       .status_known = false, .error = 1243, .sql_state = "HY000"},
      {.capture = "prepare_execute", .command = 0, .command_byte = 0x16, .status_known = false,
       .statement_id = 1, .params = 2, .columns = 6},
      {.capture = "prepare_execute", .command = 4, .command_byte = 0x16, .status_known = false,
       .statement_id = 2, .params = 2, .columns = 0},
      {.capture = "prepare_execute", .command = 7, .command_byte = 0x17, .affected_rows = 1,
       .status = ac},
      {.capture = "prepare_execute", .command = 9, .command_byte = 0x1a, .status = ac},
      {.capture = "prepare_execute", .command = 11, .command_byte = 0x16, .status_known = false,
       .statement_id = 3, .params = 0, .columns = 4},
      {.capture = "prepare_execute", .command = 14, .command_byte = 0x16, .status_known = false,
       .error = 1054, .sql_state = "42S22"},
      {.capture = "call_procedure_prepared", .command = 0, .command_byte = 0x16,
       .status_known = false, .statement_id = 0x27, .params = 1, .columns = 0},
      {.capture = "call_procedure_prepared", .command = 3, .command_byte = 0x16,
       .status_known = false, .statement_id = 0x28, .params = 2, .columns = 0},
      {.capture = "reset_connection", .command = 1, .command_byte = 0x16, .status_known = false,
       .statement_id = 0x0a, .params = 1, .columns = 1},
      // Cursors: the execute ends after the metadata, the fetches carry the rows.
      {.capture = "cursor_fetch_deprecate_eof", .command = 0, .command_byte = 0x16,
       .status_known = false, .statement_id = 0x29, .params = 0, .columns = 2},
      {.capture = "cursor_fetch_deprecate_eof", .command = 1, .command_byte = 0x17, .rows = 0,
       .result_sets = 1, .status = ac | status::kCursorExists | status::kNoIndexUsed},
      {.capture = "cursor_fetch_deprecate_eof", .command = 2, .command_byte = 0x1c, .rows = 2,
       .status = ac | status::kCursorExists},
      {.capture = "cursor_fetch_deprecate_eof", .command = 3, .command_byte = 0x1c, .rows = 2,
       .status = ac | status::kCursorExists},
      {.capture = "cursor_fetch_deprecate_eof", .command = 4, .command_byte = 0x1c, .rows = 1,
       .status = ac | status::kLastRowSent},
      {.capture = "cursor_fetch_deprecate_eof", .command = 5, .command_byte = 0x1c,
       .status_known = false, .error = 1421, .sql_state = "HY000"},
      {.capture = "cursor_fetch", .command = 0, .command_byte = 0x16, .status_known = false,
       .statement_id = 9, .params = 0, .columns = 2},
      {.capture = "cursor_fetch", .command = 2, .command_byte = 0x1c, .rows = 2,
       .status = ac | status::kCursorExists},
      {.capture = "cursor_fetch", .command = 4, .command_byte = 0x1c, .rows = 1,
       .status = ac | status::kLastRowSent},
      // COM_FIELD_LIST: definitions are not rows.
      {.capture = "field_list", .command = 0, .command_byte = 0x04, .status = ac},
      {.capture = "field_list", .command = 1, .command_byte = 0x04, .status = ac},
      {.capture = "field_list", .command = 2, .command_byte = 0x04, .status_known = false,
       .error = 1146, .sql_state = "42S02"},
      {.capture = "field_list_deprecate_eof", .command = 0, .command_byte = 0x04, .status = ac},
      {.capture = "field_list_deprecate_eof", .command = 2, .command_byte = 0x04,
       .status_known = false, .error = 1146, .sql_state = "42S02"},
      // Single-packet answers.
      {.capture = "statistics", .command = 0, .command_byte = 0x09, .status_known = false},
      {.capture = "ping", .command = 0, .command_byte = 0x0e, .status = ac},
      {.capture = "reset_connection", .command = 2, .command_byte = 0x1f, .status = ac},
      {.capture = "init_db", .command = 0, .command_byte = 0x02,
       .status = ac | status::kSessionStateChanged, .session_state = true},
      {.capture = "init_db", .command = 1, .command_byte = 0x02, .status_known = false,
       .error = 1049, .sql_state = "42000"},
      {.capture = "set_option", .command = 0, .command_byte = 0x1b, .status = ac},
      {.capture = "set_option", .command = 1, .command_byte = 0x03, .status_known = false,
       .error = 1064, .sql_state = "42000"},
      {.capture = "set_option_deprecate_eof", .command = 0, .command_byte = 0x1b, .status = ac},
      {.capture = "set_option_deprecate_eof", .command = 2, .command_byte = 0x1b,
       .status_known = false, .error = 1047, .sql_state = "08S01"},
      // LOCAL INFILE.
      {.capture = "local_infile", .command = 0, .command_byte = 0x03, .affected_rows = 3,
       .status = ac},
      {.capture = "local_infile_crafted", .command = 0, .command_byte = 0x03, .affected_rows = 5,
       .status = ac},
      {.capture = "local_infile_crafted", .command = 1, .command_byte = 0x03, .affected_rows = 0,
       .status = ac},
      // Session tracking.
      {.capture = "session_track", .command = 4, .command_byte = 0x03,
       .status = ac | status::kSessionStateChanged, .session_state = true},
      {.capture = "session_track", .command = 9, .command_byte = 0x03, .affected_rows = 1,
       .last_insert_id = 2, .status = 0xc001, .session_state = true},
      {.capture = "session_track", .command = 14, .command_byte = 0x03, .status = 0xc000,
       .session_state = true},
      {.capture = "reset_connection", .command = 0, .command_byte = 0x03,
       .status = status::kSessionStateChanged, .session_state = true},
  };
}

TEST(CaptureReplaySummaries, MatchTheCapturedResponses) {
  std::map<std::string, std::vector<ReplayedCommand>> replays;
  for (const Expect& e : Expectations()) {
    SCOPED_TRACE(std::string(e.capture) + " command #" + std::to_string(e.command));
    auto it = replays.find(e.capture);
    if (it == replays.end()) it = replays.emplace(e.capture, Replay(LoadNamed(e.capture))).first;
    ASSERT_LT(e.command, it->second.size());
    const ReplayedCommand& r = it->second[e.command];
    SCOPED_TRACE(r.step);
    ASSERT_EQ(int(r.command), int(e.command_byte));
    ASSERT_FALSE(r.skipped) << r.skip_reason;
    const ResponseSummary& s = r.summary;
    EXPECT_EQ(s.rows, e.rows);
    EXPECT_EQ(s.result_sets, e.result_sets);
    EXPECT_EQ(s.affected_rows, e.affected_rows);
    EXPECT_EQ(s.last_insert_id, e.last_insert_id);
    EXPECT_EQ(s.status_known, e.status_known);
    if (e.status_known) {
      EXPECT_EQ(s.status_flags, e.status);
    }
    EXPECT_EQ(s.warnings, e.warnings);
    EXPECT_EQ(s.error_code, e.error);
    EXPECT_EQ(s.sql_state, e.sql_state);
    EXPECT_EQ(s.statement_id, e.statement_id);
    EXPECT_EQ(s.num_params, e.params);
    EXPECT_EQ(s.num_columns, e.columns);
    EXPECT_EQ(!s.session_state.empty(), e.session_state);
  }
}

TEST(CaptureReplaySummaries, SessionStateOfTheResponsesDecodes) {
  std::vector<ReplayedCommand> replayed = Replay(LoadNamed("session_track"));
  size_t with_state = 0;
  for (const ReplayedCommand& r : replayed) {
    if (r.skipped || r.summary.session_state.empty()) continue;
    ++with_state;
    SCOPED_TRACE(r.step);
    auto entries = DecodeSessionState(r.summary.session_state);
    ASSERT_TRUE(entries.ok()) << entries.status();
    EXPECT_FALSE(entries->empty());
  }
  EXPECT_EQ(with_state, 14u) << "every OK of the scenario carries session state";
  // USE capdb reports the schema: the proxy follows the client's schema this way.
  const ReplayedCommand& use = replayed[4];
  ASSERT_EQ(use.step, "USE capdb");
  auto entries = DecodeSessionState(use.summary.session_state);
  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_FALSE(entries->empty());
  EXPECT_EQ((*entries)[0].type, SessionTrackType::kSchema);
  EXPECT_EQ((*entries)[0].value, "capdb");
}

}  // namespace
}  // namespace ql::protocol
