// SlowLogWriter: the one thread that writes the slow-query log. Each worker
// hands it finished statements through a bounded queue of its own (a lock
// shared only with the writer thread, never with another worker) and never
// waits on the disk: when its queue is full the entry is dropped and
// counted. The file is reopened on request (SIGHUP), for log rotation.
// Formatting happens on the writer thread, entries of one batch in the
// order they finished, so that "use db;" and "# Time:" lines follow the
// file's real order across workers.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
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

  struct Shard;
  // One per worker, taken when the worker is built; lives as long as this.
  Shard* AddShard();

  // Copies what it needs; `text` is what the log shows as the statement.
  void Submit(Shard* shard, const analyzer::StatementRecord& record, std::string_view text);
  // Closes and reopens the file before the next write (after rotation).
  void Reopen();

  uint64_t written() const { return written_.load(std::memory_order_relaxed); }
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  struct Entry {
    analyzer::StatementRecord record;  // its string_views are re-pointed when written
    std::string text, fingerprint, schema, user, client_address;
  };

 public:
  struct Shard {
    std::mutex mu;  // this worker against the writer thread
    std::vector<Entry> queue;  // guarded by mu
  };

 private:
  void Run();
  bool OpenFile();
  void Wake();
  // Moves every shard's entries into `batch`, oldest end time first.
  void Drain(std::vector<Entry>* batch);

  const std::string path_;
  const size_t max_queued_;  // per shard
  int fd_ = -1;
  std::mutex shards_mu_;  // AddShard (start-up) against the writer thread
  std::vector<std::unique_ptr<Shard>> shards_;  // guarded by shards_mu_
  // Set by whoever has news for the writer thread; it sleeps on it.
  std::atomic<bool> wake_{false};
  std::atomic<bool> stop_{false};
  std::atomic<bool> reopen_{false};
  std::thread thread_;
  std::atomic<uint64_t> written_{0};
  std::atomic<uint64_t> dropped_{0};
};

}  // namespace ql::proxy
