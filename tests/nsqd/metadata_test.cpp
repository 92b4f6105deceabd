// MetadataFile: nsqd.dat written and read back in a temp dir.
#include "nsqd/metadata.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include "support/test_support.h"

namespace nsq::nsqd {
namespace {

TEST(MetadataFile, SavedTopicsAndChannelsLoadBackWithTheirPausedState) {
  test::TempDir dir;
  MetadataFile file(dir.path());
  EXPECT_EQ(file.path(), dir.file("nsqd.dat"));
  std::vector<TopicMetadata> topics{
      {"orders", true, {{"billing", false}, {"audit", true}}},
      {"clicks", false, {}},
  };
  ASSERT_TRUE(file.save(topics));

  auto back = MetadataFile(dir.path()).load();
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].name, "orders");
  EXPECT_TRUE(back[0].paused);
  ASSERT_EQ(back[0].channels.size(), 2u);
  EXPECT_EQ(back[0].channels[0].name, "billing");
  EXPECT_FALSE(back[0].channels[0].paused);
  EXPECT_EQ(back[0].channels[1].name, "audit");
  EXPECT_TRUE(back[0].channels[1].paused);
  EXPECT_EQ(back[1].name, "clicks");
  EXPECT_FALSE(back[1].paused);
  EXPECT_TRUE(back[1].channels.empty());
}

TEST(MetadataFile, AbsentFileLoadsAsNoTopics) {
  test::TempDir dir;
  EXPECT_TRUE(MetadataFile(dir.path()).load().empty());
}

TEST(MetadataFile, CorruptFileGivesAnErrorNamingTheFile) {
  test::TempDir dir;
  std::ofstream(dir.file("nsqd.dat")) << "{\"topics\": [";
  try {
    (void)MetadataFile(dir.path()).load();
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    std::string what = e.what();
    EXPECT_NE(what.find(dir.file("nsqd.dat")), std::string::npos) << what;
    EXPECT_NE(what.find("failed to parse metadata"), std::string::npos) << what;
  }
}

TEST(MetadataFile, InvalidAndEphemeralNamesAreSkipped) {
  test::TempDir dir;
  std::ofstream(dir.file("nsqd.dat"))
      << R"({"topics":[{"name":"bad name","channels":[]},{"name":"t#ephemeral","channels":[]},)"
      << R"({"name":"ok","channels":[{"name":"c#ephemeral"},{"name":"c"}]}],"version":"1"})";
  auto topics = MetadataFile(dir.path()).load();
  ASSERT_EQ(topics.size(), 1u);
  EXPECT_EQ(topics[0].name, "ok");
  ASSERT_EQ(topics[0].channels.size(), 1u);
  EXPECT_EQ(topics[0].channels[0].name, "c");
}

}  // namespace
}  // namespace nsq::nsqd
