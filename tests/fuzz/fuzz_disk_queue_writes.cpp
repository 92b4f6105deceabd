// Fuzz target: the disk queue's write side driven by a script of operations (appends, runs,
// publishes, aborts, reserved batches written, published or taken back in any order, pops,
// syncs, empty, reopen) and checked against a model of what was published and not yet popped
// (support/disk_queue_script.h). A broken promise aborts with what broke; a hang is a timeout.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "loopback.h"
#include "support/disk_queue_script.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;  // longer scripts add time, not paths
  nsq::fuzz::ScratchDir dir;
  nsq::test::DiskQueueScript script(dir.path(), [](const std::string& what) {
    std::fprintf(stderr, "disk queue script: %s\n", what.c_str());
    std::abort();
  });
  script.run(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
