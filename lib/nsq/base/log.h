#pragma once
// Leveled logging to stderr with a per-program prefix, as NSQ's daemons log:
//   [nsqd] 2026/11/25 09:07:10.123456 INFO: TCP: listening on 0.0.0.0:4150
// One line per call, written with a single write(2) so lines from threads never interleave.
#include <atomic>
#include <string>
#include <string_view>

namespace nsq {

enum class LogLevel { Debug = 1, Info = 2, Warn = 3, Error = 4, Fatal = 5 };

// Returns false for an unknown name (accepts lower and upper case).
bool parseLogLevel(std::string_view name, LogLevel& out);

// "<prefix>YYYY/MM/DD HH:MM:SS.uuuuuu LEVEL: text\n" written to stderr with one write(2), so
// lines from different threads never interleave.
void writeLogLine(std::string_view prefix, LogLevel level, std::string_view text);

class Logger {
 public:
  static void configure(std::string prefix, LogLevel level);
  static bool enabled(LogLevel level) { return static_cast<int>(level) >= level_.load(std::memory_order_relaxed); }
  static void write(LogLevel level, std::string_view text);

 private:
  static std::atomic<int> level_;
};

template <typename... Parts>
void logAt(LogLevel level, const Parts&... parts) {
  if (!Logger::enabled(level)) return;
  std::string text;
  (text.append(parts), ...);
  Logger::write(level, text);
}
template <typename... Parts> void logDebug(const Parts&... p) { logAt(LogLevel::Debug, p...); }
template <typename... Parts> void logInfo(const Parts&... p) { logAt(LogLevel::Info, p...); }
template <typename... Parts> void logWarn(const Parts&... p) { logAt(LogLevel::Warn, p...); }
template <typename... Parts> void logError(const Parts&... p) { logAt(LogLevel::Error, p...); }

}  // namespace nsq
