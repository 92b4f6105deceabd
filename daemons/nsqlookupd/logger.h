#pragma once
// Logger: the instance nsqlookupd's components log through (injected, so tests can give their
// own level and prefix). Lines are formatted and written by nsq::writeLogLine.
#include <string>

#include "nsq/base/log.h"

namespace nsq::lookupd {

using nsq::LogLevel;

class Logger {
 public:
  Logger(LogLevel level, std::string prefix) : level_(level), prefix_(std::move(prefix)) {}
  bool enabled(LogLevel l) const { return l >= level_; }
  void log(LogLevel l, const std::string& message) {
    if (enabled(l)) writeLogLine(prefix_, l, message);
  }
  void debug(const std::string& m) { log(LogLevel::Debug, m); }
  void info(const std::string& m) { log(LogLevel::Info, m); }
  void warn(const std::string& m) { log(LogLevel::Warn, m); }
  void error(const std::string& m) { log(LogLevel::Error, m); }

 private:
  LogLevel level_;
  std::string prefix_;
};

}  // namespace nsq::lookupd
