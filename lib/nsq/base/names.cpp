// Name validation without std::regex: this runs on every PUB and SUB.
#include "nsq/base/names.h"

namespace nsq {

bool isValidName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  std::string_view base = name;
  if (isEphemeral(name)) base.remove_suffix(kEphemeralSuffix.size());
  if (base.empty()) return false;
  for (char c : base) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace nsq
