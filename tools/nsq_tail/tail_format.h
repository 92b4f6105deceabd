#pragma once
// TailFormat: nsq_tail's --format, a template rendered once per message, as kcat -f does:
//   %b body   %l body length in bytes   %T topic   %i message id   %a attempts
//   %t timestamp (ns since epoch)   %d timestamp as UTC RFC 3339 (2026-12-06T05:40:00.123456789Z)
//   %% a percent sign; escapes \n \t \r \0 \\ \xHH (lib/nsq/base/escapes.h)
// The default is "%b\n" ("%T | %b\n" with --print-topic). Binary-safe output: "%b\0" (NUL after
// each body; read back with to_nsq --delimiter='\0') or "%l:%b," (length-prefixed, a netstring).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nsq/protocol/message.h"

namespace nsq::tools {

class TailFormat {
 public:
  // nullopt with *error naming the bad directive or escape.
  static std::optional<TailFormat> parse(const std::string& spec, std::string* error);
  // Appends the rendering of m (from topic) to out. Pure; any thread.
  void render(const Message& m, std::string_view topic, std::string& out) const;

 private:
  enum class Part { Literal, Body, Length, Topic, Id, Attempts, Timestamp, Date };
  struct Piece {
    Part part;
    std::string literal;
  };
  std::vector<Piece> pieces_;
};

}  // namespace nsq::tools
