// nsq_to_http: send NSQ messages to HTTP endpoints. See nsq_to_http.cpp and man/nsq_to_http.1.
#include <signal.h>

#include "nsq/base/main.h"
#include "nsq_to_http/nsq_to_http.h"

int main(int argc, char** argv) {
  nsq::tools::NsqToHttpOptions opts;
  auto set = nsq::tools::makeNsqToHttpOptionSet(opts);
  return nsq::runMain("nsq_to_http", *set, argc, argv, {SIGINT, SIGTERM}, [&] { nsq::tools::validate(opts); },
                      [&] { return nsq::tools::runNsqToHttp(opts); });
}
