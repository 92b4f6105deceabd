#pragma once
// JsonFilter: nsq_to_nsq's --require-json-field / --require-json-value / --whitelist-json-field,
// with the original's matching rules: a string field must equal the value; a number field
// matches when the value parses as the same number; any other type never matches.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nsq::tools {

class JsonFilter {
 public:
  enum class Verdict {
    Pass,     // relay `out` (the body unchanged, or the whitelisted fields)
    Drop,     // filtered out
    NotJson,  // a filter is set and the body is not a JSON object
  };
  JsonFilter(std::string requireField, std::string requireValue, std::vector<std::string> whitelist);
  // True when any filter flag is set (otherwise apply() always passes the body unchanged).
  bool active() const { return !requireField_.empty() || !whitelist_.empty(); }
  // Pure; any thread. `out` is written only for Pass.
  Verdict apply(std::string_view body, std::string* out) const;

 private:
  std::string requireField_;
  std::string requireValue_;
  std::optional<double> requireNumber_;
  std::vector<std::string> whitelist_;
};

}  // namespace nsq::tools
