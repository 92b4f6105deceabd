// Go-compatible duration parsing and printing.
#include "nsq/base/duration.h"

#include <cmath>
#include <cstdint>

namespace nsq {

std::optional<Duration> parseDuration(std::string_view s) {
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return Duration(0);
  if (s.empty()) return std::nullopt;
  long double total = 0;
  while (!s.empty()) {
    std::size_t i = 0;
    long double value = 0;
    bool digits = false;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      value = value * 10 + (s[i] - '0');
      ++i;
      digits = true;
    }
    if (i < s.size() && s[i] == '.') {
      ++i;
      long double scale = 0.1L;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
        value += (s[i] - '0') * scale;
        scale /= 10;
        ++i;
        digits = true;
      }
    }
    if (!digits) return std::nullopt;
    std::size_t u = i;
    while (u < s.size() && !(s[u] >= '0' && s[u] <= '9') && s[u] != '.') ++u;
    std::string_view unit = s.substr(i, u - i);
    long double mult;
    if (unit == "ns") mult = 1;
    else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") mult = 1e3L;
    else if (unit == "ms") mult = 1e6L;
    else if (unit == "s") mult = 1e9L;
    else if (unit == "m") mult = 60e9L;
    else if (unit == "h") mult = 3600e9L;
    else return std::nullopt;
    total += value * mult;
    if (total > static_cast<long double>(INT64_MAX)) return std::nullopt;
    s.remove_prefix(u);
  }
  auto ns = static_cast<int64_t>(std::llround(total));
  return Duration(neg ? -ns : ns);
}

namespace {
// Writes v/10^prec with trailing zeros (and a bare '.') removed.
std::string fraction(uint64_t v, int prec) {
  std::string digits = std::to_string(v);
  if (static_cast<int>(digits.size()) <= prec) digits.insert(0, prec + 1 - digits.size(), '0');
  std::string intPart = digits.substr(0, digits.size() - prec);
  std::string frac = digits.substr(digits.size() - prec);
  while (!frac.empty() && frac.back() == '0') frac.pop_back();
  return frac.empty() ? intPart : intPart + "." + frac;
}
}  // namespace

std::string formatDuration(Duration d) {
  int64_t n = d.count();
  if (n == 0) return "0s";
  std::string sign = n < 0 ? "-" : "";
  uint64_t u = n < 0 ? static_cast<uint64_t>(-(n + 1)) + 1 : static_cast<uint64_t>(n);
  if (u < 1000) return sign + std::to_string(u) + "ns";
  if (u < 1000000) return sign + fraction(u, 3) + "µs";
  if (u < 1000000000) return sign + fraction(u, 6) + "ms";
  uint64_t secNs = u % 60000000000ULL;
  uint64_t minutes = u / 60000000000ULL;
  std::string out = fraction(secNs, 9) + "s";
  if (minutes > 0) {
    uint64_t hours = minutes / 60;
    out = std::to_string(minutes % 60) + "m" + out;
    if (hours > 0) out = std::to_string(hours) + "h" + out;
  }
  return sign + out;
}

}  // namespace nsq
