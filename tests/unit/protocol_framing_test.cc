// Unit tests of packet framing (protocol/framing.h): the frame headers that
// AppendFrames/FinishFrames write for payloads around the 0xffffff frame size
// (including the empty trailing frame of an exact multiple), and PacketReader
// reassembling packets from byte streams cut at every possible place.
#include "protocol/framing.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace ql::protocol {
namespace {

constexpr size_t kMax = kMaxFramePayload;  // 0xffffff

// Payloads are views of one shared buffer whose bytes depend on their offset,
// so misplaced bytes show; `salt` shifts the start so that packets differ.
// (One buffer, because fresh 32 MiB allocations are slow on small machines.)
ByteSpan Pattern(size_t n, size_t salt = 0) {
  static const Bytes* buffer = [] {
    auto* b = new Bytes(2 * kMaxFramePayload + 5 + 256);
    for (size_t i = 0; i < b->size(); ++i) (*b)[i] = uint8_t((i * 131 + (i >> 16)) & 0xff);
    return b;
  }();
  salt %= 256;
  return ByteSpan(*buffer).subspan(salt, n);
}

bool SameBytes(ByteSpan a, ByteSpan b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

struct Frame {
  uint32_t length;
  uint8_t seq;
  bool operator==(const Frame&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Frame& f) {
  return os << "{len=0x" << std::hex << f.length << std::dec << " seq=" << int(f.seq) << "}";
}

// Splits framed bytes into headers, checking that the frame bodies hold
// `payload` in order (in place: copies of 32 MiB are slow on small machines).
std::vector<Frame> ParseFrames(const Bytes& buf, size_t start, ByteSpan payload) {
  std::vector<Frame> frames;
  size_t pos = start;
  size_t payload_pos = 0;
  while (pos < buf.size()) {
    EXPECT_LE(pos + kFrameHeaderSize, buf.size());
    if (pos + kFrameHeaderSize > buf.size()) break;
    FrameHeader h = DecodeFrameHeader(buf.data() + pos);
    frames.push_back({h.payload_length, h.sequence_id});
    pos += kFrameHeaderSize;
    EXPECT_LE(pos + h.payload_length, buf.size());
    EXPECT_LE(payload_pos + h.payload_length, payload.size());
    if (pos + h.payload_length > buf.size() || payload_pos + h.payload_length > payload.size()) {
      break;
    }
    EXPECT_TRUE(std::equal(buf.begin() + pos, buf.begin() + pos + h.payload_length,
                           payload.begin() + payload_pos))
        << "payload bytes of frame " << frames.size() - 1 << " differ";
    pos += h.payload_length;
    payload_pos += h.payload_length;
  }
  EXPECT_EQ(payload_pos, payload.size());
  return frames;
}

TEST(FrameHeader, EncodeDecode) {
  uint8_t h[4];
  EncodeFrameHeader(h, 0x123456, 7);
  EXPECT_EQ(h[0], 0x56);
  EXPECT_EQ(h[1], 0x34);
  EXPECT_EQ(h[2], 0x12);
  EXPECT_EQ(h[3], 7);
  FrameHeader d = DecodeFrameHeader(h);
  EXPECT_EQ(d.payload_length, 0x123456u);
  EXPECT_EQ(d.sequence_id, 7);
  EncodeFrameHeader(h, 0xffffff, 255);
  EXPECT_EQ(DecodeFrameHeader(h).payload_length, 0xffffffu);
  EXPECT_EQ(DecodeFrameHeader(h).sequence_id, 255);
}

struct FramingCase {
  const char* name;
  size_t payload_size;
  std::vector<uint32_t> frame_lengths;  // expected, in order
};

std::vector<FramingCase> FramingCases() {
  return {
      {"empty", 0, {0}},
      {"one byte", 1, {1}},
      {"largest single frame", kMax - 1, {uint32_t(kMax - 1)}},
      {"exactly 0xffffff: empty trailing frame", kMax, {uint32_t(kMax), 0}},
      {"16 MiB", 0x1000000, {uint32_t(kMax), 1}},
      {"two full frames: empty trailing frame", 2 * kMax, {uint32_t(kMax), uint32_t(kMax), 0}},
      {"two full frames and 5", 2 * kMax + 5, {uint32_t(kMax), uint32_t(kMax), 5}},
  };
}

TEST(Framing, AppendFramesWritesTheExpectedHeaders) {
  for (const FramingCase& c : FramingCases()) {
    // Large payloads once; small ones with a few first ids.
    std::vector<uint8_t> first_ids = {3};
    if (c.payload_size < kMax) first_ids = {0, 3, 255};
    for (uint8_t first_seq : first_ids) {
      SCOPED_TRACE(std::string(c.name) + ", first seq " + std::to_string(first_seq));
      ByteSpan payload = Pattern(c.payload_size, first_seq);
      Bytes out = {0xde, 0xad};  // existing content stays in front
      uint8_t next = AppendFrames(out, payload, first_seq);
      ASSERT_EQ(out[0], 0xde);
      ASSERT_EQ(out[1], 0xad);
      std::vector<Frame> expected;
      uint8_t seq = first_seq;
      for (uint32_t len : c.frame_lengths) expected.push_back({len, seq++});
      EXPECT_EQ(ParseFrames(out, 2, payload), expected);
      EXPECT_EQ(next, seq) << "the id after the last frame (wrapping at 256)";
      EXPECT_EQ(out.size(), 2 + payload.size() + kFrameHeaderSize * c.frame_lengths.size());
    }
  }
}

TEST(Framing, FinishFramesPatchesAReservedHeader) {
  for (const FramingCase& c : FramingCases()) {
    // AppendFrames goes through FinishFrames too; here the cases that take
    // each path once, to keep the test light.
    if (c.payload_size == 1 || c.payload_size == 0x1000000 || c.payload_size == 2 * kMax) continue;
    SCOPED_TRACE(c.name);
    ByteSpan payload = Pattern(c.payload_size, 9);
    // Three bytes of earlier content, 4 reserved for the header, the payload.
    const size_t start = 3;
    Bytes buf(start + kFrameHeaderSize + payload.size());
    buf[0] = 1;
    buf[1] = 2;
    buf[2] = 3;
    std::copy(payload.begin(), payload.end(), buf.begin() + start + kFrameHeaderSize);
    uint8_t next = FinishFrames(buf, start, 1);
    EXPECT_EQ(buf[0], 1);
    EXPECT_EQ(buf[2], 3);
    std::vector<Frame> expected;
    uint8_t seq = 1;
    for (uint32_t len : c.frame_lengths) expected.push_back({len, seq++});
    EXPECT_EQ(ParseFrames(buf, start, payload), expected);
    EXPECT_EQ(next, seq);
  }
}

TEST(Framing, SequenceIdsWrapAround) {
  Bytes out;
  ByteSpan payload = Pattern(kMax + 5);
  uint8_t next = AppendFrames(out, payload, 255);
  std::vector<Frame> frames = ParseFrames(out, 0, payload);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].seq, 255);
  EXPECT_EQ(frames[1].seq, 0);
  EXPECT_EQ(next, 1);
}

// ---------------------------------------------------------------------------
// PacketReader.

struct Packet {
  ByteSpan payload;
  uint8_t seq;
};

// Frames every packet into one stream.
Bytes Stream(const std::vector<Packet>& packets) {
  Bytes out;
  for (const Packet& p : packets) AppendFrames(out, p.payload, p.seq);
  return out;
}

size_t FramesOf(size_t payload_size) { return payload_size / kMax + 1; }

// Feeds `stream` in chunks whose sizes come from `next_chunk` and checks the
// packets that come out against `want` as they appear.
void ExpectReassembled(const Bytes& stream, size_t max_packet,
                       const std::function<size_t()>& next_chunk,
                       const std::vector<Packet>& want) {
  PacketReader reader(max_packet);
  size_t got = 0;
  size_t pos = 0;
  while (pos < stream.size()) {
    size_t n = std::min(next_chunk(), stream.size() - pos);
    ByteSpan input(stream.data() + pos, n);
    while (true) {
      PacketReader::Result r = reader.Feed(input);
      ASSERT_NE(r, PacketReader::Result::kError) << reader.error();
      if (r == PacketReader::Result::kNeedMore) {
        EXPECT_TRUE(input.empty()) << "kNeedMore must consume all input";
        break;
      }
      SCOPED_TRACE("packet " + std::to_string(got));
      ASSERT_LT(got, want.size()) << "more packets than were sent";
      const Packet& w = want[got++];
      EXPECT_EQ(reader.first_sequence_id(), w.seq);
      EXPECT_EQ(reader.next_sequence_id(), uint8_t(w.seq + FramesOf(w.payload.size())));
      ASSERT_EQ(reader.packet().size(), w.payload.size());
      EXPECT_TRUE(SameBytes(reader.packet(), w.payload));
      if (input.empty()) break;
    }
    pos += n;
  }
  EXPECT_EQ(got, want.size());
}

TEST(PacketReader, ByteByByte) {
  static const uint8_t kQuery[] = {0x03, 'S', 'E', 'L'};
  std::vector<Packet> packets = {
      {Pattern(0), 0},      {Pattern(1, 1), 1},         {Pattern(5, 2), 0},
      {Pattern(300, 3), 7}, {Pattern(0xffff + 3, 4), 0}, {ByteSpan(kQuery), 0},
  };
  ExpectReassembled(Stream(packets), 1 << 20, [] { return size_t(1); }, packets);
}

TEST(PacketReader, WholeStreamInOneFeed) {
  std::vector<Packet> packets = {{Pattern(10), 0}, {Pattern(0), 1}, {Pattern(20, 1), 2}};
  Bytes stream = Stream(packets);
  PacketReader reader(1000);
  ByteSpan input(stream);
  for (const Packet& p : packets) {
    ASSERT_EQ(reader.Feed(input), PacketReader::Result::kPacketReady);
    EXPECT_TRUE(SameBytes(reader.packet(), p.payload));
    EXPECT_EQ(reader.first_sequence_id(), p.seq);
  }
  EXPECT_TRUE(input.empty());
  EXPECT_EQ(reader.Feed(input), PacketReader::Result::kNeedMore);
}

TEST(PacketReader, EmptyInputNeedsMore) {
  PacketReader reader(100);
  ByteSpan empty;
  EXPECT_EQ(reader.Feed(empty), PacketReader::Result::kNeedMore);
  Bytes header = {0x00, 0x00};  // half a header
  ByteSpan input(header);
  EXPECT_EQ(reader.Feed(input), PacketReader::Result::kNeedMore);
  EXPECT_EQ(reader.Feed(empty), PacketReader::Result::kNeedMore);
  Bytes rest = {0x00, 0x04};  // length 0, seq 4
  input = ByteSpan(rest);
  EXPECT_EQ(reader.Feed(input), PacketReader::Result::kPacketReady);
  EXPECT_TRUE(reader.packet().empty());
  EXPECT_EQ(reader.first_sequence_id(), 4);
  EXPECT_EQ(reader.next_sequence_id(), 5);
}

TEST(PacketReader, MultiFrameJoinOfPacketsOver16MiB) {
  // Sizes around and over the frame limit, with small packets in between, so
  // every kind of boundary (header, continuation header, empty trailing frame)
  // falls inside some chunk.
  std::vector<Packet> packets = {
      {Pattern(3), 0},
      {Pattern(kMax, 1), 1},           // two frames, the second empty
      {Pattern(0x1000000 + 100, 2), 0},  // 0xffffff + 101
      {Pattern(2 * kMax + 5, 3), 250},   // three frames, ids 250..252
      {Pattern(kMax - 1, 4), 9},         // the largest single frame
      {Pattern(1), 0},
  };
  Bytes stream = Stream(packets);
  std::mt19937 rng(20261124);
  // Mostly large chunks, some tiny ones that split headers.
  std::uniform_int_distribution<size_t> big(1, 3 << 20), small(1, 7), pick(0, 3);
  ExpectReassembled(
      stream, 64 << 20, [&] { return pick(rng) == 0 ? small(rng) : big(rng); }, packets);
}

TEST(PacketReader, RandomChunksOfSmallPackets) {
  std::vector<Packet> packets;
  std::mt19937 rng(7);
  std::uniform_int_distribution<size_t> size(0, 600);
  for (int i = 0; i < 200; ++i) packets.push_back({Pattern(size(rng), i), uint8_t(i)});
  Bytes stream = Stream(packets);
  for (size_t max_chunk : {size_t(1), size_t(2), size_t(3), size_t(5), size_t(64), size_t(4096)}) {
    SCOPED_TRACE("max chunk " + std::to_string(max_chunk));
    std::uniform_int_distribution<size_t> chunk(1, max_chunk);
    ExpectReassembled(stream, 1000, [&] { return chunk(rng); }, packets);
  }
}

TEST(PacketReader, ByteByByteAcrossFrameBoundariesOfALargePacket) {
  // Byte-by-byte over the whole 16 MiB would be slow; feed the stream in big
  // chunks but byte by byte around every frame header.
  Packet big{Pattern(kMax + 10, 5), 3};
  Packet tail{Pattern(4), 0};
  Bytes stream = Stream({big, tail});
  std::vector<size_t> header_at = {0, kFrameHeaderSize + kMax, 2 * kFrameHeaderSize + kMax + 10};
  size_t pos = 0;
  auto next_chunk = [&]() -> size_t {
    size_t n = 1;
    bool near_header = false;
    for (size_t h : header_at) near_header |= pos + 8 > h && pos < h + 8;
    if (!near_header) {
      size_t next_header = stream.size();
      for (size_t h : header_at) if (h > pos) next_header = std::min(next_header, h);
      n = std::max<size_t>(1, next_header > pos + 8 ? next_header - pos - 8 : 1);
    }
    pos += n;
    return n;
  };
  ExpectReassembled(stream, 32 << 20, next_chunk, {big, tail});
}

TEST(PacketReader, SequenceMismatchBetweenFramesIsAnError) {
  Bytes stream;
  AppendFrames(stream, Pattern(kMax + 5), 3);
  // Corrupt the continuation frame's id: 4 expected, 6 sent.
  stream[kFrameHeaderSize + kMax + 3] = 6;
  PacketReader reader(64 << 20);
  ByteSpan input(stream);
  EXPECT_EQ(reader.Feed(input), PacketReader::Result::kError);
  EXPECT_EQ(reader.error().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(reader.error().message().find("sequence"), absl::string_view::npos) << reader.error();
  // Sticky: no more packets from a broken stream.
  Bytes more;
  AppendFrames(more, Pattern(3), 0);
  ByteSpan again(more);
  EXPECT_EQ(reader.Feed(again), PacketReader::Result::kError);
}

TEST(PacketReader, SequenceWrapsInsideAPacket) {
  Bytes stream;
  ByteSpan payload = Pattern(kMax + 5);
  AppendFrames(stream, payload, 255);  // 255 then 0
  PacketReader reader(64 << 20);
  ByteSpan input(stream);
  ASSERT_EQ(reader.Feed(input), PacketReader::Result::kPacketReady) << reader.error();
  EXPECT_EQ(reader.first_sequence_id(), 255);
  EXPECT_EQ(reader.next_sequence_id(), 1);
  EXPECT_TRUE(SameBytes(reader.packet(), payload));
}

TEST(PacketReader, MaxPacketSize) {
  struct Case {
    size_t limit;
    size_t payload;
    bool ok;
  };
  for (const Case& c : std::vector<Case>{{10, 10, true},
                                         {10, 11, false},
                                         {0, 0, true},
                                         {0, 1, false},
                                         // a full first frame fits, its (empty) trailer too
                                         {kMax, kMax, true},
                                         // the continuation frame goes over the limit
                                         {kMax + 5, kMax + 6, false}}) {
    SCOPED_TRACE("limit " + std::to_string(c.limit) + " payload " + std::to_string(c.payload));
    Bytes stream;
    AppendFrames(stream, Pattern(c.payload), 0);
    PacketReader reader(c.limit);
    ByteSpan input(stream);
    PacketReader::Result r = reader.Feed(input);
    if (c.ok) {
      EXPECT_EQ(r, PacketReader::Result::kPacketReady) << reader.error();
      EXPECT_EQ(reader.packet().size(), c.payload);
    } else {
      EXPECT_EQ(r, PacketReader::Result::kError);
      EXPECT_EQ(reader.error().code(), absl::StatusCode::kResourceExhausted);
      ByteSpan again(stream);
      EXPECT_EQ(reader.Feed(again), PacketReader::Result::kError);
    }
  }
}

TEST(PacketReader, OversizeIsDetectedFromTheHeaderAlone) {
  // The reader must refuse before buffering the body.
  Bytes header = {0x00, 0x10, 0x00, 0x00};  // 4096 bytes announced
  PacketReader reader(100);
  ByteSpan input(header);
  EXPECT_EQ(reader.Feed(input), PacketReader::Result::kError);
}

}  // namespace
}  // namespace ql::protocol
