#pragma once
// An nsqd started inside the fuzzer's process with small limits (so inputs reach the limits,
// the disk spill and compression quickly), restarted on a fresh data path every kRestartEvery
// inputs so the topics and messages the inputs create stay bounded.
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "loopback.h"
#include "nsq/base/log.h"
#include "nsq/base/options.h"
#include "nsqd/nsqd.h"
#include "nsqd/options.h"

namespace nsq::fuzz {

class NsqdHarness {
 public:
  static constexpr int kRestartEvery = 2000;

  nsqd::Nsqd& get() {
    if (!nsqd_ || ++uses_ > kRestartEvery) restart();
    return *nsqd_;
  }

 private:
  void restart() {
    if (nsqd_) nsqd_->stop();
    nsqd_.reset();
    dir_ = std::make_unique<ScratchDir>();
    nsqd::NsqdOptions opts;
    OptionSet set("nsqd", "fuzz");
    nsqd::addNsqdOptions(set, opts);
    set.addStandard("fuzz");
    std::vector<std::string> args = {"nsqd", "--tcp-address=127.0.0.1:0", "--http-address=127.0.0.1:0",
                                     "--data-path=" + dir_->path(), "--log-level=fatal",
                                     "--mem-queue-size=5", "--max-msg-size=4096", "--max-body-size=16384",
                                     "--msg-timeout=200ms", "--max-msg-timeout=1s", "--max-req-timeout=1s",
                                     "--deflate=true", "--snappy=true", "--sync-every=50"};
    std::vector<const char*> argv;
    for (auto& a : args) argv.push_back(a.c_str());
    std::ostringstream out;
    set.parse(static_cast<int>(argv.size()), argv.data(), out);
    nsqd::finalizeOptions(opts);
    Logger::configure("", LogLevel::Fatal);
    nsqd_ = std::make_unique<nsqd::Nsqd>(std::move(opts));
    nsqd_->start();
    uses_ = 0;
  }

  std::unique_ptr<ScratchDir> dir_;
  std::unique_ptr<nsqd::Nsqd> nsqd_;
  int uses_ = 0;
};

}  // namespace nsq::fuzz
