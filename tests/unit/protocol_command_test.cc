// Unit tests of command-phase decoding (protocol/command.h): DescribeCommand
// for every possible command byte, the typed decoders on client packets from
// tests/data/captures (libmariadb and the crafted DEPRECATE_EOF client talking
// to a real MariaDB 10.11), malformed input (every truncation, trailing bytes,
// wrong command bytes) and the encoders.
#include "protocol/command.h"

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/unit/capture_file.h"
#include "tests/unit/capture_test_support.h"

namespace ql::protocol {
namespace {

using ql::testing::Capture;
using ql::testing::LoadNamed;
using ql::testing::AllCaptureNames;
using ql::testing::CaptureDir;
using ql::testing::CapturedFrame;

// The `index`-th command (client frame with sequence id 0) in the first step
// whose label contains `step`.
Bytes CommandIn(const std::string& capture, std::string_view step, size_t index = 0) {
  const Capture& c = LoadNamed(capture);
  size_t seen = 0;
  for (const CapturedFrame& f : c.frames) {
    if (f.direction != 'C' || f.sequence_id != 0 || f.step.find(step) == std::string::npos) {
      continue;
    }
    if (seen++ == index) return f.payload;
  }
  ADD_FAILURE() << capture << ": no command " << index << " in step '" << step << "'";
  return {};
}

// --- DescribeCommand -----------------------------------------------------------

// What every supported command byte must map to; everything else is refused.
const std::map<uint8_t, ResponseKind>& SupportedCommands() {
  static const std::map<uint8_t, ResponseKind> m = {
      {0x01, ResponseKind::kNone},         // COM_QUIT
      {0x02, ResponseKind::kOkOrErr},      // COM_INIT_DB
      {0x03, ResponseKind::kResultSet},    // COM_QUERY
      {0x04, ResponseKind::kFieldList},    // COM_FIELD_LIST
      {0x05, ResponseKind::kOkOrErr},      // COM_CREATE_DB
      {0x06, ResponseKind::kOkOrErr},      // COM_DROP_DB
      {0x07, ResponseKind::kOkOrErr},      // COM_REFRESH
      {0x09, ResponseKind::kStatistics},   // COM_STATISTICS
      {0x0a, ResponseKind::kResultSet},    // COM_PROCESS_INFO (SHOW PROCESSLIST)
      {0x0c, ResponseKind::kOkOrErr},      // COM_PROCESS_KILL
      {0x0d, ResponseKind::kOkOrErr},      // COM_DEBUG (answered with EOF)
      {0x0e, ResponseKind::kOkOrErr},      // COM_PING
      {0x11, ResponseKind::kAuth},         // COM_CHANGE_USER
      {0x16, ResponseKind::kPrepare},      // COM_STMT_PREPARE
      {0x17, ResponseKind::kResultSet},    // COM_STMT_EXECUTE
      {0x18, ResponseKind::kNone},         // COM_STMT_SEND_LONG_DATA
      {0x19, ResponseKind::kNone},         // COM_STMT_CLOSE
      {0x1a, ResponseKind::kOkOrErr},      // COM_STMT_RESET
      {0x1b, ResponseKind::kOkOrErr},      // COM_SET_OPTION (answered with EOF)
      {0x1c, ResponseKind::kFetch},        // COM_STMT_FETCH
      {0x1f, ResponseKind::kOkOrErr},      // COM_RESET_CONNECTION
  };
  return m;
}

TEST(DescribeCommandTest, EveryCommandByte) {
  // Deliberately refused: sleep/connect/time/delayed insert (server-internal),
  // shutdown, replication (binlog dump, table dump, register slave, GTID dump),
  // daemon, COM_STMT_BULK_EXECUTE (never negotiated) and undefined bytes.
  const std::set<uint8_t> refused_known = {0x00, 0x08, 0x0b, 0x0f, 0x10, 0x12, 0x13,
                                           0x14, 0x15, 0x1d, 0x1e, 0xfa};
  int supported = 0;
  for (int b = 0; b < 256; ++b) {
    SCOPED_TRACE("command byte " + std::to_string(b));
    CommandInfo info = DescribeCommand(uint8_t(b));
    EXPECT_EQ(uint8_t(info.command), b);
    auto it = SupportedCommands().find(uint8_t(b));
    if (it != SupportedCommands().end()) {
      EXPECT_TRUE(info.supported);
      EXPECT_EQ(info.response, it->second);
      EXPECT_NE(CommandName(info.command), "COM_UNKNOWN");
      ++supported;
    } else {
      EXPECT_FALSE(info.supported);
      EXPECT_EQ(info.response, ResponseKind::kNone) << "a refused command gets no relayed answer";
      if (refused_known.count(uint8_t(b))) {
        EXPECT_NE(CommandName(info.command), "COM_UNKNOWN");
      } else {
        EXPECT_EQ(CommandName(info.command), "COM_UNKNOWN");
      }
    }
  }
  EXPECT_EQ(supported, int(SupportedCommands().size()));
}

TEST(DescribeCommandTest, CommandNames) {
  std::map<Command, std::string> names = {
      {Command::kSleep, "COM_SLEEP"},
      {Command::kQuit, "COM_QUIT"},
      {Command::kInitDb, "COM_INIT_DB"},
      {Command::kQuery, "COM_QUERY"},
      {Command::kFieldList, "COM_FIELD_LIST"},
      {Command::kStatistics, "COM_STATISTICS"},
      {Command::kPing, "COM_PING"},
      {Command::kChangeUser, "COM_CHANGE_USER"},
      {Command::kBinlogDump, "COM_BINLOG_DUMP"},
      {Command::kStmtPrepare, "COM_STMT_PREPARE"},
      {Command::kStmtExecute, "COM_STMT_EXECUTE"},
      {Command::kStmtSendLongData, "COM_STMT_SEND_LONG_DATA"},
      {Command::kStmtClose, "COM_STMT_CLOSE"},
      {Command::kStmtReset, "COM_STMT_RESET"},
      {Command::kSetOption, "COM_SET_OPTION"},
      {Command::kStmtFetch, "COM_STMT_FETCH"},
      {Command::kResetConnection, "COM_RESET_CONNECTION"},
      {Command::kStmtBulkExecute, "COM_STMT_BULK_EXECUTE"},
  };
  for (const auto& [c, name] : names) EXPECT_EQ(CommandName(c), name);
  // Every name of a defined command is distinct.
  std::set<std::string_view> seen;
  for (int b = 0; b < 256; ++b) {
    std::string_view n = CommandName(Command(b));
    if (n != "COM_UNKNOWN") {
      EXPECT_TRUE(seen.insert(n).second) << n;
    }
  }
  EXPECT_EQ(seen.size(), 33u);
}

TEST(DescribeCommandTest, EveryCapturedCommandIsSupported) {
  std::set<uint8_t> seen;
  for (const auto& e : std::filesystem::directory_iterator(CaptureDir())) {
    if (e.path().extension() != ".txt") continue;
    const Capture& c = LoadNamed(e.path().stem().string());
    bool command_phase = false;
    for (const CapturedFrame& f : c.frames) {
      // The command phase starts at the first client frame with id 0.
      if (f.direction != 'C' || f.sequence_id != 0) continue;
      command_phase = true;
      ASSERT_FALSE(f.payload.empty()) << c.name << ":" << f.line;
      EXPECT_TRUE(DescribeCommand(f.payload[0]).supported) << c.name << ":" << f.line;
      seen.insert(f.payload[0]);
    }
    // Only the failed login never reaches the command phase.
    EXPECT_EQ(command_phase, c.name != "handshake_wrong_password") << c.name;
  }
  // The captures cover these commands.
  for (uint8_t b : {0x01, 0x02, 0x03, 0x04, 0x09, 0x0e, 0x11, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b,
                    0x1c, 0x1f}) {
    EXPECT_TRUE(seen.count(b)) << int(b);
  }
}

// --- Decoders on real packets ----------------------------------------------------

TEST(CommandDecodersTest, StmtExecuteHeader) {
  struct Case {
    const char* capture;
    const char* step;
    uint32_t statement_id;
    uint8_t flags;
  };
  std::vector<Case> cases = {
      {"prepare_execute_deprecate_eof", "(id > 0, name <> 'beta') with types", 5, 0x00},
      {"prepare_execute_deprecate_eof", "new_params_bound_flag = 0", 5, 0x00},
      {"prepare_execute_deprecate_eof", "NULL parameter", 5, 0x00},
      {"prepare_execute_deprecate_eof", "unknown statement id", 9999, 0x00},
      {"prepare_execute", "COM_STMT_EXECUTE of the INSERT", 2, 0x00},
      {"cursor_fetch", "CURSOR_TYPE_READ_ONLY", 9, 0x01},
      {"cursor_fetch_deprecate_eof", "CURSOR_TYPE_READ_ONLY", 0x29, 0x01},
      {"call_procedure_prepared", "two binary result sets", 0x27, 0x00},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.capture) + " / " + c.step);
    Bytes payload = CommandIn(c.capture, c.step);
    auto h = DecodeStmtExecuteHeader(payload);
    ASSERT_TRUE(h.ok()) << h.status();
    EXPECT_EQ(h->statement_id, c.statement_id);
    EXPECT_EQ(h->flags, c.flags);
    EXPECT_EQ(h->iteration_count, 1u);
    // The header is 10 bytes; parameters follow and are not looked at.
    for (size_t n = 0; n < 10; ++n) {
      EXPECT_FALSE(DecodeStmtExecuteHeader(ByteSpan(payload).first(n)).ok()) << n;
    }
    EXPECT_TRUE(DecodeStmtExecuteHeader(ByteSpan(payload).first(10)).ok());
  }
}

