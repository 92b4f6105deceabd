// nsq_stat: poll /stats of the nsqd nodes holding --topic and print the channel's counters as a
// periodic table (NSQ-COMPAT §5.6). The first poll only records a baseline; --count N prints N
// data rows. The table text lives in lib/nsq/stat_table; this file finds the nodes and polls.
#include <Poco/JSON/Array.h>

#include <signal.h>

#include <iostream>
#include <set>
#include <thread>

#include "nsq/base/host_port.h"
#include "nsq/base/main.h"
#include "nsq/base/names.h"
#include "nsq/base/number.h"
#include "nsq/base/options.h"
#include "nsq/client/lookupd_client.h"
#include "nsq_stat/stat_table.h"

namespace {

struct StatOptions {
  std::string topic;
  std::string channel;
  std::vector<std::string> nsqdHttpAddresses;
  std::vector<std::string> lookupdHttpAddresses;
  nsq::Duration interval = std::chrono::seconds(2);
  int64_t count = 0;
  int64_t statusEvery = 25;
  bool json = false;       // one JSON object per report instead of the table
  bool timestamp = false;  // a time column first in the table
  nsq::Duration connectTimeout = std::chrono::seconds(2);
  nsq::Duration requestTimeout = std::chrono::seconds(5);
};

class Fatal : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The HTTP addresses (broadcast_address:http_port) of the nsqd nodes that hold the topic.
std::vector<std::string> topicProducers(const StatOptions& o, const nsq::HttpTimeouts& t) {
  std::set<std::string> out;
  std::string topicQ = nsq::urlEncode(o.topic);
  if (!o.lookupdHttpAddresses.empty()) {
    std::string lastError;
    bool anyOk = false;
    for (const auto& l : o.lookupdHttpAddresses) {
      try {
        for (const auto& p : nsq::lookupProducers(l, o.topic, t)) out.insert(p.httpAddress());
        anyOk = true;
      } catch (const nsq::HttpError& e) {
        lastError = e.what();
      }
    }
    if (!anyOk) throw Fatal("failed to get topic producers - " + lastError);
  } else {
    for (const auto& a : o.nsqdHttpAddresses) {
      try {
        auto stats = nsq::httpGetJson(a, "/stats?format=json&topic=" + topicQ + "&include_clients=false", t);
        auto topics = stats->getArray("topics");
        bool has = false;
        for (std::size_t i = 0; topics && i < topics->size(); ++i)
          if (topics->getObject(static_cast<unsigned>(i))->getValue<std::string>("topic_name") == o.topic) has = true;
        if (!has) continue;
        auto info = nsq::httpGetJson(a, "/info", t);
        std::string host = info->getValue<std::string>("broadcast_address");
        nsq::ParsedInt port = info->has("http_port") ? nsq::jsonInt(info->get("http_port"), 1, 65535)
                                                      : nsq::ParsedInt{nsq::NumberError::Syntax, 0};
        if (!port) throw Fatal(a + ": bad /info reply: invalid http_port");
        out.insert(host + ":" + std::to_string(*port));
      } catch (const nsq::HttpError& e) {
        throw Fatal(std::string("failed to get topic producers - ") + e.what());
      } catch (const Poco::Exception& e) {
        throw Fatal(a + ": bad /stats or /info reply: " + e.displayText());
      }
    }
  }
  return {out.begin(), out.end()};
}

nsq::ChannelCounts poll(const StatOptions& o, const nsq::HttpTimeouts& t) {
  auto producers = topicProducers(o, t);
  nsq::ChannelCounts sum;
  bool found = false;
  for (const auto& p : producers) {
    try {
      auto stats = nsq::httpGetJson(p,
                                    "/stats?format=json&topic=" + nsq::urlEncode(o.topic) +
                                        "&channel=" + nsq::urlEncode(o.channel) + "&include_clients=false",
                                    t);
      auto topics = stats->getArray("topics");
      for (std::size_t i = 0; topics && i < topics->size(); ++i) {
        auto topic = topics->getObject(static_cast<unsigned>(i));
        if (topic->getValue<std::string>("topic_name") != o.topic) continue;
        auto channels = topic->getArray("channels");
        for (std::size_t j = 0; channels && j < channels->size(); ++j) {
          auto ch = channels->getObject(static_cast<unsigned>(j));
          if (ch->getValue<std::string>("channel_name") != o.channel) continue;
          sum.add(nsq::channelCountsFromJson(*ch));
          found = true;
        }
      }
    } catch (const nsq::HttpError& e) {
      throw Fatal(std::string("failed to get nsqd stats - ") + e.what());
    } catch (const Poco::Exception& e) {
      throw Fatal(p + ": bad /stats reply: " + e.displayText());
    }
  }
  if (!found) throw Fatal("failed to find channel(" + o.channel + ") in stats metadata for topic(" + o.topic + ")");
  return sum;
}

// Start-up checks of the flags; throws OptionError.
void validate(const StatOptions& o) {
  if (o.topic.empty() || o.channel.empty()) throw nsq::OptionError("--topic and --channel are required");
  if (!nsq::isValidTopicName(o.topic)) throw nsq::OptionError("flag --topic: invalid topic name \"" + o.topic + "\"");
  if (!nsq::isValidChannelName(o.channel))
    throw nsq::OptionError("flag --channel: invalid channel name \"" + o.channel + "\"");
  if (o.interval.count() <= 0) throw nsq::OptionError("--interval should be positive");
  if (o.count < 0) throw nsq::OptionError("--count should be positive");
  if (o.statusEvery < 0) throw nsq::OptionError("--status-every must not be negative");
  if (o.nsqdHttpAddresses.empty() && o.lookupdHttpAddresses.empty())
    throw nsq::OptionError("--nsqd-http-address or --lookupd-http-address required");
  if (!o.nsqdHttpAddresses.empty() && !o.lookupdHttpAddresses.empty())
    throw nsq::OptionError("use --nsqd-http-address or --lookupd-http-address not both");
  for (const auto* list : {&o.nsqdHttpAddresses, &o.lookupdHttpAddresses})
    for (const auto& a : *list)
      if (a.rfind("http", 0) == 0) throw nsq::OptionError("address " + a + ": give host:port without a scheme");
  nsq::requireHostPortFlags("nsqd-http-address", o.nsqdHttpAddresses, 1);
  nsq::requireHostPortFlags("lookupd-http-address", o.lookupdHttpAddresses, 1);
}

}  // namespace

