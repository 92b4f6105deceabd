// to_nsq: publish stdin records to nsqd. See to_nsq.cpp and man/to_nsq.1.
#include <signal.h>
#include <unistd.h>

#include <iostream>

#include "to_nsq/to_nsq.h"

int main(int argc, char** argv) {
  nsq::tools::ToNsqOptions opts;
  try {
    auto set = nsq::tools::makeToNsqOptionSet(opts);
    if (set->parse(argc, argv, std::cout) == nsq::OptionSet::Result::Exit) return 0;
    nsq::tools::validate(opts);
  } catch (const std::exception& e) {
    std::cerr << "to_nsq: " << e.what() << "\n";
    return 1;
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return nsq::tools::runToNsq(opts, STDIN_FILENO);
}
