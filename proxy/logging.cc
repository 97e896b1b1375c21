// Implementation of the line logger.
#include "proxy/logging.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

namespace ql::proxy {
namespace {

// Written once by InitLogging before any worker starts, then only read.
struct LogSettings {
  LogLevel min_level = LogLevel::kInfo;
  bool json = false;
};
LogSettings settings;

const char* LevelName(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
  }
  return "info";
}

void AppendJsonString(std::string& out, std::string_view s) {
  out.push_back('"');
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

std::string Timestamp() {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm;
  gmtime_r(&t, &tm);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, int(ms));
  return buf;
}

}  // namespace

void InitLogging(std::string_view level, std::string_view format) {
  if (level == "debug") settings.min_level = LogLevel::kDebug;
  else if (level == "warn") settings.min_level = LogLevel::kWarn;
  else if (level == "error") settings.min_level = LogLevel::kError;
  else settings.min_level = LogLevel::kInfo;
  settings.json = format == "json";
}

bool LogEnabled(LogLevel level) { return level >= settings.min_level; }

void Log(LogLevel level, std::string_view message) { LogWithJson(level, message, {}); }

void LogWithJson(LogLevel level, std::string_view message, std::string_view json_object) {
  if (!LogEnabled(level)) return;
  std::string line;
  line.reserve(message.size() + 64);
  if (settings.json) {
    line += "{\"ts\":\"" + Timestamp() + "\",\"level\":\"" + LevelName(level) + "\",\"msg\":";
    AppendJsonString(line, message);
    // "{}" or "" adds nothing; otherwise the object's members follow msg.
    if (json_object.size() > 2 && json_object.front() == '{') {
      line += ',';
      line += json_object.substr(1);
      line += '\n';
    } else {
      line += "}\n";
    }
  } else {
    line += Timestamp();
    line += ' ';
    line += LevelName(level);
    line += ' ';
    line += message;
    line += '\n';
  }
  ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

}  // namespace ql::proxy
