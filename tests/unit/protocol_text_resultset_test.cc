// Unit tests of the text result set decoders (protocol/text_resultset.h):
// column definitions as MariaDB sends them, text rows with NULLs (a SHOW
// SLAVE STATUS shaped row), and malformed input that must fail cleanly.
#include "protocol/text_resultset.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace ql::protocol {
namespace {

// A column definition as a server writes it.
Bytes ColumnDef(std::string_view schema, std::string_view table, std::string_view name,
                uint16_t charset, uint32_t length, uint8_t type, uint16_t flags) {
  Bytes out;
  WireWriter w(out);
  w.LenEncString("def");
  w.LenEncString(schema);
  w.LenEncString(table);
  w.LenEncString(table);
  w.LenEncString(name);
  w.LenEncString(name);
  w.LenEncInt(0x0c);
  w.U16(charset);
  w.U32(length);
  w.U8(type);
  w.U16(flags);
  w.U8(0);   // decimals
  w.U16(0);  // filler
  return out;
}

// A text row; nullopt is written as the NULL marker 0xfb.
Bytes Row(const std::vector<std::optional<std::string>>& values) {
  Bytes out;
  WireWriter w(out);
  for (const auto& v : values) {
    if (v) {
      w.LenEncString(*v);
    } else {
      w.U8(0xfb);
    }
  }
  return out;
}

TEST(TextResultsetTest, DecodesSelectOneColumnBytes) {
  // MariaDB 10.11's definition of the column of `SELECT 1`.
  const Bytes payload = {0x03, 'd',  'e',  'f',  0x00, 0x00, 0x00, 0x01, '1',  0x00,
                         0x0c, 0x3f, 0x00, 0x01, 0x00, 0x00, 0x00, 0x03, 0x81, 0x00,
                         0x00, 0x00, 0x00};
  auto c = DecodeColumnDefinition(payload);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->catalog, "def");
  EXPECT_EQ(c->schema, "");
  EXPECT_EQ(c->name, "1");
  EXPECT_EQ(c->org_name, "");
  EXPECT_EQ(c->charset, 63);
  EXPECT_EQ(c->column_length, 1u);
  EXPECT_EQ(c->type, 0x03);  // LONG
  EXPECT_EQ(c->flags, 0x81);  // NOT_NULL | BINARY
  EXPECT_EQ(c->decimals, 0);
}

TEST(TextResultsetTest, DecodesNamedColumn) {
  const Bytes payload = ColumnDef("percona", "heartbeat", "ts", 45, 104, 0xfd, 0x1003);
  auto c = DecodeColumnDefinition(payload);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->schema, "percona");
  EXPECT_EQ(c->table, "heartbeat");
  EXPECT_EQ(c->org_table, "heartbeat");
  EXPECT_EQ(c->name, "ts");
  EXPECT_EQ(c->charset, 45);
  EXPECT_EQ(c->column_length, 104u);
  EXPECT_EQ(c->type, 0xfd);
  EXPECT_EQ(c->flags, 0x1003);
}

TEST(TextResultsetTest, DecodesExtendedTypeInfoColumn) {
  // MariaDB with MARIADB_CLIENT_EXTENDED_TYPE_INFO: `SELECT @@SESSION.sql_mode`
  // carries an (empty) extended metadata string after org_name; a JSON column
  // carries "\x00\x04json".
  for (const Bytes& extended : {Bytes{}, Bytes{0x00, 0x04, 'j', 's', 'o', 'n'}}) {
    Bytes payload = ColumnDef("", "", "@@SESSION.sql_mode", 33, 256, 0xfd, 0);
    const size_t fixed = payload.size() - 13;  // the 0x0c length of the fixed part
    ASSERT_EQ(payload[fixed], 0x0c);
    Bytes meta = {uint8_t(extended.size())};
    meta.insert(meta.end(), extended.begin(), extended.end());
    payload.insert(payload.begin() + long(fixed), meta.begin(), meta.end());
    auto c = DecodeColumnDefinition(payload, /*extended_type_info=*/true);
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_EQ(c->name, "@@SESSION.sql_mode");
    EXPECT_EQ(c->column_length, 256u);
    EXPECT_EQ(c->type, 0xfd);
    // Read as a plain definition, the metadata length is taken for the fixed part.
    EXPECT_FALSE(DecodeColumnDefinition(payload).ok());
  }
}

TEST(TextResultsetTest, ColumnDefinitionTruncationsFail) {
  const Bytes payload = ColumnDef("db", "t", "Seconds_Behind_Master", 33, 21, 8, 0x20);
  for (size_t n = 0; n < payload.size() - 2; ++n) {  // the 2 filler bytes are optional
    auto c = DecodeColumnDefinition(ByteSpan(payload.data(), n));
    EXPECT_FALSE(c.ok()) << "accepted a definition cut to " << n << " bytes";
  }
}

