// Consumer: go-nsq's reader model on threads. Messages go from the connection readers into
// one queue that `concurrency` handler threads drain; every result feeds the backoff state,
// whose actions (RDY 0 everywhere, RDY 1 on a random connection after the delay, restore) are
// applied under the consumer mutex. RDY is a window in nsqd (it is not used up by deliveries),
// so a connection's RDY is only re-sent when its share changes: when a connection joins or
// leaves, on backoff transitions and on the redistribution tick.
#include "nsq/client/consumer.h"

#include <algorithm>

#include "nsq/base/duration.h"
#include "nsq/base/host_port.h"
#include "nsq/base/log.h"
#include "nsq/base/names.h"
#include "nsq/base/number.h"
#include "nsq/base/options.h"

namespace nsq {

struct ConsumerConn {
  std::string address;
  std::unique_ptr<Connection> conn;
  std::thread reader;
  int64_t rdy = 0;
  int64_t maxRdy = 2500;
  int64_t inFlight = 0;
  SteadyTime lastMessage;
  SteadyTime lastRdyChange;
  bool closeWait = false;
  bool dead = false;
};

namespace {
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

}  // namespace

std::string applyConsumerOption(ConsumerConfig& cfg, const std::string& kv) {
  std::size_t comma = kv.find(',');
  std::string key = kv.substr(0, comma);
  std::string value = comma == std::string::npos ? "true" : kv.substr(comma + 1);
  std::string err = applyConnectionOption(cfg.conn, key, value);
  if (err != "unknown") return err;
  auto asMs = [&](milliseconds& out) { return readDurationOption(key, value, out); };
  auto asInt = [&](int64_t& out) { return readIntOption(key, value, out); };
  if (key == "max_in_flight") return asInt(cfg.maxInFlight);
  if (key == "max_attempts") return asInt(cfg.maxAttempts);
  if (key == "lookupd_poll_interval") return asMs(cfg.lookupdPollInterval);
  if (key == "lookupd_poll_jitter") {
    try {
      cfg.lookupdPollJitter = std::stod(value);
      return cfg.lookupdPollJitter < 0 || cfg.lookupdPollJitter > 1 ? "lookupd_poll_jitter must be 0..1" : "";
    } catch (...) {
      return "invalid number \"" + value + "\" for " + key;
    }
  }
  if (key == "default_requeue_delay") return asMs(cfg.defaultRequeueDelay);
  if (key == "max_requeue_delay") return asMs(cfg.maxRequeueDelay);
  if (key == "backoff_multiplier") return asMs(cfg.backoffMultiplier);
  if (key == "max_backoff_duration") return asMs(cfg.maxBackoffDuration);
  if (key == "low_rdy_idle_timeout") return asMs(cfg.lowRdyIdleTimeout);
  if (key == "low_rdy_timeout") return asMs(cfg.lowRdyTimeout);
  if (key == "rdy_redistribute_interval") return asMs(cfg.rdyRedistributeInterval);
  if (key == "stop_timeout") return asMs(cfg.stopTimeout);
  return "unknown option \"" + key + "\"";
}

std::string applyConsumerOptions(ConsumerConfig& cfg, const std::vector<std::string>& keyValues) {
  for (const auto& kv : keyValues)
    if (std::string err = applyConsumerOption(cfg, kv); !err.empty()) return err;
  return validateConnectionConfig(cfg.conn);
}

std::string consumerOptHelp(std::string_view passThrough) {
  return connectionOptHelp("option to " + std::string(passThrough) + " to the consumer", "lookupd_poll_interval,5s");
}

void checkConsumerSources(const std::vector<std::string>& nsqds, const std::vector<std::string>& lookupds) {
  if (nsqds.empty() && lookupds.empty()) throw OptionError("--nsqd-tcp-address or --lookupd-http-address required");
  if (!nsqds.empty() && !lookupds.empty())
    throw OptionError("use --nsqd-tcp-address or --lookupd-http-address not both");
  requireHostPortFlags("nsqd-tcp-address", nsqds, 1);
  requireHostPortFlags("lookupd-http-address", lookupds, 1, true);
}

void checkConsumerOpts(const std::vector<std::string>& keyValues) {
  ConsumerConfig probe;
  if (std::string err = applyConsumerOptions(probe, keyValues); !err.empty())
    throw OptionError("flag --consumer-opt: " + err);
}

const std::string& Delivery::topic() const { return consumer_->topic(); }
void Delivery::finish() { consumer_->respond(*this, Consumer::Response::Fin, milliseconds(0), false); }
void Delivery::touch() { consumer_->respond(*this, Consumer::Response::Touch, milliseconds(0), false); }
void Delivery::requeue(std::optional<milliseconds> delay, bool backoff) {
  milliseconds d;
  if (delay) {
    d = *delay;
  } else {
    d = std::min(consumer_->cfg_.defaultRequeueDelay * std::max<int>(1, msg_.attempts), consumer_->cfg_.maxRequeueDelay);
  }
  consumer_->respond(*this, Consumer::Response::Req, d, backoff);
}

Consumer::Consumer(std::string topic, std::string channel, ConsumerConfig cfg, Handler handler)
    : topic_(std::move(topic)),
      channel_(std::move(channel)),
      cfg_(std::move(cfg)),
      handler_(std::move(handler)),
      backoff_(cfg_.backoffMultiplier, cfg_.maxBackoffDuration),
      rng_(std::random_device{}()) {
  if (!isValidTopicName(topic_)) throw ConnectionError("invalid topic name \"" + topic_ + "\"");
  if (!isValidChannelName(channel_)) throw ConnectionError("invalid channel name \"" + channel_ + "\"");
  if (cfg_.maxInFlight < 0) cfg_.maxInFlight = 0;
  nextRedistribute_ = Clock::now() + cfg_.rdyRedistributeInterval;
  manager_ = std::thread([this] { managerLoop(); });
  for (int64_t i = 0; i < std::max<int64_t>(1, cfg_.concurrency); ++i) handlers_.emplace_back([this] { handlerLoop(); });
}

Consumer::~Consumer() {
  stop();
  waitStopped();
  {
    std::lock_guard lock(mutex_);
    shutdown_ = true;
    for (auto& c : allConns_) c->conn->close();
  }
  managerCv_.notify_all();
  queueCv_.notify_all();
  if (manager_.joinable()) manager_.join();
  for (auto& t : handlers_) t.join();
  std::vector<std::shared_ptr<ConsumerConn>> all;
  {
    std::lock_guard lock(mutex_);
    all = allConns_;
  }
  for (auto& c : all)
    if (c->reader.joinable()) c->reader.join();
}

void Consumer::connectToNsqd(const std::string& address) {
  {
    std::lock_guard lock(mutex_);
    if (!lookupds_.empty()) throw ConnectionError("cannot mix nsqd addresses with lookupd discovery");
  }
  connectTo(address);
}

void Consumer::connectToLookupds(const std::vector<std::string>& addresses) {
  {
    std::lock_guard lock(mutex_);
    lookupds_ = addresses;
    std::uniform_real_distribution<double> jitter(0, cfg_.lookupdPollJitter);
    nextPoll_ = Clock::now() + cfg_.lookupdPollInterval +
                std::chrono::duration_cast<milliseconds>(cfg_.lookupdPollInterval * jitter(rng_));
  }
  queryLookupds();
  managerCv_.notify_all();
}

void Consumer::queryLookupds() {
  std::vector<std::string> lookupds;
  std::size_t start;
  {
    std::lock_guard lock(mutex_);
    lookupds = lookupds_;
    start = lookupdIndex_++;
  }
  if (lookupds.empty()) return;
  std::vector<ProducerInfo> producers;
  bool ok = false;
  const std::size_t tries = std::min<std::size_t>(3, lookupds.size());
  for (std::size_t attempt = 0; attempt < tries && !ok; ++attempt) {
    const std::string& l = lookupds[(start + attempt) % lookupds.size()];
    try {
      bool unknown = false;
      producers = lookupProducers(l, topic_, cfg_.http, &unknown);
      if (unknown) {
        // As go-nsq: a lookupd that does not know the topic (yet) is an error, and the next
        // lookupd is tried; the poll repeats every lookupd_poll_interval.
        logError("error querying nsqlookupd (", l, "/lookup?topic=", topic_, ") - TOPIC_NOT_FOUND");
        if (attempt + 1 < tries) {
          logInfo("retrying with next nsqlookupd");
        } else {
          logInfo("no nsqlookupd knows topic ", topic_, " yet; querying again in ",
                  formatDuration(cfg_.lookupdPollInterval));
        }
        continue;
      }
      ok = true;
      logDebug("lookupd ", l, ": ", std::to_string(producers.size()), " producers for topic ", topic_);
    } catch (const HttpError& e) {
      logError("error querying nsqlookupd ", e.what());
      if (attempt + 1 < tries) logInfo("retrying with next nsqlookupd");
    }
  }
  for (const auto& p : producers) {
    std::string addr = p.tcpAddress();
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      bool known = std::any_of(conns_.begin(), conns_.end(), [&](auto& c) { return c->address == addr; });
      if (known) continue;
    }
    try {
      connectTo(addr);
    } catch (const ConnectionError& e) {
      logError("cannot consume from ", e.what());
    }
  }
}

