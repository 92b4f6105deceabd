#pragma once
// Per-topic message policies (ours, not upstream's): max attempts with a dead-letter topic, a
// message TTL and a bounded depth with an overflow rule. A PolicySet is the `topics:` list of
// nsqd's YAML (ordered entries, each a regex on the topic name; the first match applies) over
// the defaults from --max-attempts, --message-ttl, --max-depth and --overflow. A topic that no
// rule touches resolves to a null policy and behaves exactly as without this feature.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nsq/base/duration.h"

namespace re2 {
class RE2;
}  // namespace re2

namespace nsq::nsqd {

struct NsqdOptions;

enum class Overflow { Reject, DropOldest };

// "reject" / "drop_oldest".
const char* overflowName(Overflow o);
std::optional<Overflow> parseOverflow(const std::string& text);

// The effective policy of one topic (and of each of its channels). Immutable once resolved;
// shared by the topic and its channels.
struct TopicPolicy {
  int64_t maxAttempts = 0;      // per channel; 0 = unlimited
  std::string deadLetterTopic;  // resolved: never empty when maxAttempts > 0
  Duration messageTtl{0};       // from the publish timestamp; 0 = none
  int64_t maxDepth = 0;         // messages queued (memory + disk + deferred), per queue; 0 = none
  Overflow overflow = Overflow::Reject;
  std::string match;            // the entry that applied ("" = the flag defaults)

  // Any rule at all; a policy without one is never attached to a topic.
  bool active() const { return maxAttempts > 0 || messageTtl.count() > 0 || maxDepth > 0; }
  // {"match":...,"max_attempts":...,"dead_letter_topic":...,"message_ttl":"24h0m0s",
  //  "max_depth":...,"overflow":"reject"}
  std::string json() const;
};

class PolicySet {
 public:
  // Only the flag defaults.
  explicit PolicySet(const NsqdOptions& defaults);
  PolicySet();  // no rule at all

  // Parses the `topics:` list of a YAML document (other keys are ignored: the option table
  // owns them) on top of the defaults. Throws OptionError naming "<source>:<line>: ..." and the
  // key: bad regex, unknown key, bad value, invalid dead-letter topic name, a dead-letter chain
  // that loops. source is the file's path.
  static std::shared_ptr<const PolicySet> fromYaml(const std::string& text, const std::string& source,
                                                   const NsqdOptions& defaults);
  // Reads path (empty: flags only) and calls fromYaml. Throws OptionError.
  static std::shared_ptr<const PolicySet> load(const std::string& path, const NsqdOptions& defaults);

  // The effective policy for topic: the first matching entry's keys over the defaults, with the
  // dead-letter topic filled in ("<topic>.dead" unless given); null when no rule applies. A topic
  // named "*.dead" gets no default dead-letter topic (max_attempts off unless its entry names
  // one), so default chains end after one hop; named chains are checked for loops at load. A
  // dead-letter name that is not a valid topic name turns max_attempts off and *warning says
  // why. Any thread.
  std::shared_ptr<const TopicPolicy> resolve(const std::string& topic, std::string* warning = nullptr) const;

  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::string pattern;
    std::shared_ptr<const re2::RE2> re;  // Go's regexp syntax
    int line = 0;
    std::optional<int64_t> maxAttempts;
    std::optional<std::string> deadLetterTopic;
    std::optional<Duration> messageTtl;
    std::optional<int64_t> maxDepth;
    std::optional<Overflow> overflow;
  };
  // Policy by the first match, without the chain check.
  std::shared_ptr<TopicPolicy> resolveRaw(const std::string& topic) const;
  // "" when topic's dead-letter chain ends; else the chain that loops, "a -> b -> a".
  std::string chainLoop(const std::string& topic) const;

  TopicPolicy defaults_;
  std::vector<Entry> entries_;
};

}  // namespace nsq::nsqd
