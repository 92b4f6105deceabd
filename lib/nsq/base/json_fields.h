#pragma once
// JSON object keys read as the original's Go encoding/json reads them into a struct: a key that
// is not spelled exactly like a field but equals it ignoring ASCII case fills that field
// ("TTL", "Identity", "Client_ID"). Used on what the daemons decode from others: IDENTIFY bodies
// (nsqd and nsqlookupd) and auth server replies (docs/leniency.md).
#include <Poco/JSON/Object.h>

#include <initializer_list>

namespace nsq {

// Renames, in place, each key of `obj` that matches one of `fields` only case-insensitively to
// that field's spelling. An exact spelling present wins over any other; of several other
// spellings of one field, one is taken (Go takes the last in the document; no real client sends
// two). Keys matching no field are left alone (they are ignored by the readers anyway).
void foldJsonKeys(Poco::JSON::Object& obj, std::initializer_list<const char*> fields);

}  // namespace nsq
