#pragma once
// Record framing shared by the disk queue's segments and the message journal
// (docs/disk-queue-format.md, docs/message-journal-format.md). All integers big-endian.
//
//   file:    0        4        6        8
//            +--------+--------+--------+----------+----------+-----
//            | magic  | version|reserved| record 0 | record 1 | ...
//            +--------+--------+--------+----------+----------+-----
//
//   record:  0          4          8
//            +----------+----------+------------------------------+
//            | uint32   | uint32   | body (length bytes)          |
//            | length   | crc32c   |                              |
//            +----------+----------+------------------------------+
//            crc32c = CRC-32C (Castagnoli) over the 4 length bytes, then the body, so a
//            corrupted length cannot pass as a shorter or longer record.
//
// Pure functions over memory: no IO, no allocation beyond the caller's string; any thread.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace nsq {

constexpr int64_t kRecordFileHeaderSize = 8;  // magic, version, reserved
constexpr int64_t kRecordHeaderSize = 8;      // length, crc32c

// Appends the 8-byte file header.
void appendFileHeader(std::string& out, uint32_t magic, uint16_t version);

// Appends one whole record holding body.
void appendRecord(std::string& out, std::string_view body);
// The same for a body in two parts (head then tail), without joining them first.
void appendRecord(std::string& out, std::string_view head, std::string_view tail);

// For a body encoded in place: beginRecord() reserves the header and returns where the record
// starts; append the body to out, then sealRecord(out, start) fills in length and checksum.
std::size_t beginRecord(std::string& out);
void sealRecord(std::string& out, std::size_t start);

// The length field of the record header at p (kRecordHeaderSize readable bytes).
uint32_t recordBodyLength(const char* header);
// Whether the checksum of the record at p (header plus bodyLength bytes readable) matches.
bool recordChecksumMatches(const char* record, std::size_t bodyLength);

enum class RecordStatus {
  Ok,
  Short,        // bytes end before the header or the body does (a torn final record)
  BadLength,    // length outside [minBody, maxBody]
  BadChecksum,  // whole, but the CRC does not match
};

struct RecordCheck {
  RecordStatus status = RecordStatus::Short;
  int64_t bodyLength = 0;  // when Ok; the record then spans kRecordHeaderSize + bodyLength bytes
  explicit operator bool() const { return status == RecordStatus::Ok; }
};

// Validates the record at the start of bytes (range, bounds, checksum, in that order).
RecordCheck checkRecord(std::string_view bytes, int64_t minBody, int64_t maxBody);

}  // namespace nsq
