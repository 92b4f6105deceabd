// JsonFilter: parses a body as a JSON object (Poco), checks the required field and rebuilds
// the object from the whitelisted fields, in flag order. Integers stay integers (Poco keeps
// them as Int64), which is what the original's float-to-int fix-up achieves.
#include "nsq_to_nsq/json_filter.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <cstdlib>
#include <sstream>

namespace nsq::tools {

JsonFilter::JsonFilter(std::string requireField, std::string requireValue, std::vector<std::string> whitelist)
    : requireField_(std::move(requireField)), requireValue_(std::move(requireValue)), whitelist_(std::move(whitelist)) {
  if (!requireValue_.empty()) {
    char* end = nullptr;
    double d = std::strtod(requireValue_.c_str(), &end);
    if (end && *end == '\0') requireNumber_ = d;
  }
}

JsonFilter::Verdict JsonFilter::apply(std::string_view body, std::string* out) const {
  if (!active()) {
    out->assign(body);
    return Verdict::Pass;
  }
  Poco::JSON::Object::Ptr obj;
  try {
    Poco::Dynamic::Var v = Poco::JSON::Parser().parse(std::string(body));
    if (v.type() != typeid(Poco::JSON::Object::Ptr)) return Verdict::NotJson;
    obj = v.extract<Poco::JSON::Object::Ptr>();
  } catch (const Poco::Exception&) {
    return Verdict::NotJson;
  }
  if (!requireField_.empty()) {
    if (!obj->has(requireField_)) return Verdict::Drop;
    if (!requireValue_.empty()) {
      Poco::Dynamic::Var v = obj->get(requireField_);
      if (v.isString()) {
        if (v.extract<std::string>() != requireValue_) return Verdict::Drop;
      } else if (requireNumber_ && v.isNumeric()) {
        if (v.convert<double>() != *requireNumber_) return Verdict::Drop;
      } else {
        return Verdict::Drop;
      }
    }
  }
  if (whitelist_.empty()) {
    out->assign(body);
    return Verdict::Pass;
  }
  Poco::JSON::Object kept(Poco::JSON_PRESERVE_KEY_ORDER);
  for (const auto& key : whitelist_)
    if (obj->has(key)) kept.set(key, obj->get(key));
  std::ostringstream s;
  kept.stringify(s);
  *out = s.str();
  return Verdict::Pass;
}

}  // namespace nsq::tools
