// Unit tests of the primitive wire readers and writers (protocol/wire_codec.h):
// fixed-width little-endian integers, length-encoded integers at every size
// boundary, length-encoded and NUL-terminated strings, and truncated input,
// which must fail and keep failing (the error is sticky).
#include "protocol/wire_codec.h"

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace ql::protocol {
namespace {

Bytes B(std::initializer_list<int> v) {
  Bytes out;
  for (int x : v) out.push_back(uint8_t(x));
  return out;
}

// ---------------------------------------------------------------------------
// Fixed-width integers.

struct FixedIntCase {
  const char* name;
  size_t width;
  Bytes bytes;
  uint64_t value;
  std::function<uint64_t(WireReader&)> read;
  std::function<void(WireWriter&, uint64_t)> write;  // empty: no writer (U48)
};

std::vector<FixedIntCase> FixedIntCases() {
  auto u8 = [](WireReader& r) -> uint64_t { return r.U8(); };
  auto u16 = [](WireReader& r) -> uint64_t { return r.U16(); };
  auto u24 = [](WireReader& r) -> uint64_t { return r.U24(); };
  auto u32 = [](WireReader& r) -> uint64_t { return r.U32(); };
  auto u48 = [](WireReader& r) -> uint64_t { return r.U48(); };
  auto u64 = [](WireReader& r) -> uint64_t { return r.U64(); };
  auto w8 = [](WireWriter& w, uint64_t v) { w.U8(uint8_t(v)); };
  auto w16 = [](WireWriter& w, uint64_t v) { w.U16(uint16_t(v)); };
  auto w24 = [](WireWriter& w, uint64_t v) { w.U24(uint32_t(v)); };
  auto w32 = [](WireWriter& w, uint64_t v) { w.U32(uint32_t(v)); };
  auto w64 = [](WireWriter& w, uint64_t v) { w.U64(v); };
  return {
      {"u8 zero", 1, B({0x00}), 0, u8, w8},
      {"u8 max", 1, B({0xff}), 0xff, u8, w8},
      {"u16 little endian", 2, B({0x34, 0x12}), 0x1234, u16, w16},
      {"u16 max", 2, B({0xff, 0xff}), 0xffff, u16, w16},
      {"u24 little endian", 3, B({0x56, 0x34, 0x12}), 0x123456, u24, w24},
      {"u24 max", 3, B({0xff, 0xff, 0xff}), 0xffffff, u24, w24},
      {"u32 little endian", 4, B({0x78, 0x56, 0x34, 0x12}), 0x12345678, u32, w32},
      {"u32 high bit", 4, B({0x00, 0x00, 0x00, 0x80}), 0x80000000u, u32, w32},
      {"u48 little endian", 6, B({0x06, 0x05, 0x04, 0x03, 0x02, 0x01}), 0x010203040506ull, u48,
       nullptr},
      {"u48 max", 6, B({0xff, 0xff, 0xff, 0xff, 0xff, 0xff}), 0xffffffffffffull, u48, nullptr},
      {"u64 little endian", 8, B({0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01}),
       0x0102030405060708ull, u64, w64},
      {"u64 max", 8, B({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}),
       std::numeric_limits<uint64_t>::max(), u64, w64},
  };
}

TEST(WireCodecFixedInt, DecodesAndEncodesEveryWidth) {
  for (const FixedIntCase& c : FixedIntCases()) {
    SCOPED_TRACE(c.name);
    ASSERT_EQ(c.bytes.size(), c.width);
    WireReader r(c.bytes);
    EXPECT_EQ(c.read(r), c.value);
    EXPECT_TRUE(r.ok());
    EXPECT_TRUE(r.AtEnd());
    EXPECT_EQ(r.position(), c.width);
    EXPECT_TRUE(r.Finish("int", /*allow_trailing=*/false).ok());
    if (c.write) {
      Bytes out = {0xaa};  // the writer appends, never overwrites
      WireWriter w(out);
      c.write(w, c.value);
      Bytes expected = {0xaa};
      expected.insert(expected.end(), c.bytes.begin(), c.bytes.end());
      EXPECT_EQ(out, expected);
    }
  }
}

TEST(WireCodecFixedInt, TruncatedInputFailsAndStaysFailed) {
  for (const FixedIntCase& c : FixedIntCases()) {
    for (size_t have = 0; have < c.width; ++have) {
      SCOPED_TRACE(std::string(c.name) + ", bytes available: " + std::to_string(have));
      Bytes data(c.bytes.begin(), c.bytes.begin() + have);
      WireReader r(data);
      EXPECT_EQ(c.read(r), 0u);
      EXPECT_FALSE(r.ok());
      EXPECT_EQ(r.position(), 0u) << "a failed read must not advance";
      // Sticky: even a read that would fit fails now.
      if (have > 0) {
        EXPECT_EQ(r.U8(), 0u);
        EXPECT_FALSE(r.ok());
      }
      absl::Status s = r.Finish("widget");
      EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
      EXPECT_NE(s.message().find("widget"), absl::string_view::npos) << s;
    }
  }
}

TEST(WireCodecFixedInt, ReadsFollowOnAndStopAtTheEnd) {
  Bytes data = B({0x01, 0x02, 0x03, 0x04, 0x05, 0x06});
  WireReader r(data);
  EXPECT_EQ(r.PeekU8(), 0x01);
  EXPECT_EQ(r.U8(), 0x01);
  EXPECT_EQ(r.U16(), 0x0302);
  EXPECT_EQ(r.remaining(), 3u);
  EXPECT_EQ(r.U24(), 0x060504u);
  EXPECT_TRUE(r.AtEnd());
  EXPECT_EQ(r.PeekU8(), 0) << "peek at the end returns 0 without failing";
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.U8(), 0);
  EXPECT_FALSE(r.ok());
}

// ---------------------------------------------------------------------------
// Length-encoded integers.

struct LenEncCase {
  uint64_t value;
  Bytes encoded;
};

std::vector<LenEncCase> LenEncCases() {
  return {
      {0, B({0x00})},
      {1, B({0x01})},
      {250, B({0xfa})},
      {251, B({0xfc, 0xfb, 0x00})},
      {252, B({0xfc, 0xfc, 0x00})},
      {0xffff, B({0xfc, 0xff, 0xff})},
      {0x10000, B({0xfd, 0x00, 0x00, 0x01})},
      {0xffffff, B({0xfd, 0xff, 0xff, 0xff})},
      {0x1000000, B({0xfe, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00})},
      {0xffffffffull, B({0xfe, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00})},
      {std::numeric_limits<uint64_t>::max(),
       B({0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})},
  };
}

TEST(WireCodecLenEnc, EncodesAtEveryBoundary) {
  for (const LenEncCase& c : LenEncCases()) {
    SCOPED_TRACE("value " + std::to_string(c.value));
    Bytes out;
    WireWriter w(out);
    w.LenEncInt(c.value);
    EXPECT_EQ(out, c.encoded);
    EXPECT_EQ(LenEncIntSize(c.value), c.encoded.size());
  }
}

TEST(WireCodecLenEnc, DecodesAtEveryBoundary) {
  for (const LenEncCase& c : LenEncCases()) {
    SCOPED_TRACE("value " + std::to_string(c.value));
    WireReader r(c.encoded);
    EXPECT_EQ(r.LenEncInt(), c.value);
    EXPECT_TRUE(r.ok());
    EXPECT_TRUE(r.AtEnd());

    WireReader r2(c.encoded);
    uint64_t v = 12345;
    EXPECT_TRUE(r2.LenEncIntOrNull(&v));
    EXPECT_EQ(v, c.value);
    EXPECT_TRUE(r2.ok());
    EXPECT_TRUE(r2.AtEnd());
  }
}

TEST(WireCodecLenEnc, NonCanonicalLongFormsStillDecode) {
  // A peer may use a longer form than needed; the value is what counts.
  Bytes data = B({0xfc, 0x05, 0x00, 0xfd, 0x07, 0x00, 0x00});
  WireReader r(data);
  EXPECT_EQ(r.LenEncInt(), 5u);
  EXPECT_EQ(r.LenEncInt(), 7u);
  EXPECT_TRUE(r.ok());
}

TEST(WireCodecLenEnc, TruncatedFormsFail) {
  for (const LenEncCase& c : LenEncCases()) {
    for (size_t have = 0; have < c.encoded.size(); ++have) {
      SCOPED_TRACE("value " + std::to_string(c.value) + ", bytes " + std::to_string(have));
      Bytes data(c.encoded.begin(), c.encoded.begin() + have);
      WireReader r(data);
      EXPECT_EQ(r.LenEncInt(), 0u);
      EXPECT_FALSE(r.ok());
      EXPECT_FALSE(r.Finish("lenenc").ok());
      WireReader r2(data);
      uint64_t v = 77;
      EXPECT_FALSE(r2.LenEncIntOrNull(&v));
      EXPECT_FALSE(r2.ok()) << "truncation is not NULL";
      EXPECT_EQ(v, 77u) << "no value on failure";
    }
  }
}

TEST(WireCodecLenEnc, NullAndErrorMarkersAreNotIntegers) {
  for (uint8_t marker : {uint8_t(0xfb), uint8_t(0xff)}) {
    SCOPED_TRACE(int(marker));
    Bytes data = {marker, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};
    WireReader r(data);
    EXPECT_EQ(r.LenEncInt(), 0u);
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.U8(), 0) << "sticky";
    EXPECT_FALSE(r.Finish("lenenc").ok());
  }
}

