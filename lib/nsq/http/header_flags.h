#pragma once
// HeaderFlags: the two request-head limits every HTTP daemon (nsqd, nsqlookupd, nsqadmin)
// offers as flags, defined once so their names, defaults, ranges and help cannot drift:
//   --http-max-header-bytes  (65536, 1024-1048576)  request line + header fields
//   --http-max-header-count  (100, 1-10000)          header fields
// A request past either is answered 431 by http::Server (request_parser.h) and its connection
// closed; other connections are served as before.
#include <cstdint>

#include "nsq/base/options.h"
#include "nsq/http/request_parser.h"

namespace nsq::http {

struct HeaderFlags {
  int64_t maxHeaderBytes = 64 * 1024;
  int64_t maxHeaderCount = 100;
};

// Adds both flags to set, bound to flags (which must outlive set).
void addHeaderFlags(OptionSet& set, HeaderFlags& flags);
// Throws OptionError naming the flag and its range.
void validateHeaderFlags(const HeaderFlags& flags);
// Copies the (validated) values into a server's parser limits.
void applyHeaderFlags(const HeaderFlags& flags, ParserLimits& limits);

}  // namespace nsq::http
