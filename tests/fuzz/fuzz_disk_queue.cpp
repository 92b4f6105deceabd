// Fuzz target: a disk queue opened over whatever the disk holds. The input is split (at the
// first "#META#", if any) into segment 0's bytes and the metadata text; the queue must open,
// report what is damaged, and pop only records whose checksums hold, never crash or loop.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>

#include "loopback.h"
#include "nsq/storage/disk_queue.h"

namespace {
void writeFile(const std::string& path, std::string_view bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  constexpr std::string_view kSeparator = "#META#";
  auto cut = in.find(kSeparator);
  std::string_view segment = in.substr(0, cut);
  std::string_view meta = cut == std::string_view::npos ? std::string_view() : in.substr(cut + kSeparator.size());
  nsq::fuzz::ScratchDir dir;
  writeFile(dir.path() + "/q.diskqueue.000000.dat", segment);
  if (cut != std::string_view::npos) writeFile(dir.path() + "/q.diskqueue.meta.dat", meta);
  nsq::DiskQueueOptions opts;
  opts.dataPath = dir.path();
  opts.name = "q";
  opts.maxBytesPerFile = 1 << 16;
  opts.minMsgSize = 1;
  opts.maxMsgSize = 4096;
  opts.syncEvery = 1 << 20;  // no fsync per put/pop: it would only slow the search
  opts.logError = [](const std::string&) {};
  nsq::DiskQueue q(opts);
  std::string out;
  for (std::size_t i = 0; i < size + 2 && q.pop(out); ++i)
    if (out.empty() || out.size() > 4096) std::abort();  // only records within the bounds
  (void)q.put("after", nullptr);  // still writable after whatever it recovered from
  q.close();
  return 0;
}
