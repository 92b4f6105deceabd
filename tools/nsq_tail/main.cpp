// nsq_tail: print messages of NSQ topics to stdout. See nsq_tail.cpp and man/nsq_tail.1.
#include <signal.h>

#include "nsq/base/main.h"
#include "nsq_tail/nsq_tail.h"

int main(int argc, char** argv) {
  nsq::tools::NsqTailOptions opts;
  auto set = nsq::tools::makeNsqTailOptionSet(opts);
  return nsq::runMain("nsq_tail", *set, argc, argv, {SIGINT, SIGTERM}, [&] { nsq::tools::validate(opts); },
                      [&] { return nsq::tools::runNsqTail(opts); });
}
