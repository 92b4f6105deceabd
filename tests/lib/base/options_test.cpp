// OptionSet: Go flag syntax on the command line, the YAML config file with file:line errors,
// precedence flag > file > default, --help / --version / --completion, lookups and the JSON
// values of /config.
#include "nsq/base/options.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <string>
#include <vector>

#include "support/test_support.h"

namespace nsq {
namespace {

using namespace std::chrono_literals;

// A small program's option table with one option of each kind and one hidden one.
struct Fixture {
  bool flag = false;
  bool onByDefault = true;
  int64_t num = 1;
  std::string str = "def";
  Duration dur = 250ms;
  std::vector<std::string> list{"d1", "d2"};
  int64_t old = 0;
  OptionSet set{"prog", "prog does things"};

  explicit Fixture(bool standard = true) {
    set.addBool("flag", &flag, "a boolean");
    set.addBool("on-by-default", &onByDefault, "a boolean that starts true");
    set.addInt("num", &num, "a number");
    set.addString("str", &str, "a string");
    set.addDuration("dur", &dur, "a duration");
    set.addStringList("list", &list, "a list");
    set.addInt("old", &old, "[deprecated] nothing").hidden = true;
    if (standard) set.addStandard("prog v9.8.7 (test)");
  }

  OptionSet::Result parse(std::initializer_list<const char*> args, std::string* output = nullptr) {
    std::vector<const char*> argv{"prog"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::ostringstream out;
    auto r = set.parse(static_cast<int>(argv.size()), argv.data(), out);
    if (output) *output = out.str();
    return r;
  }
};

// Expects OptionError whose message contains every one of `parts`.
template <typename F>
void expectOptionError(F&& f, std::initializer_list<std::string> parts) {
  try {
    f();
    ADD_FAILURE() << "no OptionError thrown";
  } catch (const OptionError& e) {
    std::string msg = e.what();
    for (const auto& p : parts) EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' not in: " << msg;
  }
}

void writeFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
}

// ---------------------------------------------------------------------------------------------
// Command line

TEST(OptionSet, NoArgumentsKeepsDefaults) {
  Fixture f;
  EXPECT_EQ(f.parse({}), OptionSet::Result::Run);
  EXPECT_FALSE(f.flag);
  EXPECT_TRUE(f.onByDefault);
  EXPECT_EQ(f.num, 1);
  EXPECT_EQ(f.str, "def");
  EXPECT_EQ(f.dur, 250ms);
  EXPECT_EQ(f.list, (std::vector<std::string>{"d1", "d2"}));
}

TEST(OptionSet, AcceptsSingleAndDoubleDashNames) {
  Fixture a;
  a.parse({"-num", "5", "-str", "x"});
  EXPECT_EQ(a.num, 5);
  EXPECT_EQ(a.str, "x");
  Fixture b;
  b.parse({"--num", "6", "--str", "y"});
  EXPECT_EQ(b.num, 6);
  EXPECT_EQ(b.str, "y");
}

TEST(OptionSet, AcceptsEqualsAndSpaceSeparatedValues) {
  Fixture f;
  f.parse({"--num=7", "-str=a=b", "--dur", "1m30s"});
  EXPECT_EQ(f.num, 7);
  EXPECT_EQ(f.str, "a=b");
  EXPECT_EQ(f.dur, 90s);
}

TEST(OptionSet, EmptyStringValue) {
  // --http-address= is how nsqd's HTTP listener is disabled.
  Fixture f;
  f.parse({"--str="});
  EXPECT_EQ(f.str, "");
  Fixture g;
  g.parse({"-str", ""});
  EXPECT_EQ(g.str, "");
  Fixture h;
  h.parse({"--list=", "--list", "b"});
  EXPECT_EQ(h.list, (std::vector<std::string>{"", "b"}));
}

TEST(OptionSet, ValueMayLookLikeAFlag) {
  Fixture f;
  f.parse({"--str", "-x-", "--num", "4"});
  EXPECT_EQ(f.str, "-x-");
  EXPECT_EQ(f.num, 4);
  Fixture g;
  g.parse({"--str", "--num"});
  EXPECT_EQ(g.str, "--num");
  EXPECT_EQ(g.num, 1);
}

TEST(OptionSet, EmptyBoolValueIsAnError) {
  Fixture f;
  expectOptionError([&] { f.parse({"--flag="}); }, {"--flag"});
}

TEST(OptionSet, BareBoolMeansTrue) {
  Fixture f;
  f.parse({"--flag"});
  EXPECT_TRUE(f.flag);
  Fixture g;
  g.parse({"-flag"});
  EXPECT_TRUE(g.flag);
}

TEST(OptionSet, BoolTakesExplicitValuesWithEquals) {
  Fixture f;
  f.parse({"--on-by-default=false", "--flag=true"});
  EXPECT_FALSE(f.onByDefault);
  EXPECT_TRUE(f.flag);
  for (const char* v : {"--on-by-default=0", "--on-by-default=f", "--on-by-default=F",
                        "--on-by-default=FALSE", "--on-by-default=False"}) {
    Fixture g;
    g.parse({v});
    EXPECT_FALSE(g.onByDefault) << v;
  }
  for (const char* v : {"--flag=1", "--flag=t", "--flag=T", "--flag=TRUE", "--flag=True"}) {
    Fixture g;
    g.parse({v});
    EXPECT_TRUE(g.flag) << v;
  }
}

TEST(OptionSet, LastValueWinsForScalars) {
  Fixture f;
  f.parse({"--num=1", "--num=2", "--num", "3"});
  EXPECT_EQ(f.num, 3);
}

TEST(OptionSet, RepeatedListFlagsReplaceDefaults) {
  Fixture f;
  f.parse({"--list", "a", "--list=b", "-list", "c"});
  EXPECT_EQ(f.list, (std::vector<std::string>{"a", "b", "c"}));
  Fixture g;
  g.parse({"--list=only"});
  EXPECT_EQ(g.list, (std::vector<std::string>{"only"}));
}

TEST(OptionSet, ParsesGoDurations) {
  for (auto [text, want] : {std::pair{"30s", Duration(30s)}, std::pair{"1h", Duration(1h)},
                            std::pair{"1.5s", Duration(1500ms)}, std::pair{"0", Duration(0)},
                            std::pair{"100us", Duration(100us)}}) {
    Fixture f;
    f.parse({"--dur", text});
    EXPECT_EQ(f.dur, want) << text;
  }
}

TEST(OptionSet, IntegersUseGoBasePrefixes) {
  Fixture f;
  f.parse({"--num=0x10"});
  EXPECT_EQ(f.num, 16);
  Fixture g;
  g.parse({"--num=-12"});
  EXPECT_EQ(g.num, -12);
}

TEST(OptionSet, NegativeValuesMayFollowAsTheNextArgument) {
  // Go's flag package gives a non-bool flag the next argument whatever it looks like.
  Fixture f;
  f.parse({"--num", "-12", "--dur", "-1s"});
  EXPECT_EQ(f.num, -12);
  EXPECT_EQ(f.dur, -1s);
}

TEST(OptionSet, UnknownFlagIsAnError) {
  Fixture f;
  EXPECT_THROW(f.parse({"--nope=1"}), OptionError);
  Fixture g;
  EXPECT_THROW(g.parse({"-nope"}), OptionError);
}

TEST(OptionSet, BadIntegerNamesTheFlag) {
  Fixture f;
  expectOptionError([&] { f.parse({"--num=abc"}); }, {"--num", "abc"});
  Fixture g;
  expectOptionError([&] { g.parse({"--num", "12x"}); }, {"--num", "12x"});
  Fixture h;
  expectOptionError([&] { h.parse({"--num=99999999999999999999"}); }, {"--num"});
}

TEST(OptionSet, BadDurationNamesTheFlag) {
  Fixture f;
  expectOptionError([&] { f.parse({"--dur=5"}); }, {"--dur", "5"});
  Fixture g;
  expectOptionError([&] { g.parse({"--dur", "soon"}); }, {"--dur", "soon"});
}

TEST(OptionSet, BadBoolNamesTheFlag) {
  Fixture f;
  expectOptionError([&] { f.parse({"--flag=maybe"}); }, {"--flag", "maybe"});
}

TEST(OptionSet, BadBoolListsWhatIsAccepted) {
  Fixture f;
  expectOptionError([&] { f.parse({"--flag=yes"}); },
                    {"flag --flag: invalid boolean value \"yes\" (use true or false; also 1/0, t/f, T/F, TRUE/FALSE, "
                     "True/False)"});
  expectOptionError([&] { f.set.applyYaml("flag: on\n", "c.yaml"); }, {"c.yaml:1: key \"flag\"", "use true or false"});
}

TEST(OptionSet, FloatTakesDecimalsAndRefusesTheRest) {
  double d = 1.0;
  OptionSet set("prog", "");
  set.addFloat("sample", &d, "a fraction");
  EXPECT_EQ(set.find("sample")->defaultText, "1");
  const char* argv[] = {"prog", "--sample=0.25"};
  std::ostringstream out;
  set.parse(2, argv, out);
  EXPECT_EQ(d, 0.25);
  for (const char* bad : {"--sample=x", "--sample=0.5x", "--sample=nan", "--sample=inf", "--sample="}) {
    const char* a[] = {"prog", bad};
    EXPECT_THROW(set.parse(2, a, out), OptionError) << bad;
  }
  EXPECT_EQ(d, 0.25);
  EXPECT_NE(set.helpText().find("--sample float"), std::string::npos);
}

TEST(OptionSet, MissingValueIsAnError) {
  Fixture f;
  EXPECT_THROW(f.parse({"--num"}), OptionError);
}

// ---------------------------------------------------------------------------------------------
// YAML

TEST(OptionSet, YamlKeysUseUnderscores) {
  Fixture f;
  f.set.applyYaml("num: 42\non_by_default: false\nstr: hello\ndur: 1m30s\nflag: true\n", "c.yaml");
  EXPECT_EQ(f.num, 42);
  EXPECT_FALSE(f.onByDefault);
  EXPECT_EQ(f.str, "hello");
  EXPECT_EQ(f.dur, 90s);
  EXPECT_TRUE(f.flag);
}

TEST(OptionSet, YamlListsReplaceDefaults) {
  Fixture f;
  f.set.applyYaml("list:\n  - a\n  - b\n", "c.yaml");
  EXPECT_EQ(f.list, (std::vector<std::string>{"a", "b"}));
  Fixture g;
  g.set.applyYaml("list: [x]\n", "c.yaml");
  EXPECT_EQ(g.list, (std::vector<std::string>{"x"}));
  Fixture h;
  h.set.applyYaml("list: single\n", "c.yaml");
  EXPECT_EQ(h.list, (std::vector<std::string>{"single"}));
}

TEST(OptionSet, EmptyYamlChangesNothing) {
  Fixture f;
  f.set.applyYaml("", "c.yaml");
  f.set.applyYaml("# only a comment\n", "c.yaml");
  EXPECT_EQ(f.num, 1);
  EXPECT_EQ(f.list, (std::vector<std::string>{"d1", "d2"}));
}

TEST(OptionSet, YamlUnknownKeyNamesFileAndLine) {
  Fixture f;
  expectOptionError([&] { f.set.applyYaml("num: 1\n\n# c\nx: 2\n", "/etc/prog.yaml"); },
                    {"/etc/prog.yaml:4: unknown key \"x\""});
}

TEST(OptionSet, YamlDuplicateKeyNamesFileAndBothLines) {
  Fixture f;
  expectOptionError([&] { f.set.applyYaml("num: 1\nstr: a\n\nnum: 2\n", "/etc/prog.yaml"); },
                    {"/etc/prog.yaml:4: duplicate key \"num\" (first given at line 1)"});
  EXPECT_EQ(f.num, 1);  // nothing was applied
}

TEST(OptionSet, YamlDashedKeyIsUnknown) {
  Fixture f;
  expectOptionError([&] { f.set.applyYaml("on-by-default: false\n", "c.yaml"); },
                    {"c.yaml:1: unknown key \"on-by-default\""});
}

TEST(OptionSet, YamlKeyMayBeRenamedAsTheOriginalsCfgTag) {
  Fixture f;
  std::vector<std::string> addrs;
  f.set.addStringList("lookupd-http-address", &addrs, "addresses").key = "nsqlookupd_http_addresses";
  f.set.applyYaml("nsqlookupd_http_addresses: [a:1, b:2]\n", "c.yaml");
  EXPECT_EQ(addrs, (std::vector<std::string>{"a:1", "b:2"}));
  EXPECT_EQ(f.set.find("nsqlookupd_http_addresses")->name, "lookupd-http-address");
  expectOptionError([&] { f.set.applyYaml("lookupd_http_address: c:3\n", "c.yaml"); },
                    {"c.yaml:1: unknown key \"lookupd_http_address\""});
}

TEST(OptionSet, YamlConfigKeyIsUnknown) {
  Fixture f;
  expectOptionError([&] { f.set.applyYaml("config: other.yaml\n", "c.yaml"); },
                    {"c.yaml:1: unknown key \"config\""});
}

TEST(OptionSet, YamlBadValueNamesFileLineAndKey) {
  Fixture f;
  expectOptionError([&] { f.set.applyYaml("str: ok\nnum: abc\n", "c.yaml"); },
                    {"c.yaml:2:", "\"num\"", "abc"});
  Fixture g;
  expectOptionError([&] { g.set.applyYaml("\n\n\ndur: 5\n", "c.yaml"); }, {"c.yaml:4:", "\"dur\""});
  Fixture h;
  expectOptionError([&] { h.set.applyYaml("flag: maybe\n", "c.yaml"); }, {"c.yaml:1:", "\"flag\""});
}

TEST(OptionSet, YamlListForScalarIsAnError) {
  Fixture g;
  expectOptionError([&] { g.set.applyYaml("str: ok\nnum: [1, 2]\n", "c.yaml"); },
                    {"c.yaml:2:", "\"num\""});
  Fixture h;
  expectOptionError([&] { h.set.applyYaml("num:\n  a: 1\n", "c.yaml"); }, {"c.yaml:1:", "\"num\""});
}

TEST(OptionSet, MalformedYamlNamesFileAndLine) {
  Fixture f;
  // Line 3 opens a flow sequence that is never closed; the error is at or after it.
  try {
    f.set.applyYaml("num: 1\nstr: x\nlist: [a, b\n", "bad.yaml");
    ADD_FAILURE() << "no OptionError";
  } catch (const OptionError& e) {
    std::string msg = e.what();
    ASSERT_EQ(msg.rfind("bad.yaml:", 0), 0u) << msg;
    int line = std::stoi(msg.substr(9));
    EXPECT_GE(line, 3) << msg;
    EXPECT_LE(line, 4) << msg;
  }
  Fixture g;
  expectOptionError([&] { g.set.applyYaml("num: 1\n\tstr: x\n", "tab.yaml"); }, {"tab.yaml:2:"});
  Fixture h;
  expectOptionError([&] { h.set.applyYaml("num: 1\nstr: x\n  dur: 3s\n", "q.yaml"); }, {"q.yaml:3:"});
}

TEST(OptionSet, NonMappingDocumentIsAnError) {
  Fixture f;
  expectOptionError([&] { f.set.applyYaml("- a\n- b\n", "c.yaml"); }, {"c.yaml:1:", "mapping"});
  Fixture g;
  expectOptionError([&] { g.set.applyYaml("just text\n", "c.yaml"); }, {"c.yaml:1:", "mapping"});
}

TEST(OptionSet, SectionKeysAreLeftToTheirOwnReader) {
  Fixture f;
  f.set.addSection("topics");
  f.set.applyYaml("num: 4\ntopics:\n  - match: x\n", "c.yaml");
  EXPECT_EQ(f.num, 4);
  Fixture g;  // without addSection the key is unknown
  expectOptionError([&] { g.set.applyYaml("topics: []\n", "c.yaml"); }, {"c.yaml:1: unknown key \"topics\""});
}

TEST(OptionSet, ConfigPathIsKeptForALaterReread) {
  test::TempDir dir;
  std::string path = dir.file("c.yaml");
  writeFile(path, "num: 2\n");
  Fixture f;
  EXPECT_EQ(f.set.configPath(), "");
  ASSERT_EQ(f.parse({"--config", path.c_str()}), OptionSet::Result::Run);
  EXPECT_EQ(f.set.configPath(), path);
}

// ---------------------------------------------------------------------------------------------
// Precedence through parse() and --config

TEST(OptionSet, FlagBeatsFileBeatsDefault) {
  test::TempDir dir;
  std::string path = dir.file("prog.yaml");
  writeFile(path, "num: 2\nstr: from-file\nlist: [f1, f2]\ndur: 3s\n");
  Fixture f;
  ASSERT_EQ(f.parse({"--config", path.c_str(), "--num=3", "--list", "c1"}), OptionSet::Result::Run);
  EXPECT_EQ(f.num, 3);                                          // flag
  EXPECT_EQ(f.str, "from-file");                                // file
  EXPECT_EQ(f.dur, 3s);                                         // file
  EXPECT_EQ(f.list, (std::vector<std::string>{"c1"}));          // flag replaces the file's list
  EXPECT_FALSE(f.flag);                                         // default
  EXPECT_TRUE(f.onByDefault);                                   // default
}

TEST(OptionSet, FlagBeforeConfigStillWins) {
  test::TempDir dir;
  std::string path = dir.file("prog.yaml");
  writeFile(path, "num: 2\n");
  Fixture f;
  f.parse({"--num=9", "-config", path.c_str()});
  EXPECT_EQ(f.num, 9);
}

TEST(OptionSet, ConfigFileErrorsNameThePath) {
  test::TempDir dir;
  std::string path = dir.file("prog.yaml");
  writeFile(path, "num: 1\nbogus: 2\n");
  Fixture f;
  std::string arg = "--config=" + path;
  expectOptionError([&] { f.parse({arg.c_str()}); }, {path + ":2: unknown key \"bogus\""});
}

TEST(OptionSet, MissingConfigFileIsAnError) {
  test::TempDir dir;
  std::string path = dir.file("absent.yaml");
  Fixture f;
  expectOptionError([&] { f.parse({"--config", path.c_str()}); }, {path});
}

// ---------------------------------------------------------------------------------------------
// --help, --version

TEST(OptionSet, HelpListsEveryVisibleOptionAndHidesHidden) {
  Fixture f;
  std::string out;
  ASSERT_EQ(f.parse({"--help"}, &out), OptionSet::Result::Exit);
  for (const auto& spec : f.set.specs()) {
    bool listed = out.find("--" + spec.name + " ") != std::string::npos ||
                  out.find("--" + spec.name + "\n") != std::string::npos;
    EXPECT_EQ(listed, !spec.hidden) << spec.name << " in:\n" << out;
  }
  EXPECT_NE(out.find("--num int"), std::string::npos);
  EXPECT_NE(out.find("--dur duration"), std::string::npos);
  EXPECT_NE(out.find("--str string"), std::string::npos);
  EXPECT_NE(out.find("(default 250ms)"), std::string::npos);
  EXPECT_NE(out.find("--config"), std::string::npos);
  EXPECT_NE(out.find("--version"), std::string::npos);
  EXPECT_EQ(out.find("--old"), std::string::npos);
  EXPECT_EQ(out, f.set.helpText());
}

TEST(OptionSet, GoStyleHelpFlagsPrintHelp) {
  for (const char* h : {"-h", "-help", "--help"}) {
    Fixture f;
    std::string out;
    EXPECT_EQ(f.parse({h}, &out), OptionSet::Result::Exit) << h;
    EXPECT_NE(out.find("Usage of prog"), std::string::npos) << h;
  }
}

TEST(OptionSet, HiddenOptionsAreStillAccepted) {
  Fixture f;
  f.parse({"--old=5"});
  EXPECT_EQ(f.old, 5);
}

TEST(OptionSet, VersionPrintsTheVersionLine) {
  Fixture f;
  std::string out;
  ASSERT_EQ(f.parse({"--version"}, &out), OptionSet::Result::Exit);
  EXPECT_EQ(out, "prog v9.8.7 (test)\n");
}

TEST(OptionSet, WithoutStandardOptionsConfigAndVersionAreUnknown) {
  Fixture f(false);
  EXPECT_THROW(f.parse({"--version"}), OptionError);
  Fixture g(false);
  EXPECT_THROW(g.parse({"--config", "x.yaml"}), OptionError);
}

// ---------------------------------------------------------------------------------------------
// --completion bash|zsh

// What bash offers for the command line `words` with the cursor on the last word, using the
// script `set` prints for --completion bash.
std::vector<std::string> bashCompletes(OptionSet& set, const std::vector<std::string>& words) {
  test::TempDir dir;
  writeFile(dir.file("completion.bash"), set.completionScript("bash"));
  std::string array;
  for (const auto& w : words) array += " '" + w + "'";
  writeFile(dir.file("run.bash"), "cd '" + dir.path() + "'\nsource completion.bash\nCOMP_WORDS=(" + array +
                                      ")\nCOMP_CWORD=" + std::to_string(words.size() - 1) +
                                      "\n_nsq_complete_prog\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n");
  writeFile(dir.file("config.yaml"), "");
  std::string cmd = "bash '" + dir.file("run.bash") + "' > '" + dir.file("out") + "'";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::ifstream in(dir.file("out"));
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

TEST(OptionSet, CompletionPrintsTheScriptForTheNamedShell) {
  Fixture f;
  std::string out;
  ASSERT_EQ(f.parse({"--completion", "bash"}, &out), OptionSet::Result::Exit);
  EXPECT_EQ(out, f.set.completionScript("bash"));
  ASSERT_EQ(f.parse({"--completion=zsh"}, &out), OptionSet::Result::Exit);
  EXPECT_EQ(out, f.set.completionScript("zsh"));
  EXPECT_NE(out.find("#compdef prog\n"), std::string::npos);
}

TEST(OptionSet, CompletionRejectsAnUnknownShell) {
  Fixture f;
  expectOptionError([&] { f.parse({"--completion", "fish"}); }, {"--completion", "\"fish\"", "bash or zsh"});
}

TEST(OptionSet, CompletionScriptsNameEveryOptionHelpListsAndNoHiddenOne) {
  Fixture f;
  std::string help = f.set.helpText();
  for (const std::string shell : {"bash", "zsh"}) {
    std::string script = f.set.completionScript(shell);
    for (const auto& spec : f.set.specs()) {
      std::string flag = "--" + spec.name;
      bool inScript = script.find(flag + " ") != std::string::npos || script.find(flag + "=") != std::string::npos ||
                      script.find(flag + "[") != std::string::npos || script.find(flag + "'") != std::string::npos;
      EXPECT_EQ(inScript, !spec.hidden) << shell << ": " << flag << " in:\n" << script;
    }
    for (const char* standard : {"--config", "--version", "--help"})
      EXPECT_NE(script.find(standard), std::string::npos) << shell << ": " << standard;
  }
}

TEST(OptionSet, BashCompletionOffersMatchingFlags) {
  Fixture f;
  EXPECT_EQ(bashCompletes(f.set, {"prog", "--d"}), (std::vector<std::string>{"--dur"}));
  EXPECT_EQ(bashCompletes(f.set, {"prog", "--flag", "--o"}), (std::vector<std::string>{"--on-by-default"}));
}

TEST(OptionSet, BashCompletionOffersFilesAfterConfigAndNothingAfterOtherValues) {
  Fixture f;
  EXPECT_EQ(bashCompletes(f.set, {"prog", "--config", "con"}), (std::vector<std::string>{"config.yaml"}));
  EXPECT_EQ(bashCompletes(f.set, {"prog", "--config", "=", "con"}), (std::vector<std::string>{"config.yaml"}));
  EXPECT_TRUE(bashCompletes(f.set, {"prog", "--num", ""}).empty());
}

TEST(OptionSet, BashCompletionOffersTheFirstWordsFirst) {
  Fixture f;
  f.set.setCompletionFirstWords({"writer", "reader"});
  EXPECT_EQ(bashCompletes(f.set, {"prog", "w"}), (std::vector<std::string>{"writer"}));
  EXPECT_EQ(bashCompletes(f.set, {"prog", "writer", "--n"}), (std::vector<std::string>{"--num"}));
  EXPECT_NE(f.set.completionScript("zsh").find("'1:mode:(writer reader)'"), std::string::npos);
}

TEST(OptionSet, ZshCompletionMarksRepeatableOptionsAndEscapesHelp) {
  Fixture f;
  std::string zsh = f.set.completionScript("zsh");
  EXPECT_NE(zsh.find("'*--list=[a list]:value: '"), std::string::npos) << zsh;
  EXPECT_NE(zsh.find("'--flag[a boolean]'"), std::string::npos) << zsh;
  OptionSet odd("odd", "");
  bool b = false;
  odd.addBool("x", &b, "it's [odd]: yes");
  EXPECT_NE(odd.completionScript("zsh").find("'--x[it'\\''s \\[odd\\]\\: yes]'"), std::string::npos)
      << odd.completionScript("zsh");
}

// ---------------------------------------------------------------------------------------------
// find, jsonValue

TEST(OptionSet, FindsByFlagNameAndByConfigKey) {
  Fixture f;
  const OptionSpec* byName = f.set.find("on-by-default");
  const OptionSpec* byKey = f.set.find("on_by_default");
  ASSERT_NE(byName, nullptr);
  EXPECT_EQ(byName, byKey);
  EXPECT_EQ(byName->configKey(), "on_by_default");
  EXPECT_EQ(byName->kind, OptionKind::Bool);
  EXPECT_EQ(byName->defaultText, "true");
  EXPECT_EQ(f.set.find("nope"), nullptr);
  EXPECT_EQ(f.set.find(""), nullptr);
}

TEST(OptionSet, DefaultTextPerKind) {
  Fixture f;
  EXPECT_EQ(f.set.find("num")->defaultText, "1");
  EXPECT_EQ(f.set.find("str")->defaultText, "def");
  EXPECT_EQ(f.set.find("dur")->defaultText, "250ms");
  EXPECT_EQ(f.set.find("list")->defaultText, "d1,d2");
  EXPECT_EQ(f.set.find("flag")->defaultText, "false");
}

TEST(OptionSet, JsonValueForEachKind) {
  Fixture f;
  EXPECT_EQ(f.set.find("flag")->jsonValue(), "false");
  EXPECT_EQ(f.set.find("on-by-default")->jsonValue(), "true");
  EXPECT_EQ(f.set.find("num")->jsonValue(), "1");
  EXPECT_EQ(f.set.find("str")->jsonValue(), "\"def\"");
  EXPECT_EQ(f.set.find("dur")->jsonValue(), "250000000");  // ns
  EXPECT_EQ(f.set.find("list")->jsonValue(), "[\"d1\",\"d2\"]");

  f.parse({"--num=-3", "--str", "q\"b\\s\n", "--dur=1h", "--flag"});
  EXPECT_EQ(f.set.find("num")->jsonValue(), "-3");
  EXPECT_EQ(f.set.find("str")->jsonValue(), "\"q\\\"b\\\\s\\n\"");  // Go-style short escapes
  EXPECT_EQ(f.set.find("dur")->jsonValue(), "3600000000000");
  EXPECT_EQ(f.set.find("flag")->jsonValue(), "true");
  f.list.clear();
  EXPECT_EQ(f.set.find("list")->jsonValue(), "[]");
}

TEST(OptionSet, AssignValidatesLikeTheCommandLine) {
  Fixture f;
  EXPECT_EQ(f.set.find("num")->assign("12"), "");
  EXPECT_EQ(f.num, 12);
  EXPECT_NE(f.set.find("num")->assign("x"), "");
  EXPECT_EQ(f.num, 12);  // unchanged on error
  EXPECT_NE(f.set.find("dur")->assign("7"), "");
  EXPECT_EQ(f.dur, 250ms);
}

}  // namespace
}  // namespace nsq
