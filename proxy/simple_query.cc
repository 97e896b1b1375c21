// Implementation of RunSimpleQuery: the ResponseTracker decides where the
// response ends and what each packet is (it counts result sets and rows);
// this file only decodes the packets of the first result set.
#include "proxy/simple_query.h"

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "protocol/command.h"
#include "protocol/constants.h"
#include "protocol/framing.h"
#include "protocol/generic_packets.h"
#include "protocol/response_tracker.h"
#include "protocol/text_resultset.h"

namespace ql::proxy {
namespace {

using protocol::ByteSpan;
using protocol::Sv;

constexpr char kServerErrorUrl[] = "querylens/mysql-error-code";

absl::Status ServerError(ByteSpan payload) {
  auto err = protocol::DecodeErr(payload);
  if (!err.ok()) return absl::DataLossError(absl::StrCat("malformed ERR: ", err.status().message()));
  absl::Status st(absl::StatusCode::kAborted,
                  absl::StrCat("ERR ", err->error_code, " (", Sv(err->sql_state), "): ",
                               Sv(err->message)));
  st.SetPayload(kServerErrorUrl, absl::Cord(absl::StrCat(err->error_code)));
  return st;
}

absl::Status SocketError(BackendConnection& c, const error_code& ec, std::string_view what) {
  c.MarkBroken();
  if (ec == TimedOutError() || c.transport().timed_out()) {
    return absl::DeadlineExceededError(absl::StrCat(Sv(what), ": timed out"));
  }
  return absl::UnavailableError(absl::StrCat(Sv(what), ": ", ec.message()));
}

// Reads the response to the command just sent into `result`; stops at the
// first failure (the connection is then marked broken unless it was a
// server ERR that ended the response).
awaitable<absl::Status> ReadResponse(BackendConnection& c, protocol::ResponseKind kind,
                                     QueryResult& result) {
  protocol::ResponseTracker tracker;
  tracker.Start(kind, c.capabilities());
  protocol::PacketReader reader(kMaxSimpleQueryBytes + 1024);
  size_t bytes = 0;
  uint64_t columns_left = 0;  // definitions of the first result set still to come
  absl::Status server_error;
  while (!tracker.done()) {
    error_code ec = co_await c.transport().ReadPacket(reader);
    if (ec) {
      if (ec == asio::error::invalid_argument) {
        c.MarkBroken();
        co_return reader.error().code() == absl::StatusCode::kResourceExhausted
            ? absl::ResourceExhaustedError("result over the size limit")
            : absl::DataLossError(absl::StrCat("response: ", reader.error().message()));
      }
      co_return SocketError(c, ec, "reading the response");
    }
    const ByteSpan packet = reader.packet();
    if (packet.empty()) {
      c.MarkBroken();
      co_return absl::DataLossError("empty packet in a response");
    }
    const uint32_t sets_before = tracker.summary().result_sets;
    const uint64_t rows_before = tracker.summary().rows;
    auto event = tracker.OnFrame(uint32_t(packet.size()), packet);
    if (!event.ok()) {
      c.MarkBroken();
      co_return absl::DataLossError(absl::StrCat("response: ", event.status().message()));
    }
    if (*event == protocol::ResponseTracker::Event::kLocalInfileRequest) {
      // Never asked for: answer with the empty packet that ends the exchange.
      c.MarkBroken();
      co_return absl::DataLossError("server asked for a LOCAL INFILE");
    }
    const auto& summary = tracker.summary();
    const bool first_set = summary.result_sets == 1;
    if (summary.result_sets != sets_before) {
      if (first_set) {
        auto count = protocol::DecodeColumnCount(packet);
        if (!count.ok()) {
          c.MarkBroken();
          co_return absl::DataLossError(count.status().message());
        }
        columns_left = *count;
      }
    } else if (first_set && columns_left > 0) {
      auto def = protocol::DecodeColumnDefinition(
          packet, (c.mariadb_capabilities() & protocol::mariadb_cap::kExtendedTypeInfo) != 0);
      if (!def.ok()) {
        c.MarkBroken();
        co_return absl::DataLossError(def.status().message());
      }
      result.columns.emplace_back(def->name);
      bytes += def->name.size();
      --columns_left;
    } else if (summary.rows != rows_before) {
      if (first_set) {
        auto row = protocol::DecodeTextRow(packet, result.columns.size());
        if (!row.ok()) {
          c.MarkBroken();
          co_return absl::DataLossError(row.status().message());
        }
        auto& out = result.rows.emplace_back();
        out.reserve(row->size());
        for (const auto& v : *row) {
          if (v) {
            out.emplace_back(std::string(*v));
          } else {
            out.emplace_back(std::nullopt);
          }
        }
      }
      bytes += packet.size();
    } else if (packet[0] == protocol::kErrHeader && summary.error_code != 0) {
      server_error = ServerError(packet);
    }
    if (bytes > kMaxSimpleQueryBytes) {
      c.MarkBroken();
      co_return absl::ResourceExhaustedError(
          absl::StrCat("result over ", kMaxSimpleQueryBytes, " bytes"));
    }
  }
  if (!server_error.ok()) co_return server_error;
  result.affected_rows = tracker.summary().affected_rows;
  result.warnings = tracker.summary().warnings;
  result.result_sets = tracker.summary().result_sets;
  co_return absl::OkStatus();
}

}  // namespace

int QueryResult::Column(std::string_view name) const {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i] == name) return int(i);
  }
  return -1;
}

std::optional<std::string_view> QueryResult::Value(size_t row, std::string_view name) const {
  const int col = Column(name);
  if (col < 0 || row >= rows.size() || size_t(col) >= rows[row].size()) return std::nullopt;
  const auto& v = rows[row][size_t(col)];
  if (!v) return std::nullopt;
  return std::string_view(*v);
}

awaitable<absl::StatusOr<QueryResult>> RunSimpleQuery(BackendConnection& connection,
                                                      std::string_view sql,
                                                      std::chrono::milliseconds timeout) {
  if (connection.broken()) co_return absl::FailedPreconditionError("connection is broken");
  protocol::Bytes command;
  protocol::EncodeStringCommand(command, protocol::Command::kQuery, sql);
  connection.transport().SetTimeout(timeout);
  uint8_t seq = 0;
  if (error_code ec = co_await connection.transport().WritePacket(command, seq); ec) {
    co_return SocketError(connection, ec, "sending the query");
  }
  QueryResult result;
  absl::Status st = co_await ReadResponse(connection, protocol::ResponseKind::kResultSet, result);
  if (!st.ok()) co_return st;
  co_return result;
}

awaitable<absl::Status> RunPing(BackendConnection& connection, std::chrono::milliseconds timeout) {
  if (connection.broken()) co_return absl::FailedPreconditionError("connection is broken");
  protocol::Bytes command;
  protocol::EncodeSimpleCommand(command, protocol::Command::kPing);
  connection.transport().SetTimeout(timeout);
  uint8_t seq = 0;
  if (error_code ec = co_await connection.transport().WritePacket(command, seq); ec) {
    co_return SocketError(connection, ec, "sending COM_PING");
  }
  QueryResult ignored;
  co_return co_await ReadResponse(connection, protocol::ResponseKind::kOkOrErr, ignored);
}

std::optional<uint16_t> ServerErrorCode(const absl::Status& status) {
  auto payload = status.GetPayload(kServerErrorUrl);
  if (!payload) return std::nullopt;
  uint32_t code = 0;
  if (!absl::SimpleAtoi(std::string(*payload), &code)) return std::nullopt;
  return uint16_t(code);
}

}  // namespace ql::proxy
