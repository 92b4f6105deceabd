#pragma once
// Logger: leveled lines on stderr, "<prefix>YYYY/MM/DD HH:MM:SS.uuuuuu LEVEL: message" (upstream's
// layout). Any thread; one write per line under a mutex.
#include <mutex>
#include <optional>
#include <string>

namespace nsq::lookupd {

enum class LogLevel { Debug = 1, Info, Warn, Error, Fatal };

std::optional<LogLevel> parseLogLevel(const std::string& text);

class Logger {
 public:
  Logger(LogLevel level, std::string prefix) : level_(level), prefix_(std::move(prefix)) {}
  bool enabled(LogLevel l) const { return l >= level_; }
  void log(LogLevel l, const std::string& message);
  void debug(const std::string& m) { log(LogLevel::Debug, m); }
  void info(const std::string& m) { log(LogLevel::Info, m); }
  void warn(const std::string& m) { log(LogLevel::Warn, m); }
  void error(const std::string& m) { log(LogLevel::Error, m); }

 private:
  LogLevel level_;
  std::string prefix_;
  std::mutex mu_;
};

}  // namespace nsq::lookupd
