// nsq_to_file end to end: the real binary against real nsqd (and nsqlookupd). Every line that
// to_nsq published ends up exactly once across the files; rotation by size and interval; gzip
// members decompress to exactly the lines; the work-dir -> output-dir move on SIGTERM;
// acknowledged messages survive kill -9; errors; --help against the man page.
#include <zlib.h>

#include <algorithm>
#include <filesystem>

#include "support/man_page.h"
#include "tools/tool_harness.h"

using namespace nsq::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

std::string toNsq(NsqdProcess& n, const std::string& topic) {
  return "\"$TO_NSQ\" --topic=" + topic + " --nsqd-tcp-address=" + tcpAddr(n);
}

std::string gunzip(const std::string& data) {
  std::string out;
  std::size_t off = 0;
  while (off < data.size()) {
    z_stream zs{};
    inflateInit2(&zs, 15 + 16);
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data() + off));
    zs.avail_in = static_cast<uInt>(data.size() - off);
    int rc;
    do {
      char buf[8192];
      zs.next_out = reinterpret_cast<Bytef*>(buf);
      zs.avail_out = sizeof buf;
      rc = inflate(&zs, Z_NO_FLUSH);
      out.append(buf, sizeof buf - zs.avail_out);
    } while (rc == Z_OK);
    off = data.size() - zs.avail_in;
    inflateEnd(&zs);
    if (rc != Z_STREAM_END) {
      ADD_FAILURE() << "corrupt gzip data at offset " << off;
      break;
    }
  }
  return out;
}

