#include "internal/url.hpp"

#include <e2b/errors.hpp>

#include <gtest/gtest.h>

#include <string>

namespace e2b::internal {
namespace {

TEST(PercentEncodeTest, KeepsOnlyUnreservedCharacters) {
  EXPECT_EQ(PercentEncode("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(PercentEncode(""), "");
  EXPECT_EQ(PercentEncode("a b"), "a%20b");
  EXPECT_EQ(PercentEncode("a+b&c=d?e#f%"), "a%2Bb%26c%3Dd%3Fe%23f%25");
}

TEST(PercentEncodeTest, EncodesSlashAndColonInIds) {
  EXPECT_EQ(PercentEncode("team/template:v1"), "team%2Ftemplate%3Av1");
  EXPECT_EQ(PercentEncode("../etc"), "..%2Fetc");
}

TEST(PercentEncodeTest, EncodesUtf8BytesUppercase) {
  EXPECT_EQ(PercentEncode("\xC3\xA9"), "%C3%A9");               // é
  EXPECT_EQ(PercentEncode("\xE2\x82\xAC x"), "%E2%82%AC%20x");  // € x
  EXPECT_EQ(PercentEncode(std::string("\0\xff", 2)), "%00%FF");
}

TEST(PercentDecodeTest, DecodesEscapesAndRoundTrips) {
  EXPECT_EQ(PercentDecode("a%20b%2Fc%3a"), "a b/c:");
  const std::string text = "id/with:all \xE2\x82\xAC sorts+of?stuff";
  EXPECT_EQ(PercentDecode(PercentEncode(text)), text);
}

TEST(PercentDecodeTest, PlusIsSpaceOnlyWhenAsked) {
  EXPECT_EQ(PercentDecode("a+b"), "a+b");
  EXPECT_EQ(PercentDecode("a+b", true), "a b");
  EXPECT_EQ(PercentDecode("a%2Bb", true), "a+b");
}

TEST(PercentDecodeTest, KeepsMalformedEscapesLiterally) {
  EXPECT_EQ(PercentDecode("%"), "%");
  EXPECT_EQ(PercentDecode("100%"), "100%");
  EXPECT_EQ(PercentDecode("%4"), "%4");
  EXPECT_EQ(PercentDecode("%zz%41"), "%zzA");
  EXPECT_EQ(PercentDecode("%%41"), "%A");
}

TEST(QueryTest, EmptyWhenNothingAdded) {
  Query query;
  EXPECT_TRUE(query.empty());
  EXPECT_EQ(query.Encode(), "");
}

TEST(QueryTest, EncodesKeysAndValuesInOrder) {
  Query query;
  query.Add("sandboxID", "a/b:c").Add("next token", "x&y=z").Add("empty", "");
  EXPECT_FALSE(query.empty());
  EXPECT_EQ(query.Encode(),
            "?sandboxID=a%2Fb%3Ac&next%20token=x%26y%3Dz&empty=");
}

TEST(QueryTest, KeepsRepeatedKeys) {
  Query query;
  query.Add("state", "running").Add("state", "paused");
  EXPECT_EQ(query.Encode(), "?state=running&state=paused");
}

TEST(JoinUrlTest, IgnoresTrailingSlashOfBase) {
  EXPECT_EQ(JoinUrl("https://api.e2b.app", "/sandboxes"),
            "https://api.e2b.app/sandboxes");
  EXPECT_EQ(JoinUrl("https://api.e2b.app/", "/sandboxes"),
            "https://api.e2b.app/sandboxes");
  EXPECT_EQ(JoinUrl("https://api.e2b.app//", "/sandboxes"),
            "https://api.e2b.app/sandboxes");
  EXPECT_EQ(JoinUrl("http://127.0.0.1:8080/prefix/", "/a/b"),
            "http://127.0.0.1:8080/prefix/a/b");
}

TEST(JoinUrlTest, AddsMissingSlashAndKeepsEmptyPath) {
  EXPECT_EQ(JoinUrl("http://h", "files"), "http://h/files");
  EXPECT_EQ(JoinUrl("http://h/", ""), "http://h");
}

TEST(ValidateBaseUrlTest, AcceptsHttpAndHttps) {
  EXPECT_NO_THROW(ValidateBaseUrl("https://api.e2b.app", "API URL"));
  EXPECT_NO_THROW(ValidateBaseUrl("http://127.0.0.1:3000", "API URL"));
  EXPECT_NO_THROW(ValidateBaseUrl("HTTP://Example.com/base/", "API URL"));
  EXPECT_NO_THROW(ValidateBaseUrl("http://[::1]:8080", "API URL"));
  EXPECT_NO_THROW(ValidateBaseUrl("http://user:pw@host", "API URL"));
}

void ExpectInvalid(const std::string& url) {
  try {
    ValidateBaseUrl(url, "API URL");
    ADD_FAILURE() << "accepted " << url;
  } catch (const e2b::Error& e) {
    EXPECT_EQ(e.StatusCode(), 0);
    EXPECT_NE(std::string(e.what()).find("API URL"), std::string::npos)
        << e.what();
  }
}

TEST(ValidateBaseUrlTest, RejectsOtherSchemesAndMissingHosts) {
  ExpectInvalid("");
  ExpectInvalid("api.e2b.app");
  ExpectInvalid("ftp://api.e2b.app");
  ExpectInvalid("file:///etc/passwd");
  ExpectInvalid("http://");
  ExpectInvalid("https:///path");
  ExpectInvalid("http://:8080");
  ExpectInvalid("http://user@/x");
  ExpectInvalid("http://[::1");
}

TEST(ValidateBaseUrlTest, RejectsBadPortsAndControlCharacters) {
  ExpectInvalid("http://host:");
  ExpectInvalid("http://host:abc");
  ExpectInvalid("http://host:0");
  ExpectInvalid("http://host:65536");
  ExpectInvalid("http://host:123456");
  ExpectInvalid("http://ho st");
  ExpectInvalid("http://host/\r\nX-Injected: 1");
}

TEST(ValidateBaseUrlTest, MessageNeverShowsQueryOrUserInfo) {
  try {
    ValidateBaseUrl("ftp://user:secret@host/p?signature=topsecret", "API URL");
    FAIL() << "accepted";
  } catch (const e2b::Error& e) {
    std::string what = e.what();
    EXPECT_EQ(what.find("secret"), std::string::npos) << what;
    EXPECT_NE(what.find("host/p"), std::string::npos) << what;
  }
}

TEST(RedactedUrlTest, DropsQueryFragmentAndUserInfo) {
  EXPECT_EQ(RedactedUrl("https://h/files?path=x&signature=s"),
            "https://h/files");
  EXPECT_EQ(RedactedUrl("https://u:p@h:1/a#frag"), "https://h:1/a");
  EXPECT_EQ(RedactedUrl("http://h/a@b"), "http://h/a@b");
  EXPECT_EQ(RedactedUrl("http://h/\r\n"), "http://h/??");
}

}  // namespace
}  // namespace e2b::internal
