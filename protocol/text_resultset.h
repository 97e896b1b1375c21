// Decoders for the pieces of a text-protocol result set that the proxy reads
// for itself (the backend monitor, MASTER_GTID_WAIT): a column definition
// (Protocol::ColumnDefinition41) and a text row. Sans-io: pure functions over
// byte spans; the views returned point into the packet given.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "protocol/wire_codec.h"

namespace ql::protocol {

struct ColumnDefinition {
  std::string_view catalog;  // always "def"
  std::string_view schema;
  std::string_view table;      // alias
  std::string_view org_table;  // real table name
  std::string_view name;       // alias: what `SELECT x AS name` calls it
  std::string_view org_name;
  uint16_t charset = 0;        // collation id
  uint32_t column_length = 0;  // maximum display length
  uint8_t type = 0;            // MYSQL_TYPE_*
  uint16_t flags = 0;          // NOT_NULL, PRI_KEY, UNSIGNED, ...
  uint8_t decimals = 0;
};

// Decodes one column definition packet (payload without frame header).
// `extended_type_info`: the connection negotiated MariaDB's
// MARIADB_CLIENT_EXTENDED_TYPE_INFO, which puts one more length-encoded
// string (type name and format metadata) before the fixed fields.
absl::StatusOr<ColumnDefinition> DecodeColumnDefinition(ByteSpan payload,
                                                        bool extended_type_info = false);

// One text-protocol row: `column_count` length-encoded strings, where the
// byte 0xfb stands for NULL. The packet must hold exactly that many values.
using TextRow = std::vector<std::optional<std::string_view>>;
absl::StatusOr<TextRow> DecodeTextRow(ByteSpan payload, size_t column_count);

// The column count that opens a result set (a length-encoded integer).
absl::StatusOr<uint64_t> DecodeColumnCount(ByteSpan payload);

}  // namespace ql::protocol
