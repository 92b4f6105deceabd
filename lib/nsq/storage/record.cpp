// Record framing (length + CRC-32C) for the disk queue and the message journal: the one place
// that knows the byte layout drawn in record.h, so the two on-disk formats cannot drift apart.
#include "nsq/storage/record.h"

#include "nsq/base/crc32c.h"
#include "nsq/protocol/message.h"

namespace nsq {

namespace {
uint32_t recordChecksum(const char* record, std::size_t bodyLength) {
  return crc32c(crc32c(0, record, 4), record + kRecordHeaderSize, bodyLength);
}
}  // namespace

void appendFileHeader(std::string& out, uint32_t magic, uint16_t version) {
  char h[kRecordFileHeaderSize];
  putUint32(h, magic);
  putUint16(h + 4, version);
  putUint16(h + 6, 0);
  out.append(h, sizeof h);
}

void appendRecord(std::string& out, std::string_view body) { appendRecord(out, body, {}); }

void appendRecord(std::string& out, std::string_view head, std::string_view tail) {
  char h[kRecordHeaderSize];
  putUint32(h, static_cast<uint32_t>(head.size() + tail.size()));
  uint32_t crc = crc32c(crc32c(0, h, 4), head.data(), head.size());
  if (!tail.empty()) crc = crc32c(crc, tail.data(), tail.size());
  putUint32(h + 4, crc);
  out.append(h, sizeof h);
  out.append(head);
  out.append(tail);
}

std::size_t beginRecord(std::string& out) {
  std::size_t start = out.size();
  out.append(kRecordHeaderSize, '\0');
  return start;
}

void sealRecord(std::string& out, std::size_t start) {
  std::size_t len = out.size() - start - kRecordHeaderSize;
  char* h = out.data() + start;
  putUint32(h, static_cast<uint32_t>(len));
  putUint32(h + 4, recordChecksum(h, len));
}

uint32_t recordBodyLength(const char* header) { return getUint32(header); }

bool recordChecksumMatches(const char* record, std::size_t bodyLength) {
  return recordChecksum(record, bodyLength) == getUint32(record + 4);
}

RecordCheck checkRecord(std::string_view bytes, int64_t minBody, int64_t maxBody) {
  RecordCheck c;
  if (static_cast<int64_t>(bytes.size()) < kRecordHeaderSize) return c;
  const auto len = static_cast<int64_t>(recordBodyLength(bytes.data()));
  if (len < minBody || len > maxBody) {
    c.status = RecordStatus::BadLength;
    return c;
  }
  if (static_cast<int64_t>(bytes.size()) < kRecordHeaderSize + len) return c;
  if (!recordChecksumMatches(bytes.data(), static_cast<std::size_t>(len))) {
    c.status = RecordStatus::BadChecksum;
    return c;
  }
  c.status = RecordStatus::Ok;
  c.bodyLength = len;
  return c;
}

}  // namespace nsq
