// DEFLATE via zlib (raw, windowBits -15) and Snappy framing via libsnappy. Snappy's framing is
// written by hand: libsnappy only provides the block format.
#include "nsq/protocol/compression.h"

#include <snappy.h>
#include <zlib.h>

#include <cstring>
#include <stdexcept>

#include "nsq/base/crc32c.h"

namespace nsq {

namespace {

class DeflateCodec : public StreamCodec {
 public:
  explicit DeflateCodec(int level) {
    std::memset(&def_, 0, sizeof def_);
    std::memset(&inf_, 0, sizeof inf_);
    if (deflateInit2(&def_, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK ||
        inflateInit2(&inf_, -15) != Z_OK)
      throw std::runtime_error("zlib init failed");
  }
  ~DeflateCodec() override {
    deflateEnd(&def_);
    inflateEnd(&inf_);
  }
  const char* name() const override { return "deflate"; }

  void encode(std::string_view plain, std::string& out) override {
    def_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data()));
    def_.avail_in = static_cast<uInt>(plain.size());
    char buf[64 * 1024];
    do {
      def_.next_out = reinterpret_cast<Bytef*>(buf);
      def_.avail_out = sizeof buf;
      deflate(&def_, Z_SYNC_FLUSH);
      out.append(buf, sizeof buf - def_.avail_out);
    } while (def_.avail_out == 0);
  }

  bool decode(std::string_view wire, std::string& out, std::size_t maxOutput, std::string* error) override {
    inf_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(wire.data()));
    inf_.avail_in = static_cast<uInt>(wire.size());
    char buf[64 * 1024];
    std::size_t produced = 0;
    while (inf_.avail_in > 0) {
      inf_.next_out = reinterpret_cast<Bytef*>(buf);
      inf_.avail_out = sizeof buf;
      int rc = inflate(&inf_, Z_SYNC_FLUSH);
      std::size_t n = sizeof buf - inf_.avail_out;
      out.append(buf, n);
      produced += n;
      if (produced > maxOutput) {
        if (error) *error = "decompressed data too large";
        return false;
      }
      if (rc == Z_BUF_ERROR && n == 0) break;  // needs more input
      if (rc != Z_OK && rc != Z_BUF_ERROR) {
        if (error) *error = std::string("deflate stream corrupt: ") + (inf_.msg ? inf_.msg : "error");
        return false;
      }
    }
    return true;
  }

 private:
  z_stream def_;
  z_stream inf_;
};

constexpr std::size_t kMaxSnappyChunk = 65536;
constexpr char kSnappyIdentifier[] = "\xff\x06\x00\x00sNaPpY";

uint32_t maskedCrc(std::string_view data) {
  uint32_t c = crc32c(0, data.data(), data.size());
  return ((c >> 15) | (c << 17)) + 0xa282ead8u;
}

void putLe24(std::string& out, std::size_t v) {
  out.push_back(static_cast<char>(v & 0xff));
  out.push_back(static_cast<char>((v >> 8) & 0xff));
  out.push_back(static_cast<char>((v >> 16) & 0xff));
}
void putLe32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint32_t getLe(const char* p, int n) {
  uint32_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

class SnappyCodec : public StreamCodec {
 public:
  const char* name() const override { return "snappy"; }

  void encode(std::string_view plain, std::string& out) override {
    if (!wroteHeader_) {
      out.append(kSnappyIdentifier, sizeof kSnappyIdentifier - 1);
      wroteHeader_ = true;
    }
    while (!plain.empty()) {
      std::string_view chunk = plain.substr(0, kMaxSnappyChunk);
      plain.remove_prefix(chunk.size());
      scratch_.clear();
      snappy::Compress(chunk.data(), chunk.size(), &scratch_);
      bool compressed = scratch_.size() < chunk.size() - chunk.size() / 8;  // as Go: worth it?
      std::string_view data = compressed ? std::string_view(scratch_) : chunk;
      out.push_back(compressed ? '\x00' : '\x01');
      putLe24(out, 4 + data.size());
      putLe32(out, maskedCrc(chunk));
      out.append(data);
    }
  }

  bool decode(std::string_view wire, std::string& out, std::size_t maxOutput, std::string* error) override {
    pending_.append(wire);
    std::size_t pos = 0, produced = 0;
    auto fail = [&](const char* what) {
      if (error) *error = std::string("snappy stream corrupt: ") + what;
      return false;
    };
    while (pending_.size() - pos >= 4) {
      auto type = static_cast<uint8_t>(pending_[pos]);
      std::size_t len = getLe(pending_.data() + pos + 1, 3);
      // Judge the chunk header before waiting for its body.
      if (!readHeader_ && type != 0xff) return fail("missing stream identifier");
      if (type >= 0x02 && type < 0x80) return fail("reserved unskippable chunk");
      if ((type == 0x00 || type == 0x01) && len > 4 + snappy::MaxCompressedLength(kMaxSnappyChunk))
        return fail("chunk too large");
      if (pending_.size() - pos - 4 < len) break;
      std::string_view body(pending_.data() + pos + 4, len);
      if (type == 0xff) {
        if (body != "sNaPpY") return fail("bad stream identifier");
        readHeader_ = true;
      } else if (type == 0x00 || type == 0x01) {
        if (len < 4) return fail("short chunk");
        uint32_t crc = getLe(body.data(), 4);
        std::string_view data = body.substr(4);
        std::size_t before = out.size();
        if (type == 0x00) {
          std::size_t n = 0;
          if (!snappy::GetUncompressedLength(data.data(), data.size(), &n) || n > kMaxSnappyChunk)
            return fail("bad compressed length");
          out.resize(before + n);
          if (!snappy::RawUncompress(data.data(), data.size(), out.data() + before)) return fail("bad block");
        } else {
          if (data.size() > kMaxSnappyChunk) return fail("chunk too large");
          out.append(data);
        }
        if (maskedCrc(std::string_view(out).substr(before)) != crc) return fail("checksum mismatch");
        produced += out.size() - before;
        if (produced > maxOutput) {
          if (error) *error = "decompressed data too large";
          return false;
        }
      }  // else: padding or skippable
      pos += 4 + len;
    }
    pending_.erase(0, pos);
    return true;
  }

 private:
  bool wroteHeader_ = false;
  bool readHeader_ = false;
  std::string pending_;
  std::string scratch_;
};

}  // namespace

std::unique_ptr<StreamCodec> makeDeflateCodec(int level) { return std::make_unique<DeflateCodec>(level); }
std::unique_ptr<StreamCodec> makeSnappyCodec() { return std::make_unique<SnappyCodec>(); }

}  // namespace nsq
