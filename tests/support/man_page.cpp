// manPageFlags: troff OPTIONS-section flag extraction for the man-page tests.
#include "support/man_page.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace nsq::test {

namespace {
std::string unescapeTroff(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == '-') {
      out += '-';
      ++i;
    } else if (s[i] == '"') {
      continue;
    } else {
      out += s[i];
    }
  }
  return out;
}
}  // namespace

std::set<std::string> manPageFlags(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::set<std::string> flags;
  std::string line, prev;
  bool inOptions = false;
  while (std::getline(in, line)) {
    if (line.rfind(".SH", 0) == 0) inOptions = line.find("OPTIONS") != std::string::npos;
    if (inOptions && prev == ".TP" && (line.rfind(".B ", 0) == 0 || line.rfind(".BI ", 0) == 0)) {
      std::istringstream words(unescapeTroff(line.substr(line.find(' ') + 1)));
      std::string w;
      while (words >> w) {
        if (!w.empty() && w.back() == ',') w.pop_back();
        if (w.rfind("--", 0) == 0) flags.insert(w.substr(2));
        else if (w.rfind("-", 0) == 0 && w.size() > 1) flags.insert(w.substr(1));
      }
    }
    prev = line;
  }
  return flags;
}

}  // namespace nsq::test
