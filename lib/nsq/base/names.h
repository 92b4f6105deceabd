#pragma once
// Topic and channel name rules (NSQ-COMPAT §1.3): ^[.a-zA-Z0-9_-]+(#ephemeral)?$, 1..64 bytes
// including the suffix.
#include <string_view>

namespace nsq {

constexpr std::string_view kEphemeralSuffix = "#ephemeral";
constexpr std::size_t kMaxNameLength = 64;

bool isValidName(std::string_view name);
inline bool isValidTopicName(std::string_view name) { return isValidName(name); }
inline bool isValidChannelName(std::string_view name) { return isValidName(name); }
inline bool isEphemeral(std::string_view name) { return name.ends_with(kEphemeralSuffix); }

}  // namespace nsq
