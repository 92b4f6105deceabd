// OptionSet: the one option table behind flags, YAML config, --help, /config/:opt and the shell
// completion scripts. CLI11 does the command-line tokenizing; every value is captured as text
// and converted by our own parsers so that flag and file go through the same validation and the
// same error text. The completion scripts are printed from the same table as --help (the
// hidden --completion flag; the build installs its output), so the two cannot drift.
#include "nsq/base/options.h"

#include "nsq/base/json_text.h"
#include "nsq/base/number.h"

#include <yaml-cpp/yaml.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>

namespace nsq {

std::string OptionSpec::configKey() const {
  if (!this->key.empty()) return this->key;
  std::string key = name;
  std::replace(key.begin(), key.end(), '-', '_');
  return key;
}

namespace {

// Go's flag package takes -name as well as --name; CLI11 wants --name for long options. As in
// Go, an option that takes a value gets the next argument whatever it looks like ("-12", "-1s"),
// so that argument is glued on as --name=value; and "--name=" means an empty value, which CLI11
// only accepts as a separate empty argument.
std::vector<std::string> normalizeArgs(int argc, const char* const* argv,
                                       const std::function<bool(const std::string&)>& takesValue) {
  std::vector<std::string> args;
  bool rest = false;
  bool valueNext = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (valueNext) {
      valueNext = false;
      if (a.empty()) args.emplace_back();
      else args.back() += "=" + a;
      continue;
    }
    if (!rest && a == "--") rest = true;
    if (!rest && a.size() > 2 && a[0] == '-' && a[1] != '-') a.insert(0, "-");
    if (!rest && a.size() > 2 && a.starts_with("--")) {
      std::size_t eq = a.find('=');
      if (eq == std::string::npos) {
        valueNext = takesValue(a.substr(2));
      } else if (eq + 1 == a.size()) {
        args.push_back(a.substr(0, eq));
        args.emplace_back();
        continue;
      }
    }
    args.push_back(std::move(a));
  }
  std::reverse(args.begin(), args.end());  // CLI11 parses a reversed vector
  return args;
}

}  // namespace

OptionSet::OptionSet(std::string program, std::string description)
    : program_(std::move(program)), description_(std::move(description)) {}
OptionSet::~OptionSet() = default;

OptionSpec& OptionSet::add(OptionSpec spec) {
  specs_.push_back(std::move(spec));
  return specs_.back();
}

OptionSpec& OptionSet::addBool(const std::string& name, bool* target, const std::string& help) {
  OptionSpec s{name, OptionKind::Bool, help, *target ? "true" : "false", {}, {}, {}};
  s.assign = [target](const std::string& v) -> std::string {
    auto b = parseBool(v);
    if (!b) return "invalid boolean value \"" + v + "\" " + kBoolValuesHelp;
    *target = *b;
    return "";
  };
  s.jsonValue = [target] { return std::string(*target ? "true" : "false"); };
  return add(std::move(s));
}

OptionSpec& OptionSet::addInt(const std::string& name, int64_t* target, const std::string& help) {
  OptionSpec s{name, OptionKind::Int, help, std::to_string(*target), {}, {}, {}};
  s.assign = [target](const std::string& v) -> std::string {
    // Go's flag package: strconv.ParseInt(v, 0, 64), so 0x1f, 017 and 1_000 too.
    ParsedInt n = parseInt(v, kInt64Min, kInt64Max, IntSyntax::GoFlag);
    if (!n) return "invalid integer value \"" + v + "\"";
    *target = *n;
    return "";
  };
  s.jsonValue = [target] { return std::to_string(*target); };
  return add(std::move(s));
}

OptionSpec& OptionSet::addFloat(const std::string& name, double* target, const std::string& help) {
  auto format = [](double v) {
    std::ostringstream out;
    out << v;
    return out.str();
  };
  OptionSpec s{name, OptionKind::Float, help, format(*target), {}, {}, {}};
  s.assign = [target](const std::string& v) -> std::string {
    double d = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
    if (v.empty() || ec != std::errc() || end != v.data() + v.size() || !std::isfinite(d))
      return "invalid number \"" + v + "\"";
    *target = d;
    return "";
  };
  s.jsonValue = [target, format] { return format(*target); };
  return add(std::move(s));
}

OptionSpec& OptionSet::addString(const std::string& name, std::string* target,
                                 const std::string& help) {
  OptionSpec s{name, OptionKind::String, help, *target, {}, {}, {}};
  s.assign = [target](const std::string& v) -> std::string {
    *target = v;
    return "";
  };
  s.jsonValue = [target] { return jsonQuote(*target); };
  return add(std::move(s));
}

