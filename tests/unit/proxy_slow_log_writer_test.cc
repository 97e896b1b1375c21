// SlowLogWriter: per-worker queues drained by one writer thread into the
// file in the order statements finished; full queues drop and count;
// Reopen() follows a rotated file; reused entries carry only their own text.
#include "proxy/slow_log_writer.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace ql::proxy {
namespace {

std::string TempPath(const char* name) {
  return ::testing::TempDir() + name + std::to_string(::getpid());
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

analyzer::StatementRecord Record(int64_t start_ns, const std::string& fingerprint) {
  analyzer::StatementRecord r;
  r.fingerprint = fingerprint;
  r.schema = "app";
  r.user = "app";
  r.client_address = "127.0.0.1";
  r.start_time_ns = start_ns;
  r.total_ns = 1000;
  return r;
}

TEST(SlowLogWriter, WorkersWriteThroughTheirOwnQueues) {
  const std::string path = TempPath("slow_shards");
  std::remove(path.c_str());
  SlowLogWriter writer(path, 100000);
  SlowLogWriter::Shard* a = writer.AddShard();
  SlowLogWriter::Shard* b = writer.AddShard();
  ASSERT_TRUE(writer.Start().ok());
  constexpr int kEach = 500;
  auto submit = [&](SlowLogWriter::Shard* shard, const std::string& fp) {
    for (int i = 0; i < kEach; ++i) {
      writer.Submit(shard, Record(1'700'000'000'000'000'000 + i * 1000, fp), fp);
    }
  };
  std::thread ta(submit, a, "select ? from worker_a");
  std::thread tb(submit, b, "select ? from worker_b");
  ta.join();
  tb.join();
  writer.Stop();
  const std::string text = ReadAll(path);
  EXPECT_EQ(Count(text, "select ? from worker_a;"), size_t(kEach));
  EXPECT_EQ(Count(text, "select ? from worker_b;"), size_t(kEach));
  EXPECT_EQ(writer.written(), uint64_t(2 * kEach));
  EXPECT_EQ(writer.dropped(), 0u);
  std::remove(path.c_str());
}

TEST(SlowLogWriter, FullQueueDropsAndCounts) {
  const std::string path = TempPath("slow_full");
  std::remove(path.c_str());
  SlowLogWriter writer(path, 0);  // every queue is full
  SlowLogWriter::Shard* shard = writer.AddShard();
  ASSERT_TRUE(writer.Start().ok());
  const std::string fp = "select ?";
  for (int i = 0; i < 3; ++i) writer.Submit(shard, Record(1'700'000'000'000'000'000, fp), fp);
  writer.Stop();
  EXPECT_EQ(writer.dropped(), 3u);
  EXPECT_EQ(writer.written(), 0u);
  std::remove(path.c_str());
}

TEST(SlowLogWriter, ReopenFollowsARotatedFile) {
  const std::string path = TempPath("slow_rotate");
  const std::string rotated = path + ".1";
  std::remove(path.c_str());
  std::remove(rotated.c_str());
  SlowLogWriter writer(path, 1000);
  SlowLogWriter::Shard* shard = writer.AddShard();
  ASSERT_TRUE(writer.Start().ok());
  const std::string before = "select ? from before_rotation";
  writer.Submit(shard, Record(1'700'000'000'000'000'000, before), before);
  for (int i = 0; i < 200 && writer.written() < 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(writer.written(), 1u);
  ASSERT_EQ(std::rename(path.c_str(), rotated.c_str()), 0);
  writer.Reopen();
  const std::string after = "select ? from after_rotation";
  writer.Submit(shard, Record(1'700'000'000'000'000'000, after), after);
  writer.Stop();
  EXPECT_NE(ReadAll(rotated).find(before), std::string::npos);
  const std::string fresh = ReadAll(path);
  EXPECT_NE(fresh.find(after), std::string::npos);
  EXPECT_EQ(fresh.find(before), std::string::npos);
  std::remove(path.c_str());
  std::remove(rotated.c_str());
}

// Entries are reused between batches (their strings keep their capacity):
// a short statement written into an entry that held a long one, and a
// burst larger than what a shard keeps, still come out exactly.
TEST(SlowLogWriter, ReusedEntriesCarryOnlyTheirOwnText) {
  const std::string path = TempPath("slow_reuse");
  std::remove(path.c_str());
  SlowLogWriter writer(path, 100000);
  SlowLogWriter::Shard* shard = writer.AddShard();
  ASSERT_TRUE(writer.Start().ok());
  auto wait_written = [&](uint64_t n) {
    for (int i = 0; i < 500 && writer.written() < n; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_EQ(writer.written(), n);
  };
  const std::string long_text = "select ? from t where c in (" + std::string(200000, '?') + ")";
  const std::string burst = "select ? from burst";
  const std::string short_text = "select ? from s";
  const int64_t t0 = 1'700'000'000'000'000'000;
  for (int i = 0; i < 10; ++i) writer.Submit(shard, Record(t0 + i, long_text), long_text);
  wait_written(10);
  const size_t n_burst = SlowLogWriter::kKeepEntries + 500;
  for (size_t i = 0; i < n_burst; ++i) writer.Submit(shard, Record(t0 + 100 + i, burst), burst);
  wait_written(10 + n_burst);
  for (int i = 0; i < 20; ++i) writer.Submit(shard, Record(t0 + 10000 + i, short_text), short_text);
  writer.Stop();
  const std::string text = ReadAll(path);
  EXPECT_EQ(Count(text, long_text + ";"), 10u);
  EXPECT_EQ(Count(text, burst + ";"), n_burst);
  EXPECT_EQ(Count(text, short_text + ";"), 20u);
  EXPECT_EQ(Count(text, "select ? from s;"), 20u);
  EXPECT_EQ(writer.written(), 30u + n_burst);
  EXPECT_EQ(writer.dropped(), 0u);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace ql::proxy
