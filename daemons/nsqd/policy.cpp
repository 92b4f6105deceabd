// Policy: parsing and resolving the per-topic message policies (policy.h). The regexes are
// RE2 (Debian's libre2), whose syntax is Go's regexp: a `match` written for a Go tool means the
// same here (std::regex's ECMAScript differs: no (?i) flags, no \z, no (?P<name>)). They are
// compiled once at load and matched only when a topic is created or the list is reloaded, never
// per message. The one non-obvious rule is the dead-letter chain check: a topic's dead letters must
// not, through the dead-letter topics' own policies, come back to a topic already in the chain.
#include "nsqd/policy.h"

#include <re2/re2.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "nsq/base/json_text.h"
#include "nsq/base/names.h"
#include "nsq/base/number.h"
#include "nsq/base/options.h"
#include "nsqd/options.h"

namespace nsq::nsqd {

namespace {
constexpr int kMaxChain = 16;  // dead-letter hops before a chain counts as never ending
constexpr int64_t kMaxAttemptsLimit = 65535;  // a message's attempts field is 16 bits
}  // namespace

const char* overflowName(Overflow o) { return o == Overflow::DropOldest ? "drop_oldest" : "reject"; }

std::optional<Overflow> parseOverflow(const std::string& text) {
  if (text == "reject") return Overflow::Reject;
  if (text == "drop_oldest") return Overflow::DropOldest;
  return std::nullopt;
}

std::string TopicPolicy::json() const {
  std::string out = "{\"match\":" + jsonQuote(match);
  out += ",\"max_attempts\":" + std::to_string(maxAttempts);
  out += ",\"dead_letter_topic\":" + jsonQuote(maxAttempts > 0 ? deadLetterTopic : "");
  out += ",\"message_ttl\":" + jsonQuote(formatDuration(messageTtl));
  out += ",\"max_depth\":" + std::to_string(maxDepth);
  out += ",\"overflow\":" + jsonQuote(overflowName(overflow)) + "}";
  return out;
}

PolicySet::PolicySet() = default;

PolicySet::PolicySet(const NsqdOptions& o) {
  defaults_.maxAttempts = o.maxAttempts;
  defaults_.messageTtl = o.messageTtl;
  defaults_.maxDepth = o.maxDepth;
  defaults_.overflow = parseOverflow(o.overflow).value_or(Overflow::Reject);
}

std::shared_ptr<const PolicySet> PolicySet::load(const std::string& path, const NsqdOptions& defaults) {
  if (path.empty()) return std::make_shared<PolicySet>(defaults);
  std::ifstream in(path);
  if (!in) throw OptionError(path + ": cannot open config file");
  std::stringstream buf;
  buf << in.rdbuf();
  return fromYaml(buf.str(), path, defaults);
}

std::shared_ptr<const PolicySet> PolicySet::fromYaml(const std::string& text, const std::string& source,
                                                     const NsqdOptions& defaults) {
  auto set = std::make_shared<PolicySet>(defaults);
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw OptionError(source + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  if (!root.IsMap()) return set;
  const YAML::Node topics = root["topics"];
  if (!topics || topics.IsNull()) return set;
  auto at = [&source](const YAML::Node& n) { return source + ":" + std::to_string(n.Mark().line + 1) + ": "; };
  if (!topics.IsSequence()) throw OptionError(at(topics) + "key \"topics\" must be a list of policies");
  for (const auto& item : topics) {
    if (!item.IsMap())
      throw OptionError(at(item) + "key \"topics\": each entry must be a mapping with a \"match\" key");
    Entry e;
    e.line = item.Mark().line + 1;
    bool hasMatch = false;
    for (auto it = item.begin(); it != item.end(); ++it) {
      const std::string key = it->first.as<std::string>();
      const YAML::Node v = it->second;
      const std::string where = at(it->first) + "key \"" + key + "\": ";
      if (!v.IsScalar()) throw OptionError(where + "must be a plain value");
      const std::string value = v.Scalar();
      auto integer = [&](int64_t max) {
        ParsedInt n = parseInt(value, 0, max);
        if (!n) throw OptionError(where + "\"" + value + "\" is not an integer in range 0-" + std::to_string(max));
        return *n;
      };
      if (key == "match") {
        hasMatch = true;
        e.pattern = value;
        RE2::Options reOpts;
        reOpts.set_log_errors(false);
        auto re = std::make_shared<const RE2>(value, reOpts);
        if (!re->ok()) throw OptionError(where + "bad regex \"" + value + "\": " + re->error());
        e.re = std::move(re);
      } else if (key == "max_attempts") {
        e.maxAttempts = integer(kMaxAttemptsLimit);
      } else if (key == "dead_letter_topic") {
        if (!isValidTopicName(value)) throw OptionError(where + "invalid topic name \"" + value + "\"");
        e.deadLetterTopic = value;
      } else if (key == "message_ttl") {
        auto d = parseDuration(value);
        if (!d || d->count() < 0) throw OptionError(where + "\"" + value + "\" is not a duration >= 0 (e.g. 24h)");
        e.messageTtl = *d;
      } else if (key == "max_depth") {
        e.maxDepth = integer(kInt64Max);
      } else if (key == "overflow") {
        auto o = parseOverflow(value);
        if (!o) throw OptionError(where + "\"" + value + "\" is not reject or drop_oldest");
        e.overflow = *o;
      } else {
        throw OptionError(at(it->first) + "unknown key \"" + key + "\" in a topics entry");
      }
    }
    if (!hasMatch) throw OptionError(at(item) + "key \"match\": missing in a topics entry");
    set->entries_.push_back(std::move(e));
  }
  // Named dead-letter topics: the chain from each must end.
  for (const auto& e : set->entries_) {
    if (!e.deadLetterTopic) continue;
    const int64_t attempts = e.maxAttempts.value_or(set->defaults_.maxAttempts);
    if (attempts <= 0) continue;
    // A chain that reaches a topic this entry matches first comes back to the same name.
    std::string loop = set->chainLoop(*e.deadLetterTopic);
    if (!loop.empty())
      throw OptionError(source + ":" + std::to_string(e.line) + ": key \"dead_letter_topic\": dead letters of \"" +
                        e.pattern + "\" would loop: " + loop);
  }
  return set;
}

std::shared_ptr<TopicPolicy> PolicySet::resolveRaw(const std::string& topic) const {
  auto p = std::make_shared<TopicPolicy>(defaults_);
  for (const auto& e : entries_) {
    if (!RE2::PartialMatch(topic, *e.re)) continue;
    p->match = e.pattern;
    if (e.maxAttempts) p->maxAttempts = *e.maxAttempts;
    if (e.deadLetterTopic) p->deadLetterTopic = *e.deadLetterTopic;
    if (e.messageTtl) p->messageTtl = *e.messageTtl;
    if (e.maxDepth) p->maxDepth = *e.maxDepth;
    if (e.overflow) p->overflow = *e.overflow;
    break;
  }
  if (p->maxAttempts > 0 && p->deadLetterTopic.empty()) {
    // "<topic>.dead", keeping an #ephemeral suffix last. A ".dead" topic itself gets no default
    // dead-letter topic (which would start an endless x.dead.dead... chain): its messages stay.
    std::string base = topic;
    bool eph = isEphemeral(base);
    if (eph) base.resize(base.size() - kEphemeralSuffix.size());
    if (base.ends_with(".dead"))
      p->maxAttempts = 0;
    else
      p->deadLetterTopic = base + ".dead" + (eph ? std::string(kEphemeralSuffix) : "");
  }
  if (!p->active()) return nullptr;
  return p;
}

std::string PolicySet::chainLoop(const std::string& topic) const {
  std::vector<std::string> seen{topic};
  std::string chain = topic;
  std::string cur = topic;
  for (int hop = 0; hop <= kMaxChain; ++hop) {
    auto p = resolveRaw(cur);
    if (!p || p->maxAttempts <= 0 || !isValidTopicName(p->deadLetterTopic)) return "";
    cur = p->deadLetterTopic;
    chain += " -> " + cur;
    if (std::find(seen.begin(), seen.end(), cur) != seen.end()) return chain;
    seen.push_back(cur);
  }
  return chain + " -> ... (more than " + std::to_string(kMaxChain) + " hops)";
}

std::shared_ptr<const TopicPolicy> PolicySet::resolve(const std::string& topic, std::string* warning) const {
  auto p = resolveRaw(topic);
  if (!p || p->maxAttempts <= 0) return p;
  std::string why;
  if (!isValidTopicName(p->deadLetterTopic))
    why = "dead-letter topic \"" + p->deadLetterTopic + "\" is not a valid topic name";
  else if (std::string loop = chainLoop(topic); !loop.empty())
    why = "dead letters would loop: " + loop;
  if (!why.empty()) {
    // Never dead-letter into a loop: the message stays on its channel (redelivered, as today).
    if (warning) *warning = "topic " + topic + ": " + why + "; max_attempts not applied";
    p->maxAttempts = 0;
    p->deadLetterTopic.clear();
    if (!p->active()) return nullptr;
  }
  return p;
}

}  // namespace nsq::nsqd
