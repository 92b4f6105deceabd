// Fuzz target: nsqlookupd's TCP protocol V1 end to end. Each input is one connection's byte
// stream after the "  V1" magic: PING, IDENTIFY with its [int32 size][JSON] body, REGISTER and
// UNREGISTER lines.
#include <cstddef>
#include <cstdint>
#include <string>

#include "lookupd_harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static nsq::fuzz::LookupdHarness harness;
  auto& lookupd = harness.get();
  std::string stream = "  V1";
  stream.append(reinterpret_cast<const char*>(data), size);
  nsq::fuzz::exchange(lookupd.tcpPort(), stream);
  return 0;
}