OptionSpec& OptionSet::addDuration(const std::string& name, Duration* target,
                                   const std::string& help) {
  OptionSpec s{name, OptionKind::Duration, help, formatDuration(*target), {}, {}, {}};
  s.assign = [target](const std::string& v) -> std::string {
    auto d = parseDuration(v);
    if (!d) return "invalid duration \"" + v + "\" (use e.g. 250ms, 30s, 1m30s)";
    *target = *d;
    return "";
  };
  s.jsonValue = [target] { return std::to_string(target->count()); };
  return add(std::move(s));
}

OptionSpec& OptionSet::addStringList(const std::string& name, std::vector<std::string>* target,
                                     const std::string& help) {
  std::string def;
  for (const auto& v : *target) def += (def.empty() ? "" : ",") + v;
  OptionSpec s{name, OptionKind::StringList, help, def, {}, {}, {}};
  s.assign = [target](const std::string& v) -> std::string {
    target->push_back(v);
    return "";
  };
  s.clearList = [target] { target->clear(); };
  s.jsonValue = [target] {
    std::string out = "[";
    for (std::size_t i = 0; i < target->size(); ++i) out += (i ? "," : "") + jsonQuote((*target)[i]);
    return out + "]";
  };
  return add(std::move(s));
}

void OptionSet::addStandard(std::string versionLine) {
  versionLine_ = std::move(versionLine);
  standard_ = true;
}

const OptionSpec* OptionSet::find(const std::string& nameOrKey) const {
  for (const auto& s : specs_)
    if (s.name == nameOrKey || s.configKey() == nameOrKey) return &s;
  return nullptr;
}

void OptionSet::applyYaml(const std::string& text, const std::string& source,
                          const std::vector<std::string>& skip) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw OptionError(source + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  if (root.IsNull()) return;
  if (!root.IsMap())
    throw OptionError(source + ":" + std::to_string(root.Mark().line + 1) +
                      ": expected a mapping of option names to values");
  // yaml-cpp keeps both entries of a repeated key (and the later silently wins in a lookup), so
  // duplicates are found here, by key text, with the line of each.
  std::map<std::string, int> firstLine;
  for (auto it = root.begin(); it != root.end(); ++it) {
    const int line = it->first.Mark().line + 1;
    std::string key = it->first.IsScalar() ? it->first.Scalar() : "";
    auto [seen, fresh] = firstLine.emplace(key, line);
    if (!fresh)
      throw OptionError(source + ":" + std::to_string(line) + ": duplicate key \"" + key + "\" (first given at line " +
                        std::to_string(seen->second) + ")");
  }
  for (auto it = root.begin(); it != root.end(); ++it) {
    std::string key = it->first.as<std::string>();
    std::string where = source + ":" + std::to_string(it->first.Mark().line + 1) + ": ";
    if (std::find(sections_.begin(), sections_.end(), key) != sections_.end()) continue;
    const OptionSpec* spec = nullptr;
    for (const auto& s : specs_)
      if (s.configKey() == key) spec = &s;
    if (!spec || spec->name == "config") throw OptionError(where + "unknown key \"" + key + "\"");
    bool skipped = std::find(skip.begin(), skip.end(), spec->name) != skip.end();
    std::vector<std::string> values;
    const YAML::Node v = it->second;  // a copy: it->second is a temporary
    if (v.IsSequence()) {
      if (spec->kind != OptionKind::StringList)
        throw OptionError(where + "key \"" + key + "\" takes a single value, not a list");
      for (const auto& item : v) {
        if (!item.IsScalar())
          throw OptionError(source + ":" + std::to_string(item.Mark().line + 1) + ": key \"" + key +
                            "\": list items must be plain values");
        values.push_back(item.Scalar());
      }
    } else if (v.IsScalar()) {
      values.push_back(v.Scalar());
    } else if (v.IsNull()) {
      if (spec->kind != OptionKind::StringList && spec->kind != OptionKind::String)
        throw OptionError(where + "key \"" + key + "\" has no value");
    } else {
      throw OptionError(where + "key \"" + key + "\" must be a plain value");
    }
    if (skipped) continue;  // the command line wins
    if (spec->clearList) spec->clearList();
    for (const auto& value : values) {
      std::string err = spec->assign(value);
      if (!err.empty()) throw OptionError(where + "key \"" + key + "\": " + err);
    }
  }
}

