// RegistrationDB: an ordered map from registration key to the producers that announced it, under
// one mutex. Ordered maps keep /topics, /channels and producer lists sorted and deterministic;
// the data set is one entry per (nsqd, topic/channel), so a full scan per wildcard is cheap.
#include "nsqlookupd/registration_db.h"

#include <algorithm>
#include <set>

namespace nsq::lookupd {

int64_t RegistrationDB::systemNow() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool Registration::matches(const std::string& c, const std::string& k, const std::string& s) const {
  if (category != c) return false;
  if (k != "*" && key != k) return false;
  if (s != "*" && subKey != s) return false;
  return true;
}

void RegistrationDB::addRegistration(const Registration& r) {
  std::lock_guard lock(mu_);
  registrations_.try_emplace(r);
}

bool RegistrationDB::addProducer(const Registration& r, PeerPtr peer) {
  std::lock_guard lock(mu_);
  auto& producers = registrations_[r];
  std::string id = peer->id;
  return producers.try_emplace(id, Producer{std::move(peer)}).second;
}

std::pair<bool, std::size_t> RegistrationDB::removeProducerLocked(const Registration& r,
                                                                  const std::string& id) {
  auto it = registrations_.find(r);
  if (it == registrations_.end()) return {false, 0};
  bool removed = it->second.erase(id) > 0;
  return {removed, it->second.size()};
}

std::pair<bool, std::size_t> RegistrationDB::removeProducer(const Registration& r,
                                                            const std::string& id) {
  std::lock_guard lock(mu_);
  return removeProducerLocked(r, id);
}

bool RegistrationDB::removeRegistration(const Registration& r) {
  std::lock_guard lock(mu_);
  return registrations_.erase(r) > 0;
}

std::vector<Registration> RegistrationDB::findRegistrations(const std::string& category,
                                                            const std::string& key,
                                                            const std::string& subKey) const {
  std::lock_guard lock(mu_);
  std::vector<Registration> out;
  if (key != "*" && subKey != "*") {
    Registration r{category, key, subKey};
    if (registrations_.count(r)) out.push_back(r);
    return out;
  }
  for (const auto& [r, producers] : registrations_)
    if (r.matches(category, key, subKey)) out.push_back(r);
  return out;
}

std::vector<Producer> RegistrationDB::findProducers(const std::string& category,
                                                    const std::string& key,
                                                    const std::string& subKey) const {
  std::lock_guard lock(mu_);
  std::map<std::string, Producer> byId;
  for (const auto& [r, producers] : registrations_) {
    if (!r.matches(category, key, subKey)) continue;
    for (const auto& [id, p] : producers) byId.try_emplace(id, p);
  }
  std::vector<Producer> out;
  out.reserve(byId.size());
  for (auto& [id, p] : byId) out.push_back(std::move(p));
  return out;
}

std::vector<Registration> RegistrationDB::lookupRegistrations(const std::string& peerId) const {
  std::lock_guard lock(mu_);
  std::vector<Registration> out;
  for (const auto& [r, producers] : registrations_)
    if (producers.count(peerId)) out.push_back(r);
  return out;
}

std::map<Registration, std::vector<Producer>> RegistrationDB::snapshot() const {
  std::lock_guard lock(mu_);
  std::map<Registration, std::vector<Producer>> out;
  for (const auto& [r, producers] : registrations_) {
    auto& list = out[r];
    for (const auto& [id, p] : producers) list.push_back(p);
  }
  return out;
}

std::vector<Registration> RegistrationDB::registerProducer(PeerPtr peer, const std::string& topic,
                                                           const std::string& channel) {
  std::lock_guard lock(mu_);
  std::vector<Registration> added;
  std::vector<Registration> keys;
  if (!channel.empty()) keys.push_back({"channel", topic, channel});
  keys.push_back({"topic", topic, ""});
  for (const auto& r : keys)
    if (registrations_[r].try_emplace(peer->id, Producer{peer}).second) added.push_back(r);
  return added;
}

std::vector<Registration> RegistrationDB::unregisterProducer(const std::string& peerId,
                                                             const std::string& topic,
                                                             const std::string& channel) {
  std::lock_guard lock(mu_);
  std::vector<Registration> removed;
  if (!channel.empty()) {
    Registration r{"channel", topic, channel};
    auto [gone, left] = removeProducerLocked(r, peerId);
    if (gone) removed.push_back(r);
    if (left == 0 && channel.ends_with("#ephemeral")) registrations_.erase(r);
    return removed;
  }
  // Topic unregistration also leaves every channel of the topic (nsqd normally sends the
  // channel UNREGISTERs first, so this rarely finds anything).
  for (auto it = registrations_.lower_bound({"channel", topic, ""});
       it != registrations_.end() && it->first.category == "channel" && it->first.key == topic;
       ++it)
    if (it->second.erase(peerId)) removed.push_back(it->first);
  Registration r{"topic", topic, ""};
  auto [gone, left] = removeProducerLocked(r, peerId);
  if (gone) removed.push_back(r);
  if (left == 0 && topic.ends_with("#ephemeral")) registrations_.erase(r);
  return removed;
}

std::vector<Registration> RegistrationDB::removePeer(const std::string& peerId) {
  std::lock_guard lock(mu_);
  std::vector<Registration> removed;
  for (auto& [r, producers] : registrations_)
    if (producers.erase(peerId)) removed.push_back(r);
  return removed;
}

void RegistrationDB::deleteTopic(const std::string& topic) {
  std::lock_guard lock(mu_);
  std::erase_if(registrations_, [&](const auto& kv) {
    const Registration& r = kv.first;
    return (r.category == "channel" || r.category == "topic") && r.key == topic;
  });
}

int RegistrationDB::tombstone(const std::string& topic, const std::string& node) {
  std::lock_guard lock(mu_);
  auto it = registrations_.find({"topic", topic, ""});
  if (it == registrations_.end()) return 0;
  int n = 0;
  int64_t now = clock_();
  for (auto& [id, p] : it->second) {
    if (p.peer->node() != node) continue;
    p.tombstoned = true;
    p.tombstonedAt = now;
    ++n;
  }
  return n;
}

std::vector<Producer> filterByActive(const std::vector<Producer>& producers, int64_t now,
                                     std::chrono::nanoseconds inactive,
                                     std::chrono::nanoseconds tombstoneLifetime) {
  std::vector<Producer> out;
  for (const auto& p : producers) {
    if (now - p.peer->lastUpdate.load() > inactive.count()) continue;
    if (p.isTombstoned(now, tombstoneLifetime)) continue;
    out.push_back(p);
  }
  return out;
}

std::vector<std::string> keysOf(const std::vector<Registration>& regs) {
  std::set<std::string> s;
  for (const auto& r : regs) s.insert(r.key);
  return {s.begin(), s.end()};
}

std::vector<std::string> subKeysOf(const std::vector<Registration>& regs) {
  std::set<std::string> s;
  for (const auto& r : regs) s.insert(r.subKey);
  return {s.begin(), s.end()};
}

}  // namespace nsq::lookupd
