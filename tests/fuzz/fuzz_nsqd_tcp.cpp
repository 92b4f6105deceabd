// Fuzz target: nsqd's TCP protocol V2 end to end. Each input is one connection's byte stream
// after the "  V2" magic: commands, bodies, IDENTIFY JSON (which may negotiate snappy or
// deflate, so the rest of the input is then read through the decompressor), AUTH, MPUB framing.
#include <cstddef>
#include <cstdint>
#include <string>

#include "nsqd_harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static nsq::fuzz::NsqdHarness harness;
  auto& nsqd = harness.get();
  std::string stream = "  V2";
  stream.append(reinterpret_cast<const char*>(data), size);
  nsq::fuzz::exchange(nsqd.tcpPort(), stream);
  return 0;
}
