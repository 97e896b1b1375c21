// Implementation of the text result set decoders.
#include "protocol/text_resultset.h"

#include "absl/strings/str_cat.h"

namespace ql::protocol {
namespace {

constexpr uint8_t kNullValue = 0xfb;

}  // namespace

absl::StatusOr<ColumnDefinition> DecodeColumnDefinition(ByteSpan payload,
                                                        bool extended_type_info) {
  WireReader r(payload);
  ColumnDefinition c;
  c.catalog = r.LenEncString();
  c.schema = r.LenEncString();
  c.table = r.LenEncString();
  c.org_table = r.LenEncString();
  c.name = r.LenEncString();
  c.org_name = r.LenEncString();
  if (extended_type_info) r.LenEncString();  // e.g. "\x00\x04json": not needed here
  // The fixed part announces its own length, 0x0c in every server so far;
  // accept longer (future fields) but never shorter.
  const uint64_t fixed = r.LenEncInt();
  if (r.ok() && fixed < 12) {
    return absl::InvalidArgumentError(
        absl::StrCat("column definition: fixed fields of ", fixed, " bytes, expected 12"));
  }
  c.charset = r.U16();
  c.column_length = r.U32();
  c.type = r.U8();
  c.flags = r.U16();
  c.decimals = r.U8();
  // Two filler bytes (and, for COM_FIELD_LIST only, default values) follow.
  if (absl::Status st = r.Finish("column definition"); !st.ok()) return st;
  return c;
}

absl::StatusOr<TextRow> DecodeTextRow(ByteSpan payload, size_t column_count) {
  WireReader r(payload);
  TextRow row;
  row.reserve(column_count);
  for (size_t i = 0; i < column_count; ++i) {
    if (r.remaining() == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("text row: ", i, " values, expected ", column_count));
    }
    if (r.PeekU8() == kNullValue) {
      r.Skip(1);
      row.emplace_back(std::nullopt);
      continue;
    }
    std::string_view v = r.LenEncString();
    if (!r.ok()) break;
    row.emplace_back(v);
  }
  if (absl::Status st = r.Finish("text row", /*allow_trailing=*/false); !st.ok()) return st;
  return row;
}

absl::StatusOr<uint64_t> DecodeColumnCount(ByteSpan payload) {
  WireReader r(payload);
  const uint64_t n = r.LenEncInt();
  if (absl::Status st = r.Finish("column count", /*allow_trailing=*/false); !st.ok()) return st;
  if (n == 0) return absl::InvalidArgumentError("column count: zero columns");
  return n;
}

}  // namespace ql::protocol