// Regular files under dir (recursively), sorted by path.
std::vector<std::string> filesIn(const std::string& dir) {
  std::vector<std::string> files;
  for (auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

// Every line of every file under dir (gunzipped when the name ends in .gz), sorted numerically.
std::vector<std::string> allLines(const std::string& dir) {
  std::vector<std::string> lines;
  for (const auto& f : filesIn(dir)) {
    std::string data = readWhole(f);
    if (f.size() > 3 && f.compare(f.size() - 3, 3, ".gz") == 0) data = gunzip(data);
    std::istringstream in(data);
    std::string l;
    while (std::getline(in, l)) lines.push_back(l);
  }
  std::sort(lines.begin(), lines.end(), [](auto& a, auto& b) { return std::stol(a) < std::stol(b); });
  return lines;
}

std::vector<std::string> seqLines(int from, int to) {
  std::vector<std::string> v;
  for (int i = from; i <= to; ++i) v.push_back(std::to_string(i));
  return v;
}

struct Archiver {
  Archiver(NsqdProcess& nsqd, const std::string& topic, std::vector<std::string> extra)
      : nsqd_(nsqd), topic_(topic) {
    std::vector<std::string> args{"--topic=" + topic, "--nsqd-tcp-address=" + tcpAddr(nsqd)};
    args.insert(args.end(), extra.begin(), extra.end());
    proc = std::make_unique<Process>(binaryPath("nsq_to_file"), args, logs.path());
    EXPECT_TRUE(eventually([&] { return statValue(nsqd.httpPort(), topic, "nsq_to_file", "client_count") == 1; }))
        << proc->stderrText();
  }
  // True once the channel has had every message and holds nothing: each one was finished.
  bool drained(int64_t published) { return channelDrained(nsqd_, topic_, "nsq_to_file", published); }
  int stop() { return proc->stop(SIGTERM, 15s); }
  NsqdProcess& nsqd_;
  std::string topic_;
  TempDir logs;
  std::unique_ptr<Process> proc;
};

bool exited0(int status) { return WIFEXITED(status) && WEXITSTATUS(status) == 0; }

}  // namespace

TEST(NsqToFile, EveryLineExactlyOnceAndRotationAtTheRightSizes) {
  NsqdProcess nsqd;
  TempDir out;
  Archiver a(nsqd, "sized", {"--output-dir=" + out.path(), "--rotate-size=1000", "--sync-interval=200ms"});
  ASSERT_EQ(runShell("seq 1 2000 | " + toNsq(nsqd, "sized")).exitCode, 0);
  ASSERT_TRUE(eventually([&] { return a.drained(2000); }, 20s)) << a.proc->stderrText();
  ASSERT_TRUE(exited0(a.stop())) << a.proc->stderrText();
  EXPECT_EQ(allLines(out.path()), seqLines(1, 2000));
  auto files = filesIn(out.path());
  ASSERT_GE(files.size(), 8u);  // 8893 bytes in files of just over 1000 bytes
  for (std::size_t i = 0; i + 1 < files.size(); ++i) {
    auto size = fs::file_size(files[i]);
    EXPECT_GT(size, 1000u) << files[i];
    EXPECT_LE(size, 1005u) << files[i];  // rotated before the first line that follows going over
  }
  EXPECT_NE(files[0].find("sized."), std::string::npos);
  EXPECT_NE(files[0].find("-000000."), std::string::npos);
  EXPECT_NE(files[1].find("-000001."), std::string::npos);
}

TEST(NsqToFile, RotateIntervalStartsNewFiles) {
  NsqdProcess nsqd;
  TempDir out;
  Archiver a(nsqd, "timed", {"--output-dir=" + out.path(), "--rotate-interval=1s", "--sync-interval=100ms"});
  ASSERT_EQ(runShell("seq 1 10 | " + toNsq(nsqd, "timed")).exitCode, 0);
  ASSERT_TRUE(eventually([&] { return a.drained(10); }));
  std::this_thread::sleep_for(1500ms);
  ASSERT_EQ(runShell("seq 11 20 | " + toNsq(nsqd, "timed")).exitCode, 0);
  ASSERT_TRUE(eventually([&] { return a.drained(20); }));
  ASSERT_TRUE(exited0(a.stop())) << a.proc->stderrText();
  EXPECT_EQ(allLines(out.path()), seqLines(1, 20));
  EXPECT_GE(filesIn(out.path()).size(), 2u);
}

TEST(NsqToFile, GzipOutputDecompressesToExactlyTheLines) {
  NsqdProcess nsqd;
  TempDir out;
  Archiver a(nsqd, "zipped", {"--output-dir=" + out.path(), "--gzip", "--gzip-level=9", "--max-in-flight=50",
                              "--sync-interval=100ms"});
  ASSERT_EQ(runShell("seq 1 500 | " + toNsq(nsqd, "zipped")).exitCode, 0);
  ASSERT_TRUE(eventually([&] { return a.drained(500); }, 20s));
  // Synced members are already valid while the file is still open.
  auto files = filesIn(out.path());
  ASSERT_EQ(files.size(), 1u);
  EXPECT_NE(files[0].find(".log.gz"), std::string::npos) << files[0];
  EXPECT_EQ(allLines(out.path()), seqLines(1, 500));
  ASSERT_TRUE(exited0(a.stop())) << a.proc->stderrText();
  EXPECT_EQ(allLines(out.path()), seqLines(1, 500));
  if (::system("command -v gzip >/dev/null 2>&1") == 0) {
    EXPECT_EQ(runShell("gzip -t '" + files[0] + "'").exitCode, 0);
  }
}

TEST(NsqToFile, WorkDirFileIsMovedToTheOutputDirOnSigterm) {
  NsqdProcess nsqd;
  TempDir out, work;
  Archiver a(nsqd, "moved", {"--output-dir=" + out.path(), "--work-dir=" + work.path(), "--sync-interval=100ms"});
  ASSERT_EQ(runShell("seq 1 100 | " + toNsq(nsqd, "moved")).exitCode, 0);
  ASSERT_TRUE(eventually([&] { return a.drained(100); }));
  EXPECT_EQ(allLines(work.path()), seqLines(1, 100));
  EXPECT_TRUE(filesIn(out.path()).empty());
  ASSERT_TRUE(exited0(a.stop())) << a.proc->stderrText();
  EXPECT_TRUE(filesIn(work.path()).empty());
  auto files = filesIn(out.path());
  ASSERT_EQ(files.size(), 1u);
  EXPECT_NE(files[0].find("moved."), std::string::npos);
  EXPECT_EQ(allLines(out.path()), seqLines(1, 100));
  EXPECT_NE(a.proc->stderrText().find("moving finished file"), std::string::npos);
}

TEST(NsqToFile, AcknowledgedMessagesSurviveKill9) {
  NsqdProcess nsqd;
  TempDir out;
  Archiver a(nsqd, "crash", {"--output-dir=" + out.path(), "--sync-interval=1h"});
  ASSERT_EQ(runShell("seq 1 300 | " + toNsq(nsqd, "crash")).exitCode, 0);
  // Finished (acknowledged) means synced: after kill -9 the file holds them all.
  ASSERT_TRUE(eventually([&] { return a.drained(300); }, 20s)) << a.proc->stderrText();
  a.proc->stop(SIGKILL);
  EXPECT_EQ(allLines(out.path()), seqLines(1, 300));
}

TEST(NsqToFile, TopicPatternArchivesMatchingDiscoveredTopics) {
  LookupdProcess lookupd;
  NsqdProcess nsqd({"--lookupd-tcp-address=" + lookupd.tcpAddress(), "--broadcast-address=127.0.0.1"});
  TempDir out, logs;
  ASSERT_EQ(runShell("seq 1 5 | " + toNsq(nsqd, "app_one") + " && seq 1 5 | " + toNsq(nsqd, "other")).exitCode, 0);
  for (std::string t : {"app_one", "other"})
    ASSERT_EQ(httpRequest(nsqd.httpPort(), "POST", "/channel/create?topic=" + t + "&channel=nsq_to_file").status, 200);
  ASSERT_TRUE(eventually([&] {
    return httpRequest(lookupd.http(), "GET", "/topics").body.find("other") != std::string::npos;
  }));
  Process p(binaryPath("nsq_to_file"),
            {"--topic-pattern=^app_", "--lookupd-http-address=" + lookupd.httpAddress(), "--output-dir=" + out.path(),
             "--topic-refresh=300ms", "--sync-interval=100ms"},
            logs.path());
  ASSERT_TRUE(eventually([&] { return allLines(out.path()).size() == 5; }, 15s)) << p.stderrText();
  // A topic created later is picked up at the next refresh.
  ASSERT_EQ(runShell("seq 6 7 | " + toNsq(nsqd, "app_two")).exitCode, 0);
  ASSERT_TRUE(eventually([&] { return allLines(out.path()).size() == 7; }, 15s)) << p.stderrText();
  int status = p.stop(SIGTERM, 15s);
  EXPECT_TRUE(exited0(status)) << p.stderrText();
  for (const auto& f : filesIn(out.path())) EXPECT_EQ(f.find("other"), std::string::npos) << f;
  EXPECT_EQ(statValue(nsqd.httpPort(), "other", "nsq_to_file", "depth"), 5);
}

TEST(NsqToFile, LogsAPeriodicStatusLineInsteadOfOneLinePerSync) {
  NsqdProcess nsqd;
  TempDir out;
  Archiver a(nsqd, "st", {"--output-dir=" + out.path(), "--sync-interval=100ms", "--status-interval=200ms",
                          "--max-in-flight=10"});
  ASSERT_EQ(runShell("seq 1 100 | " + toNsq(nsqd, "st")).exitCode, 0);
  ASSERT_TRUE(eventually([&] { return a.drained(100); }, 20s)) << a.proc->stderrText();
  // 100 messages of 1-3 digits and a newline: 9*2 + 90*3 + 1*4 = 292 bytes, one file.
  ASSERT_TRUE(eventually([&] {
    return a.proc->stderrText().find("status: 100 messages (") != std::string::npos;
  }, 10s)) << a.proc->stderrText();
  EXPECT_NE(a.proc->stderrText().find("/s), 1 files, 292 bytes, 1 topics"), std::string::npos) << a.proc->stderrText();
  EXPECT_EQ(a.proc->stderrText().find("syncing"), std::string::npos) << a.proc->stderrText();
  ASSERT_TRUE(exited0(a.stop()));
}

TEST(NsqToFile, DebugLevelLogsEachSync) {
  NsqdProcess nsqd;
  TempDir out;
  Archiver a(nsqd, "dbg", {"--output-dir=" + out.path(), "--sync-interval=100ms", "--log-level=debug"});
  ASSERT_EQ(runShell("seq 1 5 | " + toNsq(nsqd, "dbg")).exitCode, 0);
  ASSERT_TRUE(eventually([&] { return a.drained(5); }, 20s)) << a.proc->stderrText();
  EXPECT_NE(a.proc->stderrText().find("DEBUG: [dbg/nsq_to_file] syncing"), std::string::npos) << a.proc->stderrText();
  ASSERT_TRUE(exited0(a.stop()));
}

TEST(NsqToFile, ErrorsNameTheProblem) {
  TempDir dir;
  { std::ofstream(dir.file("file")) << "x"; }
  auto r = runShell("\"$NSQ_TO_FILE\" --topic=t --nsqd-tcp-address=127.0.0.1:4150 --output-dir=" + dir.file("file/out"));
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("--output-dir " + dir.file("file/out")), std::string::npos) << r.err;
  ::mkdir(dir.file("ro").c_str(), 0500);
  if (::geteuid() != 0) {
    r = runShell("\"$NSQ_TO_FILE\" --topic=t --nsqd-tcp-address=127.0.0.1:4150 --output-dir=" + dir.file("ro"));
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_NE(r.err.find(dir.file("ro") + " is not writable"), std::string::npos) << r.err;
  }
  r = runShell("\"$NSQ_TO_FILE\" --topic='bad topic' --nsqd-tcp-address=127.0.0.1:4150 --output-dir=" + dir.path());
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("invalid topic name \"bad topic\""), std::string::npos) << r.err;
  r = runShell("\"$NSQ_TO_FILE\" --topic=t --nsqd-tcp-address=127.0.0.1:4150 --gzip --filename-format='<TOPIC>.log' "
               "--output-dir=" + dir.path());
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("missing <REV>"), std::string::npos) << r.err;
  r = runShell("\"$NSQ_TO_FILE\" --topic=t --nsqd-tcp-address=127.0.0.1:4150 --gzip-level=10 --output-dir=" + dir.path());
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("--gzip-level"), std::string::npos) << r.err;
  r = runShell("\"$NSQ_TO_FILE\" --topic-pattern=x --nsqd-tcp-address=127.0.0.1:4150 --output-dir=" + dir.path());
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("--lookupd-http-address must be specified"), std::string::npos) << r.err;
  int port = freePort();
  r = runShell("\"$NSQ_TO_FILE\" --topic=t --nsqd-tcp-address=127.0.0.1:" + std::to_string(port) +
               " --output-dir=" + dir.path());
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("127.0.0.1:" + std::to_string(port) + ": cannot connect to nsqd"), std::string::npos) << r.err;
}

