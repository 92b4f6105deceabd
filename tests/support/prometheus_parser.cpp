// The strict exposition-format parser: a line-at-a-time scanner with a tiny cursor per line.
#include "support/prometheus_parser.h"

#include <cmath>
#include <cstdlib>
#include <set>
#include <stdexcept>
#include <vector>

namespace nsq::test {

namespace {

bool isNameStart(char c, bool colon) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');
}
bool isNameChar(char c, bool colon) { return isNameStart(c, colon) || (c >= '0' && c <= '9'); }

struct Cursor {
  const std::string& s;
  std::size_t pos = 0;
  int lineNo;
  [[noreturn]] void fail(const std::string& why) const {
    throw std::runtime_error("line " + std::to_string(lineNo) + ": " + why + ": \"" + s + "\"");
  }
  bool done() const { return pos >= s.size(); }
  char peek() const { return done() ? '\0' : s[pos]; }
  void expect(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++pos;
  }
  std::string name(bool colon) {
    std::size_t start = pos;
    if (!isNameStart(peek(), colon)) fail("bad name start");
    while (!done() && isNameChar(s[pos], colon)) ++pos;
    return s.substr(start, pos - start);
  }
  std::string rest() {
    std::string r = s.substr(pos);
    pos = s.size();
    return r;
  }
};

double parseValue(Cursor& c) {
  std::string text = c.rest();
  if (text == "NaN") return NAN;
  if (text == "+Inf") return INFINITY;
  if (text == "-Inf") return -INFINITY;
  if (text.empty() || text.find(' ') != std::string::npos) c.fail("bad value (or a timestamp)");
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (*end != '\0') c.fail("bad value");
  return v;
}

}  // namespace

std::optional<double> PromExposition::value(const std::string& name, const PromLabels& labels) const {
  auto it = samples.find({name, labels});
  if (it == samples.end()) return std::nullopt;
  return it->second;
}

std::size_t PromExposition::seriesCount(const std::string& name) const {
  std::size_t n = 0;
  for (const auto& [key, v] : samples) n += key.first == name ? 1 : 0;
  return n;
}

PromExposition parsePrometheusText(const std::string& text) {
  PromExposition out;
  if (text.empty()) throw std::runtime_error("empty exposition");
  if (text.back() != '\n') throw std::runtime_error("exposition does not end with a newline");
  std::set<std::string> finished;  // families whose samples are over
  std::string current;             // family whose samples are being read
  // Per summary family: label sets (quantile left out) seen with quantiles, with _sum, _count.
  std::map<std::string, std::set<PromLabels>> summarySeries, summarySums, summaryCounts;
  std::size_t start = 0;
  int lineNo = 0;
  while (start < text.size()) {
    std::size_t nl = text.find('\n', start);
    std::string line = text.substr(start, nl - start);
    start = nl + 1;
    Cursor c{line, 0, ++lineNo};
    if (line.empty()) c.fail("empty line");
    if (line[0] == '#') {
      c.expect('#');
      c.expect(' ');
      std::string keyword = c.name(false);
      c.expect(' ');
      std::string family = c.name(true);
      if (out.types.count(family) && finished.count(family)) c.fail("family reopened");
      if (keyword == "HELP") {
        if (out.help.count(family)) c.fail("second HELP");
        if (out.types.count(family) && current == family) c.fail("HELP after samples");
        c.expect(' ');
        std::string raw = c.rest(), help;
        for (std::size_t i = 0; i < raw.size(); ++i) {
          if (raw[i] != '\\') {
            help += raw[i];
            continue;
          }
          if (++i >= raw.size()) c.fail("dangling escape in HELP");
          if (raw[i] == '\\') help += '\\';
          else if (raw[i] == 'n') help += '\n';
          else c.fail("bad escape in HELP");
        }
        out.help[family] = help;
      } else if (keyword == "TYPE") {
        if (out.types.count(family)) c.fail("second TYPE");
        c.expect(' ');
        std::string type = c.rest();
        if (type != "counter" && type != "gauge" && type != "summary")
          c.fail("unknown TYPE (we only emit counter, gauge and summary)");
        if (type == "counter" && !family.ends_with("_total")) c.fail("counter name without _total");
        out.types[family] = type;
      } else {
        c.fail("comment that is neither HELP nor TYPE");
      }
      continue;
    }
    std::string name = c.name(true);
    // A summary's samples are <family>{quantile=...}, <family>_sum and <family>_count.
    std::string family = name, suffix;
    for (std::string s : {"_sum", "_count"}) {
      if (out.types.count(name) || !name.ends_with(s)) continue;
      std::string base = name.substr(0, name.size() - s.size());
      auto t = out.types.find(base);
      if (t != out.types.end() && t->second == "summary") {
        family = base;
        suffix = s;
      }
    }
    if (!out.types.count(family)) c.fail("sample before its TYPE");
    if (!out.help.count(family)) c.fail("sample without HELP");
    if (family != current) {
      if (finished.count(family)) c.fail("family samples not contiguous");
      if (!current.empty()) finished.insert(current);
      current = family;
    }
    PromLabels labels;
    if (c.peek() == '{') {
      c.expect('{');
      while (c.peek() != '}') {
        std::string label = c.name(false);
        if (label.starts_with("__")) c.fail("reserved label name");
        c.expect('=');
        c.expect('"');
        std::string value;
        for (;;) {
          if (c.done()) c.fail("unterminated label value");
          char ch = line[c.pos++];
          if (ch == '"') break;
          if (ch == '\\') {
            char e = c.peek();
            ++c.pos;
            if (e == '\\') value += '\\';
            else if (e == '"') value += '"';
            else if (e == 'n') value += '\n';
            else c.fail("bad escape in label value");
          } else {
            value += ch;
          }
        }
        if (!labels.emplace(label, value).second) c.fail("duplicate label");
        if (c.peek() == ',') {
          c.expect(',');
          if (c.peek() == '}') c.fail("trailing comma");
        } else if (c.peek() != '}') {
          c.fail("expected ',' or '}'");
        }
      }
      c.expect('}');
    }
    c.expect(' ');
    double v = parseValue(c);
    if (out.types[family] == "summary") {
      auto q = labels.find("quantile");
      if (suffix.empty()) {
        if (q == labels.end()) c.fail("summary quantile sample without a quantile label");
        char* end = nullptr;
        double qv = std::strtod(q->second.c_str(), &end);
        if (q->second.empty() || *end != '\0' || !(qv >= 0 && qv <= 1)) c.fail("quantile label not in [0, 1]");
        PromLabels rest = labels;
        rest.erase("quantile");
        summarySeries[family].insert(rest);
      } else {
        if (q != labels.end()) c.fail("quantile label on " + suffix);
        if (suffix == "_count" && (v < 0 || v != std::floor(v))) c.fail("summary count not a whole number");
        (suffix == "_sum" ? summarySums : summaryCounts)[family].insert(labels);
      }
    } else if (labels.count("quantile")) {
      c.fail("quantile label outside a summary");
    }
    if (!out.samples.emplace(std::make_pair(name, labels), v).second) c.fail("duplicate series");
  }
  for (const auto& [family, series] : summarySeries)
    for (const auto& labels : series)
      if (!summarySums[family].count(labels) || !summaryCounts[family].count(labels))
        throw std::runtime_error("summary " + family + " has a series without _sum or _count");
  return out;
}

}  // namespace nsq::test
