// Fuzz target: nsqd's and nsqlookupd's YAML config files. A bad file is an exception with a
// message (the daemons print it and exit 1), never a crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <string>

#include "nsq/base/options.h"
#include "nsqd/options.h"
#include "nsqlookupd/options.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  try {
    nsq::nsqd::NsqdOptions opts;
    nsq::OptionSet set("nsqd", "fuzz");
    nsq::nsqd::addNsqdOptions(set, opts);
    set.applyYaml(text, "nsqd.yaml");
    nsq::nsqd::finalizeOptions(opts);
  } catch (const std::exception& e) {
    if (std::string(e.what()).empty()) std::abort();  // every refusal says why
  }
  try {
    nsq::lookupd::Options opts;
    auto set = nsq::lookupd::makeOptionSet(opts);
    set->applyYaml(text, "nsqlookupd.yaml");
    nsq::lookupd::validate(opts);
  } catch (const std::exception& e) {
    if (std::string(e.what()).empty()) std::abort();
  }
  return 0;
}
