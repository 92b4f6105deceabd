// The tools over TLS, configured as the original tools are, through go-nsq's option names in
// --producer-opt / --consumer-opt: a to_nsq -> nsq_tail pipeline (with compression on top) and
// nsq_to_file with a client certificate, all against nsqd with --tls-required; an untrusted
// CA fails with the reason; unusable files stop the tools at start-up naming the option.
#include <filesystem>

#include "support/tls_client.h"
#include "tools/tool_harness.h"

using namespace nsq::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> tlsServer(const TestCerts& c, std::vector<std::string> more = {}) {
  std::vector<std::string> args = {"--tls-cert=" + c.serverCert, "--tls-key=" + c.serverKey, "--tls-required=tcp-https"};
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

std::string seqText(int n) {
  std::string s;
  for (int i = 1; i <= n; ++i) s += std::to_string(i) + "\n";
  return s;
}

std::vector<std::string> sortedNumbers(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string l;
  while (std::getline(in, l)) lines.push_back(l);
  std::sort(lines.begin(), lines.end(), [](auto& a, auto& b) { return std::stol(a) < std::stol(b); });
  return lines;
}

}  // namespace

TEST(ToolsTls, ToNsqToNsqTailPipelineWithCompressionOnTop) {
  TempDir dir;
  auto certs = makeTestCerts(dir.path());
  NsqdProcess nsqd(tlsServer(certs));
  std::string ca = "tls_root_ca_file," + certs.caCert;
  auto r = runShell("seq 1 300 | \"$TO_NSQ\" --topic=secure --nsqd-tcp-address=" + tcpAddr(nsqd) +
                    " --producer-opt=tls_v1 --producer-opt=" + ca + " --producer-opt=snappy"
                    " && \"$NSQ_TAIL\" --topic=secure --channel=c --nsqd-tcp-address=" + tcpAddr(nsqd) +
                    " --consumer-opt=tls_v1,true --consumer-opt=" + ca + " --consumer-opt=deflate -n 300",
                    30s);
  ASSERT_EQ(r.exitCode, 0) << r.err << "\nnsqd: " << nsqd.logs();
  EXPECT_EQ(sortedNumbers(r.out), sortedNumbers(seqText(300)));
  EXPECT_EQ(statValue(nsqd.httpPort(), "secure", "", "message_count"), 300);
  EXPECT_EQ(statValue(nsqd.httpPort(), "secure", "c", "depth"), 0);
}

TEST(ToolsTls, UntrustedCaFailsWithTheReasonAndNsqdServesOthers) {
  TempDir dir;
  auto certs = makeTestCerts(dir.path());
  NsqdProcess nsqd(tlsServer(certs));
  auto r = runShell("echo x | \"$TO_NSQ\" --topic=t --nsqd-tcp-address=" + tcpAddr(nsqd) +
                    " --producer-opt=tls_v1 --producer-opt=tls_root_ca_file," + certs.strangerCert);
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("certificate verify failed"), std::string::npos) << r.err;
  r = runShell("\"$NSQ_TAIL\" --topic=t --nsqd-tcp-address=" + tcpAddr(nsqd) +
               " --consumer-opt=tls_v1 --consumer-opt=tls_root_ca_file," + certs.strangerCert + " -n 1");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("certificate verify failed"), std::string::npos) << r.err;
  r = runShell("echo fine | \"$TO_NSQ\" --topic=t --nsqd-tcp-address=" + tcpAddr(nsqd) +
               " --producer-opt=tls_v1 --producer-opt=tls_root_ca_file," + certs.caCert);
  EXPECT_EQ(r.exitCode, 0) << r.err;
}

TEST(ToolsTls, NsqToFileWithAClientCertificate) {
  TempDir dir;
  auto certs = makeTestCerts(dir.path());
  NsqdProcess nsqd(tlsServer(certs, {"--tls-client-auth-policy=require-verify", "--tls-root-ca-file=" + certs.caCert}));
  std::string opts = " --producer-opt=tls_v1 --producer-opt=tls_root_ca_file," + certs.caCert +
                     " --producer-opt=tls_cert," + certs.clientCert + " --producer-opt=tls_key," + certs.clientKey;
  ASSERT_EQ(runShell("seq 1 50 | \"$TO_NSQ\" --topic=archive --nsqd-tcp-address=" + tcpAddr(nsqd) + opts).exitCode, 0);
  TempDir out, logs;
  Process archiver(binaryPath("nsq_to_file"),
                   {"--topic=archive", "--nsqd-tcp-address=" + tcpAddr(nsqd), "--output-dir=" + out.path(),
                    "--sync-interval=100ms", "--consumer-opt=tls_v1", "--consumer-opt=tls_root_ca_file," + certs.caCert,
                    "--consumer-opt=tls_cert," + certs.clientCert, "--consumer-opt=tls_key," + certs.clientKey},
                   logs.path());
  // The channel's own message count, not only its depth: a channel just created by the SUB
  // shows depth 0 until the topic has moved its 50 messages in.
  ASSERT_TRUE(eventually([&] { return channelDrained(nsqd, "archive", "nsq_to_file", 50); }, 20s))
      << archiver.stderrText();
  EXPECT_EQ(archiver.stop(SIGTERM, 15s), 0) << archiver.stderrText();
  std::string all;
  for (auto& e : fs::recursive_directory_iterator(out.path()))
    if (e.is_regular_file()) all += readWhole(e.path().string());
  EXPECT_EQ(sortedNumbers(all), sortedNumbers(seqText(50)));
}

TEST(ToolsTls, UnusableFilesStopTheToolsAtStartup) {
  TempDir dir;
  auto certs = makeTestCerts(dir.path());
  auto r = runShell("echo x | \"$TO_NSQ\" --topic=t --nsqd-tcp-address=127.0.0.1:1 --producer-opt=tls_v1 "
                    "--producer-opt=tls_root_ca_file," + dir.file("missing.pem"));
  EXPECT_NE(r.exitCode, 0);
  EXPECT_NE(r.err.find("--producer-opt: tls_root_ca_file " + dir.file("missing.pem") + ": cannot read file"),
            std::string::npos)
      << r.err;
  r = runShell("\"$NSQ_TAIL\" --topic=t --nsqd-tcp-address=127.0.0.1:1 --consumer-opt=tls_cert," + certs.clientCert);
  EXPECT_NE(r.exitCode, 0);
  EXPECT_NE(r.err.find("tls_cert and tls_key must be given together"), std::string::npos) << r.err;
  TempDir out;
  r = runShell("\"$NSQ_TO_FILE\" --topic=t --nsqd-tcp-address=127.0.0.1:1 --output-dir=" + out.path() +
               " --consumer-opt=tls_min_version,tls2.0");
  EXPECT_NE(r.exitCode, 0);
  EXPECT_NE(r.err.find("tls_min_version"), std::string::npos) << r.err;
}