void Consumer::connectTo(const std::string& address) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    if (std::find(connecting_.begin(), connecting_.end(), address) != connecting_.end()) return;
    for (auto& c : conns_)
      if (c->address == address) return;
    connecting_.push_back(address);
  }
  auto c = std::make_shared<ConsumerConn>();
  c->address = address;
  c->conn = std::make_unique<Connection>(address, cfg_.conn);
  auto unmark = [&] {
    std::lock_guard lock(mutex_);
    connecting_.erase(std::find(connecting_.begin(), connecting_.end(), address));
  };
  try {
    const ServerFeatures& f = c->conn->connect();
    c->maxRdy = f.maxRdyCount;
    c->conn->writeCommand("SUB " + topic_ + " " + channel_);
    Frame r = c->conn->readFrame();
    while (r.type == FrameType::Response && r.data == kHeartbeat) {
      c->conn->writeCommand("NOP");
      r = c->conn->readFrame();
    }
    if (r.type != FrameType::Response || r.data != kOk)
      throw ConnectionError(address + ": SUB " + topic_ + " " + channel_ + " failed: " + std::string(r.data));
  } catch (...) {
    c->conn->close();
    unmark();
    throw;
  }
  logInfo("(", address, ") connected, subscribed to ", topic_, "/", channel_);
  std::lock_guard lock(mutex_);
  connecting_.erase(std::find(connecting_.begin(), connecting_.end(), address));
  reconnectAt_.erase(address);
  if (stopping_ || shutdown_) {
    c->conn->close();
    return;
  }
  c->lastMessage = c->lastRdyChange = Clock::now();
  conns_.push_back(c);
  allConns_.push_back(c);
  c->reader = std::thread([this, c] { readLoop(c); });
  rebalance();
}

