// Implementation of SlowLogWriter.
#include "proxy/slow_log_writer.h"

#include <fcntl.h>
#include <unistd.h>

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
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void SlowLogWriter::Submit(const analyzer::StatementRecord& record, std::string_view text) {
  std::unique_lock<std::mutex> lock(mu_);
  if (queue_.size() >= max_queued_) {
    lock.unlock();
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  Entry& e = queue_.emplace_back();
  e.record = record;
  e.text.assign(text);
  e.fingerprint.assign(record.fingerprint);
  e.schema.assign(record.schema);
  e.user.assign(record.user);
  e.client_address.assign(record.client_address);
  bool first = queue_.size() == 1;
  lock.unlock();
  if (first) cv_.notify_one();
}

void SlowLogWriter::Reopen() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    reopen_ = true;
  }
  cv_.notify_one();
}

void SlowLogWriter::Run() {
  analyzer::SlowLogFormatter formatter;
  std::vector<Entry> batch;
  std::string out;
  while (true) {
    bool reopen = false;
    bool stop = false;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || reopen_ || !queue_.empty(); });
      batch.swap(queue_);
      reopen = reopen_;
      reopen_ = false;
      stop = stop_;
    }
    if (reopen) {
      OpenFile();
      formatter.Reset();  // a new file needs its own "use db;" and "# Time:" lines
    }
    out.clear();
    for (Entry& e : batch) {
      e.record.fingerprint = e.fingerprint;
      e.record.schema = e.schema;
      e.record.user = e.user;
      e.record.client_address = e.client_address;
      e.record.literal_text = {};
      formatter.Append(e.record, e.text, &out);
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
    batch.clear();
    if (stop) return;
  }
}

}  // namespace ql::proxy
