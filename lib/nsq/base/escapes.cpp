// unescape(): C-style backslash escapes for the tools' byte-valued flags. A lone trailing
// backslash is an error rather than a literal, so a value cut short by shell quoting is caught.
#include "nsq/base/escapes.h"

namespace nsq {

int hexDigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> unescape(std::string_view text, std::string* error) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') {
      out += text[i];
      continue;
    }
    if (++i == text.size()) {
      *error = "a trailing \\ escapes nothing";
      return std::nullopt;
    }
    switch (text[i]) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case '0': out += '\0'; break;
      case '\\': out += '\\'; break;
      case 'x': {
        int hi = i + 1 < text.size() ? hexDigitValue(text[i + 1]) : -1;
        int lo = i + 2 < text.size() ? hexDigitValue(text[i + 2]) : -1;
        if (hi < 0 || lo < 0) {
          *error = "\\x needs two hex digits";
          return std::nullopt;
        }
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        break;
      }
      default:
        *error = std::string("unknown escape \\") + text[i] + " (use \\n \\t \\r \\0 \\\\ or \\xHH)";
        return std::nullopt;
    }
  }
  return out;
}

}  // namespace nsq
