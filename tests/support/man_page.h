#pragma once
// Reads the flag names a troff man page documents in its OPTIONS section (the .B/.BI line after
// each .TP), so tests can hold --help and the man page to the same option table.
#include <set>
#include <string>

namespace nsq::test {

std::set<std::string> manPageFlags(const std::string& path);

}  // namespace nsq::test
