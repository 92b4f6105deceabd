// V2Client: blocking nsqd protocol client for end-to-end tests.
#include "support/v2_client.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace nsq::test {

Message TestFrame::message() const {
  Message m;
  if (!Message::parsePayload(data, m)) throw std::runtime_error("short message frame");
  return m;
}

V2Client::V2Client(int port, bool sendMagic) : tcp_(port) {
  if (sendMagic) tcp_.send(std::string(kMagicV2));
}

void V2Client::commandWithBody(const std::string& line, const std::string& body) {
  std::string out = line + "\n";
  char size[4];
  putUint32(size, static_cast<uint32_t>(body.size()));
  out.append(size, 4);
  out += body;
  tcp_.send(out);
}

TestFrame V2Client::readFrame(bool skipHeartbeats) {
  for (;;) {
    std::string sizeBytes = tcp_.readExact(4);
    uint32_t size = getUint32(sizeBytes.data());
    if (size < 4) throw std::runtime_error("bad frame size");
    std::string rest = tcp_.readExact(size);
    TestFrame f{static_cast<FrameType>(getUint32(rest.data())), rest.substr(4)};
    if (skipHeartbeats && f.type == FrameType::Response && f.data == kHeartbeat) continue;
    return f;
  }
}

std::string V2Client::expectResponse() {
  TestFrame f = readFrame();
  if (f.type != FrameType::Response) throw std::runtime_error("expected response, got: " + f.data);
  return f.data;
}

std::string V2Client::identify(const std::string& json) {
  commandWithBody("IDENTIFY", json);
  return expectResponse();
}

std::string V2Client::sub(const std::string& topic, const std::string& channel) {
  command("SUB " + topic + " " + channel);
  return expectResponse();
}

std::string V2Client::pub(const std::string& topic, const std::string& body) {
  commandWithBody("PUB " + topic, body);
  return expectResponse();
}

std::string V2Client::mpubBody(const std::vector<std::string>& bodies) {
  std::string body;
  char buf[4];
  putUint32(buf, static_cast<uint32_t>(bodies.size()));
  body.append(buf, 4);
  for (const auto& b : bodies) {
    putUint32(buf, static_cast<uint32_t>(b.size()));
    body.append(buf, 4);
    body += b;
  }
  return body;
}

std::string V2Client::mpub(const std::string& topic, const std::vector<std::string>& bodies) {
  commandWithBody("MPUB " + topic, mpubBody(bodies));
  return expectResponse();
}

std::string V2Client::dpub(const std::string& topic, int deferMs, const std::string& body) {
  commandWithBody("DPUB " + topic + " " + std::to_string(deferMs), body);
  return expectResponse();
}

Message V2Client::readMessage() {
  TestFrame f = readFrame();
  if (f.type != FrameType::Message) throw std::runtime_error("expected message, got: " + f.data);
  return f.message();
}

}  // namespace nsq::test
