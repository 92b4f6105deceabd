// nsq_tail: print messages of NSQ topics to stdout. See nsq_tail.cpp and man/nsq_tail.1.
#include <signal.h>

#include <iostream>

#include "nsq_tail/nsq_tail.h"

int main(int argc, char** argv) {
  nsq::tools::NsqTailOptions opts;
  try {
    auto set = nsq::tools::makeNsqTailOptionSet(opts);
    if (set->parse(argc, argv, std::cout) == nsq::OptionSet::Result::Exit) return 0;
    nsq::tools::validate(opts);
  } catch (const std::exception& e) {
    std::cerr << "nsq_tail: " << e.what() << "\n";
    return 1;
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return nsq::tools::runNsqTail(opts);
}
