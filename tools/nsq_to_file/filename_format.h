#pragma once
// nsq_to_file's file names (NSQ-COMPAT §5.5). A --filename-format such as
// "<TOPIC>.<HOST><REV>.<DATETIME>.log" is resolved in two steps: once per topic at startup
// (computeFilenameFormat: <TOPIC>, <HOST>, <PID>, the <REV> rule, ".gz"), then per file
// (<DATETIME> from a strftime subset in local time, <REV> as "-NNNNNN").
#include <ctime>
#include <string>
#include <string_view>

namespace nsq {

// strftime in local time for %Y %y %m %d %H %I %M %S %p %Z %z %A %a %B %b %%. Any other
// %-sequence and a trailing '%' are copied literally.
std::string strftimeSubset(std::string_view format, std::time_t t);

struct FilenameParams {
  std::string format;          // --filename-format
  std::string topic;
  std::string hostIdentifier;  // --host-identifier; "" = short host name
  std::string hostname;        // full host name (<HOSTNAME>; its first label is <SHORT_HOST>)
  long pid = 0;
  bool gzip = false;
  bool revRequired = false;    // gzip, rotate-size, rotate-interval or a distinct work-dir
};

// Substitutes <TOPIC>, <HOST>, <PID>; keeps <REV> when revRequired (throws std::invalid_argument
// if it is missing) and drops it otherwise; appends ".gz" under gzip unless already there.
// <DATETIME> is left for withDatetime().
std::string computeFilenameFormat(const FilenameParams& p);

// Every occurrence of token replaced by value.
std::string replaceAll(std::string s, std::string_view token, std::string_view value);
inline std::string withDatetime(const std::string& name, const std::string& datetime) {
  return replaceAll(name, "<DATETIME>", datetime);
}
// <REV> -> "-%06u".
std::string withRev(const std::string& name, unsigned rev);

}  // namespace nsq
