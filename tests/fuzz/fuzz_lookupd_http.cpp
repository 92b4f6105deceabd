// Fuzz target: nsqlookupd's HTTP API end to end: raw request bytes of one connection.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "lookupd_harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static nsq::fuzz::LookupdHarness harness;
  auto& lookupd = harness.get();
  nsq::fuzz::exchange(lookupd.httpPort(), std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
