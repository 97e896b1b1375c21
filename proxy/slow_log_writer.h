// SlowLogWriter: the one thread that writes the slow-query log. Workers hand
// it finished statements through a bounded queue and never wait on the disk:
// when the queue is full the entry is dropped and counted. The file is
// reopened on request (SIGHUP), for log rotation. Formatting happens on the
// writer thread so that "use db;" and "# Time:" lines follow the file's real
// order across workers.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "analyzer/statement_record.h"

namespace ql::proxy {

class SlowLogWriter {
 public:
  SlowLogWriter(std::string path, size_t max_queued);
  ~SlowLogWriter();

  absl::Status Start();
  void Stop();

  // Copies what it needs; `text` is what the log shows as the statement.
  void Submit(const analyzer::StatementRecord& record, std::string_view text);
  // Closes and reopens the file before the next write (after rotation).
  void Reopen();

  uint64_t written() const { return written_.load(std::memory_order_relaxed); }
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  struct Entry {
    analyzer::StatementRecord record;  // its string_views are re-pointed when written
    std::string text, fingerprint, schema, user, client_address;
  };

  void Run();
  bool OpenFile();

  const std::string path_;
  const size_t max_queued_;
  int fd_ = -1;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Entry> queue_;  // guarded by mu_
  bool stop_ = false;          // guarded by mu_
  bool reopen_ = false;        // guarded by mu_
  std::thread thread_;
  std::atomic<uint64_t> written_{0};
  std::atomic<uint64_t> dropped_{0};
};

}  // namespace ql::proxy
