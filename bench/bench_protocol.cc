// Micro benchmarks of protocol/: PacketReader (frame reassembly) and
// ResponseTracker (following a server response frame by frame), in bytes per
// second, with heap allocations per packet / response from the counting hook
// in alloc_counter.cc.
//
// The wire bytes are built here in the shapes MariaDB 10.11 sends (compare
// tests/data/captures/resultset_text_eof.txt and
// resultset_text_deprecate_eof.txt): a column count, column definitions, an
// EOF after them unless CLIENT_DEPRECATE_EOF, text rows, then an EOF or (with
// DEPRECATE_EOF) an OK packet with the 0xfe header. One benchmark also replays
// the committed captures, to keep the synthetic shapes honest.
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "bench/alloc_counter.h"
#include "benchmark/benchmark.h"
#include "protocol/command.h"
#include "protocol/constants.h"
#include "protocol/framing.h"
#include "protocol/response_tracker.h"
#include "tests/unit/capture_file.h"

namespace ql::bench {
namespace {

using protocol::ByteSpan;
using protocol::Bytes;
using protocol::ResponseKind;
using protocol::ResponseTracker;

// ---- building wire bytes ------------------------------------------------------

void PutLenEncInt(Bytes& out, uint64_t v) {
  if (v < 251) {
    out.push_back(uint8_t(v));
  } else if (v < (1u << 16)) {
    out.push_back(0xfc);
    out.push_back(uint8_t(v));
    out.push_back(uint8_t(v >> 8));
  } else if (v < (1u << 24)) {
    out.push_back(0xfd);
    for (int i = 0; i < 3; ++i) out.push_back(uint8_t(v >> (8 * i)));
  } else {
    out.push_back(0xfe);
    for (int i = 0; i < 8; ++i) out.push_back(uint8_t(v >> (8 * i)));
  }
}

void PutLenEncString(Bytes& out, std::string_view s) {
  PutLenEncInt(out, s.size());
  out.insert(out.end(), s.begin(), s.end());
}

void PutU16(Bytes& out, uint16_t v) {
  out.push_back(uint8_t(v));
  out.push_back(uint8_t(v >> 8));
}

void PutU32(Bytes& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(uint8_t(v >> (8 * i)));
}

// A stream of frames: header + payload, sequence ids counting up from `seq`.
class WireBuilder {
 public:
  explicit WireBuilder(uint8_t first_seq) : seq_(first_seq) {}

  void Frame(const Bytes& payload) {
    uint8_t h[protocol::kFrameHeaderSize];
    protocol::EncodeFrameHeader(h, uint32_t(payload.size()), seq_++);
    wire_.insert(wire_.end(), h, h + sizeof h);
    wire_.insert(wire_.end(), payload.begin(), payload.end());
    ++frames_;
  }
  Bytes& wire() { return wire_; }
  size_t frames() const { return frames_; }

