// Logger: prefix + timestamp + level, one write(2) per line.
#include "nsq/base/log.h"

#include <sys/time.h>
#include <unistd.h>

#include <ctime>
#include <mutex>

namespace nsq {

std::atomic<int> Logger::level_{static_cast<int>(LogLevel::Info)};

namespace {
std::mutex prefixMutex;
std::string& prefixStorage() {
  static std::string prefix;
  return prefix;
}
}  // namespace

bool parseLogLevel(std::string_view name, LogLevel& out) {
  if (name == "debug" || name == "DEBUG") out = LogLevel::Debug;
  else if (name == "info" || name == "INFO") out = LogLevel::Info;
  else if (name == "warn" || name == "WARN") out = LogLevel::Warn;
  else if (name == "error" || name == "ERROR") out = LogLevel::Error;
  else if (name == "fatal" || name == "FATAL") out = LogLevel::Fatal;
  else return false;
  return true;
}

void Logger::configure(std::string prefix, LogLevel level) {
  std::lock_guard lock(prefixMutex);
  prefixStorage() = std::move(prefix);
  level_.store(static_cast<int>(level));
}

void Logger::write(LogLevel level, std::string_view text) {
  std::string prefix;
  {
    std::lock_guard lock(prefixMutex);
    prefix = prefixStorage();
  }
  writeLogLine(prefix, level, text);
}

void writeLogLine(std::string_view prefix, LogLevel level, std::string_view text) {
  static const char* names[] = {"", "DEBUG", "INFO", "WARNING", "ERROR", "FATAL"};
  timeval tv{};
  ::gettimeofday(&tv, nullptr);
  tm parts{};
  ::localtime_r(&tv.tv_sec, &parts);
  char stamp[64];
  std::snprintf(stamp, sizeof stamp, "%04d/%02d/%02d %02d:%02d:%02d.%06ld ", parts.tm_year + 1900,
                parts.tm_mon + 1, parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec,
                static_cast<long>(tv.tv_usec));
  std::string line(prefix);
  line += stamp;
  line += names[static_cast<int>(level)];
  line += ": ";
  line += text;
  line += '\n';
  ssize_t n = ::write(2, line.data(), line.size());
  (void)n;
}

}  // namespace nsq
