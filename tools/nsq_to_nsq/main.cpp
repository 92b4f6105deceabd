// nsq_to_nsq: relay NSQ topics to other nsqd nodes. See nsq_to_nsq.cpp and man/nsq_to_nsq.1.
#include <signal.h>

#include "nsq/base/main.h"
#include "nsq_to_nsq/nsq_to_nsq.h"

int main(int argc, char** argv) {
  nsq::tools::NsqToNsqOptions opts;
  auto set = nsq::tools::makeNsqToNsqOptionSet(opts);
  return nsq::runMain("nsq_to_nsq", *set, argc, argv, {SIGINT, SIGTERM}, [&] { nsq::tools::validate(opts); },
                      [&] { return nsq::tools::runNsqToNsq(opts); });
}