 private:
  Bytes wire_;
  uint8_t seq_;
  size_t frames_ = 0;
};

struct Column {
  std::string_view name;
  uint8_t type;
  uint32_t length;
  uint16_t flags;
  uint16_t charset;
};

// sbtest: id INT, k INT, c CHAR(120), pad CHAR(60), as sysbench creates it.
constexpr Column kSbtestColumns[] = {
    {"id", 0x03, 11, 0x4203, 63},   // LONG, NOT NULL | PRI | AUTO_INCREMENT
    {"k", 0x03, 11, 0x4009, 63},    // LONG, NOT NULL | MULTIPLE_KEY
    {"c", 0xfe, 480, 0x0001, 45},   // STRING, NOT NULL, utf8mb4
    {"pad", 0xfe, 240, 0x0001, 45},
};

Bytes ColumnDefinition(const Column& c) {
  Bytes p;
  PutLenEncString(p, "def");
  PutLenEncString(p, "sbtest");
  PutLenEncString(p, "sbtest1");
  PutLenEncString(p, "sbtest1");
  PutLenEncString(p, c.name);
  PutLenEncString(p, c.name);
  p.push_back(0x0c);
  PutU16(p, c.charset);
  PutU32(p, c.length);
  p.push_back(c.type);
  PutU16(p, c.flags);
  p.push_back(0);  // decimals
  PutU16(p, 0);    // filler
  return p;
}

Bytes EofPacket(uint16_t status) {
  Bytes p = {0xfe};
  PutU16(p, 0);  // warnings
  PutU16(p, status);
  return p;
}

// The OK that ends a result set under DEPRECATE_EOF (0xfe header, 7 bytes).
Bytes EofOkPacket(uint16_t status) {
  Bytes p = {0xfe, 0x00, 0x00};  // affected rows, last insert id
  PutU16(p, status);
  PutU16(p, 0);  // warnings
  return p;
}

Bytes OkPacket(uint64_t affected, uint64_t insert_id, uint16_t status, std::string_view info) {
  Bytes p = {0x00};
  PutLenEncInt(p, affected);
  PutLenEncInt(p, insert_id);
  PutU16(p, status);
  PutU16(p, 0);
  if (!info.empty()) PutLenEncString(p, info);
  return p;
}

// A sysbench-like text row. With 4 columns: id and k as digits, then c and
// pad strings sized so that the payload is about `row_bytes` bytes. With one
// column (the point select's "SELECT c"): c alone, `row_bytes` in all.
Bytes TextRow(uint64_t i, size_t row_bytes, size_t columns) {
  Bytes p;
  auto digits = [&](size_t n) {
    std::string s;
    for (size_t j = 0; j < n; ++j) s.push_back(j % 12 == 11 ? '-' : char('0' + (i + j) % 10));
    return s;
  };
  if (columns == 1) {
    PutLenEncString(p, digits(row_bytes > 1 ? row_bytes - 1 : 0));
    return p;
  }
  PutLenEncString(p, std::to_string(i + 1));
  PutLenEncString(p, std::to_string((i * 2654435761u) % 100000));
  size_t rest = row_bytes > p.size() + 2 ? row_bytes - p.size() - 2 : 0;
  size_t c_len = rest * 2 / 3;
  PutLenEncString(p, digits(c_len));
  PutLenEncString(p, std::string(rest - c_len, '7'));
  return p;
}

struct Response {
  Bytes wire;
  size_t frames = 0;
  uint64_t rows = 0;
};

// A text result set as MariaDB sends it for COM_QUERY (first sequence id 1).
Response TextResultSet(size_t rows, size_t row_bytes, bool deprecate_eof, bool point_select) {
  WireBuilder w(1);
  const uint16_t status = protocol::status::kAutocommit;
  const size_t ncols = point_select ? 1 : 4;
  Bytes count;
  PutLenEncInt(count, ncols);
  w.Frame(count);
  if (point_select) {
    w.Frame(ColumnDefinition(kSbtestColumns[2]));
  } else {
    for (const Column& c : kSbtestColumns) w.Frame(ColumnDefinition(c));
  }
  if (!deprecate_eof) w.Frame(EofPacket(status));
  for (size_t i = 0; i < rows; ++i) w.Frame(TextRow(i, row_bytes, ncols));
  w.Frame(deprecate_eof ? EofOkPacket(status) : EofPacket(status));
  return {std::move(w.wire()), w.frames(), rows};
}

Response OkResponse() {
  WireBuilder w(1);
  w.Frame(OkPacket(1, 0, protocol::status::kAutocommit | protocol::status::kInTrans,
                   "Rows matched: 1  Changed: 1  Warnings: 0"));
  return {std::move(w.wire()), w.frames(), 0};
}

uint32_t Capabilities(bool deprecate_eof) {
  uint32_t caps = protocol::cap::kProtocol41 | protocol::cap::kTransactions |
                  protocol::cap::kSecureConnection | protocol::cap::kMultiResults |
                  protocol::cap::kPsMultiResults | protocol::cap::kPluginAuth |
                  protocol::cap::kSessionTrack;
  if (deprecate_eof) caps |= protocol::cap::kDeprecateEof;
  return caps;
}

// Walks `wire` frame by frame the way proxy/response_relay.cc does with one
// buffer filled by read_some: decode the header, hand the tracker the whole
// frame (or a prefix of a long one), step on. Returns false on a tracker
// error or if the response did not end exactly at the end of the buffer.
bool TrackWire(ResponseTracker& tracker, ByteSpan data) {
  size_t pos = 0;
  while (pos + protocol::kFrameHeaderSize <= data.size()) {
    protocol::FrameHeader h = protocol::DecodeFrameHeader(data.data() + pos);
    size_t avail = data.size() - pos - protocol::kFrameHeaderSize;
    size_t take = h.payload_length < avail ? h.payload_length : avail;
    auto event = tracker.OnFrame(h.payload_length, data.subspan(pos + protocol::kFrameHeaderSize, take));
    if (!event.ok()) return false;
    pos += protocol::kFrameHeaderSize + h.payload_length;
    if (*event == ResponseTracker::Event::kDone) return pos == data.size();
  }
  return false;
}

// ---- PacketReader ---------------------------------------------------------------

// A buffer of single-frame packets of `frame_size` payload bytes, about 1 MiB
// in all; fed to the reader in chunks of `chunk` bytes (0 = all at once, as
// if one read returned the whole buffer). Arguments: frame_size, chunk.
void BM_PacketReader(benchmark::State& state) {
  const size_t frame_size = size_t(state.range(0));
  const size_t chunk = size_t(state.range(1));
  const size_t count = std::max<size_t>(1, (1u << 20) / (frame_size + 4));
  WireBuilder w(0);
  Bytes payload(frame_size);
  for (size_t i = 0; i < frame_size; ++i) payload[i] = uint8_t(i * 31);
  for (size_t i = 0; i < count; ++i) {
    // Every packet is its own exchange, so each starts at sequence id 0.
    WireBuilder one(0);
    one.Frame(payload);
    w.wire().insert(w.wire().end(), one.wire().begin(), one.wire().end());
  }
  const Bytes& wire = w.wire();
  protocol::PacketReader reader(1u << 30);

  auto run = [&]() -> size_t {
    size_t packets = 0;
    size_t off = 0;
    while (off < wire.size()) {
      size_t n = chunk == 0 ? wire.size() - off : std::min(chunk, wire.size() - off);
      ByteSpan in(wire.data() + off, n);
      off += n;
      while (!in.empty()) {
        auto r = reader.Feed(in);
        if (r == protocol::PacketReader::Result::kPacketReady) {
          ++packets;
          benchmark::DoNotOptimize(reader.packet().data());
        } else if (r == protocol::PacketReader::Result::kError) {
          return 0;
        }
      }
    }
    return packets;
  };
  if (run() != count) {
    state.SkipWithError("PacketReader did not return every packet");
    return;
  }
  for (auto _ : state) {
    size_t packets = run();
    benchmark::DoNotOptimize(packets);
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(wire.size()));
  state.SetItemsProcessed(int64_t(state.iterations()) * int64_t(count));
  // Per packet: 10 buffers' worth of packets.
  CountAllocations(state, "allocs_per_packet", 10 * count, [&, k = size_t(0)]() mutable {
    if (k++ % count == 0) run();
  });
}
BENCHMARK(BM_PacketReader)
    ->ArgNames({"frame", "chunk"})
    ->Args({16, 0})
    ->Args({100, 0})
    ->Args({1024, 0})
    ->Args({16384, 0})
    ->Args({100, 4096})
    ->Args({16384, 4096});

// ---- ResponseTracker --------------------------------------------------------------

void RunTracker(benchmark::State& state, const Response& resp, ResponseKind kind, uint32_t caps) {
  ResponseTracker tracker;
  tracker.Start(kind, caps);
  if (!TrackWire(tracker, resp.wire) || tracker.summary().rows != resp.rows) {
    state.SkipWithError("tracker did not follow the response to its end");
    return;
  }
  auto one = [&] {
    tracker.Start(kind, caps);
    bool ok = TrackWire(tracker, resp.wire);
    benchmark::DoNotOptimize(ok);
  };
  for (auto _ : state) one();
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(resp.wire.size()));
  state.counters["frames_per_s"] = benchmark::Counter(
      double(state.iterations()) * double(resp.frames), benchmark::Counter::kIsRate);
  state.counters["bytes_per_resp"] = double(resp.wire.size());
  CountAllocations(state, "allocs_per_resp", 1000, one);
}

// 1,000 rows of about 100 bytes (the "captured-like" result set).
void BM_ResponseTracker_TextResultSet(benchmark::State& state) {
  const bool deprecate_eof = state.range(0) != 0;
  Response resp = TextResultSet(1000, 100, deprecate_eof, false);
  RunTracker(state, resp, ResponseKind::kResultSet, Capabilities(deprecate_eof));
}
BENCHMARK(BM_ResponseTracker_TextResultSet)->ArgName("deprecate_eof")->Arg(0)->Arg(1);

// The answer to sysbench's point select: one column, one row of 120 bytes.
void BM_ResponseTracker_PointSelect(benchmark::State& state) {
  const bool deprecate_eof = state.range(0) != 0;
  Response resp = TextResultSet(1, 121, deprecate_eof, true);
  RunTracker(state, resp, ResponseKind::kResultSet, Capabilities(deprecate_eof));
}
BENCHMARK(BM_ResponseTracker_PointSelect)->ArgName("deprecate_eof")->Arg(0)->Arg(1);

// The OK of an UPDATE inside a transaction.
void BM_ResponseTracker_Ok(benchmark::State& state) {
  RunTracker(state, OkResponse(), ResponseKind::kResultSet, Capabilities(false));
}
BENCHMARK(BM_ResponseTracker_Ok);

// Replays the server side of the committed result-set captures (every
// COM_QUERY response in them), to check the tracker's speed on bytes a real
// MariaDB sent. Skipped when the captures cannot be found.
void BM_ResponseTracker_Captures(benchmark::State& state) {
  struct Replay {
    Bytes wire;
    uint32_t caps;
    uint64_t frames;
  };
  std::vector<Replay> replays;
  for (const char* name : {"resultset_text_eof", "resultset_text_deprecate_eof",
                           "multi_statement", "multi_statement_deprecate_eof",
                           "query_ok_insert"}) {
    std::string error;
    auto capture = testing::LoadCaptureByName(name, &error);
    if (!capture) {
      state.SkipWithError(error.c_str());
      return;
    }
    // A response is the run of server frames after a client COM_QUERY
    // (0x03); the handshake and everything else is left out.
    Replay* current = nullptr;
    for (const auto& f : capture->frames) {
      if (f.direction == 'C') {
        current = nullptr;
        if (!f.payload.empty() && f.payload[0] == 0x03 && f.sequence_id == 0) {
          replays.push_back({{}, capture->client_capabilities, 0});
          current = &replays.back();
        }
        continue;
      }
      if (!current) continue;
      uint8_t h[protocol::kFrameHeaderSize];
      protocol::EncodeFrameHeader(h, uint32_t(f.payload.size()), f.sequence_id);
      current->wire.insert(current->wire.end(), h, h + sizeof h);
      current->wire.insert(current->wire.end(), f.payload.begin(), f.payload.end());
      ++current->frames;
    }
  }
  uint64_t bytes = 0, frames = 0;
  ResponseTracker tracker;
  for (const Replay& r : replays) {
    tracker.Start(ResponseKind::kResultSet, r.caps);
    if (!TrackWire(tracker, r.wire)) {
      state.SkipWithError("a captured response did not track to its end");
      return;
    }
    bytes += r.wire.size();
    frames += r.frames;
  }
  auto all = [&] {
    for (const Replay& r : replays) {
      tracker.Start(ResponseKind::kResultSet, r.caps);
      bool ok = TrackWire(tracker, r.wire);
      benchmark::DoNotOptimize(ok);
    }
  };
  for (auto _ : state) all();
  state.SetBytesProcessed(int64_t(state.iterations() * bytes));
  state.SetItemsProcessed(int64_t(state.iterations() * replays.size()));
  state.counters["responses"] = double(replays.size());
  state.counters["frames_per_s"] =
      benchmark::Counter(double(state.iterations()) * double(frames), benchmark::Counter::kIsRate);
  // Per response: 100 passes over all of them.
  CountAllocations(state, "allocs_per_resp", 100 * replays.size(),
                   [&, k = size_t(0)]() mutable {
                     if (k++ % replays.size() == 0) all();
                   });
}
BENCHMARK(BM_ResponseTracker_Captures);

}  // namespace
}  // namespace ql::bench
