// Tests for proxy/prepared_statements: the client-visible id map (ids from 1,
// never reused, per-slot counts, forgetting a slot, least recently used), and
// COM_STMT_EXECUTE rewriting for a backend connection, byte by byte.
#include "proxy/prepared_statements.h"

#include <cstdint>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"

namespace ql::proxy {
namespace {

using protocol::Bytes;

// MYSQL_TYPE_LONGLONG, MYSQL_TYPE_VAR_STRING, MYSQL_TYPE_DOUBLE (2 bytes: type, unsigned flag).
const Bytes kTypesIntString = {0x08, 0x00, 0xfd, 0x00};
const Bytes kTypesDoubleString = {0x05, 0x00, 0xfd, 0x00};
// Values for (42, "ab") as LONGLONG and length-encoded string.
const Bytes kValues = {42, 0, 0, 0, 0, 0, 0, 0, 0x02, 'a', 'b'};

// COM_STMT_EXECUTE: 0x17, id (4, LE), flags, iterations (4, = 1), then for
// n > 0 params: null bitmap, new-params-bound flag, [types], values.
Bytes Execute(uint32_t id, uint16_t num_params, int bound, const Bytes& types,
              const Bytes& values) {
  Bytes p = {0x17, uint8_t(id), uint8_t(id >> 8), uint8_t(id >> 16), uint8_t(id >> 24),
             0x00, 0x01, 0x00, 0x00, 0x00};
  if (num_params == 0) return p;
  p.insert(p.end(), (size_t(num_params) + 7) / 8, 0x00);
  p.push_back(uint8_t(bound));
  if (bound == 1) p.insert(p.end(), types.begin(), types.end());
  p.insert(p.end(), values.begin(), values.end());
  return p;
}

PreparedStatement WithSql(std::string_view sql) {
  PreparedStatement s;
  s.sql = sql;
  return s;
}

PreparedStatement TwoParams() {
  PreparedStatement s;
  s.sql = "SELECT * FROM t WHERE id = ? AND name = ?";
  s.num_params = 2;
  s.backend_id[0] = 7;
  s.backend_id[1] = 0x01020304;
  return s;
}

// PreparedStatementMap ----------------------------------------------------

TEST(PreparedStatementMap, IdsStartAtOneAndAreNotReused) {
  PreparedStatementMap map;
  EXPECT_EQ(map.size(), 0u);
  EXPECT_EQ(map.Add(WithSql("SELECT 1")), 1u);
  EXPECT_EQ(map.Add(WithSql("SELECT 2")), 2u);
  EXPECT_EQ(map.Add(WithSql("SELECT 3")), 3u);
  EXPECT_EQ(map.size(), 3u);
  map.Erase(2);
  EXPECT_EQ(map.size(), 2u);
  EXPECT_EQ(map.Find(2), nullptr);
  EXPECT_EQ(map.Add(WithSql("SELECT 4")), 4u);
  map.Clear();
  EXPECT_EQ(map.size(), 0u);
  EXPECT_EQ(map.Find(1), nullptr);
  EXPECT_EQ(map.Add(WithSql("SELECT 5")), 5u);
}

TEST(PreparedStatementMap, MinusOneNamesTheLastPreparedStatement) {
  PreparedStatementMap map;
  EXPECT_EQ(map.Resolve(kLastPreparedStatementId), 0u);  // nothing prepared yet
  const uint32_t a = map.Add(WithSql("SELECT a"));
  EXPECT_EQ(map.Resolve(kLastPreparedStatementId), a);
  const uint32_t b = map.Add(WithSql("SELECT b"));
  EXPECT_EQ(map.Resolve(kLastPreparedStatementId), b);
  EXPECT_EQ(map.Resolve(a), a);  // any other id is itself
  map.ForgetLast();              // a failed prepare
  EXPECT_EQ(map.Resolve(kLastPreparedStatementId), 0u);
  EXPECT_NE(map.Find(b), nullptr);  // the statement itself stays
  const uint32_t c = map.Add(WithSql("SELECT c"));
  map.Erase(a);
  EXPECT_EQ(map.Resolve(kLastPreparedStatementId), c);
  map.Erase(c);  // closing the last one leaves no last one
  EXPECT_EQ(map.Resolve(kLastPreparedStatementId), 0u);
  map.Add(WithSql("SELECT d"));
  map.Clear();
  EXPECT_EQ(map.Resolve(kLastPreparedStatementId), 0u);
}

TEST(PreparedStatementMap, FindAndErase) {
  PreparedStatementMap map;
  uint32_t a = map.Add(WithSql("SELECT a"));
  uint32_t b = map.Add(WithSql("SELECT b"));
  ASSERT_NE(map.Find(a), nullptr);
  ASSERT_NE(map.Find(b), nullptr);
  EXPECT_EQ(map.Find(a)->sql, "SELECT a");
  EXPECT_EQ(map.Find(b)->sql, "SELECT b");
  EXPECT_EQ(map.Find(0), nullptr);
  EXPECT_EQ(map.Find(99), nullptr);
  // The pointer edits the stored statement.
  map.Find(a)->backend_id[0] = 11;
  EXPECT_EQ(map.Find(a)->backend_id[0], 11u);
  map.Erase(a);
  EXPECT_EQ(map.Find(a), nullptr);
  EXPECT_NE(map.Find(b), nullptr);
  map.Erase(12345);  // unknown: no effect
  EXPECT_EQ(map.size(), 1u);
}

TEST(PreparedStatementMap, CountOnAndForgetSlot) {
  PreparedStatementMap map;
  uint32_t a = map.Add(WithSql("a"));
  uint32_t b = map.Add(WithSql("b"));
  uint32_t c = map.Add(WithSql("c"));
  EXPECT_EQ(map.CountOn(0), 0u);
  EXPECT_EQ(map.CountOn(1), 0u);
  map.Find(a)->backend_id[0] = 1;
  map.Find(b)->backend_id[0] = 2;
  map.Find(b)->backend_id[1] = 5;
  map.Find(c)->backend_id[1] = 6;
  map.Find(a)->types_sent[0] = true;
  map.Find(b)->types_sent[1] = true;
  map.Find(a)->long_data_pending = true;
  EXPECT_EQ(map.CountOn(0), 2u);
  EXPECT_EQ(map.CountOn(1), 2u);

  map.ForgetSlot(1);
  EXPECT_EQ(map.CountOn(1), 0u);
  EXPECT_EQ(map.CountOn(0), 2u);
  EXPECT_FALSE(map.Find(b)->types_sent[1]);
  EXPECT_EQ(map.Find(b)->backend_id[1], 0u);
  // The other slot and the primary's long data are untouched.
  EXPECT_TRUE(map.Find(a)->types_sent[0]);
  EXPECT_EQ(map.Find(b)->backend_id[0], 2u);
  EXPECT_TRUE(map.Find(a)->long_data_pending);

  map.ForgetSlot(0);
  EXPECT_EQ(map.CountOn(0), 0u);
  EXPECT_FALSE(map.Find(a)->types_sent[0]);
  EXPECT_FALSE(map.Find(a)->long_data_pending);  // the data went to the old connection
  EXPECT_EQ(map.size(), 3u);                      // statements stay, to be prepared again
}

TEST(PreparedStatementMap, LeastRecentlyUsedOn) {
  PreparedStatementMap map;
  uint32_t a = map.Add(WithSql("a"));
  uint32_t b = map.Add(WithSql("b"));
  uint32_t c = map.Add(WithSql("c"));
  EXPECT_EQ(map.LeastRecentlyUsedOn(0, 0), 0u);  // nothing prepared on the slot
  for (uint32_t id : {a, b, c}) map.Find(id)->backend_id[0] = id + 100;
  map.Find(c)->backend_id[1] = 200;

  EXPECT_EQ(map.LeastRecentlyUsedOn(0, 0), a);  // added first
  EXPECT_EQ(map.LeastRecentlyUsedOn(0, a), b);  // `keep` is skipped
  map.Find(a)->last_used = map.Touch();
  EXPECT_EQ(map.LeastRecentlyUsedOn(0, 0), b);
  map.Find(b)->last_used = map.Touch();
  EXPECT_EQ(map.LeastRecentlyUsedOn(0, 0), c);
  EXPECT_EQ(map.LeastRecentlyUsedOn(0, c), a);
  // Only statements prepared on that slot count.
  EXPECT_EQ(map.LeastRecentlyUsedOn(1, 0), c);
  EXPECT_EQ(map.LeastRecentlyUsedOn(1, c), 0u);
  map.Find(c)->backend_id[0] = 0;
  EXPECT_EQ(map.LeastRecentlyUsedOn(0, 0), a);
}

TEST(PreparedStatementMap, TouchIncreases) {
  PreparedStatementMap map;
  uint64_t t1 = map.Touch();
  uint32_t id = map.Add(PreparedStatement{});
  uint64_t t2 = map.Touch();
  EXPECT_LT(t1, map.Find(id)->last_used);
  EXPECT_LT(map.Find(id)->last_used, t2);
}

TEST(PreparedStatementMap, ForEachVisitsAll) {
  PreparedStatementMap map;
  map.Add(WithSql("a"));
  map.Add(WithSql("b"));
  uint32_t sum = 0;
  int n = 0;
  map.ForEach([&](uint32_t id, PreparedStatement& s) {
    sum += id;
    ++n;
    s.num_columns = 3;
  });
  EXPECT_EQ(n, 2);
  EXPECT_EQ(sum, 3u);
  EXPECT_EQ(map.Find(1)->num_columns, 3);
}

// PatchStatementId ----------------------------------------------------------

TEST(PreparedStatements, PatchStatementIdLittleEndian) {
  uint8_t buf[6] = {0xaa, 0, 0, 0, 0, 0xbb};
  PatchStatementId(buf + kStatementIdOffset, 0x11223344);
  EXPECT_EQ(buf[0], 0xaa);
  EXPECT_EQ(buf[1], 0x44);
  EXPECT_EQ(buf[2], 0x33);
  EXPECT_EQ(buf[3], 0x22);
  EXPECT_EQ(buf[4], 0x11);
  EXPECT_EQ(buf[5], 0xbb);
  PatchStatementId(buf + 1, 0);
  EXPECT_EQ(buf[1] | buf[2] | buf[3] | buf[4], 0);
}

// RewriteExecute ------------------------------------------------------------

TEST(RewriteExecute, NoParamsPatchesTheId) {
  PreparedStatement s;
  s.backend_id[0] = 9;
  s.backend_id[1] = 0x0a0b0c0d;
  const Bytes packet = Execute(3, 0, 0, {}, {});
  Bytes out;
  ASSERT_TRUE(RewriteExecute(packet, 1, s, &out));
  EXPECT_EQ(out, (Bytes{0x17, 0x0d, 0x0c, 0x0b, 0x0a, 0x00, 0x01, 0x00, 0x00, 0x00}));
  ASSERT_TRUE(RewriteExecute(packet, 0, s, &out));
  EXPECT_EQ(out, (Bytes{0x17, 9, 0, 0, 0, 0x00, 0x01, 0x00, 0x00, 0x00}));
  EXPECT_FALSE(s.types_sent[0]);
  EXPECT_FALSE(s.types_sent[1]);
}

TEST(RewriteExecute, KeepsTheFlagsAndTrailingBytes) {
  PreparedStatement s;
  s.backend_id[0] = 2;
  Bytes packet = Execute(1, 0, 0, {}, {});
  packet[5] = 0x01;  // CURSOR_TYPE_READ_ONLY
  Bytes out;
  ASSERT_TRUE(RewriteExecute(packet, 0, s, &out));
  EXPECT_EQ(out, (Bytes{0x17, 2, 0, 0, 0, 0x01, 0x01, 0x00, 0x00, 0x00}));
}

TEST(RewriteExecute, ParamsWithTypesAreRemembered) {
  PreparedStatement s = TwoParams();
  const Bytes packet = Execute(1, 2, 1, kTypesIntString, kValues);
  Bytes out;
  ASSERT_TRUE(RewriteExecute(packet, 0, s, &out));
  Bytes want = packet;
  want[1] = 7;  // primary's id, the rest unchanged
  EXPECT_EQ(out, want);
  EXPECT_EQ(s.param_types, kTypesIntString);
  EXPECT_TRUE(s.types_sent[0]);
  EXPECT_FALSE(s.types_sent[1]);
}

TEST(RewriteExecute, TypesInsertedForASlotThatNeverSawThem) {
  PreparedStatement s = TwoParams();
  Bytes out;
  ASSERT_TRUE(RewriteExecute(Execute(1, 2, 1, kTypesIntString, kValues), 0, s, &out));
  // The client relies on the types it sent before; the replica never got them.
  const Bytes later = Execute(1, 2, 0, {}, kValues);
  ASSERT_TRUE(RewriteExecute(later, 1, s, &out));
  const Bytes want = {0x17, 0x04, 0x03, 0x02, 0x01,  // replica's id
                      0x00, 0x01, 0x00, 0x00, 0x00,  // flags, iterations
                      0x00,                          // null bitmap
                      0x01,                          // new-params-bound now set
                      0x08, 0x00, 0xfd, 0x00,        // the remembered types
                      42, 0, 0, 0, 0, 0, 0, 0, 0x02, 'a', 'b'};
  EXPECT_EQ(out, want);
  EXPECT_TRUE(s.types_sent[1]);
  // From now on that slot has them: only the id changes.
  ASSERT_TRUE(RewriteExecute(later, 1, s, &out));
  Bytes same = later;
  same[1] = 0x04, same[2] = 0x03, same[3] = 0x02, same[4] = 0x01;
  EXPECT_EQ(out, same);
}

TEST(RewriteExecute, SlotThatSawTheTypesIsUnchangedButTheId) {
  PreparedStatement s = TwoParams();
  Bytes out;
  ASSERT_TRUE(RewriteExecute(Execute(1, 2, 1, kTypesIntString, kValues), 0, s, &out));
  const Bytes later = Execute(1, 2, 0, {}, kValues);
  ASSERT_TRUE(RewriteExecute(later, 0, s, &out));
  Bytes want = later;
  want[1] = 7;
  EXPECT_EQ(out, want);
  EXPECT_EQ(out.size(), later.size());
}

TEST(RewriteExecute, NoRememberedTypesLeavesThePacket) {
  // Flag 0 with nothing remembered (the client never sent types): nothing to insert.
  PreparedStatement s = TwoParams();
  const Bytes packet = Execute(1, 2, 0, {}, kValues);
  Bytes out;
  ASSERT_TRUE(RewriteExecute(packet, 1, s, &out));
  EXPECT_EQ(out.size(), packet.size());
  EXPECT_EQ(out[11], 0x00);
  EXPECT_FALSE(s.types_sent[1]);
}

TEST(RewriteExecute, WideNullBitmap) {
  // Nine parameters: a two-byte null bitmap puts the flag at offset 12.
  PreparedStatement s;
  s.num_params = 9;
  s.backend_id[0] = 1;
  s.backend_id[1] = 2;
  Bytes types;
  for (int i = 0; i < 9; ++i) types.insert(types.end(), {0x03, 0x00});  // LONG
  Bytes values;
  for (int i = 0; i < 9; ++i) values.insert(values.end(), {uint8_t(i), 0, 0, 0});
  Bytes out;
  ASSERT_TRUE(RewriteExecute(Execute(5, 9, 1, types, values), 0, s, &out));
  EXPECT_EQ(s.param_types, types);
  const Bytes later = Execute(5, 9, 0, {}, values);
  ASSERT_EQ(later.size(), 10u + 2 + 1 + values.size());
  ASSERT_TRUE(RewriteExecute(later, 1, s, &out));
  Bytes want = later;
  want[1] = 2;
  want[12] = 1;
  want.insert(want.begin() + 13, types.begin(), types.end());
  EXPECT_EQ(out, want);
}

// Regression: when the client binds new types and that execute goes to one
// slot, the other slot must not keep types_sent = true for the *old* types. A later execute with the bound flag
// 0 sent to that other slot is passed through unchanged, so that server
// decodes the values with the old types (here a DOUBLE read as a LONGLONG).
// New types arriving on one slot should clear types_sent on the others.
TEST(RewriteExecute, RebindOnOneSlotResendsTypesToTheOther) {
  PreparedStatement s = TwoParams();
  Bytes out;
  ASSERT_TRUE(RewriteExecute(Execute(1, 2, 1, kTypesIntString, kValues), 1, s, &out));
  ASSERT_TRUE(s.types_sent[1]);
  // The client rebinds: new types, and this execute runs on the primary.
  const Bytes double_values = {0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0x02, 'a', 'b'};  // 1.0
  ASSERT_TRUE(RewriteExecute(Execute(1, 2, 1, kTypesDoubleString, double_values), 0, s, &out));
  EXPECT_EQ(s.param_types, kTypesDoubleString);
  // Next execute relies on the new types and goes to the replica.
  ASSERT_TRUE(RewriteExecute(Execute(1, 2, 0, {}, double_values), 1, s, &out));
  const Bytes want = {0x17, 0x04, 0x03, 0x02, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00,
                      0x00, 0x01, 0x05, 0x00, 0xfd, 0x00,
                      0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0x02, 'a', 'b'};
  EXPECT_EQ(out, want) << "the replica would decode with the old types";
}

TEST(RewriteExecute, MalformedPackets) {
  Bytes out;
  PreparedStatement none;
  none.backend_id[0] = 1;
  EXPECT_FALSE(RewriteExecute(Bytes{}, 0, none, &out));
  EXPECT_FALSE(RewriteExecute(Bytes{0x17}, 0, none, &out));
  EXPECT_FALSE(RewriteExecute(Bytes{0x17, 1, 0, 0, 0, 0, 1, 0, 0}, 0, none, &out));  // 9 bytes
  EXPECT_TRUE(RewriteExecute(Bytes{0x17, 1, 0, 0, 0, 0, 1, 0, 0, 0}, 0, none, &out));

  PreparedStatement s = TwoParams();
  const Bytes header = Execute(1, 0, 0, {}, {});
  // No null bitmap.
  EXPECT_FALSE(RewriteExecute(header, 0, s, &out));
  // Bitmap but no bound flag.
  Bytes no_flag = header;
  no_flag.push_back(0x00);
  EXPECT_FALSE(RewriteExecute(no_flag, 0, s, &out));
  // Flag 1 with the types cut short.
  Bytes short_types = no_flag;
  short_types.insert(short_types.end(), {0x01, 0x08, 0x00, 0xfd});
  EXPECT_FALSE(RewriteExecute(short_types, 0, s, &out));
  EXPECT_TRUE(s.param_types.empty());  // nothing remembered from a bad packet
  EXPECT_FALSE(s.types_sent[0]);
  // Flag 1 with exactly the types (every value NULL, say): fine.
  Bytes exact = short_types;
  exact.push_back(0x00);
  EXPECT_TRUE(RewriteExecute(exact, 0, s, &out));
  EXPECT_EQ(s.param_types, kTypesIntString);
}

}  // namespace
}  // namespace ql::proxy
