// TailFormat: the escapes are resolved first, then the template is cut into literal runs and
// directives once at start, so a message costs only the appends into the caller's buffer.
#include "nsq_tail/tail_format.h"

#include <cstdio>
#include <ctime>

#include "nsq/base/escapes.h"

namespace nsq::tools {

std::optional<TailFormat> TailFormat::parse(const std::string& spec, std::string* error) {
  // Directives are found before escapes are resolved, so "\x25b" is a literal "%b".
  TailFormat f;
  std::string literal;
  auto flush = [&]() -> bool {
    if (literal.empty()) return true;
    std::string why;
    auto bytes = unescape(literal, &why);
    if (!bytes) {
      *error = why;
      return false;
    }
    f.pieces_.push_back({Part::Literal, std::move(*bytes)});
    literal.clear();
    return true;
  };
  for (std::size_t i = 0; i < spec.size(); ++i) {
    if (spec[i] != '%') {
      literal += spec[i];
      if (spec[i] == '\\' && i + 1 < spec.size()) literal += spec[++i];  // keep "\%" out of directives
      continue;
    }
    if (i + 1 == spec.size()) {
      *error = "a trailing % names no field";
      return std::nullopt;
    }
    char c = spec[++i];
    if (c == '%') {
      literal += '%';
      continue;
    }
    Part p;
    switch (c) {
      case 'b': p = Part::Body; break;
      case 'l': p = Part::Length; break;
      case 'T': p = Part::Topic; break;
      case 'i': p = Part::Id; break;
      case 'a': p = Part::Attempts; break;
      case 't': p = Part::Timestamp; break;
      case 'd': p = Part::Date; break;
      default:
        *error = std::string("unknown field %") + c + " (use %b %l %T %i %a %t %d or %%)";
        return std::nullopt;
    }
    if (!flush()) return std::nullopt;
    f.pieces_.push_back({p, {}});
  }
  if (!flush()) return std::nullopt;
  return f;
}

void TailFormat::render(const Message& m, std::string_view topic, std::string& out) const {
  for (const auto& piece : pieces_) {
    switch (piece.part) {
      case Part::Literal: out += piece.literal; break;
      case Part::Body: out += m.body.view(); break;
      case Part::Length: out += std::to_string(m.body.size()); break;
      case Part::Topic: out += topic; break;
      case Part::Id: out += m.id.view(); break;
      case Part::Attempts: out += std::to_string(m.attempts); break;
      case Part::Timestamp: out += std::to_string(m.timestamp); break;
      case Part::Date: {
        std::time_t secs = static_cast<std::time_t>(m.timestamp / 1000000000);
        long nanos = static_cast<long>(m.timestamp % 1000000000);
        if (nanos < 0) {
          nanos += 1000000000;
          secs -= 1;
        }
        std::tm tm{};
        ::gmtime_r(&secs, &tm);
        char buf[64];
        std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
        std::snprintf(buf + n, sizeof buf - n, ".%09ldZ", nanos);
        out += buf;
        break;
      }
    }
  }
}

}  // namespace nsq::tools
