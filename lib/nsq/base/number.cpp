// Range-checked integer parsing (number.h). Digits are accumulated in a uint64 with an overflow
// flag and the whole text is still scanned, so "99999999999999999999x" is Syntax and a
// thousand-digit number is Range, both without undefined behaviour or exceptions.
#include "nsq/base/number.h"

#include <Poco/Dynamic/Var.h>

#include <cmath>
#include <typeinfo>

namespace nsq {

namespace {

constexpr uint64_t kMinMagnitude = uint64_t{1} << 63;  // |INT64_MIN|

int digitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'z') return c - 'a' + 10;
  if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
  return 99;
}

ParsedInt fromMagnitude(bool negative, uint64_t magnitude, bool overflow, int64_t min, int64_t max) {
  if (overflow || magnitude > (negative ? kMinMagnitude : static_cast<uint64_t>(kInt64Max)))
    return {NumberError::Range, 0};
  int64_t v = negative ? (magnitude == kMinMagnitude ? kInt64Min : -static_cast<int64_t>(magnitude))
                       : static_cast<int64_t>(magnitude);
  if (v < min || v > max) return {NumberError::Range, 0};
  return {NumberError::None, v};
}

ParsedInt inRange(int64_t v, int64_t min, int64_t max) {
  if (v < min || v > max) return {NumberError::Range, 0};
  return {NumberError::None, v};
}

}  // namespace

ParsedInt parseInt(std::string_view s, int64_t min, int64_t max, IntSyntax syntax) noexcept {
  bool negative = false;
  if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return {NumberError::Syntax, 0};
  unsigned base = 10;
  bool prefixed = false;  // an explicit 0x/0o/0b: '_' may follow it directly
  if (syntax == IntSyntax::GoFlag && s.front() == '0' && s.size() > 1) {
    char p = static_cast<char>(s[1] | 0x20);
    if (s.size() >= 3 && (p == 'x' || p == 'o' || p == 'b')) {
      base = p == 'x' ? 16 : p == 'o' ? 8 : 2;
      s.remove_prefix(2);
      prefixed = true;
    } else {
      base = 8;  // Go: a leading 0 means octal
      s.remove_prefix(1);
    }
  }
  uint64_t magnitude = 0;
  bool overflow = false;
  bool lastWasDigit = prefixed || (base == 8 && syntax == IntSyntax::GoFlag);
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '_' && syntax == IntSyntax::GoFlag) {
      // Go's underscoreOK: an underscore only separates digits (the base prefix counts as one).
      if (!lastWasDigit || i + 1 == s.size() || digitValue(s[i + 1]) >= static_cast<int>(base))
        return {NumberError::Syntax, 0};
      lastWasDigit = false;
      continue;
    }
    int d = digitValue(c);
    if (d >= static_cast<int>(base)) return {NumberError::Syntax, 0};
    lastWasDigit = true;
    if (overflow) continue;
    if (magnitude > (UINT64_MAX - static_cast<uint64_t>(d)) / base) {
      overflow = true;
      continue;
    }
    magnitude = magnitude * base + static_cast<uint64_t>(d);
  }
  if (prefixed && s.empty()) return {NumberError::Syntax, 0};
  return fromMagnitude(negative, magnitude, overflow, min, max);
}

ParsedInt jsonInt(const Poco::Dynamic::Var& v, int64_t min, int64_t max) noexcept {
  try {
    if (v.isEmpty() || v.type() == typeid(bool) || !v.isNumeric()) return {NumberError::Syntax, 0};
    if (v.isInteger()) {
      if (v.isSigned()) return inRange(v.convert<Poco::Int64>(), min, max);
      auto u = v.convert<Poco::UInt64>();
      if (u > static_cast<uint64_t>(kInt64Max)) return {NumberError::Range, 0};
      return inRange(static_cast<int64_t>(u), min, max);
    }
    double d = v.convert<double>();
    if (!std::isfinite(d) || std::trunc(d) != d) return {NumberError::Syntax, 0};
    // [-2^63, 2^63) holds exactly the doubles that convert to int64 without overflow.
    if (d < -9223372036854775808.0 || d >= 9223372036854775808.0) return {NumberError::Range, 0};
    return inRange(static_cast<int64_t>(d), min, max);
  } catch (...) {
    return {NumberError::Syntax, 0};
  }
}

std::optional<std::string_view> findUnrepresentableJsonInteger(std::string_view json) noexcept {
  constexpr std::string_view kMaxUnsigned = "18446744073709551615";  // 2^64 - 1
  constexpr std::string_view kMaxNegative = "9223372036854775808";   // |-2^63|
  auto isDigit = [](char c) { return c >= '0' && c <= '9'; };
  std::size_t i = 0;
  while (i < json.size()) {
    char c = json[i];
    if (c == '"') {  // skip the string, escapes included
      for (++i; i < json.size() && json[i] != '"'; ++i)
        if (json[i] == '\\') ++i;
      ++i;
      continue;
    }
    if (c != '-' && !isDigit(c)) {
      ++i;
      continue;
    }
    std::size_t start = i;
    bool negative = c == '-';
    if (negative) ++i;
    std::size_t digitsStart = i;
    while (i < json.size() && isDigit(json[i])) ++i;
    std::string_view digits = json.substr(digitsStart, i - digitsStart);
    bool integral = true;
    if (i < json.size() && json[i] == '.') {
      integral = false;
      for (++i; i < json.size() && isDigit(json[i]); ++i) {}
    }
    if (i < json.size() && (json[i] == 'e' || json[i] == 'E')) {
      integral = false;
      ++i;
      if (i < json.size() && (json[i] == '+' || json[i] == '-')) ++i;
      while (i < json.size() && isDigit(json[i])) ++i;
    }
    if (!integral || digits.empty()) continue;
    while (digits.size() > 1 && digits.front() == '0') digits.remove_prefix(1);
    std::string_view limit = negative ? kMaxNegative : kMaxUnsigned;
    if (digits.size() > limit.size() || (digits.size() == limit.size() && digits > limit))
      return json.substr(start, i - start);
  }
  return std::nullopt;
}

std::optional<bool> parseBool(const std::string& t) {
  if (t == "1" || t == "t" || t == "T" || t == "true" || t == "TRUE" || t == "True") return true;
  if (t == "0" || t == "f" || t == "F" || t == "false" || t == "FALSE" || t == "False") return false;
  return std::nullopt;
}

const char* const kBoolValuesHelp = "(use true or false; also 1/0, t/f, T/F, TRUE/FALSE, True/False)";

}  // namespace nsq
