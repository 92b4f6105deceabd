// Fuzz target: the V2 codec without a daemon: command lines, MPUB read from a stream that
// arrives in pieces (the resumable reader must agree with the all-at-once parser), and the
// client's frame decoder.
#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "nsq/protocol/error.h"
#include "nsq/protocol/wire.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  // Command line: up to the first '\n'.
  auto nl = in.find('\n');
  nsq::CommandLine cmd = nsq::parseCommandLine(in.substr(0, nl));
  if (cmd.paramCount < 0) std::abort();
  for (int i = 0; i < std::min(cmd.paramCount, nsq::CommandLine::kMaxParams); ++i)
    if (cmd.params[i].data() < in.data() || cmd.params[i].data() + cmd.params[i].size() > in.data() + size)
      std::abort();  // views must point into the line

  // MPUB: fed one growing prefix at a time, as bytes would arrive.
  constexpr int64_t kMaxMsg = 512, kMaxBody = 4096;
  nsq::MpubProgress progress;
  nsq::Error error;
  nsq::MpubStatus status = nsq::MpubStatus::NeedMore;
  std::size_t have = 0;
  while (status == nsq::MpubStatus::NeedMore && have < size) {
    have = std::min(size, std::max(have + 1, progress.want));
    status = nsq::readMpub(in.substr(0, have), kMaxMsg, kMaxBody, progress, error);
  }
  std::vector<std::string_view> bodies;
  if (!nsq::parseMpubBody(in, kMaxMsg, kMaxBody, bodies))
    for (auto b : bodies)
      if (static_cast<int64_t>(b.size()) > kMaxMsg) std::abort();
  if (status == nsq::MpubStatus::Done) {
    if (progress.pos > size || progress.pos > static_cast<std::size_t>(kMaxBody)) std::abort();
    // What the stream reader accepted, the whole-body parser accepts too.
    std::vector<std::string_view> again;
    if (nsq::parseMpubBody(in.substr(0, progress.pos), kMaxMsg, kMaxBody, again)) std::abort();
  }

  // Client frames, one after another.
  std::string_view rest = in;
  for (int i = 0; i < 64 && !rest.empty(); ++i) {
    nsq::Frame frame;
    long used = nsq::decodeFrame(rest, frame, 4096);
    if (used <= 0) break;
    if (static_cast<std::size_t>(used) > rest.size()) std::abort();
    rest.remove_prefix(static_cast<std::size_t>(used));
  }
  return 0;
}
