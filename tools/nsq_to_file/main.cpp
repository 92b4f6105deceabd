// nsq_to_file: archive NSQ topics to files. See nsq_to_file.cpp and man/nsq_to_file.1.
#include <signal.h>

#include <iostream>

#include "nsq_to_file/nsq_to_file.h"

int main(int argc, char** argv) {
  nsq::tools::NsqToFileOptions opts;
  try {
    auto set = nsq::tools::makeNsqToFileOptionSet(opts);
    if (set->parse(argc, argv, std::cout) == nsq::OptionSet::Result::Exit) return 0;
    nsq::tools::validate(opts);
  } catch (const std::exception& e) {
    std::cerr << "nsq_to_file: " << e.what() << "\n";
    return 1;
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return nsq::tools::runNsqToFile(opts);
}