OptionSet::Result OptionSet::parse(int argc, const char* const* argv, std::ostream& out) {
  CLI::App app{description_, program_};
  app.set_help_flag();  // we print our own help, and Go's tools accept -h/-help/--help
  bool help = false;
  bool version = false;
  app.add_flag("-h,--help", help);
  std::string configPath;
  std::string completionShell;
  app.add_option("--completion", completionShell);
  if (standard_) {
    app.add_option("--config", configPath);
    app.add_flag("--version", version);
  }
  std::vector<std::vector<std::string>> captured(specs_.size());
  std::vector<CLI::Option*> cliOpts(specs_.size());
  for (std::size_t i = 0; i < specs_.size(); ++i) {
    const auto& s = specs_[i];
    std::string flag = s.name.size() == 1 ? "-" + s.name + ",--" + s.name : "--" + s.name;
    if (s.kind == OptionKind::Bool || s.bareAllowed)
      cliOpts[i] = app.add_flag(flag, captured[i])->expected(0, 1);
    else
      cliOpts[i] = app.add_option(flag, captured[i])->allow_extra_args(false);
    cliOpts[i]->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  }
  auto args = normalizeArgs(argc, argv, [this](const std::string& name) {
    if (name == "config") return standard_;
    if (name == "completion") return true;
    for (const auto& s : specs_)
      if (s.name == name) return s.kind != OptionKind::Bool && !s.bareAllowed;
    return false;
  });
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    throw OptionError(e.what());
  }
  if (help) {
    out << helpText();
    return Result::Exit;
  }
  if (version) {
    out << versionLine_ << "\n";
    return Result::Exit;
  }
  if (!completionShell.empty()) {
    out << completionScript(completionShell);
    return Result::Exit;
  }
  std::vector<std::string> given;
  for (std::size_t i = 0; i < specs_.size(); ++i)
    if (cliOpts[i]->count() > 0) given.push_back(specs_[i].name);
  configPath_ = configPath;
  if (!configPath.empty()) {
    std::ifstream in(configPath);
    if (!in) throw OptionError(configPath + ": cannot open config file");
    std::stringstream buf;
    buf << in.rdbuf();
    applyYaml(buf.str(), configPath, given);
  }
  for (std::size_t i = 0; i < specs_.size(); ++i) {
    if (cliOpts[i]->count() == 0) continue;
    const auto& s = specs_[i];
    if (s.clearList) s.clearList();
    for (const auto& v : captured[i]) {
      std::string err = s.assign(v);
      if (!err.empty()) throw OptionError("flag --" + s.name + ": " + err);
    }
  }
  return Result::Run;
}

std::string OptionSet::helpText() const {
  std::ostringstream out;
  out << "Usage of " << program_ << ":\n  " << description_ << "\n\n";
  auto line = [&out](const std::string& flag, const std::string& help) {
    out << "  " << flag;
    if (flag.size() < 32) out << std::string(32 - flag.size(), ' ');
    else out << "\n  " << std::string(32, ' ');
    out << help << "\n";
  };
  if (standard_) {
    line("--config FILE", "path to a YAML config file (keys are flag names with _ for -)");
  }
  for (const auto& s : specs_) {
    if (s.hidden) continue;
    std::string flag = "--" + s.name;
    switch (s.kind) {
      case OptionKind::Bool: break;
      case OptionKind::Int: flag += " int"; break;
      case OptionKind::Float: flag += " float"; break;
      case OptionKind::String: flag += " string"; break;
      case OptionKind::Duration: flag += " duration"; break;
      case OptionKind::StringList: flag += " value"; break;
    }
    std::string help = s.help;
    if (s.kind == OptionKind::StringList) help += " (may be given multiple times)";
    if (!s.defaultText.empty())
      help += s.kind == OptionKind::String ? " (default \"" + s.defaultText + "\")" : " (default " + s.defaultText + ")";
    line(flag, help);
  }
  if (standard_) line("--version", "print version string");
  line("-h, --help", "show this help");
  return out.str();
}

namespace {

// How a shell completes an option's value: a file, a directory, or nothing it can guess.
enum class ValueKind { None, File, Directory, Other };

ValueKind valueKind(const std::string& name, OptionKind kind, bool bareAllowed) {
  if (kind == OptionKind::Bool || bareAllowed) return ValueKind::None;
  if (name.ends_with("-dir") || name.ends_with("-path")) return ValueKind::Directory;
  if (name == "config" || name.find("file") != std::string::npos || name.ends_with("-cert") ||
      name.ends_with("-key"))
    return ValueKind::File;
  return ValueKind::Other;
}

std::string joinedWith(const std::vector<std::string>& words, const std::string& separator) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : separator) + w;
  return out;
}
std::string joined(const std::vector<std::string>& words) { return joinedWith(words, " "); }

