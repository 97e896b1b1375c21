// Unit tests of ResponseTracker (protocol/response_tracker.h) on synthetic
// responses, for what the captures cannot hold: rows of 16 MiB and more split
// over frames (fed as prefixes, as the relay does), text rows starting with
// 0xfe, errors in the middle of rows, multiple result sets, cursors, and
// malformed input. The replay of real captures is in
// protocol_response_tracker_test.cc.
#include "protocol/response_tracker.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "protocol/constants.h"
#include "protocol/framing.h"
#include "protocol/generic_packets.h"

namespace ql::protocol {
namespace {

using Event = ResponseTracker::Event;

const char* EventName(Event e) {
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

const uint32_t kClassic = cap::kProtocol41 | cap::kTransactions | cap::kSecureConnection |
                          cap::kMultiStatements | cap::kMultiResults | cap::kPsMultiResults |
                          cap::kSessionTrack | cap::kLocalFiles;
const uint32_t kDeprecate = kClassic | cap::kDeprecateEof;

Bytes ColumnCount(uint64_t n) {
  Bytes out;
  WireWriter(out).LenEncInt(n);
  return out;
}

// A column definition as a server sends it (the tracker only counts them).
Bytes ColumnDef(std::string_view name) {
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

Bytes TextRow(std::vector<std::optional<std::string>> values) {
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

Bytes BinaryRow(uint32_t value) {
  Bytes out = {0x00, 0x00};  // header, NULL bitmap of one column
  WireWriter(out).U32(value);
  return out;
}

Bytes Eof(uint16_t status, uint16_t warnings = 0) {
  Bytes out;
  EncodeEof(out, warnings, status);
  return out;
}

Bytes Ok(uint16_t status, uint64_t affected = 0, uint64_t last_id = 0, uint16_t warnings = 0,
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
Bytes End(uint32_t caps, uint16_t status, uint16_t warnings = 0) {
  if (caps & cap::kDeprecateEof) return Ok(status, 0, 0, warnings, 0xfe);
  return Eof(status, warnings);
}

Bytes Err(uint16_t code, std::string_view state = "HY000", std::string_view msg = "error") {
  Bytes out;
  EncodeErr(out, code, state, msg);
  return out;
}

Bytes PrepareOk(uint32_t id, uint16_t columns, uint16_t params, uint16_t warnings = 0) {
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

Frame Whole(Bytes payload) { return {uint32_t(payload.size()), std::move(payload)}; }
Frame Prefix(uint32_t length, Bytes prefix) { return {length, std::move(prefix)}; }

// Frames of one packet: the result-set "chunks" of a long row, each a prefix.
std::vector<Frame> SplitPacket(size_t total, const Bytes& head, uint8_t tail_fill = 0xfe) {
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
std::vector<Frame> LongTextRow(uint64_t n, const std::vector<std::string>& before = {}) {
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

Fed FeedAll(ResponseTracker& t, const std::vector<Frame>& frames) {
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
void ExpectEvents(const Fed& fed, size_t frames, Event last = Event::kDone) {
  ASSERT_TRUE(fed.error.ok()) << fed.error << " after " << fed.events.size() << " frames";
  ASSERT_EQ(fed.events.size(), frames);
  for (size_t i = 0; i + 1 < frames; ++i) {
    EXPECT_EQ(EventName(fed.events[i]), std::string(EventName(Event::kContinue))) << "frame " << i;
  }
  EXPECT_EQ(EventName(fed.events.back()), std::string(EventName(last)));
}

void Append(std::vector<Frame>& to, std::vector<Frame> more) {
  for (Frame& f : more) to.push_back(std::move(f));
}

// A result set: count, definitions, EOF unless DEPRECATE_EOF, rows, end.
std::vector<Frame> ResultSet(uint32_t caps, size_t columns, std::vector<Bytes> rows,
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

INSTANTIATE_TEST_SUITE_P(EofModes, TrackerSyntheticTest, ::testing::Values(kClassic, kDeprecate),
                         [](const ::testing::TestParamInfo<uint32_t>& info) {
                           return std::string((info.param & cap::kDeprecateEof) ? "DeprecateEof"
                                                                                 : "Classic");
                         });

TEST_P(TrackerSyntheticTest, SmallResultSet) {
  ResponseTracker t;
  t.Start(ResponseKind::kResultSet, caps());
  auto frames = ResultSet(caps(), 2, {TextRow({"1", "a"}), TextRow({std::nullopt, ""})},
                          status::kAutocommit);
  ExpectEvents(FeedAll(t, frames), frames.size());
  EXPECT_TRUE(t.done());
  EXPECT_EQ(t.summary().rows, 2u);
  EXPECT_EQ(t.summary().result_sets, 1u);
  EXPECT_TRUE(t.summary().status_known);
  EXPECT_EQ(t.summary().status_flags, status::kAutocommit);
}

TEST_P(TrackerSyntheticTest, RowSplitOverFullFramesAndContinuations) {
  struct Case {
    const char* name;
    uint64_t row_size;  // payload bytes of the row: "a" (2 bytes), then the long value
    size_t frames;
  };
  std::vector<Case> cases = {
      {"row of 0xffffff + 20 bytes: full frame + 20", kMaxFramePayload + 20, 2},
      {"row of exactly 0xffffff bytes: full frame + empty frame", kMaxFramePayload, 2},
      {"row of 2 * 0xffffff + 3 bytes: three frames", 2 * kMaxFramePayload + 3, 3},
      {"row of 3 * 0xffffff bytes: four frames, the last empty", 3 * kMaxFramePayload, 4},
      {"2 MiB row: one long frame, fed as a prefix", 2u << 20, 1},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ResponseTracker t;
    t.Start(ResponseKind::kResultSet, caps());
    std::vector<Frame> frames = {Whole(ColumnCount(2)), Whole(ColumnDef("a")),
                                 Whole(ColumnDef("b"))};
    Append(frames, MetadataEnd());
    // The value's length prefix is 9 bytes from 2^24 on, 4 below.
    uint64_t value = c.row_size - 2 - 9;
    if (value < (1u << 24)) value = c.row_size - 2 - 4;
    std::vector<Frame> row = LongTextRow(value, {"a"});
    size_t total = 0;
    for (const Frame& f : row) total += f.length;
    EXPECT_EQ(total, c.row_size);
    EXPECT_EQ(row.size(), c.frames);
    EXPECT_EQ(row.front().payload[0], 0x01);
    Append(frames, row);
    frames.push_back(Whole(TextRow({"b", "c"})));
    frames.push_back(Whole(End(caps(), status::kAutocommit)));
    ExpectEvents(FeedAll(t, frames), frames.size());
    EXPECT_EQ(t.summary().rows, 2u) << "a split row is one row";
  }
}

TEST_P(TrackerSyntheticTest, TextRowStartingWith0xfeIsARowNotATerminator) {
  // One column of 16 MiB or more: the row starts with 0xfe (8-byte length).
  // The continuation frames are filled with 0xfe too; the last one is shaped
  // exactly like a DEPRECATE_EOF terminator or an EOF. None of it may end the
  // response.
  struct Case {
    const char* name;
    uint64_t value_size;
    Bytes last_frame;  // the final continuation frame's bytes
  };
  Bytes ok_like = Ok(status::kAutocommit, 0, 0, 0, 0xfe);
  Bytes eof_like = Eof(status::kAutocommit);
  std::vector<Case> cases = {
      {"tail looks like a 0xfe OK", 2 * kMaxFramePayload + ok_like.size() - 9, ok_like},
      {"tail looks like an EOF", 2 * kMaxFramePayload + eof_like.size() - 9, eof_like},
      {"tail of 0xfe bytes", kMaxFramePayload + 10 - 9, Bytes(10, 0xfe)},
      {"two full frames and an empty one", 2 * kMaxFramePayload - 9, Bytes()},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ResponseTracker t;
    t.Start(ResponseKind::kResultSet, caps());
    std::vector<Frame> frames = {Whole(ColumnCount(1)), Whole(ColumnDef("blob"))};
    Append(frames, MetadataEnd());
    std::vector<Frame> row = LongTextRow(c.value_size);
    ASSERT_EQ(row.front().payload[0], 0xfe);
    ASSERT_EQ(row.front().length, kMaxFramePayload);
    if (c.last_frame.size() == row.back().length) row.back().payload = c.last_frame;
    Append(frames, row);
    frames.push_back(Whole(End(caps(), status::kAutocommit)));
    ExpectEvents(FeedAll(t, frames), frames.size());
    EXPECT_EQ(t.summary().rows, 1u);
  }
}

TEST_P(TrackerSyntheticTest, BinaryRowsAndLongBinaryRow) {
  ResponseTracker t;
  t.Start(ResponseKind::kResultSet, caps());
  std::vector<Frame> frames = {Whole(ColumnCount(1)), Whole(ColumnDef("n"))};
  Append(frames, MetadataEnd());
  frames.push_back(Whole(BinaryRow(1)));
  // A binary row of 20 MiB: 0x00 header, NULL bitmap, then a long string.
  Bytes head = {0x00, 0x00, 0xfe};
  WireWriter(head).U64(20u << 20);
  Append(frames, SplitPacket(head.size() + (20u << 20), head));
  frames.push_back(Whole(BinaryRow(2)));
  frames.push_back(Whole(End(caps(), status::kAutocommit)));
  ExpectEvents(FeedAll(t, frames), frames.size());
  EXPECT_EQ(t.summary().rows, 3u);
}

TEST_P(TrackerSyntheticTest, ErrorInTheMiddleOfRows) {
  ResponseTracker t;
  t.Start(ResponseKind::kResultSet, caps());
  std::vector<Frame> frames = {Whole(ColumnCount(1)), Whole(ColumnDef("v"))};
  Append(frames, MetadataEnd());
  frames.push_back(Whole(TextRow({"1"})));
  frames.push_back(Whole(TextRow({"2"})));
  frames.push_back(Whole(Err(1242, "21000", "Subquery returns more than 1 row")));
  ExpectEvents(FeedAll(t, frames), frames.size());
  EXPECT_EQ(t.summary().rows, 2u);
  EXPECT_EQ(t.summary().result_sets, 1u);
  EXPECT_EQ(t.summary().error_code, 1242);
  EXPECT_EQ(t.summary().sql_state, "21000");
}

TEST_P(TrackerSyntheticTest, ErrorInTheSecondResultSet) {
  ResponseTracker t;
  t.Start(ResponseKind::kResultSet, caps());
  auto frames = ResultSet(caps(), 1, {TextRow({"1"})},
                          status::kAutocommit | status::kMoreResultsExist);
  frames.push_back(Whole(ColumnCount(1)));
  frames.push_back(Whole(ColumnDef("x")));
  Append(frames, MetadataEnd());
  frames.push_back(Whole(TextRow({"2"})));
  frames.push_back(Whole(Err(1317, "70100", "Query execution was interrupted")));
  ExpectEvents(FeedAll(t, frames), frames.size());
  EXPECT_EQ(t.summary().rows, 2u);
  EXPECT_EQ(t.summary().result_sets, 2u);
  EXPECT_EQ(t.summary().error_code, 1317);
}

TEST_P(TrackerSyntheticTest, MultipleResultSetsWithMoreResultsOnEofAndOnOk) {
  const uint16_t more = status::kAutocommit | status::kMoreResultsExist;
  ResponseTracker t;
  t.Start(ResponseKind::kResultSet, caps());
  std::vector<Frame> frames;
  Append(frames, ResultSet(caps(), 1, {TextRow({"1"})}, more));           // on EOF / 0xfe OK
  frames.push_back(Whole(Ok(more, 2, 7)));                                 // on OK: UPDATE
  frames.push_back(Whole(Ok(more, 1, 0)));                                 // on OK: DELETE
  Append(frames, ResultSet(caps(), 2, {TextRow({"2", "3"}), TextRow({"4", "5"})}, more));
  Append(frames, ResultSet(caps(), 1, {}, more));                          // empty result
  frames.push_back(Whole(Ok(status::kAutocommit, 0, 0, 1)));              // CALL's own OK
  ExpectEvents(FeedAll(t, frames), frames.size());
  const ResponseSummary& s = t.summary();
  EXPECT_EQ(s.result_sets, 3u);
  EXPECT_EQ(s.rows, 3u);
  EXPECT_EQ(s.affected_rows, 3u) << "summed over the OK packets";
  EXPECT_EQ(s.last_insert_id, 7u) << "the last non-zero one";
  EXPECT_EQ(s.status_flags, status::kAutocommit);
  EXPECT_EQ(s.warnings, 1);
}

TEST_P(TrackerSyntheticTest, MultiResultEndingWithAResultSet) {
  ResponseTracker t;
  t.Start(ResponseKind::kResultSet, caps());
  std::vector<Frame> frames;
  frames.push_back(Whole(Ok(status::kAutocommit | status::kMoreResultsExist, 1)));
  Append(frames, ResultSet(caps(), 1, {TextRow({"4"})}, status::kAutocommit));
  ExpectEvents(FeedAll(t, frames), frames.size());
  EXPECT_EQ(t.summary().result_sets, 1u);
  EXPECT_EQ(t.summary().affected_rows, 1u);
}

TEST_P(TrackerSyntheticTest, CursorExecuteEndsAfterTheMetadata) {
  const uint16_t cursor = status::kAutocommit | status::kCursorExists;
  ResponseTracker t;
  t.Start(ResponseKind::kResultSet, caps());
  // Both modes: definitions, then a terminator with CURSOR_EXISTS (MariaDB
  // sends it even with DEPRECATE_EOF, as a 0xfe OK), and no rows.
  std::vector<Frame> frames = {Whole(ColumnCount(2)), Whole(ColumnDef("n")),
                               Whole(ColumnDef("tens")), Whole(End(caps(), cursor))};
  ExpectEvents(FeedAll(t, frames), frames.size());
  EXPECT_EQ(t.summary().rows, 0u);
  EXPECT_EQ(t.summary().result_sets, 1u);
  EXPECT_TRUE(t.summary().status_flags & status::kCursorExists);

  // Then the rows come with COM_STMT_FETCH.
  t.Start(ResponseKind::kFetch, caps());
  frames = {Whole(BinaryRow(1)), Whole(BinaryRow(2)), Whole(End(caps(), cursor))};
  ExpectEvents(FeedAll(t, frames), frames.size());
  EXPECT_EQ(t.summary().rows, 2u);
  EXPECT_EQ(t.summary().result_sets, 0u);
  t.Start(ResponseKind::kFetch, caps());
  frames = {Whole(BinaryRow(3)), Whole(End(caps(), status::kAutocommit | status::kLastRowSent))};
  ExpectEvents(FeedAll(t, frames), frames.size());
  EXPECT_EQ(t.summary().rows, 1u);
  EXPECT_TRUE(t.summary().status_flags & status::kLastRowSent);
  t.Start(ResponseKind::kFetch, caps());
  frames = {Whole(Err(1421, "HY000", "The statement (41) has no open cursor"))};
  ExpectEvents(FeedAll(t, frames), frames.size());
  EXPECT_EQ(t.summary().error_code, 1421);
  // A fetch with a long row.
  t.Start(ResponseKind::kFetch, caps());
  Bytes head = {0x00, 0x00, 0xfe};
  WireWriter(head).U64(kMaxFramePayload);
  frames = SplitPacket(head.size() + kMaxFramePayload, head);
  frames.push_back(Whole(End(caps(), cursor)));
  ExpectEvents(FeedAll(t, frames), frames.size());
  EXPECT_EQ(t.summary().rows, 1u);
}

TEST_P(TrackerSyntheticTest, TerminatorWarningsAndSessionState) {
  // The warnings of the final EOF / 0xfe OK reach the summary; under
  // DEPRECATE_EOF they sit after affected rows and last insert id.
  ResponseTracker t;
  t.Start(ResponseKind::kResultSet, caps());
  auto frames = ResultSet(caps(), 1, {TextRow({"1"})}, status::kAutocommit);
  frames.back() = Whole(End(caps(), status::kAutocommit, 3));
  ExpectEvents(FeedAll(t, frames), frames.size());
  EXPECT_EQ(t.summary().warnings, 3);
  EXPECT_EQ(t.summary().status_flags, status::kAutocommit);
}

TEST_P(TrackerSyntheticTest, PreparedStatements) {
  struct Case {
    const char* name;
    uint16_t columns;
    uint16_t params;
  };
  for (const Case& c : std::vector<Case>{{"params and columns", 3, 2},
                                         {"params only", 0, 2},
                                         {"columns only", 4, 0},
                                         {"neither", 0, 0},
                                         {"one of each", 1, 1}}) {
    SCOPED_TRACE(c.name);
    ResponseTracker t;
    t.Start(ResponseKind::kPrepare, caps());
    std::vector<Frame> frames = {Whole(PrepareOk(77, c.columns, c.params, 1))};
    for (int i = 0; i < c.params; ++i) frames.push_back(Whole(ColumnDef("?")));
    if (c.params && !deprecate_eof()) frames.push_back(Whole(Eof(status::kAutocommit)));
    for (int i = 0; i < c.columns; ++i) frames.push_back(Whole(ColumnDef("c")));
    if (c.columns && !deprecate_eof()) frames.push_back(Whole(Eof(status::kAutocommit)));
    ExpectEvents(FeedAll(t, frames), frames.size());
    EXPECT_EQ(t.summary().statement_id, 77u);
    EXPECT_EQ(t.summary().num_params, c.params);
    EXPECT_EQ(t.summary().num_columns, c.columns);
    EXPECT_EQ(t.summary().warnings, 1);
    EXPECT_EQ(t.summary().rows, 0u);
  }
  ResponseTracker t;
  t.Start(ResponseKind::kPrepare, caps());
  ExpectEvents(FeedAll(t, {Whole(Err(1064, "42000", "syntax"))}), 1);
  EXPECT_EQ(t.summary().error_code, 1064);
}

TEST_P(TrackerSyntheticTest, FieldListAndSinglePacketAnswers) {
  ResponseTracker t;
  t.Start(ResponseKind::kFieldList, caps());
  std::vector<Frame> frames = {Whole(ColumnDef("id")), Whole(ColumnDef("name")),
                               Whole(End(caps(), status::kAutocommit))};
  ExpectEvents(FeedAll(t, frames), frames.size());
  EXPECT_EQ(t.summary().rows, 0u);
  EXPECT_EQ(t.summary().status_flags, status::kAutocommit);

  t.Start(ResponseKind::kStatistics, caps());
  std::string stats = "Uptime: 701  Threads: 2  Questions: 12";
  ExpectEvents(FeedAll(t, {Whole(Bytes(stats.begin(), stats.end()))}), 1);
  EXPECT_FALSE(t.summary().status_known);
  EXPECT_EQ(t.summary().error_code, 0);

  // COM_SET_OPTION / COM_DEBUG: EOF, or a 0xfe OK under DEPRECATE_EOF.
  t.Start(ResponseKind::kOkOrErr, caps());
  ExpectEvents(FeedAll(t, {Whole(End(caps(), status::kAutocommit, 2))}), 1);
  EXPECT_TRUE(t.summary().status_known);
  EXPECT_EQ(t.summary().status_flags, status::kAutocommit);
  EXPECT_EQ(t.summary().warnings, 2);

  t.Start(ResponseKind::kOkOrErr, caps());
  ExpectEvents(FeedAll(t, {Whole(Ok(status::kAutocommit | status::kInTrans, 0, 0, 4))}), 1);
  EXPECT_EQ(t.summary().status_flags, status::kAutocommit | status::kInTrans);
  EXPECT_EQ(t.summary().warnings, 4);

  t.Start(ResponseKind::kOkOrErr, caps());
  ExpectEvents(FeedAll(t, {Whole(Err(1049, "42000", "Unknown database 'x'"))}), 1);
  EXPECT_EQ(t.summary().error_code, 1049);
  EXPECT_FALSE(t.summary().status_known);
}

TEST_P(TrackerSyntheticTest, LocalInfile) {
  ResponseTracker t;
  t.Start(ResponseKind::kResultSet, caps());
  std::string name = "\xfbrows.csv";
  auto fed = FeedAll(t, {Whole(Bytes(name.begin(), name.end()))});
  ExpectEvents(fed, 1, Event::kLocalInfileRequest);
  EXPECT_FALSE(t.done());
  // The server may not speak while the client sends its file.
  EXPECT_FALSE(t.OnFrame(7, Ok(status::kAutocommit)).ok());

  ResponseTracker t2;
  t2.Start(ResponseKind::kResultSet, caps());
  ExpectEvents(FeedAll(t2, {Whole(Bytes(name.begin(), name.end()))}), 1,
               Event::kLocalInfileRequest);
  t2.ResumeAfterLocalInfile();
  ExpectEvents(FeedAll(t2, {Whole(Ok(status::kAutocommit, 3))}), 1);
  EXPECT_EQ(t2.summary().affected_rows, 3u);

  // In a multi-statement: the OK after the file announces more results.
  ResponseTracker t3;
  t3.Start(ResponseKind::kResultSet, caps());
  ExpectEvents(FeedAll(t3, {Whole(Bytes(name.begin(), name.end()))}), 1,
               Event::kLocalInfileRequest);
  t3.ResumeAfterLocalInfile();
  std::vector<Frame> frames = {Whole(Ok(status::kAutocommit | status::kMoreResultsExist, 5))};
  Append(frames, ResultSet(caps(), 1, {TextRow({"5"})}, status::kAutocommit));
  ExpectEvents(FeedAll(t3, frames), frames.size());
  EXPECT_EQ(t3.summary().affected_rows, 5u);
  EXPECT_EQ(t3.summary().result_sets, 1u);
  // A refused file: ERR after the empty packet.
  ResponseTracker t4;
  t4.Start(ResponseKind::kResultSet, caps());
  ExpectEvents(FeedAll(t4, {Whole(Bytes(name.begin(), name.end()))}), 1,
               Event::kLocalInfileRequest);
  t4.ResumeAfterLocalInfile();
  ExpectEvents(FeedAll(t4, {Whole(Err(1148, "42000", "not allowed"))}), 1);
  EXPECT_EQ(t4.summary().error_code, 1148);
}

TEST_P(TrackerSyntheticTest, StartResetsTheSummary) {
  ResponseTracker t;
  t.Start(ResponseKind::kResultSet, caps());
  auto frames = ResultSet(caps(), 1, {TextRow({"1"})}, status::kAutocommit);
  ExpectEvents(FeedAll(t, frames), frames.size());
  t.Start(ResponseKind::kOkOrErr, caps());
  EXPECT_FALSE(t.done());
  EXPECT_EQ(t.summary().rows, 0u);
  EXPECT_EQ(t.summary().result_sets, 0u);
  EXPECT_FALSE(t.summary().status_known);
  ExpectEvents(FeedAll(t, {Whole(Err(1, "HY000", "x"))}), 1);
  t.Start(ResponseKind::kOkOrErr, caps());
  EXPECT_EQ(t.summary().error_code, 0);
  EXPECT_TRUE(t.summary().sql_state.empty());
  t.Start(ResponseKind::kNone, caps());
  EXPECT_TRUE(t.done()) << "COM_QUIT, COM_STMT_CLOSE, COM_STMT_SEND_LONG_DATA";
}

// --- Malformed input ----------------------------------------------------------------

struct Malformed {
  const char* name;
  ResponseKind kind;
  std::vector<Frame> frames;  // the last one must be rejected
};

TEST_P(TrackerSyntheticTest, MalformedResponsesAreErrors) {
  std::vector<Frame> meta = {Whole(ColumnCount(1)), Whole(ColumnDef("a"))};
  Append(meta, MetadataEnd());
  auto with = [&](std::vector<Frame> head, Frame last) {
    head.push_back(std::move(last));
    return head;
  };
  std::vector<Malformed> cases = {
      {"zero-length first packet", ResponseKind::kResultSet, {Whole({})}},
      {"zero-length packet among rows", ResponseKind::kResultSet, with(meta, Whole({}))},
      {"zero-length column definition", ResponseKind::kResultSet,
       {Whole(ColumnCount(2)), Whole({})}},
      {"zero-length single answer", ResponseKind::kOkOrErr, {Whole({})}},
      {"zero-length fetch row", ResponseKind::kFetch, {Whole({})}},
      {"result-set header with trailing garbage", ResponseKind::kResultSet,
       {Whole({0x01, 0x00})}},
      {"header with MariaDB's metadata-follows byte", ResponseKind::kResultSet,
       {Whole({0x09, 0x01})}},
      {"truncated column count", ResponseKind::kResultSet, {Whole({0xfc, 0x01})}},
      {"0xff column count that is no ERR", ResponseKind::kResultSet, {Whole({0xff, 0x01})}},
      {"truncated OK", ResponseKind::kResultSet, {Whole({0x00, 0x01})}},
      {"truncated OK answer", ResponseKind::kOkOrErr, {Whole({0x00, 0x00, 0x00, 0x02})}},
      {"truncated ERR", ResponseKind::kOkOrErr, {Whole({0xff, 0x01})}},
      {"truncated EOF among rows", ResponseKind::kResultSet, with(meta, Whole({0xfe, 0x00}))},
      {"prepare answered with a result set", ResponseKind::kPrepare,
       {Whole(ColumnCount(1))}},
      {"truncated COM_STMT_PREPARE_OK", ResponseKind::kPrepare, {Whole({0x00, 0x01, 0x00})}},
      {"partial frame below the whole-frame limit", ResponseKind::kResultSet,
       {Prefix(100, ColumnCount(1))}},
      {"long frame without a single byte", ResponseKind::kResultSet,
       {Prefix(kTrackerWholeFrameLimit, {})}},
      {"more bytes than the frame holds", ResponseKind::kResultSet,
       {Prefix(kTrackerWholeFrameLimit, Bytes(kTrackerWholeFrameLimit + 1, 0x01))}},
  };
  if (!deprecate_eof()) {
    cases.push_back({"a row where the EOF after the definitions belongs", ResponseKind::kResultSet,
                     {Whole(ColumnCount(1)), Whole(ColumnDef("a")), Whole(TextRow({"1"}))}});
    cases.push_back({"no EOF after the prepared parameters", ResponseKind::kPrepare,
                     {Whole(PrepareOk(1, 1, 1)), Whole(ColumnDef("?")), Whole(ColumnDef("c"))}});
  }
  for (const Malformed& c : cases) {
    SCOPED_TRACE(c.name);
    ResponseTracker t;
    t.Start(c.kind, caps());
    for (size_t i = 0; i + 1 < c.frames.size(); ++i) {
      auto e = t.OnFrame(c.frames[i].length, c.frames[i].payload);
      ASSERT_TRUE(e.ok()) << "frame " << i << ": " << e.status();
      ASSERT_EQ(*e, Event::kContinue);
    }
    auto e = t.OnFrame(c.frames.back().length, c.frames.back().payload);
    EXPECT_FALSE(e.ok()) << "accepted as " << EventName(*e);
  }
}

TEST_P(TrackerSyntheticTest, DataAfterTheEndIsAnError) {
  ResponseTracker t;
  t.Start(ResponseKind::kOkOrErr, caps());
  ExpectEvents(FeedAll(t, {Whole(Ok(status::kAutocommit))}), 1);
  auto e = t.OnFrame(7, Ok(status::kAutocommit));
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), absl::StatusCode::kFailedPrecondition);

  // Also when nothing was expected at all.
  t.Start(ResponseKind::kNone, caps());
  EXPECT_FALSE(t.OnFrame(7, Ok(status::kAutocommit)).ok());
  // And before any Start().
  ResponseTracker fresh;
  EXPECT_TRUE(fresh.done());
  EXPECT_FALSE(fresh.OnFrame(7, Ok(status::kAutocommit)).ok());
}

// DEPRECATE_EOF specifics.

TEST(TrackerDeprecateEofTest, SingleAnswerOkWithHeader0xfeAndSessionState) {
  // COM_SET_OPTION under DEPRECATE_EOF with session tracking: a 0xfe OK long
  // enough (9 bytes and more) that it cannot be an EOF.
  std::string state = std::string("\x02\x01", 2) + "1";
  Bytes ok = Ok(status::kAutocommit | status::kSessionStateChanged, 0, 0, 0, 0xfe, state);
  ASSERT_GE(ok.size(), 9u);
  ResponseTracker t;
  t.Start(ResponseKind::kOkOrErr, kDeprecate);
  ExpectEvents(FeedAll(t, {Whole(ok)}), 1);
  EXPECT_TRUE(t.summary().status_known);
  EXPECT_EQ(t.summary().status_flags, status::kAutocommit | status::kSessionStateChanged);
  EXPECT_EQ(t.summary().session_state, state);
}

TEST(TrackerDeprecateEofTest, ResultSetTerminatorWithSessionState) {
  std::string state = std::string("\x01\x06\x05", 3) + "capdb";
  ResponseTracker t;
  t.Start(ResponseKind::kResultSet, kDeprecate);
  std::vector<Frame> frames = {Whole(ColumnCount(1)), Whole(ColumnDef("a")),
                               Whole(TextRow({"x"})),
                               Whole(Ok(status::kAutocommit | status::kSessionStateChanged, 0, 0,
                                        2, 0xfe, state))};
  ExpectEvents(FeedAll(t, frames), frames.size());
  EXPECT_EQ(t.summary().session_state, state);
  EXPECT_EQ(t.summary().warnings, 2);
}

TEST(TrackerDeprecateEofTest, ShortRowsStartingWith0xfeCannotExist) {
  // With DEPRECATE_EOF every 0xfe packet shorter than a full frame ends the
  // rows (a text row starting with 0xfe is at least 16 MiB long).
  ResponseTracker t;
  t.Start(ResponseKind::kResultSet, kDeprecate);
  std::vector<Frame> frames = {Whole(ColumnCount(1)), Whole(ColumnDef("a")),
                               Whole(TextRow({"1"})),
                               Whole(Ok(status::kAutocommit, 0, 0, 0, 0xfe))};
  ExpectEvents(FeedAll(t, frames), frames.size());
  EXPECT_EQ(t.summary().rows, 1u);
}

}  // namespace
}  // namespace ql::protocol
