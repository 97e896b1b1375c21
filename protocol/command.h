// Decoding of the commands a client sends in the command phase: the command
// byte, what kind of response it expects, and the fixed fields of the
// commands the proxy must look inside (statement ids, schema names, ...).
#pragma once

#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"
#include "protocol/constants.h"
#include "protocol/wire_codec.h"

namespace ql::protocol {

// The shape of the server's answer to a command.
enum class ResponseKind {
  kNone,        // COM_QUIT, COM_STMT_CLOSE, COM_STMT_SEND_LONG_DATA
  kOkOrErr,     // one OK, ERR or EOF packet: COM_PING, COM_INIT_DB, COM_STMT_RESET, ...
  kResultSet,   // COM_QUERY, COM_STMT_EXECUTE: OK, ERR, LOCAL INFILE or result sets
  kPrepare,     // COM_STMT_PREPARE
  kFetch,       // COM_STMT_FETCH: rows then a terminator
  kFieldList,   // COM_FIELD_LIST: column definitions then a terminator
  kStatistics,  // COM_STATISTICS: one string packet
  kAuth,        // COM_CHANGE_USER: an authentication exchange
};

struct CommandInfo {
  Command command;
  ResponseKind response;
  bool supported;  // false: the proxy refuses it (replication, shutdown, ...)
};

CommandInfo DescribeCommand(uint8_t command_byte);

// A COM_STMT_EXECUTE payload whose flags ask for a cursor (the rows then come
// with COM_STMT_FETCH).
inline bool RequestsCursor(ByteSpan payload) {
  return payload.size() > 5 && payload[0] == uint8_t(Command::kStmtExecute) && payload[5] != 0;
}
std::string_view CommandName(Command c);

// Typed views of command bodies. Each Decode* takes the whole payload,
// command byte included, and rejects truncated or overlong input.
struct StatementIdCommand {
  uint32_t statement_id;
};
absl::StatusOr<StatementIdCommand> DecodeStatementIdCommand(ByteSpan payload);  // CLOSE, RESET

struct StmtExecuteHeader {
  uint32_t statement_id;
  uint8_t flags;  // cursor type
  uint32_t iteration_count;
};
absl::StatusOr<StmtExecuteHeader> DecodeStmtExecuteHeader(ByteSpan payload);

struct StmtFetch {
  uint32_t statement_id;
  uint32_t num_rows;
};
absl::StatusOr<StmtFetch> DecodeStmtFetch(ByteSpan payload);

struct StmtSendLongData {
  uint32_t statement_id;
  uint16_t param_id;
  std::string_view data;
};
absl::StatusOr<StmtSendLongData> DecodeStmtSendLongData(ByteSpan payload);

struct FieldListCommand {
  std::string_view table;
  std::string_view wildcard;
};
absl::StatusOr<FieldListCommand> DecodeFieldList(ByteSpan payload);

// COM_QUERY, COM_STMT_PREPARE and COM_INIT_DB carry one string: the rest.
absl::StatusOr<std::string_view> DecodeStringCommand(ByteSpan payload, Command expected);

absl::StatusOr<uint16_t> DecodeSetOption(ByteSpan payload);
absl::StatusOr<uint32_t> DecodeProcessKill(ByteSpan payload);

// Encoders for the commands the proxy sends on its own.
void EncodeStringCommand(Bytes& out, Command c, std::string_view text);
void EncodeSimpleCommand(Bytes& out, Command c);
void EncodeStatementIdCommand(Bytes& out, Command c, uint32_t statement_id);

}  // namespace ql::protocol
