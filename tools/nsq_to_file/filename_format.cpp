// Filename formats of nsq_to_file. strftime is applied one directive at a time so that only the
// documented subset is expanded (as the original, which maps each onto a Go layout) and the
// literal text between directives can never be read as a directive.
#include "nsq_to_file/filename_format.h"

#include <cstdio>
#include <stdexcept>

namespace nsq {

std::string strftimeSubset(std::string_view format, std::time_t t) {
  std::tm tm{};
  ::localtime_r(&t, &tm);
  static constexpr std::string_view kKnown = "YymdHIMSpZzAaBb";
  std::string out;
  for (std::size_t i = 0; i < format.size(); ++i) {
    char c = format[i];
    if (c != '%' || i + 1 == format.size()) {
      out += c;
      continue;
    }
    char d = format[i + 1];
    if (d == '%') {
      out += '%';
      ++i;
    } else if (kKnown.find(d) != std::string_view::npos) {
      char spec[3] = {'%', d, '\0'};
      char buf[64];
      std::size_t n = std::strftime(buf, sizeof buf, spec, &tm);
      out.append(buf, n);
      ++i;
    } else {
      out += c;  // unknown directive: literal
    }
  }
  return out;
}

std::string replaceAll(std::string s, std::string_view token, std::string_view value) {
  for (std::size_t pos = s.find(token); pos != std::string::npos; pos = s.find(token, pos + value.size()))
    s.replace(pos, token.size(), value);
  return s;
}

std::string computeFilenameFormat(const FilenameParams& p) {
  std::string shortHost = p.hostname.substr(0, p.hostname.find('.'));
  std::string identifier = shortHost;
  if (!p.hostIdentifier.empty()) {
    identifier = replaceAll(p.hostIdentifier, "<SHORT_HOST>", shortHost);
    identifier = replaceAll(identifier, "<HOSTNAME>", p.hostname);
  }
  std::string f = p.format;
  if (p.revRequired) {
    if (f.find("<REV>") == std::string::npos)
      throw std::invalid_argument("missing <REV> in --filename-format when gzip, rotation, or work dir enabled");
  } else {
    f = replaceAll(f, "<REV>", "");
  }
  f = replaceAll(f, "<TOPIC>", p.topic);
  f = replaceAll(f, "<HOST>", identifier);
  f = replaceAll(f, "<PID>", std::to_string(p.pid));
  if (p.gzip && (f.size() < 3 || f.compare(f.size() - 3, 3, ".gz") != 0)) f += ".gz";
  return f;
}

std::string withRev(const std::string& name, unsigned rev) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "-%06u", rev);
  return replaceAll(name, "<REV>", buf);
}

}  // namespace nsq