int main(int argc, char** argv) {
  StatOptions o;
  nsq::OptionSet set("nsq_stat", "nsq_stat [OPTIONS]: periodic table of a channel's counters");
  set.addString("topic", &o.topic, "NSQ topic");
  set.addString("channel", &o.channel, "NSQ channel");
  set.addStringList("nsqd-http-address", &o.nsqdHttpAddresses, "nsqd HTTP address");
  set.addStringList("lookupd-http-address", &o.lookupdHttpAddresses, "nsqlookupd HTTP address");
  set.addDuration("interval", &o.interval, "duration of time between polling/printing output");
  set.addInt("count", &o.count, "number of reports; 0 for no limit");
  set.addInt("status-every", &o.statusEvery, "number of rows between repeated header lines; 0 prints it once");
  set.addBool("json", &o.json, "print one JSON object per report (with a timestamp) instead of the table");
  set.addBool("timestamp", &o.timestamp, "print the time (UTC) of each report in a first column");
  set.addDuration("http-client-connect-timeout", &o.connectTimeout, "timeout for HTTP connect");
  set.addDuration("http-client-request-timeout", &o.requestTimeout, "timeout for HTTP request");
  set.addStandard(nsq::versionLine("nsq_stat"));
  if (auto code = nsq::parseCommandLine("nsq_stat", set, argc, argv, [&] { validate(o); })) return *code;
  // SIGINT/SIGTERM end the run between polls (exit 0), like the other tools.
  sigset_t stopSignals = nsq::blockSignals({SIGINT, SIGTERM});
  nsq::HttpTimeouts t{std::chrono::duration_cast<std::chrono::milliseconds>(o.connectTimeout),
                      std::chrono::duration_cast<std::chrono::milliseconds>(o.requestTimeout)};
  double secs = std::chrono::duration<double>(o.interval).count();
  std::optional<nsq::ChannelCounts> prev;
  try {
    for (int64_t i = 0; o.count == 0 || i <= o.count; ++i) {
      nsq::ChannelCounts cur = poll(o, t);
      const auto now = std::chrono::system_clock::now();
      if (o.json) {
        if (prev) std::cout << nsq::statJson(*prev, cur, secs, now, o.topic, o.channel);
      } else {
        if (i == 0 || (o.statusEvery > 0 && i % o.statusEvery == 0)) std::cout << nsq::statHeader(o.timestamp);
        if (prev) std::cout << (o.timestamp ? nsq::statRow(*prev, cur, secs, now) : nsq::statRow(*prev, cur, secs));
      }
      std::cout.flush();
      if (!std::cout) return 0;  // stdout closed
      prev = cur;
      if (o.count != 0 && i == o.count) break;
      auto wait = std::chrono::duration_cast<std::chrono::nanoseconds>(o.interval);
      timespec ts{static_cast<time_t>(wait.count() / 1000000000), static_cast<long>(wait.count() % 1000000000)};
      if (::sigtimedwait(&stopSignals, nullptr, &ts) > 0) return 0;
    }
  } catch (const Fatal& e) {
    std::cerr << "nsq_stat: ERROR: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