TEST(WireCodecLenEnc, LenEncIntOrNullReportsTheNullMarker) {
  Bytes data = B({0xfb, 0x05});
  WireReader r(data);
  uint64_t v = 99;
  EXPECT_FALSE(r.LenEncIntOrNull(&v));
  EXPECT_TRUE(r.ok()) << "NULL is not an error";
  EXPECT_EQ(v, 99u) << "value untouched for NULL";
  EXPECT_EQ(r.position(), 1u);
  EXPECT_TRUE(r.LenEncIntOrNull(&v));
  EXPECT_EQ(v, 5u);

  // 0xff stays an error here too.
  Bytes err = B({0xff});
  WireReader r2(err);
  EXPECT_FALSE(r2.LenEncIntOrNull(&v));
  EXPECT_FALSE(r2.ok());
}

// ---------------------------------------------------------------------------
// Strings.

TEST(WireCodecString, LenEncStringRoundTripsAtBoundaries) {
  for (size_t n : {size_t(0), size_t(1), size_t(250), size_t(251), size_t(0xffff),
                   size_t(0x10000)}) {
    SCOPED_TRACE("length " + std::to_string(n));
    std::string s(n, '\0');
    for (size_t i = 0; i < n; ++i) s[i] = char('a' + i % 26);
    Bytes out;
    WireWriter w(out);
    w.LenEncString(s);
    w.U8(0x42);  // something after it
    EXPECT_EQ(out.size(), LenEncIntSize(n) + n + 1);
    WireReader r(out);
    EXPECT_EQ(r.LenEncString(), s);
    EXPECT_EQ(r.U8(), 0x42);
    EXPECT_TRUE(r.ok());
    EXPECT_TRUE(r.AtEnd());
  }
}

