#pragma once
// RequestParser: reads one HTTP/1.x request incrementally from the bytes a connection has
// received so far, with caps on the head's size and header count and on the body, so a
// request is only handed on when it is whole (or refused with the status to answer).
//
//   METHOD SP target SP HTTP/1.x CRLF      request line (bare LF accepted, leading CRLFs skipped)
//   Name: value CRLF  (x <= maxHeaderCount, head <= maxHeaderBytes)
//   CRLF
//   body: Content-Length bytes | chunked (hex size[;ext] CRLF data CRLF ... 0 CRLF trailers CRLF)
//
// No sockets and no threads: the server feeds it, tests drive it byte by byte.
#include <cstddef>
#include <cstdint>
#include <string>

#include "nsq/http/request.h"

namespace nsq::http {

struct ParserLimits {
  std::size_t maxHeaderBytes = 64 * 1024;  // request line + headers
  std::size_t maxHeaderCount = 100;
  std::size_t maxBodyBytes = 1024 * 1024;  // larger bodies: Request::bodyTooLarge
};

class RequestParser {
 public:
  enum class Status { NeedMore, Complete, Error };

  explicit RequestParser(ParserLimits limits) : limits_(limits) {}

  // Parses what `in` holds. Between calls the caller may only append to `in`. On Complete and
  // Error the bytes of this request are erased from the front of `in` (pipelined bytes stay).
  [[nodiscard]] Status parse(std::string& in);

  // After Complete: the request (move it out), then reset() before the next one.
  Request& request() { return request_; }
  // After Error: the status to answer (400, 413, 431, 501, 505) and a one-line reason.
  int errorStatus() const { return errorStatus_; }
  const std::string& errorText() const { return errorText_; }
  // True once the head is read and the client waits for "100 Continue" before its body.
  bool wantsContinue() const { return wantsContinue_; }
  // True once any byte of this request has arrived.
  bool started() const { return started_; }
  void reset();

 private:
  enum class Phase { Head, Body, ChunkSize, ChunkData, ChunkDataEnd, Trailer, Done };
  Status fail(int status, std::string text, std::string& in);
  Status complete(std::string& in);
  Status parseHead(std::string& in);
  Status parseChunked(std::string& in);
  // The next line starting at pos_ (without CR LF), or false if none is whole yet.
  bool nextLine(const std::string& in, std::string_view* line);

  ParserLimits limits_;
  Request request_;
  Phase phase_ = Phase::Head;
  std::size_t pos_ = 0;       // bytes of `in` this request has used
  std::size_t headScan_ = 0;  // where to resume looking for the end of the head
  uint64_t bodyLength_ = 0;   // Content-Length
  uint64_t chunkLeft_ = 0;
  std::size_t trailerBytes_ = 0;
  bool wantsContinue_ = false;
  bool started_ = false;
  int errorStatus_ = 0;
  std::string errorText_;
};

}  // namespace nsq::http