TEST(NsqToFile, HelpMatchesTheManPageVersionAndConfig) {
  auto r = runShell("\"$NSQ_TO_FILE\" --help");
  ASSERT_EQ(r.exitCode, 0);
  EXPECT_EQ(helpFlags(r.out), manPageFlags(std::string(NSQ_SOURCE_DIR) + "/man/nsq_to_file.1"));
  EXPECT_NE(r.out.find("<TOPIC>.<HOST><REV>.<DATETIME>.log"), std::string::npos);
  EXPECT_NE(r.out.find("(default: same as --output-dir)"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("(default \"output-dir\")"), std::string::npos) << r.out;
  r = runShell("\"$NSQ_TO_FILE\" --version");
  EXPECT_EQ(r.out.rfind("nsq_to_file v1.3.0 (C++ nsq-cpp 1.3.0, built w/ ", 0), 0u) << r.out;
  NsqdProcess nsqd;
  TempDir dir, out;
  {
    std::ofstream f(dir.file("to_file.yaml"));
    f << "topic: [cfg]\nnsqd_tcp_address: [\"" << tcpAddr(nsqd) << "\"]\noutput_dir: " << out.path()
      << "\nfilename_format: \"<TOPIC>.log\"\nsync_interval: 100ms\n";
  }
  TempDir logs;
  ASSERT_EQ(runShell("echo 42 | " + toNsq(nsqd, "cfg")).exitCode, 0);
  Process p(binaryPath("nsq_to_file"), {"--config=" + dir.file("to_file.yaml")}, logs.path());
  ASSERT_TRUE(eventually([&] { return readWhole(out.file("cfg.log")) == "42\n"; })) << p.stderrText();
  EXPECT_TRUE(exited0(p.stop(SIGTERM, 15s))) << p.stderrText();
}