TEST(WireCodecString, LenEncStringWithBinaryContent) {
  Bytes data = B({0x04, 0x00, 0xff, 0xfb, 0x0a});
  WireReader r(data);
  std::string_view s = r.LenEncString();
  EXPECT_EQ(s, std::string_view("\x00\xff\xfb\x0a", 4));
  EXPECT_TRUE(r.AtEnd());
}

TEST(WireCodecString, TruncatedLenEncStringFails) {
  Bytes full;
  WireWriter w(full);
  w.LenEncString(std::string(300, 'x'));  // fc 2c 01 + 300 bytes
  for (size_t have = 0; have < full.size(); ++have) {
    SCOPED_TRACE(have);
    Bytes data(full.begin(), full.begin() + have);
    WireReader r(data);
    EXPECT_TRUE(r.LenEncString().empty());
    EXPECT_FALSE(r.ok());
  }
  // A length beyond the data, even an absurd one, fails without reading.
  Bytes huge_data = B({0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 'a'});
  WireReader huge(huge_data);
  EXPECT_TRUE(huge.LenEncString().empty());
  EXPECT_FALSE(huge.ok());
  Bytes null_data = B({0xfb, 'a'});
  WireReader null_len(null_data);
  EXPECT_TRUE(null_len.LenEncString().empty());
  EXPECT_FALSE(null_len.ok());
}