// The share of each connection changed (join, leave, end of backoff): lower the ones above it
// first so the sum never exceeds max_in_flight, then raise the others.
void Consumer::rebalance() {
  if (backoff_.active() || stopping_) return;
  int64_t share = perConnectionRdy(cfg_.maxInFlight, conns_.size());
  if (cfg_.maxInFlight == 0) share = 0;
  for (auto& c : conns_)
    if (c->rdy > share) setRdy(*c, share);
  for (auto& c : conns_)
    if (c->rdy < share) setRdy(*c, share);
}

int64_t Consumer::totalRdy() const {
  int64_t t = 0;
  for (auto& c : conns_) t += c->rdy;
  return t;
}

void Consumer::setRdy(ConsumerConn& c, int64_t n) {
  if (c.dead || c.closeWait) return;
  auto value = rdyToSend(n, c.maxRdy, cfg_.maxInFlight, totalRdy(), c.rdy);
  if (!value) {
    if (c.rdy == 0) rdyRetryAt_ = Clock::now() + milliseconds(5000);
    return;
  }
  if (*value == c.rdy) return;
  try {
    c.conn->writeCommand("RDY " + std::to_string(*value));
  } catch (const ConnectionError& e) {
    c.conn->close();
    return;
  }
  c.rdy = *value;
  c.lastRdyChange = Clock::now();
}

void Consumer::applyBackoff(Backoff::Signal s) {
  if (stopping_) return;
  switch (backoff_.onResult(s)) {
    case Backoff::Action::None: break;
    case Backoff::Action::Enter:
      logWarn("backing off for ", formatDuration(backoff_.delay()), " (level ", std::to_string(backoff_.level()), ")");
      for (auto& c : conns_) setRdy(*c, 0);
      resumeAt_ = Clock::now() + backoff_.delay();
      managerCv_.notify_all();
      break;
    case Backoff::Action::Exit:
      logWarn("backoff complete, resuming normal flow");
      rebalance();
      break;
  }
}

