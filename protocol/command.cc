// Implementation of command decoding.
#include "protocol/command.h"

#include "absl/strings/str_cat.h"

namespace ql::protocol {
namespace {

absl::Status CheckCommand(WireReader& r, Command expected) {
  uint8_t b = r.U8();
  if (!r.ok() || b != uint8_t(expected)) {
    return absl::InvalidArgumentError(
        absl::StrCat("malformed ", Sv(CommandName(expected)), ": wrong command byte"));
  }
  return absl::OkStatus();
}

}  // namespace

CommandInfo DescribeCommand(uint8_t b) {
  auto c = static_cast<Command>(b);
  switch (c) {
    case Command::kQuit:
    case Command::kStmtClose:
    case Command::kStmtSendLongData:
      return {c, ResponseKind::kNone, true};
    case Command::kInitDb:
    case Command::kPing:
    case Command::kStmtReset:
    case Command::kSetOption:
    case Command::kResetConnection:
    case Command::kRefresh:
    case Command::kProcessKill:
    case Command::kDebug:
    case Command::kCreateDb:
    case Command::kDropDb:
      return {c, ResponseKind::kOkOrErr, true};
    case Command::kQuery:
    case Command::kStmtExecute:
    case Command::kProcessInfo:
      return {c, ResponseKind::kResultSet, true};
    case Command::kStmtPrepare:
      return {c, ResponseKind::kPrepare, true};
    case Command::kStmtFetch:
      return {c, ResponseKind::kFetch, true};
    case Command::kFieldList:
      return {c, ResponseKind::kFieldList, true};
    case Command::kStatistics:
      return {c, ResponseKind::kStatistics, true};
    case Command::kChangeUser:
      return {c, ResponseKind::kAuth, true};
    default:
      // Replication streams, shutdown, bulk execute (never negotiated) and
      // unknown bytes: the proxy answers them with an error itself.
      return {c, ResponseKind::kNone, false};
  }
}

std::string_view CommandName(Command c) {
  switch (c) {
    case Command::kSleep: return "COM_SLEEP";
    case Command::kQuit: return "COM_QUIT";
    case Command::kInitDb: return "COM_INIT_DB";
    case Command::kQuery: return "COM_QUERY";
    case Command::kFieldList: return "COM_FIELD_LIST";
    case Command::kCreateDb: return "COM_CREATE_DB";
    case Command::kDropDb: return "COM_DROP_DB";
    case Command::kRefresh: return "COM_REFRESH";
    case Command::kShutdown: return "COM_SHUTDOWN";
    case Command::kStatistics: return "COM_STATISTICS";
    case Command::kProcessInfo: return "COM_PROCESS_INFO";
    case Command::kConnect: return "COM_CONNECT";
    case Command::kProcessKill: return "COM_PROCESS_KILL";
    case Command::kDebug: return "COM_DEBUG";
    case Command::kPing: return "COM_PING";
    case Command::kTime: return "COM_TIME";
    case Command::kDelayedInsert: return "COM_DELAYED_INSERT";
    case Command::kChangeUser: return "COM_CHANGE_USER";
    case Command::kBinlogDump: return "COM_BINLOG_DUMP";
    case Command::kTableDump: return "COM_TABLE_DUMP";
    case Command::kConnectOut: return "COM_CONNECT_OUT";
    case Command::kRegisterSlave: return "COM_REGISTER_SLAVE";
    case Command::kStmtPrepare: return "COM_STMT_PREPARE";
    case Command::kStmtExecute: return "COM_STMT_EXECUTE";
    case Command::kStmtSendLongData: return "COM_STMT_SEND_LONG_DATA";
    case Command::kStmtClose: return "COM_STMT_CLOSE";
    case Command::kStmtReset: return "COM_STMT_RESET";
    case Command::kSetOption: return "COM_SET_OPTION";
    case Command::kStmtFetch: return "COM_STMT_FETCH";
    case Command::kDaemon: return "COM_DAEMON";
    case Command::kBinlogDumpGtid: return "COM_BINLOG_DUMP_GTID";
    case Command::kResetConnection: return "COM_RESET_CONNECTION";
    case Command::kStmtBulkExecute: return "COM_STMT_BULK_EXECUTE";
  }
  return "COM_UNKNOWN";
}

absl::StatusOr<StatementIdCommand> DecodeStatementIdCommand(ByteSpan payload) {
  WireReader r(payload);
  uint8_t b = r.U8();
  if (b != uint8_t(Command::kStmtClose) && b != uint8_t(Command::kStmtReset)) {
    return absl::InvalidArgumentError("malformed statement command: wrong command byte");
  }
  StatementIdCommand c{r.U32()};
  if (absl::Status s = r.Finish(CommandName(Command(b)), false); !s.ok()) return s;
  return c;
}

absl::StatusOr<StmtExecuteHeader> DecodeStmtExecuteHeader(ByteSpan payload) {
  WireReader r(payload);
  if (absl::Status s = CheckCommand(r, Command::kStmtExecute); !s.ok()) return s;
  StmtExecuteHeader h;
  h.statement_id = r.U32();
  h.flags = r.U8();
  h.iteration_count = r.U32();
  if (absl::Status s = r.Finish("COM_STMT_EXECUTE"); !s.ok()) return s;
  return h;
}

absl::StatusOr<StmtFetch> DecodeStmtFetch(ByteSpan payload) {
  WireReader r(payload);
  if (absl::Status s = CheckCommand(r, Command::kStmtFetch); !s.ok()) return s;
  StmtFetch f;
  f.statement_id = r.U32();
  f.num_rows = r.U32();
  if (absl::Status s = r.Finish("COM_STMT_FETCH", false); !s.ok()) return s;
  return f;
}

absl::StatusOr<StmtSendLongData> DecodeStmtSendLongData(ByteSpan payload) {
  WireReader r(payload);
  if (absl::Status s = CheckCommand(r, Command::kStmtSendLongData); !s.ok()) return s;
  StmtSendLongData d;
  d.statement_id = r.U32();
  d.param_id = r.U16();
  d.data = r.Rest();
  if (absl::Status s = r.Finish("COM_STMT_SEND_LONG_DATA"); !s.ok()) return s;
  return d;
}

absl::StatusOr<FieldListCommand> DecodeFieldList(ByteSpan payload) {
  WireReader r(payload);
  if (absl::Status s = CheckCommand(r, Command::kFieldList); !s.ok()) return s;
  FieldListCommand f;
  f.table = r.NulString();
  f.wildcard = r.Rest();
  if (absl::Status s = r.Finish("COM_FIELD_LIST"); !s.ok()) return s;
  return f;
}

absl::StatusOr<std::string_view> DecodeStringCommand(ByteSpan payload, Command expected) {
  WireReader r(payload);
  if (absl::Status s = CheckCommand(r, expected); !s.ok()) return s;
  return r.Rest();
}

absl::StatusOr<uint16_t> DecodeSetOption(ByteSpan payload) {
  WireReader r(payload);
  if (absl::Status s = CheckCommand(r, Command::kSetOption); !s.ok()) return s;
  uint16_t v = r.U16();
  if (absl::Status s = r.Finish("COM_SET_OPTION", false); !s.ok()) return s;
  return v;
}

absl::StatusOr<uint32_t> DecodeProcessKill(ByteSpan payload) {
  WireReader r(payload);
  if (absl::Status s = CheckCommand(r, Command::kProcessKill); !s.ok()) return s;
  uint32_t v = r.U32();
  if (absl::Status s = r.Finish("COM_PROCESS_KILL", false); !s.ok()) return s;
  return v;
}

void EncodeStringCommand(Bytes& out, Command c, std::string_view text) {
  WireWriter w(out);
  w.U8(uint8_t(c));
  w.Raw(text);
}

void EncodeSimpleCommand(Bytes& out, Command c) { out.push_back(uint8_t(c)); }

void EncodeStatementIdCommand(Bytes& out, Command c, uint32_t statement_id) {
  WireWriter w(out);
  w.U8(uint8_t(c));
  w.U32(statement_id);
}

}  // namespace ql::protocol
