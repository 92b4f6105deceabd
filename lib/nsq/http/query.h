#pragma once
// Query strings as Go's url.ParseQuery reads them, for both daemons' HTTP APIs: '&'-separated
// key=value pairs, percent-decoded with '+' as a space; a ';' or a bad "%zz" escape rejects the
// whole query (the caller answers 400 INVALID_REQUEST); "?topic=" is present-but-empty, not
// missing. Pure functions; any thread; never throw.
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace nsq::http {

using QueryParams = std::multimap<std::string, std::string>;  // a key may repeat

// Percent-decoding; '+' is a space only in a query (Go's QueryUnescape vs PathUnescape).
// nullopt for a '%' not followed by two hex digits.
std::optional<std::string> percentDecode(std::string_view s, bool plusIsSpace);

// The parameters of a query (the text after '?'), or nullopt when it is malformed.
std::optional<QueryParams> parseQuery(std::string_view query);

// First value of key, nullopt when absent (Go's ReqParams.Get).
std::optional<std::string> queryValue(const QueryParams& params, const std::string& key);

// Upstream nsqd's boolParams: "true"/"1" and "false"/"0"; nullopt for anything else or absent.
std::optional<bool> queryBool(const QueryParams& params, const std::string& key);

}  // namespace nsq::http