void Consumer::readLoop(std::shared_ptr<ConsumerConn> c) {
  std::string reason;
  try {
    for (;;) {
      Frame f = c->conn->readFrame();
      if (f.type == FrameType::Response) {
        if (f.data == kHeartbeat) {
          c->conn->writeCommand("NOP");
        } else if (f.data == kCloseWait) {
          std::lock_guard lock(mutex_);
          c->closeWait = true;
          maybeClose(*c);
        }
        continue;
      }
      if (f.type == FrameType::Error) {
        logError("(", c->address, ") protocol error - ", std::string(f.data));
        continue;  // fatal ones are followed by the server closing the connection
      }
      auto d = std::make_shared<Delivery>();
      if (!Message::parsePayload(f.data, d->msg_)) throw ConnectionError(c->address + ": short message frame");
      d->conn_ = c;
      d->consumer_ = this;
      ++received_;
      std::lock_guard lock(mutex_);
      ++c->inFlight;
      c->lastMessage = Clock::now();
      queue_.push_back(std::move(d));
      queueCv_.notify_one();
    }
  } catch (const ConnectionError& e) {
    reason = e.what();
  }
  c->conn->close();
  std::lock_guard lock(mutex_);
  onClosed(c, reason);
}

void Consumer::maybeClose(ConsumerConn& c) {
  if (c.closeWait && c.inFlight <= 0) c.conn->close();
}

void Consumer::onClosed(const std::shared_ptr<ConsumerConn>& c, const std::string& reason) {
  c->dead = true;
  auto it = std::find(conns_.begin(), conns_.end(), c);
  if (it != conns_.end()) conns_.erase(it);
  // Messages it delivered that no handler has seen yet will time out on the server.
  std::erase_if(queue_, [&](const DeliveryPtr& d) { return d->conn_ == c; });
  if (stopping_ || shutdown_) {
    logInfo("(", c->address, ") connection closed");
    stoppedCv_.notify_all();
    return;
  }
  logWarn("(", c->address, ") connection lost: ", reason);
  if (!lookupds_.empty()) {
    pollNow_ = true;
  } else {
    reconnectAt_[c->address] = Clock::now() + cfg_.lookupdPollInterval;
    logInfo("(", c->address, ") re-connecting in ", formatDuration(cfg_.lookupdPollInterval));
  }
  rebalance();
  managerCv_.notify_all();
}

void Consumer::respond(Delivery& d, Response r, milliseconds delay, bool backoff) {
  if (r != Response::Touch && d.responded_.exchange(true)) return;
  auto& c = *d.conn_;
  std::string id(d.msg_.id.view());
  try {
    if (r == Response::Fin) c.conn->writeCommand("FIN " + id);
    else if (r == Response::Req) c.conn->writeCommand("REQ " + id + " " + std::to_string(delay.count()));
    else c.conn->writeCommand("TOUCH " + id);
  } catch (const ConnectionError& e) {
    logWarn("(", c.address, ") cannot answer message ", id, ": ", e.what());
  }
  if (r == Response::Touch) return;
  (r == Response::Fin ? finished_ : requeued_)++;
  std::lock_guard lock(mutex_);
  --c.inFlight;
  if (!c.dead) {
    if (r == Response::Fin) applyBackoff(Backoff::Signal::Success);
    else applyBackoff(backoff ? Backoff::Signal::Failure : Backoff::Signal::Continue);
  }
  maybeClose(c);
}

void Consumer::handlerLoop() {
  for (;;) {
    DeliveryPtr d;
    {
      std::unique_lock lock(mutex_);
      queueCv_.wait(lock, [&] { return shutdown_ || !queue_.empty(); });
      if (queue_.empty()) return;
      d = std::move(queue_.front());
      queue_.pop_front();
    }
    bool stopping;
    {
      std::lock_guard lock(mutex_);
      stopping = stopping_;
    }
    if (!stopping && cfg_.maxAttempts > 0 && d->msg_.attempts > cfg_.maxAttempts) {
      logWarn("msg ", std::string(d->msg_.id.view()), " attempted ", std::to_string(d->msg_.attempts),
              " times, giving up");
      d->finish();
      continue;
    }
    HandlerResult r = handler_(d);
    if (d->responded()) continue;
    switch (r) {
      case HandlerResult::Finish: d->finish(); break;
      case HandlerResult::Requeue: d->requeue(); break;
      case HandlerResult::RequeueWithoutBackoff: d->requeue(milliseconds(0), false); break;
      case HandlerResult::Later: break;
    }
  }
}

