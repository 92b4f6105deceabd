// RequestParser: an incremental HTTP/1.x request reader with hard caps. It keeps a position
// into the caller's buffer instead of erasing as it goes, so a body that arrives in many reads
// is scanned once.
#include "nsq/http/request_parser.h"

#include <algorithm>
#include <cctype>
#include <ctime>

namespace nsq::http {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](unsigned char x, unsigned char y) {
           return std::tolower(x) == std::tolower(y);
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool isTokenChar(unsigned char c) {
  if (std::isalnum(c)) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

bool isToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return isTokenChar(c); });
}

// Digits only, no sign, at most 2^63 - 1: Content-Length as RFC 9110 writes it.
bool parseLength(std::string_view s, uint64_t* out) {
  s = trim(s);
  if (s.empty() || s.size() > 18) return false;  // 18 digits: < 2^63, never overflows
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = v;
  return true;
}

// A chunk size: hex digits, optionally followed by ";extension".
bool parseChunkSize(std::string_view s, uint64_t* out) {
  auto semi = s.find(';');
  if (semi != std::string_view::npos) s = s.substr(0, semi);
  s = trim(s);
  if (s.empty() || s.size() > 15) return false;  // 15 hex digits: < 2^60, never overflows
  uint64_t v = 0;
  for (char c : s) {
    int d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
    else return false;
    v = v * 16 + static_cast<uint64_t>(d);
  }
  *out = v;
  return true;
}

}  // namespace

const std::string* Request::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (iequals(k, name)) return &v;
  return nullptr;
}

std::string Request::header(std::string_view name, std::string_view fallback) const {
  const std::string* v = header(name);
  return v ? *v : std::string(fallback);
}

bool Request::keepAlive() const {
  const std::string* c = header("Connection");
  if (version == "HTTP/1.0") return c && iequals(trim(*c), "keep-alive");
  return !(c && iequals(trim(*c), "close"));
}

void Response::set(std::string name, std::string value) {
  for (auto& [k, v] : headers)
    if (iequals(k, name)) {
      v = std::move(value);
      return;
    }
  headers.emplace_back(std::move(name), std::move(value));
}

std::string_view reasonPhrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Request Entity Too Large";
    case 414: return "Request URI Too Long";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

std::string serializeResponse(const Response& response, bool headOnly, bool closing) {
  std::string out;
  out.reserve(160 + response.body.size());
  out += "HTTP/1.1 ";
  out += std::to_string(response.status);
  out += ' ';
  out += reasonPhrase(response.status);
  out += "\r\n";
  for (const auto& [k, v] : response.headers) {
    out += k;
    out += ": ";
    out += v;
    out += "\r\n";
  }
  char date[64];
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  out += "Date: ";
  out += date;
  out += "\r\nContent-Length: ";
  out += std::to_string(response.body.size());
  out += "\r\n";
  if (closing) out += "Connection: close\r\n";
  out += "\r\n";
  if (!headOnly) out += response.body;
  return out;
}

void RequestParser::reset() {
  request_ = Request{};
  phase_ = Phase::Head;
  pos_ = 0;
  headScan_ = 0;
  bodyLength_ = 0;
  chunkLeft_ = 0;
  trailerBytes_ = 0;
  wantsContinue_ = false;
  started_ = false;
  errorStatus_ = 0;
  errorText_.clear();
}

RequestParser::Status RequestParser::fail(int status, std::string text, std::string& in) {
  errorStatus_ = status;
  errorText_ = std::move(text);
  in.clear();  // the connection closes after the error; nothing after it is read
  phase_ = Phase::Done;
  return Status::Error;
}

RequestParser::Status RequestParser::complete(std::string& in) {
  in.erase(0, std::min(pos_, in.size()));
  pos_ = 0;
  phase_ = Phase::Done;
  wantsContinue_ = false;
  return Status::Complete;
}

bool RequestParser::nextLine(const std::string& in, std::string_view* line) {
  auto nl = in.find('\n', pos_);
  if (nl == std::string::npos) return false;
  std::string_view l(in.data() + pos_, nl - pos_);
  if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
  *line = l;
  pos_ = nl + 1;
  return true;
}

RequestParser::Status RequestParser::parse(std::string& in) {
  if (phase_ == Phase::Done) return errorStatus_ ? Status::Error : Status::Complete;
  if (phase_ == Phase::Head) {
    // Blank lines before a request line are ignored (RFC 9112 §2.2).
    while (pos_ < in.size() && (in[pos_] == '\r' || in[pos_] == '\n')) ++pos_;
    if (pos_ < in.size()) started_ = true;
    if (auto s = parseHead(in); s != Status::NeedMore || phase_ == Phase::Head) return s;
  }
  if (phase_ == Phase::Body) {
    if (in.size() - pos_ < bodyLength_) return Status::NeedMore;
    request_.body.assign(in, pos_, static_cast<std::size_t>(bodyLength_));
    pos_ += static_cast<std::size_t>(bodyLength_);
    return complete(in);
  }
  return parseChunked(in);
}

