// Fuzz target: nsqd's HTTP API end to end. Each input is the raw bytes of one connection:
// request lines, headers, chunked or sized bodies, queries, /pub, /mpub (text and binary),
// /config PUT bodies, pipelined requests.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "nsqd_harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static nsq::fuzz::NsqdHarness harness;
  auto& nsqd = harness.get();
  nsq::fuzz::exchange(nsqd.httpPort(), std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
