// Builders of synthetic server responses for the ResponseTracker tests
// (frames as the relay hands them over, result sets, long rows split over
// frames) and the test fixture run with and without DEPRECATE_EOF. Shared by
// protocol_response_tracker_synthetic_test.cc (result sets) and
// protocol_response_tracker_commands_test.cc (other commands, malformed input).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"
#include "protocol/constants.h"
#include "protocol/framing.h"
#include "protocol/generic_packets.h"
#include "protocol/response_tracker.h"

namespace ql::protocol::tracker_synthetic {

using Event = ResponseTracker::Event;

inline const char* EventName(Event e) {
  switch (e) {
    case Event::kContinue: return "kContinue";
    case Event::kDone: return "kDone";
    case Event::kLocalInfileRequest: return "kLocalInfileRequest";
  }
  return "?";
}

// =============================================================================
// 2. Synthetic responses
// =============================================================================

inline constexpr uint32_t kClassic = cap::kProtocol41 | cap::kTransactions | cap::kSecureConnection |
                          cap::kMultiStatements | cap::kMultiResults | cap::kPsMultiResults |
                          cap::kSessionTrack | cap::kLocalFiles;
inline constexpr uint32_t kDeprecate = kClassic | cap::kDeprecateEof;

inline Bytes ColumnCount(uint64_t n) {
  Bytes out;
  WireWriter(out).LenEncInt(n);
  return out;
}

// A column definition as a server sends it (the tracker only counts them).
inline Bytes ColumnDef(std::string_view name) {
  Bytes out;
  WireWriter w(out);
  w.LenEncString("def");
  w.LenEncString("db");
  w.LenEncString("t");
  w.LenEncString("t");
  w.LenEncString(name);
  w.LenEncString(name);
  w.U8(0x0c);
  w.U16(kUtf8mb4GeneralCi);
  w.U32(255);
  w.U8(0xfd);  // VAR_STRING
  w.U16(0);
  w.U8(0);
  w.U16(0);
  return out;
}

inline Bytes TextRow(std::vector<std::optional<std::string>> values) {
  Bytes out;
  WireWriter w(out);
  for (auto& v : values) {
    if (v) {
      w.LenEncString(*v);
    } else {
      w.U8(0xfb);
    }
  }
  return out;
}

inline Bytes BinaryRow(uint32_t value) {
  Bytes out = {0x00, 0x00};  // header, NULL bitmap of one column
  WireWriter(out).U32(value);
  return out;
}

inline Bytes Eof(uint16_t status, uint16_t warnings = 0) {
  Bytes out;
  EncodeEof(out, warnings, status);
  return out;
}

inline Bytes Ok(uint16_t status, uint64_t affected = 0, uint64_t last_id = 0, uint16_t warnings = 0,
         uint8_t header = 0x00, std::string_view session_state = {}) {
  OkPacket ok;
  ok.header = header;
  ok.affected_rows = affected;
  ok.last_insert_id = last_id;
  ok.status_flags = status;
  ok.warnings = warnings;
  ok.session_state = session_state;
  Bytes out;
  EncodeOk(out, ok, kClassic);
  return out;
}

// The end of a result set: EOF, or with DEPRECATE_EOF an OK with header 0xfe.
inline Bytes End(uint32_t caps, uint16_t status, uint16_t warnings = 0) {
  if (caps & cap::kDeprecateEof) return Ok(status, 0, 0, warnings, 0xfe);
  return Eof(status, warnings);
}

inline Bytes Err(uint16_t code, std::string_view state = "HY000", std::string_view msg = "error") {
  Bytes out;
  EncodeErr(out, code, state, msg);
  return out;
}

inline Bytes PrepareOk(uint32_t id, uint16_t columns, uint16_t params, uint16_t warnings = 0) {
  Bytes out = {0x00};
  WireWriter w(out);
  w.U32(id);
  w.U16(columns);
  w.U16(params);
  w.U8(0);
  w.U16(warnings);
  return out;
}

// One frame as the relay hands it over: its length from the header and its
// payload, which is only a prefix for frames of kTrackerWholeFrameLimit bytes
// or more.
struct Frame {
  uint32_t length;
  Bytes payload;
};

inline Frame Whole(Bytes payload) { return {uint32_t(payload.size()), std::move(payload)}; }
inline Frame Prefix(uint32_t length, Bytes prefix) { return {length, std::move(prefix)}; }

// Frames of one packet: the result-set "chunks" of a long row, each a prefix.
inline std::vector<Frame> SplitPacket(size_t total, const Bytes& head, uint8_t tail_fill = 0xfe) {
  std::vector<Frame> frames;
  size_t left = total;
  bool first = true;
  while (true) {
    uint32_t n = uint32_t(std::min<size_t>(left, kMaxFramePayload));
    Bytes prefix;
    if (first) {
      prefix = head;
    } else {
      prefix.assign(std::min<size_t>(n, 64), tail_fill);
    }
    if (n < kTrackerWholeFrameLimit) prefix.resize(n, tail_fill);  // small frames go whole
    if (prefix.size() > n) prefix.resize(n);
    frames.push_back({n, prefix});
    left -= n;
    first = false;
    if (n < kMaxFramePayload) break;
  }
  return frames;
}

// Frames of a text row with one column holding `n` bytes: lenenc length, data.
inline std::vector<Frame> LongTextRow(uint64_t n, const std::vector<std::string>& before = {}) {
  Bytes head;
  WireWriter w(head);
  for (const std::string& s : before) w.LenEncString(s);
  w.LenEncInt(n);
  size_t total = head.size() + n;
  head.resize(std::min<size_t>(head.size() + 32, total), 'x');
  return SplitPacket(total, head);
}

struct Fed {
  std::vector<Event> events;
  absl::Status error;  // first error, if any
};

inline Fed FeedAll(ResponseTracker& t, const std::vector<Frame>& frames) {
  Fed fed;
  for (const Frame& f : frames) {
    auto e = t.OnFrame(f.length, f.payload);
    if (!e.ok()) {
      fed.error = e.status();
      break;
    }
    fed.events.push_back(*e);
  }
  return fed;
}

// Expects kContinue for every frame but the last, and `last` for that one.
inline void ExpectEvents(const Fed& fed, size_t frames, Event last = Event::kDone) {
  ASSERT_TRUE(fed.error.ok()) << fed.error << " after " << fed.events.size() << " frames";
  ASSERT_EQ(fed.events.size(), frames);
  for (size_t i = 0; i + 1 < frames; ++i) {
    EXPECT_EQ(EventName(fed.events[i]), std::string(EventName(Event::kContinue))) << "frame " << i;
  }
  EXPECT_EQ(EventName(fed.events.back()), std::string(EventName(last)));
}

inline void Append(std::vector<Frame>& to, std::vector<Frame> more) {
  for (Frame& f : more) to.push_back(std::move(f));
}

// A result set: count, definitions, EOF unless DEPRECATE_EOF, rows, end.
inline std::vector<Frame> ResultSet(uint32_t caps, size_t columns, std::vector<Bytes> rows,
                             uint16_t end_status) {
  std::vector<Frame> f;
  f.push_back(Whole(ColumnCount(columns)));
  for (size_t c = 0; c < columns; ++c) f.push_back(Whole(ColumnDef("c" + std::to_string(c))));
  if (!(caps & cap::kDeprecateEof)) f.push_back(Whole(Eof(status::kAutocommit)));
  for (Bytes& r : rows) f.push_back(Whole(std::move(r)));
  f.push_back(Whole(End(caps, end_status)));
  return f;
}

class TrackerSyntheticTest : public ::testing::TestWithParam<uint32_t> {
 protected:
  uint32_t caps() const { return GetParam(); }
  bool deprecate_eof() const { return caps() & cap::kDeprecateEof; }
  // The EOF after column definitions, when there is one.
  std::vector<Frame> MetadataEnd() const {
    if (deprecate_eof()) return {};
    return {Whole(Eof(status::kAutocommit))};
  }
};

}  // namespace ql::protocol::tracker_synthetic
