#pragma once
// Backslash escapes in flag values that must hold bytes a shell cannot pass in argv (NUL) or
// that are awkward to type: to_nsq --delimiter and nsq_tail --format. C's spelling: \n \t \r
// \0 \\ and \xHH (two hex digits).
#include <optional>
#include <string>
#include <string_view>

namespace nsq {

// The value of one hex digit (0-9, a-f, A-F), or -1.
int hexDigitValue(char c);

// The bytes text stands for, or nullopt with *error naming the bad escape ("unknown escape \q",
// "\x needs two hex digits"). Never throws.
std::optional<std::string> unescape(std::string_view text, std::string* error);

}  // namespace nsq