TEST(CommandDecodersTest, StmtFetch) {
  for (auto [capture, id] : std::vector<std::pair<const char*, uint32_t>>{
           {"cursor_fetch", 9}, {"cursor_fetch_deprecate_eof", 0x29}}) {
    SCOPED_TRACE(capture);
    for (size_t i = 0; i < 3; ++i) {
      Bytes payload = CommandIn(capture, "COM_STMT_FETCH", i);
      auto f = DecodeStmtFetch(payload);
      ASSERT_TRUE(f.ok()) << f.status();
      EXPECT_EQ(f->statement_id, id);
      EXPECT_EQ(f->num_rows, 2u);
      for (size_t n = 0; n < payload.size(); ++n) {
        EXPECT_FALSE(DecodeStmtFetch(ByteSpan(payload).first(n)).ok()) << n;
      }
      Bytes longer = payload;
      longer.push_back(0);
      EXPECT_FALSE(DecodeStmtFetch(longer).ok()) << "trailing bytes";
    }
  }
}

TEST(CommandDecodersTest, StmtSendLongData) {
  struct Case {
    const char* capture;
    const char* step;
    size_t index;
    uint32_t id;
    const char* data;
  };
  std::vector<Case> cases = {
      {"prepare_execute_deprecate_eof", "chunk 1", 0, 6, "hello, "},
      {"prepare_execute_deprecate_eof", "chunk 2", 0, 6, "long data"},
      {"prepare_execute_deprecate_eof", "param 1 again", 0, 6, "discarded"},
      {"prepare_execute", "chunk 1", 0, 2, "hello, "},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.step);
    Bytes payload = CommandIn(c.capture, c.step, c.index);
    auto d = DecodeStmtSendLongData(payload);
    ASSERT_TRUE(d.ok()) << d.status();
    EXPECT_EQ(d->statement_id, c.id);
    EXPECT_EQ(d->param_id, 1);
    EXPECT_EQ(d->data, c.data);
    for (size_t n = 0; n < 7; ++n) {
      EXPECT_FALSE(DecodeStmtSendLongData(ByteSpan(payload).first(n)).ok()) << n;
    }
    auto empty = DecodeStmtSendLongData(ByteSpan(payload).first(7));
    ASSERT_TRUE(empty.ok());
    EXPECT_TRUE(empty->data.empty());
  }
}

