// Topic and channel name rules (NSQ-COMPAT §1.3): ^[.a-zA-Z0-9_-]+(#ephemeral)?$, 1..64 bytes
// including the suffix.
#include "nsq/base/names.h"

#include <gtest/gtest.h>

#include <string>

namespace nsq {
namespace {

TEST(Names, AcceptsEveryAllowedCharacter) {
  EXPECT_TRUE(isValidName("abcdefghijklmnopqrstuvwxyz"));
  EXPECT_TRUE(isValidName("ABCDEFGHIJKLMNOPQRSTUVWXYZ"));
  EXPECT_TRUE(isValidName("0123456789"));
  EXPECT_TRUE(isValidName("a.b_c-d"));
  EXPECT_TRUE(isValidName("."));
  EXPECT_TRUE(isValidName("_"));
  EXPECT_TRUE(isValidName("-"));
  EXPECT_TRUE(isValidName("..."));
  EXPECT_TRUE(isValidName("x"));
}

TEST(Names, RejectsEveryOtherCharacter) {
  for (int c = 0; c < 256; ++c) {
    bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '.' || c == '_' || c == '-';
    std::string name = "ab" + std::string(1, static_cast<char>(c)) + "cd";
    EXPECT_EQ(isValidName(name), allowed) << "char " << c;
  }
  EXPECT_FALSE(isValidName("caf\xc3\xa9"));
  EXPECT_FALSE(isValidName("a b"));
  EXPECT_FALSE(isValidName("a:b"));
  EXPECT_FALSE(isValidName("a/b"));
}

TEST(Names, EmptyIsInvalid) { EXPECT_FALSE(isValidName("")); }

TEST(Names, LengthLimitIs64IncludingSuffix) {
  EXPECT_TRUE(isValidName(std::string(64, 'a')));
  EXPECT_FALSE(isValidName(std::string(65, 'a')));
  EXPECT_TRUE(isValidName(std::string(54, 'a') + "#ephemeral"));  // 64
  EXPECT_FALSE(isValidName(std::string(55, 'a') + "#ephemeral"));  // 65
  EXPECT_TRUE(isValidName("a#ephemeral"));
}

TEST(Names, EphemeralSuffixOnlyAtTheEnd) {
  EXPECT_TRUE(isValidName("chan#ephemeral"));
  EXPECT_FALSE(isValidName("chan#ephemeralx"));
  EXPECT_FALSE(isValidName("#ephemeralchan"));
  EXPECT_FALSE(isValidName("a#ephemeral#ephemeral"));
  EXPECT_FALSE(isValidName("chan#Ephemeral"));
  EXPECT_FALSE(isValidName("chan#"));
  EXPECT_FALSE(isValidName("a#b"));
  EXPECT_FALSE(isValidName("chan #ephemeral"));
}

TEST(Names, BareEphemeralSuffixIsInvalid) {
  EXPECT_FALSE(isValidName("#ephemeral"));
  EXPECT_FALSE(isValidTopicName("#ephemeral"));
  EXPECT_FALSE(isValidChannelName("#ephemeral"));
}

TEST(Names, TopicAndChannelFollowTheSameRules) {
  for (const std::string& n : {std::string("t"), std::string("t#ephemeral"), std::string(64, 'z'),
                               std::string(65, 'z'), std::string("bad name"), std::string("")}) {
    EXPECT_EQ(isValidTopicName(n), isValidName(n)) << n;
    EXPECT_EQ(isValidChannelName(n), isValidName(n)) << n;
  }
}

TEST(Names, IsEphemeralChecksTheSuffix) {
  EXPECT_TRUE(isEphemeral("t#ephemeral"));
  EXPECT_TRUE(isEphemeral("a.b-c_d#ephemeral"));
  EXPECT_FALSE(isEphemeral("t"));
  EXPECT_FALSE(isEphemeral("t#ephemera"));
  EXPECT_FALSE(isEphemeral("t#ephemeralx"));
  EXPECT_FALSE(isEphemeral("ephemeral"));
  EXPECT_FALSE(isEphemeral(""));
}

}  // namespace
}  // namespace nsq
