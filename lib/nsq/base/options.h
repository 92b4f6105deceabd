#pragma once
// OptionSet: one table of a program's options that feeds every place an option shows up: the
// command line (CLI11, with Go `flag` syntax: -name or --name, --name=v or --name v, bare bools,
// repeatable lists, Go durations), the YAML config file (key = flag name with '_' for '-'),
// --help, /config/:opt, the shell completion scripts (--completion bash|zsh) and the man-page
// check in the tests. Precedence: flag > file > default.
//
// Errors (unknown flag, bad value, bad YAML, unknown key) throw OptionError whose message names
// the flag, or the file, line and key; main() prints it as one line and exits non-zero.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "nsq/base/duration.h"
#include "nsq/base/number.h"  // parseBool(), which the option parsers share with the client

namespace nsq {

class OptionError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class OptionKind { Bool, Int, Float, String, Duration, StringList };

struct OptionSpec {
  std::string name;  // flag name without dashes, e.g. "mem-queue-size"
  OptionKind kind;
  std::string help;
  std::string defaultText;  // as shown in --help and the man page
  // Parses one textual value into the target; returns an error description or "".
  std::function<std::string(const std::string&)> assign;
  std::function<void()> clearList;  // lists only: drop defaults before the first given value
  std::function<std::string()> jsonValue;  // current value as JSON (durations in ns)
  bool hidden = false;  // deprecated no-ops: accepted, not shown
  // Strings only: may also be given bare, like a boolean (Go's IsBoolFlag); assign() then gets
  // "true". Such a flag takes its value only as --name=value.
  bool bareAllowed = false;
  // The YAML key and /config/:opt name when it is not the flag name with '_' (upstream's cfg
  // tag: --lookupd-http-address is nsqlookupd_http_addresses).
  std::string key = {};

  std::string configKey() const;  // key, else name with '-' -> '_'
};

class OptionSet {
 public:
  OptionSet(std::string program, std::string description);
  ~OptionSet();

  OptionSpec& addBool(const std::string& name, bool* target, const std::string& help);
  OptionSpec& addInt(const std::string& name, int64_t* target, const std::string& help);
  // A finite decimal number (Go's strconv.ParseFloat syntax: 0.5, 1e-3; no NaN or Inf).
  OptionSpec& addFloat(const std::string& name, double* target, const std::string& help);
  OptionSpec& addString(const std::string& name, std::string* target, const std::string& help);
  OptionSpec& addDuration(const std::string& name, Duration* target, const std::string& help);
  OptionSpec& addStringList(const std::string& name, std::vector<std::string>* target,
                            const std::string& help);
  // Adds --config FILE (YAML) and --version. Call once, before parse().
  void addStandard(std::string versionLine);

  enum class Result { Run, Exit };
  // Parses argv and the config file. Result::Exit means --help, --version or --completion
  // was printed to out.
  Result parse(int argc, const char* const* argv, std::ostream& out);

  // Applies a YAML document (exposed for tests). `source` names it in errors. Keys in `skip`
  // (already given on the command line) are validated but not applied.
  void applyYaml(const std::string& text, const std::string& source,
                 const std::vector<std::string>& skip = {});

  // A top-level YAML key that another part of the program reads from the same file (nsqd's
  // `topics:` list): applyYaml() leaves it alone instead of calling it unknown.
  void addSection(const std::string& key) { sections_.push_back(key); }
  // The --config path given to the last parse(), "" when none.
  const std::string& configPath() const { return configPath_; }

  std::string helpText() const;
  // The completion script for `shell` ("bash" or "zsh"; else throws OptionError) of the
  // command named by the first word of program: every option --help lists, file names after
  // the options that take a path, and `firstWords` (e.g. nsq_bench's modes) for the first
  // argument. What the hidden --completion SHELL flag prints; the build installs it.
  std::string completionScript(const std::string& shell) const;
  void setCompletionFirstWords(std::vector<std::string> words) { firstWords_ = std::move(words); }
  const std::vector<OptionSpec>& specs() const { return specs_; }
  const OptionSpec* find(const std::string& nameOrKey) const;

 private:
  OptionSpec& add(OptionSpec spec);
  std::string program_;
  std::string description_;
  std::string versionLine_;
  std::string configPath_;
  bool standard_ = false;
  std::vector<OptionSpec> specs_;
  std::vector<std::string> firstWords_;
  std::vector<std::string> sections_;
};


}  // namespace nsq
