// Producer: lazy connection, FIFO reply matching, NOP for heartbeats. A publish registers its
// pending slot before writing (under the producer mutex), so the reader can never see a reply
// without its slot; an unexpected response closes the connection as go-nsq does.
#include "nsq/client/producer.h"

#include "nsq/base/log.h"
#include "nsq/base/names.h"
#include "nsq/base/options.h"

namespace nsq {

ConnectionConfig producerConfig(const std::vector<std::string>& keyValues) {
  ConnectionConfig cfg;
  for (const auto& kv : keyValues) {
    std::size_t comma = kv.find(',');
    std::string key = kv.substr(0, comma);
    std::string value = comma == std::string::npos ? "true" : kv.substr(comma + 1);
    std::string err = applyConnectionOption(cfg, key, value);
    if (err == "unknown") throw OptionError("flag --producer-opt: unknown option \"" + key + "\"");
    if (!err.empty()) throw OptionError("flag --producer-opt: " + err);
  }
  if (std::string err = validateConnectionConfig(cfg); !err.empty()) throw OptionError("flag --producer-opt: " + err);
  return cfg;
}

std::string encodeMpubBody(const std::vector<std::string>& bodies) {
  std::size_t total = 4;
  for (const auto& b : bodies) total += 4 + b.size();
  std::string out;
  out.reserve(total);
  char n[4];
  putUint32(n, static_cast<uint32_t>(bodies.size()));
  out.append(n, 4);
  for (const auto& b : bodies) {
    putUint32(n, static_cast<uint32_t>(b.size()));
    out.append(n, 4);
    out.append(b);
  }
  return out;
}

struct Producer::Pending {
  bool done = false;
  PublishResult result;
};

struct Producer::Live {
  explicit Live(const std::string& address, const ConnectionConfig& cfg) : conn(address, cfg) {}
  Connection conn;
  std::deque<std::shared_ptr<Pending>> pending;
  std::condition_variable cv;
  bool dead = false;
  std::string deathReason;
};

Producer::Producer(std::string address, ConnectionConfig cfg) : address_(std::move(address)), cfg_(std::move(cfg)) {}

Producer::~Producer() { stop(); }

void Producer::stop() {
  std::vector<std::thread> readers;
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
    if (live_) live_->conn.close();
    readers.swap(readers_);
  }
  for (auto& t : readers) t.join();
}

void Producer::connect() {
  std::lock_guard lock(mutex_);
  (void)ensureConnected();
}

// Caller holds mutex_.
std::shared_ptr<Producer::Live> Producer::ensureConnected() {
  if (live_ && !live_->dead) return live_;
  auto live = std::make_shared<Live>(address_, cfg_);
  live->conn.connect();  // throws ConnectionError
  live_ = live;
  readers_.emplace_back([this, live] { readLoop(live); });
  return live;
}

void Producer::readLoop(std::shared_ptr<Live> live) {
  std::string reason;
  try {
    for (;;) {
      Frame f = live->conn.readFrame();
      if (f.type == FrameType::Response && f.data == kHeartbeat) {
        live->conn.writeCommand("NOP");
        continue;
      }
      if (f.type == FrameType::Message) continue;  // not subscribed: cannot happen
      std::lock_guard lock(mutex_);
      if (live->pending.empty()) {
        reason = "unexpected response from nsqd: " + std::string(f.data);
        break;
      }
      auto p = live->pending.front();
      live->pending.pop_front();
      p->done = true;
      p->result.sent = true;
      if (f.type == FrameType::Error) p->result.error = address_ + ": " + std::string(f.data);
      live->cv.notify_all();
    }
  } catch (const ConnectionError& e) {
    reason = e.what();
  }
  live->conn.close();
  std::lock_guard lock(mutex_);
  live->dead = true;
  live->deathReason = reason;
  for (auto& p : live->pending) {
    p->done = true;
    p->result.sent = true;
    p->result.error = reason;
  }
  live->pending.clear();
  live->cv.notify_all();
}

PublishResult Producer::send(const std::string& line, std::string_view body) {
  std::unique_lock lock(mutex_);
  if (stopped_) return {"producer stopped", false};
  std::shared_ptr<Live> live;
  try {
    live = ensureConnected();
  } catch (const ConnectionError& e) {
    return {e.what(), false};
  }
  auto p = std::make_shared<Pending>();
  live->pending.push_back(p);
  // Written under the producer lock so that command order equals slot order. The write has its
  // own deadline (write_timeout), so a stuck nsqd holds publishers for at most that long.
  try {
    live->conn.writeCommand(line, body);
  } catch (const ConnectionError& e) {
    // The reader owns the queue's fate once the socket fails; mark ours as possibly sent.
    live->conn.close();
    live->cv.wait(lock, [&] { return p->done; });
    return {e.what(), true};
  }
  live->cv.wait(lock, [&] { return p->done; });
  return p->result;
}

PublishResult Producer::publish(const std::string& topic, std::string_view body) {
  if (!isValidTopicName(topic)) return {"invalid topic name \"" + topic + "\"", false};
  return send("PUB " + topic, body);
}

PublishResult Producer::multiPublish(const std::string& topic, const std::vector<std::string>& bodies) {
  if (!isValidTopicName(topic)) return {"invalid topic name \"" + topic + "\"", false};
  if (bodies.empty()) return {"MPUB needs at least one message", false};
  return send("MPUB " + topic, encodeMpubBody(bodies));
}

PublishResult Producer::deferredPublish(const std::string& topic, std::chrono::milliseconds delay,
                                        std::string_view body) {
  if (!isValidTopicName(topic)) return {"invalid topic name \"" + topic + "\"", false};
  return send("DPUB " + topic + " " + std::to_string(delay.count()), body);
}

}  // namespace nsq
