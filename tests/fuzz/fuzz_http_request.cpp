// Fuzz target: HTTP request reading shared by nsqd, nsqlookupd and nsqadmin: the request parser
// fed in two pieces (split where the first byte says), then the query and path decoding every
// route runs.
#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <cstdlib>
#include <string>

#include "nsq/http/query.h"
#include "nsq/http/request_parser.h"
#include "nsq/http/router.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::size_t split = data[0] % size;
  std::string all(reinterpret_cast<const char*>(data) + 1, size - 1);
  nsq::http::ParserLimits limits;
  limits.maxHeaderBytes = 4096;
  limits.maxHeaderCount = 32;
  limits.maxBodyBytes = 8192;
  nsq::http::RequestParser parser(limits);
  std::string in = all.substr(0, std::min(split, all.size()));
  auto status = parser.parse(in);
  if (status == nsq::http::RequestParser::Status::NeedMore) {
    in += all.substr(std::min(split, all.size()));
    status = parser.parse(in);
  }
  for (int i = 0; i < 8 && status == nsq::http::RequestParser::Status::Complete; ++i) {
    auto& req = parser.request();
    std::string_view query;
    if (auto path = nsq::http::decodeTargetPath(req.target, &query)) (void)nsq::http::parseQuery(query);
    if (req.body.size() > limits.maxBodyBytes && !req.bodyTooLarge) std::abort();
    if (req.body.size() > limits.maxBodyBytes + 1) std::abort();  // never holds more than limit + 1
    parser.reset();
    status = parser.parse(in);  // pipelined requests
  }
  if (status == nsq::http::RequestParser::Status::Error && parser.errorStatus() < 400) std::abort();
  return 0;
}
