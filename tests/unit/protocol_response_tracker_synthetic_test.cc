// Unit tests of ResponseTracker (protocol/response_tracker.h) on synthetic
// result sets, for what the captures cannot hold: rows of 16 MiB and more
// split over frames (fed as prefixes, as the relay does), text rows starting
// with 0xfe, errors in the middle of rows, multiple result sets and cursors.
// Other commands and malformed input: protocol_response_tracker_commands_test.cc;
// the replay of real captures: protocol_response_tracker_test.cc.
#include <string>
#include <vector>

#include "tests/unit/response_tracker_synthetic_support.h"

namespace ql::protocol::tracker_synthetic {
namespace {

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
  t.Start(ResponseKind::kResultSet, caps(), /*cursor_requested=*/true);
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

TEST_P(TrackerSyntheticTest, CursorFlagOfAProcedureDoesNotEndATextResult) {
  // CALL of a procedure that opened a cursor: MariaDB marks the EOF after
  // the column definitions with CURSOR_EXISTS (and MORE_RESULTS), yet the
  // rows follow, then the CALL's own OK. Only a cursor execute ends early.
  const uint16_t st = status::kAutocommit | status::kMoreResultsExist | status::kCursorExists;
  ResponseTracker t;
  t.Start(ResponseKind::kResultSet, caps());
  std::vector<Frame> frames = {Whole(ColumnCount(2)), Whole(ColumnDef("1")), Whole(ColumnDef("x")),
                               Whole(End(caps(), st)),  // no EOF here with DEPRECATE_EOF
                               Whole(TextRow({"1", "1"})), Whole(End(caps(), st)),
                               Whole(Ok(status::kAutocommit))};
  if (caps() & cap::kDeprecateEof) frames.erase(frames.begin() + 3);
  ExpectEvents(FeedAll(t, frames), frames.size());
  EXPECT_EQ(t.summary().rows, 1u);
  EXPECT_EQ(t.summary().result_sets, 1u);
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

}  // namespace
}  // namespace ql::protocol::tracker_synthetic