TEST(CommandDecodersTest, StmtCloseAndReset) {
  struct Case {
    const char* capture;
    const char* step;
    uint8_t command;
    uint32_t id;
  };
  std::vector<Case> cases = {
      {"prepare_execute_deprecate_eof", "COM_STMT_CLOSE (no response)", 0x19, 5},
      {"prepare_execute_deprecate_eof", "COM_STMT_RESET: OK", 0x1a, 6},
      {"prepare_execute_deprecate_eof", "COM_STMT_CLOSE of the INSERT", 0x19, 6},
      {"prepare_execute", "COM_STMT_RESET: OK", 0x1a, 2},
      {"cursor_fetch", "COM_STMT_CLOSE", 0x19, 9},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.step);
    Bytes payload = CommandIn(c.capture, c.step);
    ASSERT_EQ(payload.size(), 5u);
    EXPECT_EQ(payload[0], c.command);
    auto s = DecodeStatementIdCommand(payload);
    ASSERT_TRUE(s.ok()) << s.status();
    EXPECT_EQ(s->statement_id, c.id);
    for (size_t n = 0; n < 5; ++n) {
      EXPECT_FALSE(DecodeStatementIdCommand(ByteSpan(payload).first(n)).ok()) << n;
    }
    Bytes longer = payload;
    longer.push_back(0);
    EXPECT_FALSE(DecodeStatementIdCommand(longer).ok());
    Bytes out;
    EncodeStatementIdCommand(out, Command(c.command), c.id);
    EXPECT_EQ(out, payload);
  }
  Bytes execute = {0x17, 1, 0, 0, 0};
  EXPECT_FALSE(DecodeStatementIdCommand(execute).ok()) << "only CLOSE and RESET";
}

