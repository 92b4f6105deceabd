// foldJsonKeys: Go's case-insensitive struct-field matching for the JSON the daemons read from others.
#include "nsq/base/json_fields.h"

#include <string>
#include <strings.h>
#include <vector>

namespace nsq {

void foldJsonKeys(Poco::JSON::Object& obj, std::initializer_list<const char*> fields) {
  std::vector<std::string> names;
  obj.getNames(names);
  for (const char* field : fields) {
    if (obj.has(field)) continue;
    for (const std::string& name : names) {
      if (strcasecmp(name.c_str(), field) != 0) continue;
      Poco::Dynamic::Var value = obj.get(name);
      obj.remove(name);
      obj.set(field, value);
      break;
    }
  }
}

}  // namespace nsq
