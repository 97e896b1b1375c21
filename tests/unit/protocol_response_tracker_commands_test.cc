// Unit tests of ResponseTracker (protocol/response_tracker.h) on synthetic
// answers to commands other than a plain query (prepare, field list, LOCAL
// INFILE, single-packet answers), DEPRECATE_EOF specifics and malformed
// input. Shares its builders and fixture with
// protocol_response_tracker_synthetic_test.cc.
#include <string>
#include <vector>

#include "tests/unit/response_tracker_synthetic_support.h"

namespace ql::protocol::tracker_synthetic {
namespace {

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
}  // namespace ql::protocol::tracker_synthetic
