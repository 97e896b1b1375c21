// Logging to stderr, as text or JSON lines, with levels. Configured once at
// start-up, before workers exist; afterwards it is read-only, so workers log
// without locks (one write(2) per line keeps lines whole).
#pragma once

#include <string_view>

namespace ql::proxy {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

void InitLogging(std::string_view level, std::string_view format);
bool LogEnabled(LogLevel level);
void Log(LogLevel level, std::string_view message);
// A line that also carries structured fields: `json_object` is one JSON
// object ("{...}"). As text only `message` is written; as JSON the object's
// keys join the line's own at the top level:
//   {"ts":"...","level":"warn","msg":"<message>",<the object's keys>}
void LogWithJson(LogLevel level, std::string_view message, std::string_view json_object);

inline void LogDebug(std::string_view m) { if (LogEnabled(LogLevel::kDebug)) Log(LogLevel::kDebug, m); }
inline void LogInfo(std::string_view m) { Log(LogLevel::kInfo, m); }
inline void LogWarn(std::string_view m) { Log(LogLevel::kWarn, m); }
inline void LogError(std::string_view m) { Log(LogLevel::kError, m); }

}  // namespace ql::proxy