// Text inside a single-quoted shell word.
std::string singleQuoted(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

std::string OptionSet::completionScript(const std::string& shell) const {
  std::string command = program_.substr(0, program_.find(' '));
  std::string function = "_nsq_complete_" + command;
  std::replace_if(function.begin(), function.end(), [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); }, '_');
  struct Flag {
    std::string flag, help;
    ValueKind value;
    bool repeat;
  };
  std::vector<Flag> flags;
  if (standard_) flags.push_back({"--config", "path to a YAML config file", ValueKind::File, false});
  for (const auto& s : specs_)
    if (!s.hidden)
      flags.push_back({"--" + s.name, s.help, valueKind(s.name, s.kind, s.bareAllowed), s.kind == OptionKind::StringList});
  if (standard_) flags.push_back({"--version", "print version string", ValueKind::None, false});
  flags.push_back({"--help", "show this help", ValueKind::None, false});
  flags.push_back({"-h", "show this help", ValueKind::None, false});

  std::ostringstream out;
  if (shell == "bash") {
    std::vector<std::string> all, files, dirs, others;
    for (const auto& f : flags) {
      all.push_back(f.flag);
      if (f.value == ValueKind::File) files.push_back(f.flag);
      if (f.value == ValueKind::Directory) dirs.push_back(f.flag);
      if (f.value == ValueKind::Other) others.push_back(f.flag);
    }
    out << "# bash completion for " << command << ", printed by `" << command
        << " --completion bash` from the option table behind its --help.\n"
        << function << "() {\n"
        << "  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
        << "  # --flag=value: bash splits at '=' (COMP_WORDBREAKS)\n"
        << "  if [[ $cur == = ]]; then cur=\"\"; fi\n"
        << "  if [[ $prev == = && $COMP_CWORD -ge 2 ]]; then prev=${COMP_WORDS[COMP_CWORD-2]}; fi\n"
        << "  COMPREPLY=()\n"
        << "  case $prev in\n";
    if (!files.empty()) out << "    " << joinedWith(files, "|") << ") COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n";
    if (!dirs.empty()) out << "    " << joinedWith(dirs, "|") << ") COMPREPLY=($(compgen -d -- \"$cur\")); return ;;\n";
    if (!others.empty()) out << "    " << joinedWith(others, "|") << ") return ;;\n";
    out << "  esac\n";
    if (!firstWords_.empty())
      out << "  if [[ $COMP_CWORD -eq 1 && $cur != -* ]]; then COMPREPLY=($(compgen -W " << singleQuoted(joined(firstWords_))
          << " -- \"$cur\")); return; fi\n";
    out << "  COMPREPLY=($(compgen -W " << singleQuoted(joined(all)) << " -- \"$cur\"))\n"
        << "}\n"
        << "complete -F " << function << " " << command << "\n";
    return out.str();
  }
  if (shell == "zsh") {
    // _arguments specs: '--name=[help]:message:action'; '*' in front when it may repeat.
    auto escaped = [](const std::string& help) {
      std::string out;
      for (char c : help) {
        if (c == '[' || c == ']' || c == '\\' || c == ':') out += '\\';
        out += c;
      }
      return out;
    };
    out << "#compdef " << command << "\n"
        << "# zsh completion for " << command << ", printed by `" << command
        << " --completion zsh` from the option table behind its --help.\n"
        << "_arguments -s";
    if (!firstWords_.empty()) out << " " << singleQuoted("1:mode:(" + joined(firstWords_) + ")");
    for (const auto& f : flags) {
      std::string spec = (f.repeat ? "*" : "") + f.flag;
      if (f.value != ValueKind::None) spec += "=";
      spec += "[" + escaped(f.help) + "]";
      if (f.value == ValueKind::File) spec += ":file:_files";
      if (f.value == ValueKind::Directory) spec += ":directory:_files -/";
      if (f.value == ValueKind::Other) spec += ":value: ";
      out << " \\\n  " << singleQuoted(spec);
    }
    out << "\n";
    return out.str();
  }
  throw OptionError("flag --completion: unknown shell \"" + shell + "\" (bash or zsh)");
}

}  // namespace nsq