RequestParser::Status RequestParser::parseHead(std::string& in) {
  std::size_t start = pos_;
  // Find the blank line that ends the head, resuming where the last call stopped.
  std::size_t scan = std::max(headScan_, start);
  std::size_t end = std::string::npos;
  for (std::size_t nl = in.find('\n', scan); nl != std::string::npos; nl = in.find('\n', nl + 1)) {
    std::size_t next = nl + 1;
    if (next < in.size() && in[next] == '\n') {
      end = next + 1;
      break;
    }
    if (next + 1 < in.size() && in[next] == '\r' && in[next + 1] == '\n') {
      end = next + 2;
      break;
    }
    if (next >= in.size() || (in[next] == '\r' && next + 1 >= in.size())) break;
  }
  if (end == std::string::npos) {
    if (in.size() - start > limits_.maxHeaderBytes)
      return fail(431, "request head larger than " + std::to_string(limits_.maxHeaderBytes) + " bytes", in);
    headScan_ = in.size() > 2 ? in.size() - 2 : start;
    return Status::NeedMore;
  }
  if (end - start > limits_.maxHeaderBytes)
    return fail(431, "request head larger than " + std::to_string(limits_.maxHeaderBytes) + " bytes", in);

  std::string_view line;
  if (!nextLine(in, &line)) return fail(400, "malformed request line", in);
  auto sp1 = line.find(' ');
  auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp1 == std::string_view::npos || sp2 == std::string_view::npos ||
      line.find(' ', sp2 + 1) != std::string_view::npos)
    return fail(400, "malformed request line", in);
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (!isToken(method) || target.empty()) return fail(400, "malformed request line", in);
  if (!version.starts_with("HTTP/")) return fail(400, "malformed HTTP version", in);
  if (version != "HTTP/1.1" && version != "HTTP/1.0")
    return fail(505, "unsupported HTTP version " + std::string(version), in);
  request_.method.assign(method);
  request_.target.assign(target);
  request_.version.assign(version);

  while (pos_ < end) {
    if (!nextLine(in, &line)) break;
    if (line.empty()) break;
    if (line.front() == ' ' || line.front() == '\t')
      return fail(400, "obsolete header line folding", in);
    auto colon = line.find(':');
    if (colon == std::string_view::npos || !isToken(line.substr(0, colon)))
      return fail(400, "malformed header line", in);
    if (request_.headers.size() >= limits_.maxHeaderCount)
      return fail(431, "more than " + std::to_string(limits_.maxHeaderCount) + " header fields", in);
    request_.headers.emplace_back(std::string(line.substr(0, colon)),
                                  std::string(trim(line.substr(colon + 1))));
  }
  pos_ = end;

  const std::string* te = request_.header("Transfer-Encoding");
  const std::string* cl = request_.header("Content-Length");
  if (te) {
    if (!iequals(trim(*te), "chunked"))
      return fail(501, "unsupported transfer encoding " + std::string(trim(*te)), in);
    phase_ = Phase::ChunkSize;
  } else if (cl) {
    for (const auto& [k, v] : request_.headers)
      if (iequals(k, "Content-Length") && trim(v) != trim(*cl))
        return fail(400, "conflicting Content-Length values", in);
    if (!parseLength(*cl, &bodyLength_))
      return fail(400, "invalid Content-Length " + std::string(trim(*cl)), in);
    if (bodyLength_ > limits_.maxBodyBytes) {
      request_.bodyTooLarge = true;
      return complete(in);  // the body is never read; the server closes after answering
    }
    phase_ = Phase::Body;
  } else {
    return complete(in);
  }
  const std::string* expect = request_.header("Expect");
  wantsContinue_ = expect && iequals(trim(*expect), "100-continue") && request_.version == "HTTP/1.1";
  return Status::NeedMore;
}

RequestParser::Status RequestParser::parseChunked(std::string& in) {
  if (pos_ > 64 * 1024) {  // framing of many small chunks must not pile up beside the body
    in.erase(0, pos_);
    pos_ = 0;
  }
  for (;;) {
    switch (phase_) {
      case Phase::ChunkSize: {
        std::string_view line;
        std::size_t before = pos_;
        if (!nextLine(in, &line)) {
          if (in.size() - pos_ > 1024) return fail(400, "chunk size line too long", in);
          return Status::NeedMore;
        }
        if (!parseChunkSize(line, &chunkLeft_)) {
          pos_ = before;
          return fail(400, "malformed chunk size", in);
        }
        if (chunkLeft_ == 0) {
          phase_ = Phase::Trailer;
          break;
        }
        if (request_.body.size() + chunkLeft_ > limits_.maxBodyBytes) {
          // Keep limit + 1 bytes at most, so the handler can see that the body was too long.
          std::size_t room = limits_.maxBodyBytes + 1 - request_.body.size();
          std::size_t have = std::min<std::size_t>({room, in.size() - pos_});
          request_.body.append(in, pos_, have);
          pos_ += have;
          request_.bodyTooLarge = true;
          return complete(in);
        }
        phase_ = Phase::ChunkData;
        break;
      }
      case Phase::ChunkData: {
        std::size_t have = std::min<uint64_t>(chunkLeft_, in.size() - pos_);
        request_.body.append(in, pos_, have);
        pos_ += have;
        chunkLeft_ -= have;
        if (chunkLeft_ > 0) return Status::NeedMore;
        phase_ = Phase::ChunkDataEnd;
        break;
      }
      case Phase::ChunkDataEnd: {
        std::string_view line;
        if (!nextLine(in, &line)) {
          if (in.size() - pos_ > 2) return fail(400, "missing CRLF after chunk data", in);
          return Status::NeedMore;
        }
        if (!line.empty()) return fail(400, "missing CRLF after chunk data", in);
        phase_ = Phase::ChunkSize;
        break;
      }
      case Phase::Trailer: {
        std::string_view line;
        if (!nextLine(in, &line)) {
          if (in.size() - pos_ > limits_.maxHeaderBytes) return fail(431, "trailer too large", in);
          return Status::NeedMore;
        }
        trailerBytes_ += line.size();
        if (trailerBytes_ > limits_.maxHeaderBytes) return fail(431, "trailer too large", in);
        if (line.empty()) return complete(in);
        break;
      }
      default:
        return Status::NeedMore;
    }
  }
}

}  // namespace nsq::http
