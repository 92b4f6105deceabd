// nsq_tail: print messages of NSQ topics to stdout. See nsq_tail.cpp and man/nsq_tail.1.
#include <signal.h>

#include "nsq/base/main.h"
#include "nsq_tail/nsq_tail.h"

int main(int argc, char** argv) {
  nsq::tools::NsqTailOptions opts;
  auto set = nsq::tools::makeNsqTailOptionSet(opts);
  if (auto code = nsq::parseCommandLine("nsq_tail", *set, argc, argv, [&] { nsq::tools::validate(opts); }))
    return *code;
  nsq::blockSignals({SIGINT, SIGTERM});
  return nsq::tools::runNsqTail(opts);
}