TEST(CommandDecodersTest, FieldList) {
  struct Case {
    const char* step;
    const char* table;
    const char* wildcard;
  };
  for (const Case& c : std::vector<Case>{{"all columns", "t_items", ""},
                                         {"wildcard", "t_items", "n%"},
                                         {"unknown table", "no_such_table", ""}}) {
    for (const char* capture : {"field_list", "field_list_deprecate_eof"}) {
      SCOPED_TRACE(std::string(capture) + " / " + c.step);
      Bytes payload = CommandIn(capture, c.step);
      auto f = DecodeFieldList(payload);
      ASSERT_TRUE(f.ok()) << f.status();
      EXPECT_EQ(f->table, c.table);
      EXPECT_EQ(f->wildcard, c.wildcard);
      // The table name must be NUL-terminated.
      size_t nul = 1 + std::string(c.table).size();
      for (size_t n = 0; n <= nul; ++n) {
        EXPECT_FALSE(DecodeFieldList(ByteSpan(payload).first(n)).ok()) << n;
      }
    }
  }
}

TEST(CommandDecodersTest, SetOption) {
  struct Case {
    const char* capture;
    const char* step;
    uint16_t option;
  };
  std::vector<Case> cases = {
      {"set_option", "MULTI_STATEMENTS_OFF", 1},
      {"set_option", "MULTI_STATEMENTS_ON", 0},
      {"set_option_deprecate_eof", "invalid option", 7},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.capture) + " / " + c.step);
    Bytes payload = CommandIn(c.capture, c.step);
    auto v = DecodeSetOption(payload);
    ASSERT_TRUE(v.ok()) << v.status();
    EXPECT_EQ(*v, c.option);
    for (size_t n = 0; n < payload.size(); ++n) {
      EXPECT_FALSE(DecodeSetOption(ByteSpan(payload).first(n)).ok()) << n;
    }
    Bytes longer = payload;
    longer.push_back(0);
    EXPECT_FALSE(DecodeSetOption(longer).ok());
  }
}

