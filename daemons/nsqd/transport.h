#pragma once
// Transport: the byte stack under one client connection — the non-blocking socket, optional TLS
// and optional snappy/deflate framing, and the output buffers between them. The session reads
// plaintext out of it and appends frames to out(); it knows nothing of what the transport does
// with them. The upgrades follow NSQ-COMPAT 1.7: TLS is installed first and compression on top
// of it, and each is confirmed by an OK frame sent in the new form.
//
//   out() frames -> [codec -> wire_] -> [TLS -> tlsOut_] -> socket     (and the reverse on read)
//
// IO thread only, except the stats accessors (tls(), tlsVersion(), ...), which any thread may
// call. Socket errors are return values here; nothing is thrown for what a peer sends.
#include <Poco/Net/Context.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "nsq/base/posix_io.h"
#include "nsq/protocol/compression.h"

namespace nsq::nsqd {

class TlsStream;

class Transport {
 public:
  // Owns fd (non-blocking; none for a transport that is never read or written).
  // remoteAddress names the peer in log lines. maxBodySize (the largest command body) bounds
  // what one read may decompress to, plus two read chunks: a decompression bomb closes the
  // connection.
  Transport(UniqueFd fd, std::string remoteAddress, std::size_t maxBodySize);
  ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  int fd() const { return fd_.get(); }
  // Closes the socket now; later reads and writes fail. Idempotent.
  void close();

  // Reads what the socket has (bounded per pass, for fairness between connections) and appends
  // the plaintext to in. Returns false when the connection must close: the peer closed, a socket
  // error, a TLS or codec failure (logged). *gotBytes: something arrived.
  bool read(std::string& in, bool* gotBytes);
  // After a command that started an upgrade: the bytes the client pipelined behind it were
  // already sent in the new form, so they go back through the stack. false = close now.
  bool reinject(std::string_view raw, std::string& in);
  // True once after the TLS handshake completes (the OK over TLS is then queued).
  bool takeTlsEstablished();

  // Plaintext frames not yet sent; append to it. Flushed only by flush().
  std::string& out() { return out_; }
  std::size_t pendingFrames() const { return out_.size() - outPos_; }
  // Bytes not yet written, in every layer.
  std::size_t unsent() const;
  // Writes what the socket takes. false on a socket error; when the kernel pushes back, the
  // rest waits and blocked() is true (since blockedSince(), the nowMono given).
  bool flush(int64_t nowMono);
  bool blocked() const { return blocked_; }
  int64_t blockedSince() const { return blockedSince_; }

  // Upgrades, each right after the IDENTIFY reply was queued in out(). startTls: the queued
  // frames go out plain, then the handshake, which must finish by deadlineMono (see
  // handshakeTimedOut); then OK over TLS, then the compression given (if any) starts.
  void startTls(const Poco::Net::Context::Ptr& ctx, int64_t deadlineMono, bool deflate, bool snappy,
                int deflateLevel);
  // The queued frames go out uncompressed; everything after them, both ways, is compressed,
  // starting with the OK that confirms the switch.
  void startCompression(bool deflate, int level);
  // While true, nothing but handshake records may be written (not even a heartbeat).
  bool handshaking() const;
  bool handshakeTimedOut(int64_t nowMono) const { return handshaking() && nowMono > tlsDeadlineMono_; }
  std::string peerCommonName() const;  // "" without TLS or a client certificate

  // Gives back buffer capacity above keep when everything has been sent. IO thread.
  void trimIdle(std::size_t keep);

  // Any thread (stats).
  bool tls() const { return tlsOn_.load(std::memory_order_relaxed); }
  std::string_view codecName() const { return codecName_.load(std::memory_order_relaxed); }
  std::string tlsVersion() const;
  std::string tlsCipherSuite() const;

 private:
  // Feeds the handshake, then moves decrypted bytes up the stack. false = close now.
  bool advanceTls(std::string& in);
  bool decode(std::string_view wire, std::string& in);

  UniqueFd fd_;
  const std::string remoteAddress_;
  const std::size_t maxDecodedPerRead_;

  std::string out_;  // plaintext frames not yet flushed
  std::size_t outPos_ = 0;
  std::unique_ptr<StreamCodec> codec_;       // snappy or deflate once negotiated
  std::atomic<const char*> codecName_{""};  // for stats from other threads
  std::string wire_;  // compressed bytes not yet written (with a codec)
  std::size_t wirePos_ = 0;
  std::unique_ptr<TlsStream> tls_;
  std::string tlsOut_;  // TLS records (and the plain IDENTIFY reply before them) not yet written
  std::size_t tlsOutPos_ = 0;
  int64_t tlsDeadlineMono_ = 0;
  int pendingCodec_ = 0;  // after the handshake: 1 snappy, 2 deflate (at pendingLevel_)
  int pendingLevel_ = 6;
  bool tlsEstablished_ = false;  // not yet taken by takeTlsEstablished()
  std::atomic<bool> tlsOn_{false};
  bool blocked_ = false;
  int64_t blockedSince_ = 0;

  mutable std::mutex infoMutex_;  // the two strings below, read by stats
  std::string tlsVersion_, tlsCipherSuite_;
};

}  // namespace nsq::nsqd