TEST(WireCodecString, NulString) {
  Bytes data = {'a', 'b', 'c', 0, 0, 'x', 'y'};
  WireReader r(data);
  EXPECT_EQ(r.NulString(), "abc");
  EXPECT_EQ(r.position(), 4u);
  EXPECT_EQ(r.NulString(), "") << "an empty NUL string is fine";
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.NulString(), "") << "'xy' has no terminator";
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.position(), 5u);

  Bytes out;
  WireWriter w(out);
  w.NulString("hello");
  w.NulString("");
  EXPECT_EQ(out, (Bytes{'h', 'e', 'l', 'l', 'o', 0, 0}));
}

TEST(WireCodecString, NulStringOnEmptyInputFails) {
  WireReader r{ByteSpan()};
  EXPECT_EQ(r.NulString(), "");
  EXPECT_FALSE(r.ok());
  Bytes empty;
  WireReader r2(empty);
  EXPECT_EQ(r2.NulString(), "");
  EXPECT_FALSE(r2.ok());
}

TEST(WireCodecString, FixedSkipAndRest) {
  Bytes data = {'0', '1', '2', '3', '4', '5', '6', '7'};
  WireReader r(data);
  EXPECT_EQ(r.Fixed(3), "012");
  r.Skip(2);
  EXPECT_EQ(r.Rest(), "567");
  EXPECT_TRUE(r.AtEnd());
  EXPECT_EQ(r.Rest(), "") << "Rest at the end is empty and fine";
  EXPECT_EQ(r.Fixed(0), "");
  EXPECT_TRUE(r.ok());

  WireReader r2(data);
  EXPECT_EQ(r2.Fixed(9), "");
  EXPECT_FALSE(r2.ok());
  WireReader r3(data);
  r3.Skip(9);
  EXPECT_FALSE(r3.ok());
  EXPECT_EQ(r3.position(), 0u);
  EXPECT_EQ(r3.Rest(), "") << "sticky failure";
}

TEST(WireCodecString, WriterRawAndZeros) {
  Bytes out;
  WireWriter w(out);
  w.Raw(std::string_view("ab"));
  w.Raw(ByteSpan(B({1, 2})));
  w.Zeros(3);
  EXPECT_EQ(out, B({'a', 'b', 1, 2, 0, 0, 0}));
  EXPECT_EQ(&w.out(), &out);
}

TEST(WireCodecFinish, TrailingBytes) {
  Bytes data = {1, 2, 3};
  WireReader r(data);
  r.U8();
  EXPECT_TRUE(r.Finish("thing").ok());
  absl::Status s = r.Finish("thing", /*allow_trailing=*/false);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("2 unexpected trailing bytes"), absl::string_view::npos) << s;
  r.U16();
  EXPECT_TRUE(r.Finish("thing", false).ok());
}

TEST(WireCodecHelpers, StringViewConversions) {
  std::string s("a\0b", 3);
  ByteSpan b = AsBytes(s);
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b[1], 0);
  EXPECT_EQ(AsStringView(b), s);
  absl::string_view a = Sv(s);
  EXPECT_EQ(a.size(), 3u);
  EXPECT_EQ(a.data(), s.data());
}

}  // namespace
}  // namespace ql::protocol