void Consumer::managerLoop() {
  std::unique_lock lock(mutex_);
  while (!shutdown_) {
    auto now = Clock::now();
    if (!stopping_ && !lookupds_.empty() && (pollNow_ || now >= nextPoll_)) {
      pollNow_ = false;
      nextPoll_ = now + cfg_.lookupdPollInterval;
      lock.unlock();
      queryLookupds();
      lock.lock();
      continue;
    }
    if (!stopping_) {
      for (auto it = reconnectAt_.begin(); it != reconnectAt_.end(); ++it) {
        if (now < it->second) continue;
        std::string addr = it->first;
        it->second = now + cfg_.lookupdPollInterval;
        lock.unlock();
        try {
          connectTo(addr);
        } catch (const ConnectionError& e) {
          logError("reconnect failed: ", e.what());
        }
        lock.lock();
        break;
      }
    }
    now = Clock::now();
    if (backoff_.waiting() && now >= resumeAt_) {
      if (conns_.empty() || stopping_) {
        resumeAt_ = now + milliseconds(1000);
        if (stopping_) backoff_.resumed();
      } else {
        std::uniform_int_distribution<std::size_t> pick(0, conns_.size() - 1);
        auto& c = *conns_[pick(rng_)];
        backoff_.resumed();
        logWarn("(", c.address, ") backoff timeout expired, sending RDY 1");
        setRdy(c, 1);
      }
    }
    if (now >= nextRedistribute_) {
      nextRedistribute_ = now + cfg_.rdyRedistributeInterval;
      if (!stopping_ && !backoff_.waiting()) {
        std::vector<RdyConnState> states;
        for (auto& c : conns_) states.push_back({c->rdy, c->lastMessage, c->lastRdyChange});
        auto next = redistributeRdy(states, cfg_.maxInFlight, backoff_.active(), now,
                                    {cfg_.lowRdyIdleTimeout, cfg_.lowRdyTimeout}, rng_);
        for (std::size_t i = 0; i < next.size(); ++i)
          if (next[i] < conns_[i]->rdy) setRdy(*conns_[i], next[i]);
        for (std::size_t i = 0; i < next.size() && i < conns_.size(); ++i)
          if (next[i] > conns_[i]->rdy) setRdy(*conns_[i], next[i]);
      }
    }
    if (rdyRetryAt_ && now >= *rdyRetryAt_) {
      rdyRetryAt_.reset();
      rebalance();
    }
    if (stopping_ && now >= stopDeadline_ && !conns_.empty()) {
      logWarn("stop timeout: closing connections with messages still in flight");
      for (auto& c : conns_) c->conn->close();
    }
    SteadyTime next = nextRedistribute_;
    if (!lookupds_.empty() && !stopping_) next = std::min(next, nextPoll_);
    for (auto& [addr, t] : reconnectAt_) next = std::min(next, t);
    if (backoff_.waiting()) next = std::min(next, resumeAt_);
    if (rdyRetryAt_) next = std::min(next, *rdyRetryAt_);
    if (stopping_ && !conns_.empty()) next = std::min(next, stopDeadline_);
    if (!shutdown_ && !pollNow_) managerCv_.wait_until(lock, next);  // any notify re-plans
  }
}

void Consumer::connectToSources(const std::vector<std::string>& nsqds, const std::vector<std::string>& lookupds) {
  if (nsqds.empty()) {
    connectToLookupds(lookupds);
    return;
  }
  for (const auto& a : nsqds) connectToNsqd(a);
}

void Consumer::stop() {
  std::lock_guard lock(mutex_);
  if (stopping_) return;
  stopping_ = true;
  stopDeadline_ = Clock::now() + cfg_.stopTimeout;
  for (auto& c : conns_) {
    try {
      c->conn->writeCommand("CLS");
    } catch (const ConnectionError&) {
      c->conn->close();
    }
  }
  managerCv_.notify_all();
  stoppedCv_.notify_all();
}

bool Consumer::waitStopped() {
  std::unique_lock lock(mutex_);
  bool clean = stoppedCv_.wait_until(lock, stopDeadline_ + milliseconds(100), [&] {
    return stopping_ && conns_.empty() && connecting_.empty();
  });
  if (!clean)
    for (auto& c : conns_) c->conn->close();
  return clean;
}

std::size_t Consumer::connectionCount() {
  std::lock_guard lock(mutex_);
  return conns_.size();
}

std::vector<int64_t> Consumer::rdyCounts() {
  std::lock_guard lock(mutex_);
  std::vector<int64_t> out;
  for (auto& c : conns_) out.push_back(c->rdy);
  return out;
}

int Consumer::backoffLevel() {
  std::lock_guard lock(mutex_);
  return backoff_.level();
}

}  // namespace nsq
