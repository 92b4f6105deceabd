#pragma once
// Helpers for writing JSON by hand: the replies have fixed shapes, and writing them
// directly keeps key order stable and avoids Poco's "\/" escaping.
#include <charconv>
#include <cmath>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace nsq {

inline std::string jsonQuote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
  return out;
}

// A float64 as Go's encoding/json writes it: shortest round-trip digits, plain notation unless
// the magnitude is below 1e-6 or at least 1e21 (then "1e-7", "1e+21"). Integral values have no
// decimal point ("1", "2174529418"). NaN and infinities (invalid JSON) become 0.
inline std::string jsonNumber(double v) {
  if (!std::isfinite(v)) return "0";
  char buf[64];
  double a = std::fabs(v);
  bool sci = a != 0 && (a < 1e-6 || a >= 1e21);
  auto res = std::to_chars(buf, buf + sizeof buf, v, sci ? std::chars_format::scientific : std::chars_format::fixed);
  std::string out(buf, res.ptr);
  auto e = out.find("e-0");
  if (sci && e != std::string::npos && e + 4 == out.size()) out.erase(e + 2, 1);  // e-07 -> e-7
  return out;
}

inline std::string jsonStringArray(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + jsonQuote(items[i]);
  return out + "]";
}

}  // namespace nsq
