#pragma once
// An nsqlookupd started inside the fuzzer's process on loopback, restarted every kRestartEvery
// inputs so the registrations the inputs make stay bounded.
#include <cstdlib>
#include <memory>

#include "loopback.h"
#include "nsqlookupd/nsqlookupd.h"
#include "nsqlookupd/options.h"

namespace nsq::fuzz {

class LookupdHarness {
 public:
  static constexpr int kRestartEvery = 5000;

  lookupd::NsqLookupd& get() {
    static const int restartEvery = [] {
      const char* v = std::getenv("NSQ_FUZZ_RESTART_EVERY");  // for checking the restart itself
      return v && std::atoi(v) > 0 ? std::atoi(v) : kRestartEvery;
    }();
    if (!daemon_ || ++uses_ > restartEvery) {
      if (daemon_) daemon_->stop();
      daemon_.reset();
      lookupd::Options opts;
      opts.tcpAddress = "127.0.0.1:0";
      opts.httpAddress = "127.0.0.1:0";
      daemon_ = std::make_unique<lookupd::NsqLookupd>(opts, log_);
      daemon_->start();
      uses_ = 0;
    }
    return *daemon_;
  }

 private:
  lookupd::Logger log_{LogLevel::Fatal, ""};
  std::unique_ptr<lookupd::NsqLookupd> daemon_;
  int uses_ = 0;
};

}  // namespace nsq::fuzz
