// to_nsq: publish stdin records to nsqd. See to_nsq.cpp and man/to_nsq.1.
#include <signal.h>
#include <unistd.h>

#include "nsq/base/main.h"
#include "to_nsq/to_nsq.h"

int main(int argc, char** argv) {
  nsq::tools::ToNsqOptions opts;
  auto set = nsq::tools::makeToNsqOptionSet(opts);
  return nsq::runMain("to_nsq", *set, argc, argv, {SIGINT, SIGTERM}, [&] { nsq::tools::validate(opts); },
                      [&] { return nsq::tools::runToNsq(opts, STDIN_FILENO); });
}
