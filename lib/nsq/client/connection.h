#pragma once
// Connection: the client side of one nsqd TCP (protocol V2) connection, shared by Producer and
// Consumer. A blocking socket with a deadline on every operation, a buffered frame reader and
// a serialized writer, plus the handshake of NSQ-COMPAT §6: magic, IDENTIFY with
// feature_negotiation, the upgrades the server grants in §1.7's order (TLS, then snappy or
// deflate on top: every byte after the IDENTIFY reply goes through them both ways), AUTH when
// it asks for it.
//
//   write: bytes -> [codec] -> [TLS] -> socket        read: socket -> [TLS] -> [codec] -> frames
//
// Threading: one thread reads (readFrame); any thread may write (writes are serialized by an
// internal mutex that guards nothing but the socket). close() from any thread wakes the reader.
// The TLS session has a lock of its own, held only while bytes go through it; records it makes
// are sent only under the write mutex, so they reach the socket in order.
// Failures throw ConnectionError whose message starts with the nsqd address.
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "nsq/base/host_port.h"
#include "nsq/net/tls.h"
#include "nsq/protocol/wire.h"

namespace nsq {

class StreamCodec;

class ConnectionError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The IDENTIFY settings a client sends and the timeouts it keeps. Each field is one of go-nsq's
// Config options (the name in quotes, which applyConnectionOption() and the tools'
// --producer-opt / --consumer-opt accept); the defaults are go-nsq's. Fields are read when a
// connection is made, so change them before handing the config to a Producer or Consumer.
struct ConnectionConfig {
  std::chrono::milliseconds dialTimeout{1000};    // "dial_timeout": TCP connect
  std::chrono::milliseconds readTimeout{60000};   // "read_timeout": no frame for this long fails
                                                  // the connection (keep it > heartbeat_interval)
  std::chrono::milliseconds writeTimeout{1000};   // "write_timeout": one command's write
  int64_t heartbeatIntervalMs = 30000;  // "heartbeat_interval": asked of nsqd; -1 disables
  int64_t outputBufferSize = 16384;     // "output_buffer_size": nsqd's buffer for us, bytes
  int64_t outputBufferTimeoutMs = 250;  // "output_buffer_timeout": nsqd's flush interval
  int64_t msgTimeoutMs = 0;  // "msg_timeout": 0 = the server's --msg-timeout
  int64_t sampleRate = 0;    // "sample_rate": 1..99 = nsqd sends only that % of messages
  std::string clientId;   // "client_id": default: short host name
  std::string hostname;   // "hostname": default: host name
  std::string userAgent;  // "user_agent": default: nsq-cpp/<version>
  bool tlsV1 = false;     // "tls_v1": TLS upgrade; nsqd not granting it fails the connection
  TlsClientConfig tls;    // "tls_root_ca_file", "tls_insecure_skip_verify", "tls_cert",
                          // "tls_key", "tls_min_version" (see nsq/net/tls.h)
  bool snappy = false;    // "snappy": Snappy framing both ways when nsqd grants it
  bool deflate = false;   // "deflate": raw deflate both ways when nsqd grants it (not with snappy)
  int64_t deflateLevel = 6;  // "deflate_level": 1..9, for what we send
  std::string authSecret;    // "auth_secret": sent with AUTH when nsqd requires it

  // The IDENTIFY JSON body.
  std::string identifyJson() const;
};

// Applies one go-nsq option by name (the quoted names above; value as text: "5s" for
// durations, "true" for booleans) to cfg. Returns "" or an error naming the key and value
// (cfg unchanged). Keys this struct does not know are left to the caller (returns "unknown").
std::string applyConnectionOption(ConnectionConfig& cfg, const std::string& key,
                                  const std::string& value);
// Readers of one option value, for applyConnectionOption() and applyConsumerOption(): "" after
// storing it in out, else "invalid integer|duration|boolean \"<value>\" for <key>" (out unchanged).
std::string readIntOption(const std::string& key, const std::string& value, int64_t& out);
std::string readDurationOption(const std::string& key, const std::string& value, std::chrono::milliseconds& out);
std::string readBoolOption(const std::string& key, const std::string& value, bool& out);

// Checks what applying options one at a time cannot: the TLS files load and go together.
// Returns "" or an error naming the option.
std::string validateConnectionConfig(const ConnectionConfig& cfg);

// The help of a tool's --consumer-opt / --producer-opt flag: "<lead>, as key,value (e.g.
// <example>; TLS: tls_v1 with tls_root_ca_file, ...)", naming the TLS keys both accept.
std::string connectionOptHelp(std::string_view lead, std::string_view example);

// What the server said about itself in its IDENTIFY reply (defaults when it answered plain OK).
struct ServerFeatures {
  int64_t maxRdyCount = 2500;
  int64_t maxMsgTimeoutMs = 0;
  int64_t msgTimeoutMs = 0;
  bool tlsV1 = false;
  bool snappy = false;
  bool deflate = false;
  bool authRequired = false;
  std::string version;
};

// Parses an IDENTIFY reply: "OK" or a JSON object. Throws ConnectionError on anything else.
ServerFeatures parseIdentifyResponse(std::string_view data);

// The host and port of an nsqd address to dial ("host:port", port 1..65535), or nullopt with
// *error = hostPortProblem(address, 1). Never throws.
std::optional<HostPort> dialAddress(const std::string& address, std::string* error);

class Connection {
 public:
  Connection(std::string address, ConnectionConfig cfg);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Dials, sends the magic and IDENTIFY, performs the granted upgrades and AUTH.
  const ServerFeatures& connect();

  // One command line (no '\n') and an optional size-prefixed body, written under writeTimeout.
  void writeCommand(std::string_view line);
  void writeCommand(std::string_view line, std::string_view body);
  // Raw, pre-encoded bytes (several commands at once).
  void writeRaw(std::string_view bytes);

  // The next frame (heartbeats included), waiting at most readTimeout. The frame's data stays
  // valid until the next call. Throws ConnectionError on timeout, EOF or a malformed frame.
  Frame readFrame();

  // Shuts the socket down both ways; a blocked readFrame() returns with an error. Any thread.
  void close();
  bool closed() const;

  const std::string& address() const { return address_; }
  const ServerFeatures& features() const { return features_; }

 private:
  void readMore();
  // The TLS handshake on the raw socket, right after the IDENTIFY reply.
  void startTls(const std::string& host);
  // Writes all of bytes to the socket within writeTimeout. writeMutex_ held.
  void sendAll(std::string_view bytes);
  // Sends TLS records the session made on its own (while reading). Takes writeMutex_.
  void flushTls();
  // One recv() of raw bytes into buf within the deadline; returns the count (> 0).
  std::size_t recvSome(char* buf, std::size_t size, std::chrono::steady_clock::time_point deadline);
  std::string address_;
  ConnectionConfig cfg_;
  ServerFeatures features_;
  struct Socket;
  std::unique_ptr<Socket> socket_;
  std::mutex writeMutex_;
  std::unique_ptr<StreamCodec> codec_;  // set once by connect() when compression was granted
  std::string writeScratch_;            // compressed bytes; guarded by writeMutex_
  std::unique_ptr<TlsStream> tls_;      // set once by connect() when TLS was granted
  std::mutex tlsMutex_;                 // guards tls_'s session state; after writeMutex_
  std::string tlsScratch_;              // records to send; guarded by writeMutex_
  std::string in_;                      // decoded bytes
  std::size_t consumed_ = 0;
};

}  // namespace nsq
