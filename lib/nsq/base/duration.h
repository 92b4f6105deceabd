#pragma once
// Go time.Duration syntax, as NSQ's flags use it: "250ms", "30s", "1m30s", "1h", "1.5s", "0".
// Units ns, us (µs), ms, s, m, h; a bare number other than 0 is an error.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace nsq {

using Duration = std::chrono::nanoseconds;

std::optional<Duration> parseDuration(std::string_view text);
// Go's String() form: "1m0s", "250ms", "0s".
std::string formatDuration(Duration d);

}  // namespace nsq
