#pragma once
// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78): the checksum of disk-queue and journal
// records and of snappy's framing format.

#include <cstddef>
#include <cstdint>

namespace nsq {

// crc32c(0, "123456789", 9) == 0xE3069283. Pass a previous result as `crc` to continue over
// more bytes. Any thread.
uint32_t crc32c(uint32_t crc, const void* data, std::size_t n);

}  // namespace nsq
