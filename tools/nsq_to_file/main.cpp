// nsq_to_file: archive NSQ topics to files. See nsq_to_file.cpp and man/nsq_to_file.1.
#include <signal.h>

#include "nsq/base/main.h"
#include "nsq_to_file/nsq_to_file.h"

int main(int argc, char** argv) {
  nsq::tools::NsqToFileOptions opts;
  auto set = nsq::tools::makeNsqToFileOptionSet(opts);
  return nsq::runMain("nsq_to_file", *set, argc, argv, {SIGINT, SIGTERM, SIGHUP}, [&] { nsq::tools::validate(opts); },
                      [&] { return nsq::tools::runNsqToFile(opts); });
}