TEST(CommandDecodersTest, StringCommands) {
  struct Case {
    const char* capture;
    const char* step;
    Command command;
    const char* text;
  };
  std::vector<Case> cases = {
      {"init_db", "COM_INIT_DB capdb", Command::kInitDb, "capdb"},
      {"init_db", "no_such_db", Command::kInitDb, "no_such_db"},
      {"query_ok_insert", "INSERT one row", Command::kQuery,
       "INSERT INTO t_log (msg) VALUES ('one')"},
      {"query_ok_insert", "DELETE", Command::kQuery, "DELETE FROM t_log WHERE id >= 300"},
      {"multi_statement", "4 statements", Command::kQuery,
       "SELECT 1; SELECT 2, 3; UPDATE t_log SET n = n + 1 WHERE id = 1; SELECT 4"},
      {"local_infile_crafted", "empty file", Command::kQuery,
       "LOAD DATA LOCAL INFILE 'missing.csv' INTO TABLE t_load FIELDS TERMINATED BY ','"},
      {"prepare_execute_deprecate_eof", "INSERT: 2 params", Command::kStmtPrepare,
       "INSERT INTO t_blob (id, data) VALUES (?, ?)"},
      {"prepare_execute_deprecate_eof", "unknown column", Command::kStmtPrepare,
       "SELECT nope FROM t_items"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.step);
    Bytes payload = CommandIn(c.capture, c.step);
    auto s = DecodeStringCommand(payload, c.command);
    ASSERT_TRUE(s.ok()) << s.status();
    EXPECT_EQ(*s, c.text);
    EXPECT_FALSE(DecodeStringCommand(payload, Command::kStmtExecute).ok()) << "wrong command";
    EXPECT_FALSE(DecodeStringCommand({}, c.command).ok());
    Bytes out;
    EncodeStringCommand(out, c.command, c.text);
    EXPECT_EQ(out, payload);
  }
  Bytes bare = {0x03};
  auto empty = DecodeStringCommand(bare, Command::kQuery);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, "");
}

TEST(CommandDecodersTest, ProcessKill) {
  Bytes kill = {0x0c, 0x2a, 0x00, 0x00, 0x80};
  auto id = DecodeProcessKill(kill);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(*id, 0x8000002au);
  for (size_t n = 0; n < kill.size(); ++n) {
    EXPECT_FALSE(DecodeProcessKill(ByteSpan(kill).first(n)).ok()) << n;
  }
  Bytes longer = kill;
  longer.push_back(1);
  EXPECT_FALSE(DecodeProcessKill(longer).ok());
  Bytes ping = {0x0e, 0x2a, 0x00, 0x00, 0x00};
  EXPECT_FALSE(DecodeProcessKill(ping).ok());
}

TEST(CommandDecodersTest, WrongCommandByteIsRejectedEverywhere) {
  // A valid-looking body behind the wrong command byte.
  Bytes body = {0xee, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00};
  EXPECT_FALSE(DecodeStatementIdCommand(ByteSpan(body).first(5)).ok());
  EXPECT_FALSE(DecodeStmtExecuteHeader(body).ok());
  EXPECT_FALSE(DecodeStmtFetch(ByteSpan(body).first(9)).ok());
  EXPECT_FALSE(DecodeStmtSendLongData(body).ok());
  Bytes field = {0xee, 't', 0};
  EXPECT_FALSE(DecodeFieldList(field).ok());
  EXPECT_FALSE(DecodeSetOption(ByteSpan(body).first(3)).ok());
  EXPECT_FALSE(DecodeProcessKill(ByteSpan(body).first(5)).ok());
  absl::Status s = DecodeStmtFetch(ByteSpan(body).first(9)).status();
  EXPECT_NE(s.message().find("COM_STMT_FETCH"), absl::string_view::npos) << s;
}

TEST(CommandEncodersTest, SimpleCommands) {
  for (Command c : {Command::kQuit, Command::kPing, Command::kStatistics,
                    Command::kResetConnection}) {
    Bytes out = {0xaa};
    EncodeSimpleCommand(out, c);
    EXPECT_EQ(out, (Bytes{0xaa, uint8_t(c)}));
  }
  EXPECT_EQ(CommandIn("ping", "COM_PING"), (Bytes{0x0e}));
  EXPECT_EQ(CommandIn("reset_connection", "COM_RESET_CONNECTION"), (Bytes{0x1f}));
  EXPECT_EQ(CommandIn("statistics", "COM_STATISTICS"), (Bytes{0x09}));
  Bytes out;
  EncodeStatementIdCommand(out, Command::kStmtClose, 0x01020304);
  EXPECT_EQ(out, (Bytes{0x19, 0x04, 0x03, 0x02, 0x01}));
}

}  // namespace
}  // namespace ql::protocol
