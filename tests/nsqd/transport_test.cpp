// Transport over a socketpair (no network, no session): bytes both ways in plain form, the
// compression upgrade and its pipelined input, a peer that stops reading, a peer that closes.
#include "nsqd/transport.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>

#include "nsq/protocol/compression.h"
#include "nsq/protocol/wire.h"

namespace nsq::nsqd {
namespace {

constexpr std::size_t kMaxBody = 1024 * 1024;

class TransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    ::fcntl(fds[0], F_SETFL, ::fcntl(fds[0], F_GETFL) | O_NONBLOCK);
    peer = fds[1];
    transport = std::make_unique<Transport>(UniqueFd(fds[0]), "127.0.0.1:4150", kMaxBody);
  }
  void TearDown() override {
    transport.reset();
    if (peer >= 0) ::close(peer);
  }

  void peerSends(std::string_view bytes) {
    ASSERT_EQ(::send(peer, bytes.data(), bytes.size(), MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size()));
  }
  // Everything the transport has written so far (the peer's socket is drained without waiting).
  std::string peerReceives() {
    std::string got;
    char buf[65536];
    for (;;) {
      ssize_t n = ::recv(peer, buf, sizeof buf, MSG_DONTWAIT);
      if (n <= 0) break;
      got.append(buf, static_cast<std::size_t>(n));
    }
    return got;
  }
  std::string readAll() {
    std::string in;
    bool got = false;
    EXPECT_TRUE(transport->read(in, &got));
    return in;
  }

  int peer = -1;
  std::unique_ptr<Transport> transport;
};

std::string frame(std::string_view data) {
  std::string out;
  appendFrame(out, FrameType::Response, data);
  return out;
}

TEST_F(TransportTest, PlainBytesPassThroughBothWays) {
  peerSends("  V2PUB t\n");
  EXPECT_EQ(readAll(), "  V2PUB t\n");
  transport->out() += frame("OK");
  EXPECT_EQ(transport->pendingFrames(), frame("OK").size());
  ASSERT_TRUE(transport->flush(1));
  EXPECT_FALSE(transport->blocked());
  EXPECT_EQ(transport->unsent(), 0u);
  EXPECT_EQ(peerReceives(), frame("OK"));
  EXPECT_FALSE(transport->tls());
  EXPECT_EQ(transport->codecName(), "");
}

TEST_F(TransportTest, NothingToReadIsNotAnError) {
  std::string in;
  bool got = true;
  EXPECT_TRUE(transport->read(in, &got));
  EXPECT_FALSE(got);
  EXPECT_TRUE(in.empty());
}

TEST_F(TransportTest, PeerCloseEndsTheConnection) {
  ::close(peer);
  peer = -1;
  std::string in;
  bool got = false;
  EXPECT_FALSE(transport->read(in, &got));
}

TEST_F(TransportTest, CompressionStartsAfterTheQueuedReplyWithAnOk) {
  transport->out() += frame("{\"snappy\":true}");  // the IDENTIFY reply goes out plain
  transport->startCompression(/*deflate=*/false, 6);
  EXPECT_EQ(transport->codecName(), "snappy");
  ASSERT_TRUE(transport->flush(1));
  std::string wire = peerReceives();
  const std::string reply = frame("{\"snappy\":true}");
  ASSERT_GE(wire.size(), reply.size());
  EXPECT_EQ(wire.substr(0, reply.size()), reply);
  auto peerCodec = makeSnappyCodec();
  std::string plain, err;
  ASSERT_TRUE(peerCodec->decode(std::string_view(wire).substr(reply.size()), plain, kMaxBody, &err)) << err;
  EXPECT_EQ(plain, frame("OK"));

  // Input is compressed too, both what was pipelined behind IDENTIFY and what comes later.
  std::string pipelined, later;
  peerCodec->encode("NOP\n", pipelined);
  peerCodec->encode("RDY 1\n", later);
  std::string in;
  ASSERT_TRUE(transport->reinject(pipelined, in));
  EXPECT_EQ(in, "NOP\n");
  peerSends(later);
  bool got = false;
  ASSERT_TRUE(transport->read(in, &got));
  EXPECT_TRUE(got);
  EXPECT_EQ(in, "NOP\nRDY 1\n");
}

TEST_F(TransportTest, CorruptCompressedInputClosesTheConnection) {
  transport->startCompression(/*deflate=*/true, 6);
  ASSERT_TRUE(transport->flush(1));
  peerSends(std::string(64, '\xff'));
  std::string in;
  bool got = false;
  EXPECT_FALSE(transport->read(in, &got));
}

TEST_F(TransportTest, AFullSocketBlocksUntilThePeerReads) {
  const std::string big(8 * 1024 * 1024, 'x');
  transport->out() += big;
  ASSERT_TRUE(transport->flush(42));
  ASSERT_TRUE(transport->blocked());
  EXPECT_EQ(transport->blockedSince(), 42);
  EXPECT_GT(transport->unsent(), 0u);
  std::size_t received = 0;
  for (int i = 0; i < 1000 && (transport->blocked() || received < big.size()); ++i) {
    received += peerReceives().size();
    ASSERT_TRUE(transport->flush(43));
  }
  EXPECT_FALSE(transport->blocked());
  EXPECT_EQ(received, big.size());
  EXPECT_EQ(transport->unsent(), 0u);
}

TEST_F(TransportTest, ClosedTransportFailsToWrite) {
  transport->close();
  EXPECT_EQ(transport->fd(), -1);
  transport->out() += frame("OK");
  EXPECT_FALSE(transport->flush(1));
}

TEST_F(TransportTest, TrimIdleKeepsUnsentBytes) {
  const std::string big(8 * 1024 * 1024, 'x');
  transport->out() += big;
  ASSERT_TRUE(transport->flush(1));
  ASSERT_TRUE(transport->blocked());
  const std::size_t before = transport->unsent();
  transport->trimIdle(4096);
  EXPECT_EQ(transport->unsent(), before);
}

}  // namespace
}  // namespace nsq::nsqd