TEST(TextResultsetTest, ColumnDefinitionShortFixedPartFails) {
  Bytes payload = ColumnDef("", "", "x", 33, 1, 3, 0);
  // Patch the fixed-part length (0x0c) to 0x0b.
  const size_t pos = payload.size() - 13;
  ASSERT_EQ(payload[pos], 0x0c);
  payload[pos] = 0x0b;
  EXPECT_FALSE(DecodeColumnDefinition(payload).ok());
}

TEST(TextResultsetTest, DecodesShowSlaveStatusShapedRowWithNulls) {
  // The first columns of SHOW SLAVE STATUS on a replica whose SQL thread
  // stopped on an error: Seconds_Behind_Master is NULL, Last_SQL_Error set.
  const std::vector<std::optional<std::string>> values = {
      "",              // Slave_IO_State
      "127.0.0.1",     // Master_Host
      "repl",          // Master_User
      "3306",          // Master_Port
      "60",            // Connect_Retry
      "mysql-bin.000003",
      "1285",
      "relay-bin.000004",
      "555",
      "mysql-bin.000003",
      "Yes",           // Slave_IO_Running
      "No",            // Slave_SQL_Running
      "",              // Replicate_Do_DB
      "1062",          // Last_Errno
      "Error 'Duplicate entry '1' for key 'PRIMARY'' on query. Default database: 'app'",
      std::nullopt,    // Seconds_Behind_Master
      std::nullopt,    // a NULL in the middle
      "0",
  };
  const Bytes payload = Row(values);
  auto row = DecodeTextRow(payload, values.size());
  ASSERT_TRUE(row.ok()) << row.status();
  ASSERT_EQ(row->size(), values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    ASSERT_EQ((*row)[i].has_value(), values[i].has_value()) << "column " << i;
    if (values[i]) EXPECT_EQ(*(*row)[i], *values[i]) << "column " << i;
  }
  EXPECT_EQ(*(*row)[0], "");  // empty string, not NULL
  EXPECT_EQ(*(*row)[10], "Yes");
  EXPECT_EQ(*(*row)[11], "No");
  EXPECT_FALSE((*row)[15].has_value());
}

TEST(TextResultsetTest, DecodesLiteralBytes) {
  // "1", NULL, "" as a server writes them.
  const Bytes payload = {0x01, '1', 0xfb, 0x00};
  auto row = DecodeTextRow(payload, 3);
  ASSERT_TRUE(row.ok()) << row.status();
  EXPECT_EQ((*row)[0], std::optional<std::string_view>("1"));
  EXPECT_EQ((*row)[1], std::nullopt);
  EXPECT_EQ((*row)[2], std::optional<std::string_view>(""));
}

TEST(TextResultsetTest, DecodesLongValue) {
  const std::string big(70000, 'x');  // a 3-byte length prefix (0xfd)
  const Bytes payload = Row({big, std::nullopt});
  auto row = DecodeTextRow(payload, 2);
  ASSERT_TRUE(row.ok()) << row.status();
  EXPECT_EQ((*row)[0]->size(), big.size());
  EXPECT_FALSE((*row)[1].has_value());
}

TEST(TextResultsetTest, RowWithWrongColumnCountFails) {
  const Bytes payload = Row({"a", std::nullopt, "c"});
  EXPECT_FALSE(DecodeTextRow(payload, 2).ok());  // trailing value
  EXPECT_FALSE(DecodeTextRow(payload, 4).ok());  // missing value
  EXPECT_TRUE(DecodeTextRow(payload, 3).ok());
}

TEST(TextResultsetTest, RowTruncationsFail) {
  const Bytes payload = Row({"Yes", "No", std::nullopt, "42"});
  for (size_t n = 0; n < payload.size(); ++n) {
    EXPECT_FALSE(DecodeTextRow(ByteSpan(payload.data(), n), 4).ok()) << n;
  }
}

TEST(TextResultsetTest, ErrorMarkerIsNotAValue) {
  const Bytes payload = {0xff, 0x00};
  EXPECT_FALSE(DecodeTextRow(payload, 1).ok());
}

TEST(TextResultsetTest, ColumnCount) {
  EXPECT_EQ(*DecodeColumnCount(Bytes{0x03}), 3u);
  EXPECT_EQ(*DecodeColumnCount(Bytes{0xfc, 0x2c, 0x01}), 300u);
  EXPECT_FALSE(DecodeColumnCount(Bytes{0x00}).ok());
  EXPECT_FALSE(DecodeColumnCount(Bytes{0xfc, 0x01}).ok());
  EXPECT_FALSE(DecodeColumnCount(Bytes{0x02, 0x00}).ok());
}

}  // namespace
}  // namespace ql::protocol
