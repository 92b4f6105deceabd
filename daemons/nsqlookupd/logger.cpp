// Logger: formats the timestamp itself (localtime_r) so that no locale or iostream state is
// shared between threads; one fwrite per line keeps lines whole.
#include "logger.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace nsq::lookupd {

std::optional<LogLevel> parseLogLevel(const std::string& t) {
  if (t == "debug" || t == "DEBUG") return LogLevel::Debug;
  if (t == "info" || t == "INFO") return LogLevel::Info;
  if (t == "warn" || t == "WARN") return LogLevel::Warn;
  if (t == "error" || t == "ERROR") return LogLevel::Error;
  if (t == "fatal" || t == "FATAL") return LogLevel::Fatal;
  return std::nullopt;
}

void Logger::log(LogLevel l, const std::string& message) {
  if (!enabled(l)) return;
  static const char* const kNames[] = {"", "DEBUG", "INFO", "WARNING", "ERROR", "FATAL"};
  auto now = std::chrono::system_clock::now();
  std::time_t secs = std::chrono::system_clock::to_time_t(now);
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() %
                1000000;
  std::tm tm{};
  localtime_r(&secs, &tm);
  char stamp[64];
  std::snprintf(stamp, sizeof stamp, "%04d/%02d/%02d %02d:%02d:%02d.%06lld", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(micros));
  std::string line = prefix_ + stamp + " " + kNames[static_cast<int>(l)] + ": " + message + "\n";
  std::lock_guard lock(mu_);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace nsq::lookupd
