// nsqadmin's options: defaults as the original's, the YAML key names, validation, and the CIDR
// check behind /config.
#include "nsqadmin/options.h"

#include <gtest/gtest.h>

using namespace nsq::admin;

TEST(Options, DefaultsMatchTheOriginal) {
  Options o;
  auto set = makeOptionSet(o);
  EXPECT_EQ(set->find("http-address")->defaultText, "0.0.0.0:4171");
  EXPECT_EQ(set->find("http-client-connect-timeout")->defaultText, "2s");
  EXPECT_EQ(set->find("http-client-request-timeout")->defaultText, "5s");
  EXPECT_EQ(set->find("acl-http-header")->defaultText, "X-Forwarded-User");
  EXPECT_EQ(set->find("allow-config-from-cidr")->defaultText, "127.0.0.1/8");
  EXPECT_EQ(set->find("log-prefix")->defaultText, "[nsqadmin] ");
  EXPECT_EQ(set->find("history-interval")->defaultText, "5s");
}

TEST(Options, ListKeysUseTheOriginalsConfigNames) {
  Options o;
  auto set = makeOptionSet(o);
  set->applyYaml("nsqlookupd_http_addresses: [\"a:4161\", \"b:4161\"]\nadmin_users: [alice]\n", "t.yaml");
  EXPECT_EQ(o.lookupdHttpAddresses, (std::vector<std::string>{"a:4161", "b:4161"}));
  EXPECT_EQ(o.adminUsers, std::vector<std::string>{"alice"});
  EXPECT_THROW(set->applyYaml("lookupd_http_address: x:1\n", "t.yaml"), nsq::OptionError);
}

TEST(Options, ValidateWantsOneKindOfAddress) {
  Options o;
  EXPECT_THROW(validate(o), nsq::OptionError);
  o.lookupdHttpAddresses = {"127.0.0.1:4161"};
  EXPECT_NO_THROW(validate(o));
  o.nsqdHttpAddresses = {"127.0.0.1:4151"};
  EXPECT_THROW(validate(o), nsq::OptionError);
  o.nsqdHttpAddresses.clear();
  o.lookupdHttpAddresses = {"no-port"};
  EXPECT_THROW(validate(o), nsq::OptionError);
}

TEST(Options, ValidateNormalizesTheBasePathAndChecksRanges) {
  Options o;
  o.nsqdHttpAddresses = {"127.0.0.1:4151"};
  o.basePath = "admin/";
  validate(o);
  EXPECT_EQ(o.basePath, "/admin");
  o.basePath = "/";
  validate(o);
  EXPECT_EQ(o.basePath, "/");
  o.historyInterval = std::chrono::milliseconds(10);
  EXPECT_THROW(validate(o), nsq::OptionError);
  o.historyInterval = std::chrono::seconds(5);
  o.allowConfigFromCidr = "10.0.0.0/99";
  EXPECT_THROW(validate(o), nsq::OptionError);
}

TEST(Options, HttpHeaderLimitsDefaultAndAreRangeChecked) {
  Options o;
  auto set = makeOptionSet(o);
  EXPECT_EQ(set->find("http-max-header-bytes")->defaultText, "65536");
  EXPECT_EQ(set->find("http-max-header-count")->defaultText, "100");
  o.nsqdHttpAddresses = {"127.0.0.1:4151"};
  EXPECT_NO_THROW(validate(o));
  set->applyYaml("http_max_header_bytes: 100\n", "t.yaml");
  EXPECT_THROW(validate(o), nsq::OptionError);
  o.httpHeaders.maxHeaderBytes = 65536;
  o.httpHeaders.maxHeaderCount = 10001;
  EXPECT_THROW(validate(o), nsq::OptionError);
}

TEST(Cidr, MatchesAddressesInsideTheNetOnly) {
  Cidr c;
  ASSERT_TRUE(c.parse("127.0.0.1/8"));
  EXPECT_TRUE(c.contains("127.9.8.7"));
  EXPECT_FALSE(c.contains("128.0.0.1"));
  EXPECT_TRUE(c.contains("::ffff:127.0.0.1"));
  EXPECT_FALSE(c.contains("not-an-ip"));
  ASSERT_TRUE(c.parse("10.1.2.0/23"));
  EXPECT_TRUE(c.contains("10.1.3.255"));
  EXPECT_FALSE(c.contains("10.1.4.0"));
  ASSERT_TRUE(c.parse("::1/128"));
  EXPECT_TRUE(c.contains("::1"));
  EXPECT_FALSE(c.contains("127.0.0.1"));
  EXPECT_FALSE(c.parse("10.0.0.0"));
  EXPECT_FALSE(c.parse("10.0.0.0/x"));
}
