// Implementation of SlowLogWriter.
#include "proxy/slow_log_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "analyzer/slow_log_format.h"
#include "proxy/logging.h"

namespace ql::proxy {

SlowLogWriter::SlowLogWriter(std::string path, size_t max_queued)
    : path_(std::move(path)), max_queued_(max_queued) {}

SlowLogWriter::~SlowLogWriter() { Stop(); }

bool SlowLogWriter::OpenFile() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd_ < 0) {
    LogError(absl::StrCat("slow log ", path_, ": ", std::strerror(errno)));
    return false;
  }
  return true;
}

absl::Status SlowLogWriter::Start() {
  if (!OpenFile()) {
    return absl::UnavailableError(absl::StrCat("cannot open slow log ", path_, ": ",
                                               std::strerror(errno)));
  }
  thread_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

void SlowLogWriter::Stop() {
  stop_.store(true);
  Wake();
  if (thread_.joinable()) thread_.join();
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

SlowLogWriter::Shard* SlowLogWriter::AddShard() {
  std::lock_guard<std::mutex> lock(shards_mu_);
  return shards_.emplace_back(std::make_unique<Shard>()).get();
}

void SlowLogWriter::Wake() {
  {
    std::lock_guard<std::mutex> lock(wake_mu_);
    wake_ = true;
  }
  wake_cv_.notify_one();
}

void SlowLogWriter::Submit(Shard* shard, const analyzer::StatementRecord& record,
                           std::string_view text) {
  std::unique_lock<std::mutex> lock(shard->mu);
  EntryQueue& q = shard->queue;
  if (q.used >= max_queued_) {
    lock.unlock();
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (q.used == q.entries.size()) q.entries.emplace_back();
  Entry& e = q.entries[q.used++];
  e.record = record;
  e.text.assign(text);
  e.fingerprint.assign(record.fingerprint);
  e.schema.assign(record.schema);
  e.user.assign(record.user);
  e.client_address.assign(record.client_address);
  const bool filling = q.used == kWakeAt;
  lock.unlock();
  if (filling) Wake();
}

void SlowLogWriter::Reopen() {
  reopen_.store(true);
  Wake();
}

void SlowLogWriter::Drain(std::vector<Entry*>* batch) {
  std::lock_guard<std::mutex> shards_lock(shards_mu_);
  for (const std::unique_ptr<Shard>& shard : shards_) {
    shard->written.used = 0;
    {
      std::lock_guard<std::mutex> lock(shard->mu);
      std::swap(shard->queue, shard->written);
    }
    EntryQueue& taken = shard->written;
    for (size_t i = 0; i < taken.used; ++i) batch->push_back(&taken.entries[i]);
  }
  std::stable_sort(batch->begin(), batch->end(), [](const Entry* a, const Entry* b) {
    return a->record.end_time_ns() < b->record.end_time_ns();
  });
}

void SlowLogWriter::Trim() {
  std::lock_guard<std::mutex> shards_lock(shards_mu_);
  for (const std::unique_ptr<Shard>& shard : shards_) {
    std::vector<Entry>& entries = shard->written.entries;
    if (entries.size() > kKeepEntries) {
      entries.resize(kKeepEntries);
      entries.shrink_to_fit();
    }
    size_t kept = 0;
    for (Entry& e : entries) {
      for (std::string* s : {&e.text, &e.fingerprint, &e.schema, &e.user, &e.client_address}) {
        if (kept + s->capacity() > kKeepBytes) std::string().swap(*s);
        kept += s->capacity();
      }
    }
  }
}

void SlowLogWriter::Run() {
  analyzer::SlowLogFormatter formatter;
  std::vector<Entry*> batch;
  std::string out;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(wake_mu_);
      wake_cv_.wait_for(lock, kFlushInterval, [this] { return wake_; });
      // Cleared before draining: news that comes during the drain wakes us again.
      wake_ = false;
    }
    const bool reopen = reopen_.exchange(false);
    const bool stop = stop_.load();
    Drain(&batch);
    if (reopen) {
      OpenFile();
      formatter.Reset();  // a new file needs its own "use db;" and "# Time:" lines
    }
    out.clear();
    for (Entry* e : batch) {
      e->record.fingerprint = e->fingerprint;
      e->record.schema = e->schema;
      e->record.user = e->user;
      e->record.client_address = e->client_address;
      e->record.literal_text = {};
      formatter.Append(e->record, e->text, &out);
    }
    size_t done = 0;
    while (fd_ >= 0 && done < out.size()) {
      ssize_t n = ::write(fd_, out.data() + done, out.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        LogError(absl::StrCat("slow log ", path_, ": write failed: ", std::strerror(errno)));
        break;
      }
      done += size_t(n);
    }
    written_.fetch_add(batch.size(), std::memory_order_relaxed);
    if (!batch.empty()) Trim();  // an idle tick has nothing new to bound
    batch.clear();
    if (stop) return;
  }
}

}  // namespace ql::proxy
