// Fuzz target: recovery of a message journal from whatever the file holds: torn and corrupt
// records are reported and skipped, live entries come back, and the rewritten file recovers to
// the same set.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>

#include "loopback.h"
#include "nsqd/message_journal.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nsq::fuzz::ScratchDir dir;
  std::string path = dir.path() + "/t:c.journal.dat";
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  nsq::nsqd::JournalOptions opts;
  opts.path = path;
  opts.syncEvery = 1 << 20;
  opts.maxMsgSize = 4096;
  opts.logError = [](const std::string&) {};
  std::size_t live = 0;
  {
    nsq::nsqd::MessageJournal journal(opts);
    auto entries = journal.recover([](nsq::nsqd::MessageJournal::Entry&) { return false; });  // no disk queue
    live = entries.size();
    for (const auto& e : entries)
      if (e.msg.body.size() > 4096) std::abort();
    std::string error;
    (void)journal.close(&error);
  }
  nsq::nsqd::MessageJournal again(opts);
  if (again.recover([](nsq::nsqd::MessageJournal::Entry&) { return false; }).size() != live) std::abort();
  return 0;
}
