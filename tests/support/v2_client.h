#pragma once
// V2Client: a blocking test client for the nsqd TCP protocol, built on TcpClient. Each call
// writes exactly the bytes of one command; readFrame() returns the next frame, skipping
// heartbeats unless asked not to.
#include <string>
#include <vector>

#include "nsq/protocol/message.h"
#include "nsq/protocol/wire.h"
#include "support/test_support.h"

namespace nsq::test {

struct TestFrame {
  FrameType type;
  std::string data;
  Message message() const;  // for FrameType::Message
};

class V2Client {
 public:
  explicit V2Client(int port, bool sendMagic = true);
  TcpClient& tcp() { return tcp_; }

  void send(const std::string& bytes) { tcp_.send(bytes); }
  void command(const std::string& line) { tcp_.send(line + "\n"); }
  void commandWithBody(const std::string& line, const std::string& body);
  TestFrame readFrame(bool skipHeartbeats = true);
  // Sends a command and expects a response frame; returns its data ("OK", JSON, ...).
  std::string identify(const std::string& json);
  std::string sub(const std::string& topic, const std::string& channel);
  std::string pub(const std::string& topic, const std::string& body);
  std::string mpub(const std::string& topic, const std::vector<std::string>& bodies);
  std::string dpub(const std::string& topic, int deferMs, const std::string& body);
  void rdy(int n) { command("RDY " + std::to_string(n)); }
  void fin(const MessageId& id) { command("FIN " + std::string(id.view())); }
  void req(const MessageId& id, int timeoutMs = 0) {
    command("REQ " + std::string(id.view()) + " " + std::to_string(timeoutMs));
  }
  Message readMessage();  // fails the test unless the next frame is a message
  // Reads the next message and requeues it at once: one failed attempt. Returns the message.
  Message failNextAttempt() {
    Message m = readMessage();
    req(m.id);
    return m;
  }

  static std::string mpubBody(const std::vector<std::string>& bodies);

 private:
  std::string expectResponse();
  TcpClient tcp_;
};

}  // namespace nsq::test
