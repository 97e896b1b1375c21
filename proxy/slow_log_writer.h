// SlowLogWriter: the one thread that writes the slow-query log. Each worker
// hands it finished statements through a bounded queue of its own (a lock
// shared only with the writer thread, never with another worker) and never
// waits on the disk: when its queue is full the entry is dropped and
// counted. The file is reopened on request (SIGHUP), for log rotation.
// Formatting happens on the writer thread, entries of one batch in the
// order they finished, so that "use db;" and "# Time:" lines follow the
// file's real order across workers.
//
// Entries are reused, not allocated per statement: the writer swaps a
// shard's filled queue for the one it wrote last, whose strings keep their
// capacity, so even --slow-query-time 0 costs a worker no allocation once
// the buffers have grown. What a queue keeps after it is written is bounded
// (Trim): kKeepEntries entries, and kKeepBytes of string capacity in all;
// beyond that, buffers are given back. A shard has two queues.
//
// Lines reach the file within kFlushInterval (100 ms), or sooner when a
// queue fills up to kWakeAt; entries still queued when the process dies
// without Stop() are lost.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
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

  // What a shard keeps for reuse between batches.
  static constexpr size_t kKeepEntries = 1024;
  static constexpr size_t kKeepBytes = 1024 * 1024;  // string capacity, per queue
  // Entries reach the file within this interval, or sooner once a shard
  // has kWakeAt of them waiting.
  static constexpr std::chrono::milliseconds kFlushInterval{100};
  static constexpr size_t kWakeAt = 256;

 private:
  struct Entry {
    analyzer::StatementRecord record;  // its string_views are re-pointed when written
    std::string text, fingerprint, schema, user, client_address;
  };
  // A queue whose entries past `used` are spare, with their buffers.
  struct EntryQueue {
    std::vector<Entry> entries;
    size_t used = 0;
  };

 public:
  struct Shard {
    std::mutex mu;       // this worker against the writer thread
    EntryQueue queue;    // guarded by mu
    EntryQueue written;  // the writer thread's: the last batch, swapped in on drain
  };

 private:
  void Run();
  bool OpenFile();
  void Wake();
  // Takes every shard's queue (leaving it the entries written last time)
  // and lists its entries in `batch`, oldest end time first.
  void Drain(std::vector<Entry*>* batch);
  // After a batch is written: bounds what each shard keeps for reuse.
  void Trim();

  const std::string path_;
  const size_t max_queued_;  // per shard
  int fd_ = -1;
  std::mutex shards_mu_;  // AddShard (start-up) against the writer thread
  std::vector<std::unique_ptr<Shard>> shards_;  // guarded by shards_mu_
  // Set by whoever has urgent news for the writer thread (stop, reopen, a
  // filling queue); otherwise it wakes every kFlushInterval, so that a busy
  // worker does not pay a futex wake-up per statement.
  std::mutex wake_mu_;
  std::condition_variable wake_cv_;
  bool wake_ = false;  // guarded by wake_mu_
  std::atomic<bool> stop_{false};
  std::atomic<bool> reopen_{false};
  std::thread thread_;
  std::atomic<uint64_t> written_{0};
  std::atomic<uint64_t> dropped_{0};
};

}  // namespace ql::proxy
