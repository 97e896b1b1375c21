// Unit tests of the OK, ERR and EOF codecs and of session-state tracking data
// (protocol/generic_packets.h), against packets a real MariaDB 10.11 server
// sent (tests/data/captures, see its README.md), encode/decode round trips,
// and malformed input: every truncation of a real packet must either decode
// to a legitimately shorter packet or fail, and never crash.
#include "protocol/generic_packets.h"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "protocol/constants.h"
#include "tests/unit/capture_file.h"
#include "tests/unit/capture_test_support.h"

namespace ql::protocol {
namespace {

using ql::testing::Capture;
using ql::testing::LoadNamed;
using ql::testing::AllCaptureNames;
using ql::testing::CaptureDir;
using ql::testing::CapturedFrame;

// --- capture helpers -------------------------------------------------------

// Capabilities in effect on the captured connection.
uint32_t NegotiatedCaps(const Capture& c) { return c.client_capabilities & c.server_capabilities; }

// The `index`-th server frame (-1: the last) of the first step whose label
// contains `step`.
Bytes ServerFrame(const Capture& c, std::string_view step, int index) {
  std::vector<const CapturedFrame*> frames;
  std::string found;
  for (const CapturedFrame& f : c.frames) {
    if (f.direction != 'S' || f.step.find(step) == std::string::npos) continue;
    if (found.empty()) found = f.step;
    if (f.step != found) break;
    frames.push_back(&f);
  }
  int i = index < 0 ? int(frames.size()) + index : index;
  if (i < 0 || i >= int(frames.size())) {
    ADD_FAILURE() << c.name << ": no server frame " << index << " in step '" << step << "'";
    return {};
  }
  return frames[i]->payload;
}

std::string Str(std::string_view s) { return std::string(s); }

// --- OK packets from the captures -----------------------------------------

struct Entry {
  SessionTrackType type;
  std::string name;
  std::string value;
  bool operator==(const Entry&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Entry& e) {
  return os << "{" << int(e.type) << ", '" << e.name << "', '" << e.value << "'}";
}

struct OkCase {
  const char* capture;
  const char* step;
  int frame;  // index of the server frame in the step, -1 for the last
  uint8_t header;
  uint64_t affected_rows;
  uint64_t last_insert_id;
  uint16_t status;
  uint16_t warnings;
  std::string info;
  std::vector<Entry> session;  // decoded session-state entries
};

constexpr auto kSysVar = SessionTrackType::kSystemVariables;
constexpr auto kSchema = SessionTrackType::kSchema;
constexpr auto kStateChange = SessionTrackType::kStateChange;
constexpr auto kTrxChars = SessionTrackType::kTransactionCharacteristics;
constexpr auto kTrxState = SessionTrackType::kTransactionState;

std::vector<OkCase> OkCases() {
  return {
      // PyMySQL, no CLIENT_SESSION_TRACK: the info string is still length-encoded.
      {"query_ok_insert", "INSERT one row", 0, 0x00, 1, 1, 0x0002, 0, "", {}},
      {"query_ok_insert", "multi-row INSERT", 0, 0x00, 3, 2, 0x0002, 0,
       "Records: 3  Duplicates: 0  Warnings: 0", {}},
      {"query_ok_insert", "UPDATE: affected 3", 0, 0x00, 3, 0, 0x0002, 0,
       "Rows matched: 3  Changed: 3  Warnings: 0", {}},
      {"query_ok_insert", "UPDATE matching rows", 0, 0x00, 0, 0, 0x0002, 0,
       "Rows matched: 1  Changed: 0  Warnings: 0", {}},
      {"query_ok_insert", "explicit id 300", 0, 0x00, 1, 300, 0x0002, 0, "", {}},
      {"query_ok_insert", "explicit id 70000", 0, 0x00, 1, 70000, 0x0002, 0, "", {}},
      {"query_ok_insert", "INSERT IGNORE", 0, 0x00, 0, 0, 0x0002, 1, "", {}},
      {"query_ok_insert", "DROP TABLE IF EXISTS", 0, 0x00, 0, 0, 0x0002, 1, "", {}},
      {"query_ok_insert", "DELETE", 0, 0x00, 2, 0, 0x0002, 0, "", {}},
      {"local_infile", "LOAD DATA", -1, 0x00, 3, 0, 0x0002, 0,
       "Records: 3  Deleted: 0  Skipped: 0  Warnings: 0", {}},
      {"local_infile_crafted", "64-byte packets", -1, 0x00, 5, 0, 0x0002, 0,
       "Records: 5  Deleted: 0  Skipped: 0  Warnings: 0", {}},
      {"local_infile_crafted", "empty file", -1, 0x00, 0, 0, 0x0002, 0,
       "Records: 0  Deleted: 0  Skipped: 0  Warnings: 0", {}},
      {"multi_statement", "4 statements", 11, 0x00, 1, 0, 0x000a, 0,
       "Rows matched: 1  Changed: 1  Warnings: 0", {}},
      {"call_procedure", "CALL", -1, 0x00, 0, 0, 0x0002, 0, "", {}},
      {"handshake_native_ok", "handshake", 1, 0x00, 0, 0, 0x0002, 0, "", {}},
      {"handshake_native_ok_pymysql", "handshake", 1, 0x00, 0, 0, 0x0002, 0, "", {}},
      // libmariadb sets CLIENT_SESSION_TRACK.
      {"ping", "COM_PING", 0, 0x00, 0, 0, 0x0002, 0, "", {}},
      {"reset_connection", "COM_RESET_CONNECTION", 0, 0x00, 0, 0, 0x0002, 0, "", {}},
      {"init_db", "COM_INIT_DB capdb", 0, 0x00, 0, 0, 0x4002, 0, "", {{kSchema, "", "capdb"}}},
      {"cursor_fetch", "handshake", 1, 0x00, 0, 0, 0x4002, 0, "", {{kSchema, "", "capdb"}}},
      {"reset_connection", "SET @x = 42", 0, 0x00, 0, 0, 0x4000, 0, "",
       {{kSysVar, "autocommit", "OFF"}}},
      {"session_track", "session_track_system_variables", 0, 0x00, 0, 0, 0x4002, 0, "",
       {{kSysVar, "session_track_system_variables", "*"}}},
      {"session_track", "session_track_state_change", 0, 0x00, 0, 0, 0x4002, 0, "",
       {{kSysVar, "session_track_state_change", "ON"}, {kStateChange, "", "1"}}},
      {"session_track", "session_track_transaction_info", 0, 0x00, 0, 0, 0x4002, 0, "",
       {{kSysVar, "session_track_transaction_info", "CHARACTERISTICS"},
        {kStateChange, "", "1"},
        {kTrxState, "", "________"},
        {kTrxChars, "", ""}}},
      {"session_track", "SET NAMES", 0, 0x00, 0, 0, 0x4002, 0, "",
       {{kSysVar, "character_set_results", "utf8mb4"},
        {kSysVar, "character_set_client", "utf8mb4"},
        {kSysVar, "character_set_connection", "utf8mb4"},
        {kStateChange, "", "1"}}},
      {"session_track", "USE capdb", 0, 0x00, 0, 0, 0x4002, 0, "",
       {{kSchema, "", "capdb"}, {kStateChange, "", "1"}}},
      {"session_track", "SET autocommit=0", 0, 0x00, 0, 0, 0x4000, 0, "",
       {{kSysVar, "autocommit", "OFF"}, {kStateChange, "", "1"}}},
      {"session_track", "sql_mode", 0, 0x00, 0, 0, 0xc000, 0, "",
       {{kSysVar, "sql_mode", "REAL_AS_FLOAT,PIPES_AS_CONCAT,ANSI_QUOTES,IGNORE_SPACE,ANSI"},
        {kStateChange, "", "1"}}},
      {"session_track", "BEGIN", 0, 0x00, 0, 0, 0xc001, 0, "",
       {{kTrxState, "", "T_______"}, {kTrxChars, "", "START TRANSACTION;"}}},
      {"session_track", "INSERT INTO t_log", 0, 0x00, 1, 2, 0xc001, 0, "",
       {{kTrxState, "", "T_R_W_S_"}}},
      {"session_track", "COMMIT", 0, 0x00, 0, 0, 0xc000, 0, "",
       {{kSysVar, "last_gtid", "0-1-199"}, {kTrxState, "", "________"}, {kTrxChars, "", ""}}},
      {"session_track", "SET TRANSACTION ISOLATION", 0, 0x00, 0, 0, 0xc000, 0, "",
       {{kTrxChars, "", "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE;"}}},
      {"session_track", "START TRANSACTION READ ONLY", 0, 0x00, 0, 0, 0xe001, 0, "",
       {{kTrxState, "", "T_______"},
        {kTrxChars, "",
         "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE; START TRANSACTION READ ONLY;"}}},
      {"session_track", "ROLLBACK", 0, 0x00, 0, 0, 0xc000, 0, "",
       {{kTrxState, "", "________"}, {kTrxChars, "", ""}}},
      {"session_track", "SET @user_var", 0, 0x00, 0, 0, 0xc000, 0, "", {{kStateChange, "", "1"}}},
      // CLIENT_DEPRECATE_EOF: 7-byte OK packets with header 0xfe.
      {"set_option_deprecate_eof", "MULTI_STATEMENTS_OFF", 0, 0xfe, 0, 0, 0x0002, 0, "", {}},
      {"multi_statement_deprecate_eof", "4 statements", 3, 0xfe, 0, 0, 0x000a, 0, "", {}},
      {"cursor_fetch_deprecate_eof", "COM_STMT_EXECUTE", -1, 0xfe, 0, 0, 0x0062, 0, "", {}},
      {"cursor_fetch_deprecate_eof", "COM_STMT_FETCH 2 rows", 2, 0xfe, 0, 0, 0x0042, 0, "", {}},
      {"cursor_fetch_deprecate_eof", "COM_STMT_FETCH 2 rows", -1, 0xfe, 0, 0, 0x0082, 0, "", {}},
      {"field_list_deprecate_eof", "all columns", -1, 0xfe, 0, 0, 0x0002, 0, "", {}},
  };
}

std::string Trace(const OkCase& c) { return std::string(c.capture) + " / " + c.step; }

TEST(GenericPacketsOk, DecodesRealServerPackets) {
  for (const OkCase& c : OkCases()) {
    SCOPED_TRACE(Trace(c));
    const Capture& cap = LoadNamed(c.capture);
    Bytes payload = ServerFrame(cap, c.step, c.frame);
    ASSERT_FALSE(payload.empty());
    auto ok = DecodeOk(payload, NegotiatedCaps(cap));
    ASSERT_TRUE(ok.ok()) << ok.status();
    EXPECT_EQ(ok->header, c.header);
    EXPECT_EQ(ok->affected_rows, c.affected_rows);
    EXPECT_EQ(ok->last_insert_id, c.last_insert_id);
    EXPECT_EQ(ok->status_flags, c.status);
    EXPECT_EQ(ok->warnings, c.warnings);
    EXPECT_EQ(Str(ok->info), c.info);
    EXPECT_EQ(ok->session_state.empty(), c.session.empty());
    auto entries = DecodeSessionState(ok->session_state);
    ASSERT_TRUE(entries.ok()) << entries.status();
    std::vector<Entry> got;
    for (const SessionTrackEntry& e : *entries) got.push_back({e.type, Str(e.name), Str(e.value)});
    EXPECT_EQ(got, c.session);
  }
}

TEST(GenericPacketsOk, ReEncodingARealPacketGivesTheSameBytes) {
  for (const OkCase& c : OkCases()) {
    SCOPED_TRACE(Trace(c));
    const Capture& cap = LoadNamed(c.capture);
    Bytes payload = ServerFrame(cap, c.step, c.frame);
    auto ok = DecodeOk(payload, NegotiatedCaps(cap));
    ASSERT_TRUE(ok.ok()) << ok.status();
    Bytes out;
    EncodeOk(out, *ok, NegotiatedCaps(cap));
    EXPECT_EQ(ql::testing::ToHex(out), ql::testing::ToHex(payload));
  }
}

// Strict prefixes of a real OK packet decode only where the rest is optional:
// right after the warnings, or right after the info string.
TEST(GenericPacketsOk, EveryTruncationOfARealPacketFailsOrIsAShorterValidPacket) {
  for (const OkCase& c : OkCases()) {
    SCOPED_TRACE(Trace(c));
    const Capture& cap = LoadNamed(c.capture);
    uint32_t caps = NegotiatedCaps(cap);
    Bytes payload = ServerFrame(cap, c.step, c.frame);
    size_t after_warnings =
        1 + LenEncIntSize(c.affected_rows) + LenEncIntSize(c.last_insert_id) + 4;
    size_t after_info = after_warnings + LenEncIntSize(c.info.size()) + c.info.size();
    for (size_t n = 0; n < payload.size(); ++n) {
      SCOPED_TRACE("prefix " + std::to_string(n));
      auto ok = DecodeOk(ByteSpan(payload).first(n), caps);
      bool may_decode = n == after_warnings || n == after_info;
      EXPECT_EQ(ok.ok(), may_decode) << ok.status();
      if (ok.ok()) {
        EXPECT_EQ(ok->status_flags, c.status);
        EXPECT_TRUE(ok->session_state.empty());
      }
    }
  }
}

TEST(GenericPacketsOk, RoundTrips) {
  struct Case {
    const char* name;
    OkPacket ok;
  };
  std::string long_info(300, 'i');
  std::string state = std::string("\x01\x06\x05", 3) + "capdb";
  std::vector<Case> cases = {
      {"plain", {}},
      {"affected and id", {0x00, 1, 1, status::kAutocommit, 0, {}, {}}},
      {"lenenc boundaries", {0x00, 251, 0xffffff + 1ull, status::kAutocommit, 3, {}, {}}},
      {"64-bit values", {0x00, ~0ull, 1ull << 40, 0xffff, 0xffff, {}, {}}},
      {"info", {0x00, 3, 2, status::kAutocommit, 0, "Records: 3  Duplicates: 0  Warnings: 0", {}}},
      {"long info", {0x00, 0, 0, 0, 0, long_info, {}}},
      {"0xfe header", {0xfe, 0, 0, status::kMoreResultsExist, 1, {}, {}}},
      {"session state",
       {0x00, 0, 0, status::kAutocommit | status::kSessionStateChanged, 0, {}, state}},
      {"session state and info",
       {0x00, 1, 0, status::kSessionStateChanged, 0, "some info", state}},
  };
  for (uint32_t caps : {cap::kProtocol41, cap::kProtocol41 | cap::kSessionTrack,
                        cap::kProtocol41 | cap::kSessionTrack | cap::kDeprecateEof}) {
    for (const Case& c : cases) {
      SCOPED_TRACE(std::string(c.name) + ", caps " + std::to_string(caps));
      Bytes out;
      EncodeOk(out, c.ok, caps);
      auto ok = DecodeOk(out, caps);
      ASSERT_TRUE(ok.ok()) << ok.status();
      EXPECT_EQ(ok->header, c.ok.header);
      EXPECT_EQ(ok->affected_rows, c.ok.affected_rows);
      EXPECT_EQ(ok->last_insert_id, c.ok.last_insert_id);
      EXPECT_EQ(ok->status_flags, c.ok.status_flags);
      EXPECT_EQ(ok->warnings, c.ok.warnings);
      EXPECT_EQ(ok->info, c.ok.info);
      // Session state only travels with CLIENT_SESSION_TRACK.
      EXPECT_EQ(ok->session_state,
                (caps & cap::kSessionTrack) ? c.ok.session_state : std::string_view());
    }
  }
}

TEST(GenericPacketsOk, MalformedPackets) {
  const uint32_t caps = cap::kProtocol41 | cap::kSessionTrack;
  struct Case {
    const char* name;
    Bytes payload;
  };
  std::vector<Case> cases = {
      {"empty", {}},
      {"bad header", {0x01, 0, 0, 2, 0, 0, 0}},
      {"ERR header", {0xff, 0, 0, 2, 0, 0, 0}},
      {"NULL as affected rows", {0x00, 0xfb, 0, 2, 0, 0, 0}},
      {"0xff as last insert id", {0x00, 0, 0xff, 2, 0, 0, 0}},
      {"no warnings", {0x00, 0, 0, 2, 0}},
      {"info longer than the packet", {0x00, 0, 0, 2, 0, 0, 0, 0x05, 'a', 'b'}},
      {"session state longer than the packet", {0x00, 0, 0, 0x02, 0x40, 0, 0, 0x00, 0x09, 0x01}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_FALSE(DecodeOk(c.payload, caps).ok());
  }
}

// --- ERR packets -------------------------------------------------------------

struct ErrCase {
  const char* capture;
  const char* step;
  int frame;
  uint16_t code;
  const char* sql_state;
  const char* message;
};

std::vector<ErrCase> ErrCases() {
  return {
      {"query_error", "syntax error", 0, 1064, "42000",
       "You have an error in your SQL syntax; check the manual that corresponds to your MariaDB "
       "server version for the right syntax to use near 'SELEC 1' at line 1"},
      {"query_error", "unknown table", 0, 1146, "42S02",
       "Table 'capdb.no_such_table' doesn't exist"},
      {"query_error", "unknown column", 0, 1054, "42S22", "Unknown column 'nope' in 'SELECT'"},
      {"query_error", "duplicate key", 0, 1062, "23000", "Duplicate entry '1' for key 'PRIMARY'"},
      {"query_error", "error in the middle", -1, 1242, "21000", "Subquery returns more than 1 row"},
      {"handshake_wrong_password", "wrong password", -1, 1045, "28000",
       "Access denied for user 'cap'@'localhost' (using password: YES)"},
      {"change_user", "wrong password", -1, 1045, "28000",
       "Access denied for user 'cap'@'localhost' (using password: YES)"},
      {"init_db", "no_such_db", 0, 1049, "42000", "Unknown database 'no_such_db'"},
      {"cursor_fetch_deprecate_eof", "after the last row", 0, 1421, "HY000",
       "The statement (41) has no open cursor"},
      {"set_option_deprecate_eof", "invalid option", 0, 1047, "08S01", "Unknown command"},
      {"prepare_execute_deprecate_eof", "unknown statement id", 0, 1243, "HY000",
       "Unknown prepared statement handler (9999) given to mysqld_stmt_execute"},
      {"field_list", "unknown table", 0, 1146, "42S02", "Table 'capdb.no_such_table' doesn't exist"},
      {"multi_statement", "second one fails", -1, 1146, "42S02",
       "Table 'capdb.no_such_table' doesn't exist"},
  };
}

TEST(GenericPacketsErr, DecodesRealServerPackets) {
  for (const ErrCase& c : ErrCases()) {
    SCOPED_TRACE(std::string(c.capture) + " / " + c.step);
    Bytes payload = ServerFrame(LoadNamed(c.capture), c.step, c.frame);
    auto err = DecodeErr(payload);
    ASSERT_TRUE(err.ok()) << err.status();
    EXPECT_EQ(err->error_code, c.code);
    EXPECT_EQ(Str(err->sql_state), c.sql_state);
    EXPECT_EQ(Str(err->message), c.message);
    // And the encoder writes the very same bytes.
    Bytes out;
    EncodeErr(out, c.code, c.sql_state, c.message);
    EXPECT_EQ(ql::testing::ToHex(out), ql::testing::ToHex(payload));
  }
}

TEST(GenericPacketsErr, EveryTruncationOfARealPacketIsSafe) {
  for (const ErrCase& c : ErrCases()) {
    SCOPED_TRACE(std::string(c.capture) + " / " + c.step);
    Bytes payload = ServerFrame(LoadNamed(c.capture), c.step, c.frame);
    for (size_t n = 0; n < payload.size(); ++n) {
      SCOPED_TRACE("prefix " + std::to_string(n));
      auto err = DecodeErr(ByteSpan(payload).first(n));
      // Header and code are required; the message is string<EOF>, so any
      // longer prefix is an ERR with a shorter message.
      ASSERT_EQ(err.ok(), n >= 3) << err.status();
      if (!err.ok()) continue;
      EXPECT_EQ(err->error_code, c.code);
      if (n >= 9) {
        EXPECT_EQ(Str(err->sql_state), c.sql_state);
        EXPECT_EQ(Str(err->message), std::string(c.message).substr(0, n - 9));
      } else {
        EXPECT_TRUE(err->sql_state.empty());
      }
    }
  }
}

TEST(GenericPacketsErr, RoundTripsAndOddForms) {
  Bytes out;
  EncodeErr(out, 1045, "28000", "Access denied");
  auto err = DecodeErr(out);
  ASSERT_TRUE(err.ok());
  EXPECT_EQ(err->error_code, 1045);
  EXPECT_EQ(Str(err->sql_state), "28000");
  EXPECT_EQ(Str(err->message), "Access denied");

  // A SQLSTATE that is not 5 characters is replaced by the generic HY000.
  out.clear();
  EncodeErr(out, 2003, "bad", "");
  err = DecodeErr(out);
  ASSERT_TRUE(err.ok());
  EXPECT_EQ(Str(err->sql_state), "HY000");
  EXPECT_EQ(Str(err->message), "");

  // Pre-4.1 style: no '#' marker, the message follows the code directly.
  Bytes old = {0xff, 0x15, 0x04, 'D', 'e', 'n', 'i', 'e', 'd', '!'};
  err = DecodeErr(old);
  ASSERT_TRUE(err.ok());
  EXPECT_EQ(err->error_code, 1045);
  EXPECT_TRUE(err->sql_state.empty());
  EXPECT_EQ(Str(err->message), "Denied!");

  Bytes not_err = {0x00, 0x15, 0x04};
  EXPECT_FALSE(DecodeErr(not_err).ok());
}

// --- EOF packets -------------------------------------------------------------

struct EofCase {
  const char* capture;
  const char* step;
  int frame;
  uint16_t warnings;
  uint16_t status;
};

std::vector<EofCase> EofCases() {
  return {
      {"resultset_text_eof", "0 rows", -1, 0, 0x0002},
      {"resultset_text_eof", "3 rows", -1, 0, 0x0022},
      {"call_procedure", "CALL", 3, 0, 0x000a},
      {"cursor_fetch", "CURSOR_TYPE_READ_ONLY", -1, 0, 0x0062},
      {"cursor_fetch", "COM_STMT_FETCH", 2, 0, 0x0042},
      {"call_procedure_prepared", "OUT-parameter", 2, 0, 0x100a},
      {"session_track", "SELECT COUNT", 2, 0, 0xc021},
      {"set_option", "MULTI_STATEMENTS_OFF", 0, 0, 0x0002},
      {"field_list", "all columns", -1, 0, 0x0002},
  };
}

TEST(GenericPacketsEof, DecodesRealServerPackets) {
  for (const EofCase& c : EofCases()) {
    SCOPED_TRACE(std::string(c.capture) + " / " + c.step);
    const Capture& cap = LoadNamed(c.capture);
    Bytes payload = ServerFrame(cap, c.step, c.frame);
    ASSERT_EQ(payload.size(), 5u);
    EXPECT_TRUE(IsEofPacket(payload));
    EXPECT_TRUE(IsEofTerminator(payload, NegotiatedCaps(cap)));
    auto eof = DecodeEof(payload);
    ASSERT_TRUE(eof.ok()) << eof.status();
    EXPECT_EQ(eof->warnings, c.warnings);
    EXPECT_EQ(eof->status_flags, c.status);
    uint16_t st = 0, warn = 0;
    EXPECT_TRUE(ReadTerminatorStatus(payload, NegotiatedCaps(cap), &st, &warn));
    EXPECT_EQ(st, c.status);
    EXPECT_EQ(warn, c.warnings);
    Bytes out;
    EncodeEof(out, c.warnings, c.status);
    EXPECT_EQ(out, payload);
  }
}

TEST(GenericPacketsEof, TruncationAndShapes) {
  Bytes full;
  EncodeEof(full, 7, 0x0022);
  ASSERT_EQ(full, (Bytes{0xfe, 0x07, 0x00, 0x22, 0x00}));
  // 0 bytes: nothing; 1 byte: the bare EOF of pre-4.1 servers; 2 to 4: cut.
  for (size_t n = 0; n < full.size(); ++n) {
    SCOPED_TRACE(n);
    auto eof = DecodeEof(ByteSpan(full).first(n));
    EXPECT_EQ(eof.ok(), n == 1) << eof.status();
    if (eof.ok()) {
      EXPECT_EQ(eof->warnings, 0);
      EXPECT_EQ(eof->status_flags, 0);
    }
  }
  Bytes not_eof = {0x00, 0x00, 0x00, 0x02, 0x00};
  EXPECT_FALSE(IsEofPacket(not_eof));
  EXPECT_FALSE(DecodeEof(not_eof).ok());
  Bytes nine(9, 0);
  nine[0] = 0xfe;  // 9 bytes or more starting with 0xfe is a row or an OK, not an EOF
  EXPECT_FALSE(IsEofPacket(nine));
  EXPECT_FALSE(DecodeEof(nine).ok());
  Bytes eight(8, 0);
  eight[0] = 0xfe;
  EXPECT_TRUE(IsEofPacket(eight));
}

TEST(GenericPacketsTerminator, EofOrOkDependingOnDeprecateEof) {
  const uint32_t classic = cap::kProtocol41 | cap::kSessionTrack;
  const uint32_t deprecate = classic | cap::kDeprecateEof;
  struct Case {
    const char* name;
    Bytes payload;
    uint32_t caps;
    bool ok;
    bool is_eof;  // IsEofTerminator
    uint16_t status;
    uint16_t warnings;
  };
  std::vector<Case> cases = {
      {"EOF", {0xfe, 0x01, 0x00, 0x02, 0x00}, classic, true, true, 0x0002, 1},
      {"bare EOF", {0xfe}, classic, true, true, 0, 0},
      {"cut EOF", {0xfe, 0x00, 0x00}, classic, false, true, 0, 0},
      // Under DEPRECATE_EOF a 7-byte 0xfe packet is an OK: affected rows and
      // last insert id come first, then status and warnings.
      {"0xfe OK", {0xfe, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00}, deprecate, true, false, 0x0002, 0},
      {"0xfe OK with warnings", {0xfe, 0x00, 0x00, 0x22, 0x00, 0x03, 0x00}, deprecate, true, false,
       0x0022, 3},
      {"0xfe OK with affected rows", {0xfe, 0x05, 0x00, 0x0a, 0x00, 0x01, 0x00}, deprecate, true,
       false, 0x000a, 1},
      {"0xfe OK with session state",
       {0xfe, 0x00, 0x00, 0x02, 0x40, 0x00, 0x00, 0x00, 0x03, 0x02, 0x01, '1'}, deprecate, true,
       false, 0x4002, 0},
      {"EOF under DEPRECATE_EOF", {0xfe, 0x00, 0x00, 0x02, 0x00}, deprecate, true, true, 0x0002, 0},
      {"cut 0xfe OK", {0xfe, 0x00, 0x00, 0x02, 0x00, 0x00}, deprecate, false, false, 0, 0},
      {"not a terminator", {0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00}, deprecate, false, false, 0,
       0},
      {"empty", {}, classic, false, false, 0, 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(IsEofTerminator(c.payload, c.caps), c.is_eof);
    uint16_t st = 0xdead, warn = 0xbeef;
    EXPECT_EQ(ReadTerminatorStatus(c.payload, c.caps, &st, &warn), c.ok);
    if (c.ok) {
      EXPECT_EQ(st, c.status);
      EXPECT_EQ(warn, c.warnings);
    }
  }
}

// --- Session state -----------------------------------------------------------

TEST(GenericPacketsSessionState, EveryTruncationOfARealBlockFailsOrEndsAtAnEntry) {
  for (const OkCase& c : OkCases()) {
    if (c.session.empty()) continue;
    SCOPED_TRACE(Trace(c));
    const Capture& cap = LoadNamed(c.capture);
    Bytes payload = ServerFrame(cap, c.step, c.frame);
    auto ok = DecodeOk(payload, NegotiatedCaps(cap));
    ASSERT_TRUE(ok.ok());
    std::string block(ok->session_state);
    // Entry boundaries, found independently: type byte, 1-byte length (all
    // entries here are shorter than 251 bytes), data.
    std::vector<size_t> boundaries = {0};
    for (size_t pos = 0; pos < block.size();) {
      ASSERT_LT(uint8_t(block[pos + 1]), 0xfb);
      pos += 2 + uint8_t(block[pos + 1]);
      boundaries.push_back(pos);
    }
    ASSERT_EQ(boundaries.size(), c.session.size() + 1);
    for (size_t n = 0; n <= block.size(); ++n) {
      SCOPED_TRACE("prefix " + std::to_string(n));
      auto entries = DecodeSessionState(std::string_view(block).substr(0, n));
      auto it = std::find(boundaries.begin(), boundaries.end(), n);
      ASSERT_EQ(entries.ok(), it != boundaries.end()) << entries.status();
      if (entries.ok()) {
        EXPECT_EQ(entries->size(), size_t(it - boundaries.begin()));
      }
    }
  }
}

TEST(GenericPacketsSessionState, EntryShapes) {
  using namespace std::string_literals;
  struct Case {
    const char* name;
    std::string block;
    bool ok;
    std::vector<Entry> entries;
  };
  std::vector<Case> cases = {
      {"empty block", "", true, {}},
      {"system variable", "\x00\x06\x02" "ab" "\x02" "cd"s, true, {{kSysVar, "ab", "cd"}}},
      {"schema", "\x01\x04\x03" "xyz"s, true, {{kSchema, "", "xyz"}}},
      {"state change", "\x02\x01" "1"s, true, {{kStateChange, "", "1"}}},
      {"gtids: encoding byte, then the set", "\x03\x05\x00\x03" "a-b"s, true,
       {{SessionTrackType::kGtids, "", "a-b"}}},
      {"characteristics", "\x04\x01\x00"s, true, {{kTrxChars, "", ""}}},
      {"transaction state", "\x05\x09\x08" "T_______"s, true, {{kTrxState, "", "T_______"}}},
      {"unknown types are skipped", "\x21\x03" "abc" "\x01\x02\x01" "d"s, true,
       {{kSchema, "", "d"}}},
      {"entry longer than the block", "\x01\x09\x03" "xyz"s, false, {}},
      {"variable name longer than its entry", "\x00\x04\x05" "ab" "\x00"s, false, {}},
      {"variable without a value", "\x00\x03\x02" "ab"s, false, {}},
      {"schema longer than its entry", "\x01\x02\x05" "a"s, false, {}},
      {"type byte only", "\x01"s, false, {}},
      {"NULL as entry length", "\x01\xfb"s, false, {}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto entries = DecodeSessionState(c.block);
    ASSERT_EQ(entries.ok(), c.ok) << entries.status();
    if (!c.ok) continue;
    std::vector<Entry> got;
    for (const SessionTrackEntry& e : *entries) got.push_back({e.type, Str(e.name), Str(e.value)});
    EXPECT_EQ(got, c.entries);
  }
}

}  // namespace
}  // namespace ql::protocol
