#pragma once
// The one parser for integers that come from outside: protocol parameters, IDENTIFY and auth
// JSON, HTTP query arguments, config values, metadata files. It never throws; the caller turns
// a NumberError into its own E_* frame or HTTP status, naming the field.
//
// Why not Poco or std::stoll: Poco's Var::convert<int64_t>() throws RangeException for a JSON
// 2^63 (it arrives as UInt64), and an uncaught one once aborted nsqd from a single IDENTIFY;
// std::stoll throws too, and std::from_chars knows neither bounds nor Go's spellings.
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace Poco::Dynamic {
class Var;
}

namespace nsq {

constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

enum class NumberError {
  None,
  Syntax,  // not an integer at all: empty, stray characters, a fraction, a JSON string or bool
  Range,   // an integer, but outside [min, max] (however many digits it has)
};

struct ParsedInt {
  NumberError error = NumberError::None;
  int64_t value = 0;  // meaningful only when error == None

  explicit operator bool() const { return error == NumberError::None; }
  int64_t operator*() const { return value; }
};

// Which spellings parseInt accepts.
enum class IntSyntax {
  Decimal,  // Go's strconv.ParseInt(s, 10, 64): [+-]digits
  GoFlag,   // Go's strconv.ParseInt(s, 0, 64) as the flag package uses it: also 0x1f, 0o17,
            // 017 (octal), 0b101 and '_' between digits
};

// Parses the whole of text as an integer within [min, max]. Never throws; any thread.
[[nodiscard]] ParsedInt parseInt(std::string_view text, int64_t min = kInt64Min,
                                 int64_t max = kInt64Max,
                                 IntSyntax syntax = IntSyntax::Decimal) noexcept;

// Reads a JSON value (as Poco::JSON::Parser produced it) as an integer within [min, max].
// Integers of any width, including UInt64 above INT64_MAX, are compared exactly; a double is
// accepted only when it is finite and integral (JSON does not tell 30000 from 30000.0);
// strings, booleans, null, arrays and objects are Syntax. Never throws.
//
// Poco's parser wraps integer literals outside [-2^63, 2^64-1] (2^64 arrives as 0, -2^63-1 as
// -2^63), so a value read from a parsed document is only trustworthy when
// findUnrepresentableJsonInteger() found nothing in its text.
[[nodiscard]] ParsedInt jsonInt(const Poco::Dynamic::Var& value, int64_t min = kInt64Min,
                                int64_t max = kInt64Max) noexcept;

// The first integer literal in a JSON text (outside strings; exponent and fraction forms are
// left alone) that Poco's parser cannot represent, i.e. below -2^63 or above 2^64-1; nullopt
// when there is none. The text need not be valid JSON. Check before parsing, and treat a hit
// as an undecodable body.
[[nodiscard]] std::optional<std::string_view> findUnrepresentableJsonInteger(std::string_view json) noexcept;

// 0..65535, a TCP or UDP port number.
[[nodiscard]] inline bool isPort(int64_t v) { return v >= 0 && v <= 65535; }

// Parses Go-style booleans (strconv.ParseBool): true/false/1/0/t/f/TRUE/FALSE/True/False;
// nullopt for anything else. Never throws. Here rather than with the options so the client
// library, which reads go-nsq boolean options too, does not pull in the option parser.
std::optional<bool> parseBool(const std::string& text);
// What parseBool() accepts, for error messages: "(use true or false; also 1/0, t/f, T/F, TRUE/FALSE, True/False)".
extern const char* const kBoolValuesHelp;

}  // namespace nsq
