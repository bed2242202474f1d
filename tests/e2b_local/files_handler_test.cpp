#include "envd/files_handler.hpp"

#include "e2b_local/envd_test_fixture.hpp"
#include "envd/envd_auth.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <sys/xattr.h>
#include <zlib.h>

#include <cctype>
#include <chrono>
#include <filesystem>

namespace e2b_local {
namespace {

using nlohmann::json;
using testing::ReadFile;
using testing::WriteFile;

class FilesHandlerTest : public testing::EnvdFixture {
 protected:
  httplib::Result Upload(const std::string& query, const std::string& body,
                         const std::string& sandbox = kOpen,
                         httplib::Headers headers = {}) {
    return Client(sandbox)->Post(("/files?" + query).c_str(), headers, body,
                                 "application/octet-stream");
  }
  static std::int64_t Now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

TEST_F(FilesHandlerTest, OctetStreamUploadCreatesParentsAndChowns) {
  auto res = Upload("path=docs/a/note.txt", "hello");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(json::parse(res->body),
            json::parse(R"([{"path":"/home/user/docs/a/note.txt",)"
                        R"("name":"note.txt","type":"file"}])"));
  EXPECT_EQ(ReadFile(root_ + "/home/user/docs/a/note.txt"), "hello");
  struct stat st {};
  ASSERT_EQ(stat((root_ + "/home/user/docs/a/note.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 1000u);
  ASSERT_EQ(stat((root_ + "/home/user/docs/a").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 1000u);

  // Overwrite truncates.
  ASSERT_EQ(Upload("path=docs/a/note.txt", "hi")->status, 200);
  EXPECT_EQ(ReadFile(root_ + "/home/user/docs/a/note.txt"), "hi");
}

TEST_F(FilesHandlerTest, OctetStreamNeedsPath) {
  auto res = Upload("", "data");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_EQ(json::parse(res->body)["code"], 400);
}

TEST_F(FilesHandlerTest, DownloadStreamsFileAndHonoursRange) {
  WriteFile(root_ + "/home/user/data.bin", "0123456789");
  auto client = Client();
  auto res = client->Get("/files?path=%2Fhome%2Fuser%2Fdata.bin");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "0123456789");
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/octet-stream");
  EXPECT_EQ(res->get_header_value("Content-Disposition"),
            "inline; filename=\"data.bin\"");

  res = client->Get("/files?path=data.bin", {{"Range", "bytes=2-5"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 206);
  EXPECT_EQ(res->body, "2345");
  res = client->Get("/files?path=data.bin", {{"Range", "bytes=50-60"}});
  EXPECT_EQ(res->status, 416);
}

TEST_F(FilesHandlerTest, DownloadLargeFile) {
  std::string big(3u << 20, 'x');
  for (std::size_t i = 0; i < big.size(); i += 4096) big[i] = 'a' + i % 26;
  WriteFile(root_ + "/home/user/big", big);
  auto res = Client()->Get("/files?path=big");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_TRUE(res->body == big);
}

TEST_F(FilesHandlerTest, DownloadErrors) {
  auto client = Client();
  auto res = client->Get("/files?path=/nope.txt");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  EXPECT_EQ(
      json::parse(res->body),
      (json{{"code", 404}, {"message", "path '/nope.txt' does not exist"}}));
  res = client->Get("/files?path=/home");
  EXPECT_EQ(res->status, 400);
  EXPECT_EQ(json::parse(res->body)["message"], "path '/home' is a directory");
  res = client->Get("/files?path=~other/x");
  EXPECT_EQ(res->status, 400);
  res = client->Get("/files?path=x&username=mallory");
  EXPECT_EQ(res->status, 401);
}

TEST_F(FilesHandlerTest, PathEscapesNeverTouchTheHost) {
  auto client = Client();
  auto res = client->Get("/files?path=../../etc/passwd");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  EXPECT_EQ(res->body, ReadFile(root_ + "/etc/passwd"));

  std::filesystem::create_directory_symlink("/etc", root_ + "/home/user/etc");
  res = client->Get("/files?path=etc/passwd");
  ASSERT_EQ(res->status, 200);
  EXPECT_EQ(res->body, ReadFile(root_ + "/etc/passwd"));

  std::filesystem::create_directory_symlink("/proc/self/root",
                                            root_ + "/home/user/hostroot");
  res = client->Get("/files?path=hostroot/etc/hostname");
  EXPECT_EQ(res->status, 404);

  // Writing through the /etc symlink lands in the sandbox's /etc.
  ASSERT_EQ(Upload("path=etc/e2b-escape-test", "x")->status, 200);
  EXPECT_TRUE(std::filesystem::exists(root_ + "/etc/e2b-escape-test"));
  EXPECT_FALSE(std::filesystem::exists("/etc/e2b-escape-test"));
  ASSERT_EQ(Upload("path=../../../../tmp/../e2b-escape-test", "x")->status,
            200);
  EXPECT_TRUE(std::filesystem::exists(root_ + "/e2b-escape-test"));
  EXPECT_FALSE(std::filesystem::exists("/e2b-escape-test"));
}

TEST_F(FilesHandlerTest, UploadToDirectoryIs400) {
  auto res = Upload("path=/home", "x");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  res = Upload("path=/", "x");
  EXPECT_EQ(res->status, 400);
  WriteFile(root_ + "/afile", "x");
  res = Upload("path=/afile/child", "x");
  EXPECT_EQ(res->status, 400);
}

TEST_F(FilesHandlerTest, MultipartSingleAndMultiple) {
  auto client = Client();
  httplib::MultipartFormDataItems items = {
      {"file", "first", "/tmp/one.txt", "application/octet-stream"},
      {"other", "skipped", "", ""},
      {"file", "second", "rel/two.txt", "application/octet-stream"},
  };
  auto res = client->Post("/files", items);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  auto body = json::parse(res->body);
  ASSERT_EQ(body.size(), 2u);
  EXPECT_EQ(body[0]["path"], "/tmp/one.txt");
  EXPECT_EQ(body[1]["path"], "/home/user/rel/two.txt");
  EXPECT_EQ(ReadFile(root_ + "/tmp/one.txt"), "first");
  EXPECT_EQ(ReadFile(root_ + "/home/user/rel/two.txt"), "second");

  // With a path query the part's filename is ignored.
  httplib::MultipartFormDataItems single = {
      {"file", "via query", "ignored.txt", "application/octet-stream"}};
  res = client->Post("/files?path=%2Ftmp%2Fq.txt", single);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(ReadFile(root_ + "/tmp/q.txt"), "via query");

  // Two parts to the same path.
  httplib::MultipartFormDataItems twice = {{"file", "a", "same.txt", ""},
                                           {"file", "b", "same.txt", ""}};
  res = client->Post("/files", twice);
  EXPECT_EQ(res->status, 400);
}

TEST_F(FilesHandlerTest, GzipBodyAndUnknownEncoding) {
  // httplib's client gzips the body and sends Content-Encoding: gzip.
  auto gzip_client = Client();
  gzip_client->set_compress(true);
  std::string content(100000, 'z');
  auto res = gzip_client->Post("/files?path=z.txt", content,
                               "application/octet-stream");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_TRUE(ReadFile(root_ + "/home/user/z.txt") == content);
  res = Upload("path=z.txt", "raw", kOpen, {{"Content-Encoding", "zstd"}});
  EXPECT_EQ(res->status, 400);
  res =
      Upload("path=z2.txt", "not gzip", kOpen, {{"Content-Encoding", "gzip"}});
  EXPECT_EQ(res->status, 400);
}

std::string Gunzip(const std::string& data) {
  z_stream z{};
  if (inflateInit2(&z, 15 + 16) != Z_OK) return "<inflateInit2 failed>";
  std::string out;
  char buf[16384];
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  int rc;
  do {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof(buf);
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof(buf) - z.avail_out);
  } while (rc == Z_OK);
  inflateEnd(&z);
  return rc == Z_STREAM_END && z.avail_in == 0 ? out : "<not one gzip member>";
}

TEST_F(FilesHandlerTest, DownloadGzipsWhenAsked) {
  std::string content;
  for (int i = 0; i < 20000; ++i) content += "line " + std::to_string(i) + "\n";
  WriteFile(root_ + "/home/user/log.txt", content);
  WriteFile(root_ + "/home/user/empty", "");
  auto client = Client();
  client->set_decompress(false);  // look at the bytes on the wire

  auto res = client->Get("/files?path=log.txt", {{"Accept-Encoding", "gzip"}});
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->get_header_value("Content-Encoding"), "gzip");
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/octet-stream");
  EXPECT_LT(res->body.size(), content.size() / 2);
  EXPECT_TRUE(Gunzip(res->body) == content);

  // An empty file is still a valid gzip stream.
  res = client->Get("/files?path=empty", {{"Accept-Encoding", "gzip"}});
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Encoding"), "gzip");
  EXPECT_EQ(Gunzip(res->body), "");

  // gzip by preference or wildcard; identity when gzip is refused, not
  // offered, or a range is asked for.
  struct Case {
    const char* accept;
    bool gzip;
  };
  for (const Case& c : {Case{"br;q=0.5, GZIP;q=0.8", true}, Case{"*", true},
                        Case{"gzip;q=0.2, identity;q=0.9", false},
                        Case{"gzip;q=0", false}, Case{"br, deflate", false},
                        Case{"", false}, Case{"gzip;q=bogus", false}}) {
    res = client->Get("/files?path=log.txt", {{"Accept-Encoding", c.accept}});
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << c.accept;
    EXPECT_EQ(res->has_header("Content-Encoding"), c.gzip) << c.accept;
    EXPECT_TRUE((c.gzip ? Gunzip(res->body) : res->body) == content)
        << c.accept;
  }
  res = client->Get("/files?path=log.txt",
                    {{"Accept-Encoding", "gzip"}, {"Range", "bytes=0-5"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 206);
  EXPECT_FALSE(res->has_header("Content-Encoding"));
  EXPECT_EQ(res->body, "line 0");
}

TEST_F(FilesHandlerTest, DownloadWithNoAcceptableEncodingIs406) {
  WriteFile(root_ + "/home/user/f.txt", "data");
  auto client = Client();
  client->set_decompress(false);
  for (const char* accept :
       {"identity;q=0, gzip;q=0", "*;q=0", "br, identity;q=0"}) {
    auto res = client->Get("/files?path=f.txt", {{"Accept-Encoding", accept}});
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 406) << accept;
    EXPECT_EQ(json::parse(res->body)["code"], 406) << accept;
  }
  // Ranges come only as identity.
  auto res = client->Get(
      "/files?path=f.txt",
      {{"Accept-Encoding", "gzip, identity;q=0"}, {"Range", "bytes=0-1"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 406);
}

TEST_F(FilesHandlerTest, MetadataIsStoredAndCleared) {
  auto res = Upload("path=m.txt", "x", kOpen,
                    {{"X-Metadata-Owner", "alice"}, {"x-metadata-tag", "v1"}});
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(json::parse(res->body)[0]["metadata"],
            (json{{"owner", "alice"}, {"tag", "v1"}}));
  auto stat = Unary("/filesystem.Filesystem/Stat", {{"path", "m.txt"}});
  EXPECT_EQ(json::parse(stat->body)["entry"]["metadata"]["owner"], "alice");

  ASSERT_EQ(Upload("path=m.txt", "y")->status, 200);
  stat = Unary("/filesystem.Filesystem/Stat", {{"path", "m.txt"}});
  EXPECT_FALSE(json::parse(stat->body)["entry"].contains("metadata"));

  res = Upload("path=m.txt", "x", kOpen,
               {{"X-Metadata-Big", std::string(5000, 'v')}});
  EXPECT_EQ(res->status, 400);
}

TEST_F(FilesHandlerTest, TokenAndSignatures) {
  // No token, no signature.
  auto res = Upload("path=s.txt", "x", kSecure);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  EXPECT_EQ(res->body.find(kToken), std::string::npos);
  // Header token.
  res = Upload("path=s.txt", "x", kSecure, {{"X-Access-Token", kToken}});
  EXPECT_EQ(res->status, 200) << res->body;
  res = Upload("path=s.txt", "x", kSecure, {{"X-Access-Token", "bad"}});
  EXPECT_EQ(res->status, 401);

  // A valid write signature.
  std::string sig =
      SignFilesRequest("s.txt", "write", "user", kToken, std::nullopt);
  res = Upload("path=s.txt&username=user&signature=" + sig, "signed", kSecure);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(ReadFile(secure_root_ + "/home/user/s.txt"), "signed");
  // The same signature does not allow reading.
  auto client = Client(kSecure);
  res = client->Get("/files?path=s.txt&username=user&signature=" + sig);
  EXPECT_EQ(res->status, 401);
  std::string read_sig =
      SignFilesRequest("s.txt", "read", "user", kToken, std::nullopt);
  res = client->Get("/files?path=s.txt&username=user&signature=" + read_sig);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "signed");

  // Expiration: valid in the future, rejected in the past.
  std::int64_t later = Now() + 600;
  std::string timed = SignFilesRequest("s.txt", "read", "", kToken, later);
  res = client->Get("/files?path=s.txt&signature=" + timed +
                    "&signature_expiration=" + std::to_string(later));
  EXPECT_EQ(res->status, 200);
  std::int64_t past = Now() - 10;
  std::string expired = SignFilesRequest("s.txt", "read", "", kToken, past);
  res = client->Get("/files?path=s.txt&signature=" + expired +
                    "&signature_expiration=" + std::to_string(past));
  EXPECT_EQ(res->status, 401);
  // Tampering with the expiration breaks the signature.
  res = client->Get("/files?path=s.txt&signature=" + timed +
                    "&signature_expiration=" + std::to_string(later + 1));
  EXPECT_EQ(res->status, 401);
}

// envd's one credential rule (envd_auth.hpp), as real envd applies it: a
// sandbox without a token checks nothing, and an empty X-Access-Token is
// no token (a signature is then needed).
TEST_F(FilesHandlerTest, CredentialRuleIsEnvdsOnEveryPath) {
  auto res = Upload("path=o.txt", "x", kOpen, {{"X-Access-Token", "any"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  res = Unary("/filesystem.Filesystem/Stat", {{"path", "o.txt"}}, kOpen);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;

  res = Upload("path=e.txt", "x", kSecure, {{"X-Access-Token", ""}});
  EXPECT_EQ(res->status, 401);
  const std::string sig =
      SignFilesRequest("e.txt", "write", "", kToken, std::nullopt);
  res = Upload("path=e.txt&signature=" + sig, "x", kSecure,
               {{"X-Access-Token", ""}});
  EXPECT_EQ(res->status, 200) << res->body;
  // A signature opens /files only, never an RPC.
  auto rpc = Client(kSecure)->Post(
      "/filesystem.Filesystem/Stat?signature=" + sig, {{"X-Access-Token", ""}},
      R"({"path":"e.txt"})", "application/json");
  ASSERT_TRUE(rpc);
  EXPECT_EQ(rpc->status, 401);
  // An expired signature is refused with envd's message.
  const std::int64_t past = Now() - 10;
  const std::string expired =
      SignFilesRequest("e.txt", "read", "", kToken, past);
  auto get =
      Client(kSecure)->Get("/files?path=e.txt&signature=" + expired +
                           "&signature_expiration=" + std::to_string(past));
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 401);
  EXPECT_NE(get->body.find("expired"), std::string::npos) << get->body;
}

// What URLSearchParams does to a query value ('+', '/', '=' escaped).
std::string QueryEscape(const std::string& value) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

TEST_F(FilesHandlerTest, SignedUrlWithoutRoutingFindsItsSandbox) {
  // The SDK builds signed URLs on the shared envd base: no E2b-Sandbox-Id
  // header and no sandbox in the host, only the signature.
  WriteFile(secure_root_ + "/home/user/shared.txt", "for a third party");
  AddSandbox("isbxother", dir_.path() + "/open", "another-token");
  auto anonymous = Client("");
  const std::int64_t later = Now() + 600;
  const std::string read_sig =
      SignFilesRequest("/home/user/shared.txt", "read", "", kToken, later);
  const std::string read_query =
      "path=%2Fhome%2Fuser%2Fshared.txt&signature=" + QueryEscape(read_sig) +
      "&signature_expiration=" + std::to_string(later);
  auto res = anonymous->Get(("/files?" + read_query).c_str());
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->body, "for a third party");

  const std::string write_sig =
      SignFilesRequest("up.txt", "write", "user", kToken, std::nullopt);
  res = anonymous->Post(
      ("/files?path=up.txt&username=user&signature=" + QueryEscape(write_sig))
          .c_str(),
      "uploaded", "application/octet-stream");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(ReadFile(secure_root_ + "/home/user/up.txt"), "uploaded");

  // A read signature does not route a write, nor a signature made with a
  // token no sandbox has, nor one "made" with the open sandbox's empty
  // token; each gets envd's usual 401 body, never a token.
  const std::string unauthorized = json{
      {"code", 401},
      {"message",
       "unauthorized access, please provide a valid access token or "
       "method signing if supported"}}.dump();
  for (const std::string& sig :
       {read_sig,
        SignFilesRequest("up.txt", "write", "user", "guess", std::nullopt),
        SignFilesRequest("up.txt", "write", "user", "", std::nullopt)}) {
    res = anonymous->Post(
        ("/files?path=up.txt&username=user&signature=" + QueryEscape(sig))
            .c_str(),
        "x", "application/octet-stream");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 401);
    EXPECT_EQ(json::parse(res->body), json::parse(unauthorized));
    EXPECT_EQ(res->body.find(kToken), std::string::npos);
  }
  // A malformed expiration matches nobody.
  res = anonymous->Get(("/files?path=%2Fhome%2Fuser%2Fshared.txt&signature=" +
                        QueryEscape(read_sig) + "&signature_expiration=soon")
                           .c_str());
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  // Without a signature there is still nothing to route by.
  res = anonymous->Get("/files?path=%2Fhome%2Fuser%2Fshared.txt");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
}

TEST_F(FilesHandlerTest, SignedUrlMatchingSeveralSandboxesIsRefused) {
  AddSandbox("isbxtwin", dir_.path() + "/open", kToken);
  const std::string sig =
      SignFilesRequest("a.txt", "read", "", kToken, std::nullopt);
  auto res = Client("")->Get(
      ("/files?path=a.txt&signature=" + QueryEscape(sig)).c_str());
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  EXPECT_EQ(json::parse(res->body)["code"], 401);
}

TEST_F(FilesHandlerTest, SignedUrlForAPausedSandboxIs502) {
  {
    std::lock_guard<std::mutex> lock(secure_->mu);
    secure_->status = SandboxStatus::kPaused;
  }
  const std::string sig =
      SignFilesRequest("a.txt", "read", "", kToken, std::nullopt);
  auto res = Client("")->Get(
      ("/files?path=a.txt&signature=" + QueryEscape(sig)).c_str());
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 502);
}

TEST(SignFilesRequestTest, MatchesKnownDigest) {
  // sha256("p:read:u:t") computed independently (coreutils sha256sum).
  EXPECT_EQ(SignFilesRequest("p", "read", "u", "t", std::nullopt),
            "v1_tp0NnP5UF1oRdtqF6eaBw5VBk9UBxMxNnIK4pSpYW1M");
}

TEST_F(FilesHandlerTest, UserSelectsHomeAndOwner) {
  auto res = Upload("path=r.txt&username=root", "r");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(json::parse(res->body)[0]["path"], "/root/r.txt");
  struct stat st {};
  ASSERT_EQ(stat((root_ + "/root/r.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u);
  EXPECT_EQ(Upload("path=r.txt&username=mallory", "r")->status, 401);
}

TEST_F(FilesHandlerTest, UnsupportedContentType) {
  auto res = Client()->Post("/files?path=x", "a=b",
                            "application/x-www-form-urlencoded");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
}

// The checks before the body is read answer in a fixed order (encoding,
// metadata, content type, path query), each after draining the body; an
// error found while reading the body closes the connection.
TEST_F(FilesHandlerTest, UploadChecksAnswerInOrder) {
  auto client = Client();
  client->set_keep_alive(true);
  auto message = [](const httplib::Result& res) {
    return res ? json::parse(res->body).value("message", "") : "no response";
  };
  const std::string big(3000, 'v');
  const httplib::Headers all_bad = {{"Content-Encoding", "zstd"},
                                    {"X-Metadata-a", big},
                                    {"X-Metadata-b", big}};
  auto res = client->Post("/files", all_bad, "body", "text/plain");
  EXPECT_EQ(message(res), "unsupported Content-Encoding 'zstd'");
  res = client->Post("/files", {{"X-Metadata-a", big}, {"X-Metadata-b", big}},
                     "body", "text/plain");
  EXPECT_EQ(message(res), "metadata is larger than 4096 bytes");
  res = client->Post("/files", "body", "text/plain");
  EXPECT_EQ(message(res),
            "unsupported Content-Type 'text/plain': use "
            "application/octet-stream or multipart/form-data");
  res = client->Post("/files", "body", "Multipart/Form-Data; boundary=b");
  EXPECT_EQ(message(res),
            "multipart Content-Type must be lower-case with a boundary");
  res = client->Post("/files", "body", "application/octet-stream");
  EXPECT_EQ(message(res),
            "the path query parameter is required for raw uploads");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  res =
      client->Post("/files?path=kept.txt", "kept", "application/octet-stream");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;

  httplib::MultipartFormDataItems nameless = {{"file", "x", "", ""}};
  res = Client()->Post("/files", nameless);
  EXPECT_EQ(message(res),
            "a file part has neither a path query nor a filename");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->get_header_value("Connection"), "close");
  httplib::MultipartFormDataItems twice = {{"file", "a", "same.txt", ""},
                                           {"file", "b", "same.txt", ""}};
  res = Client()->Post("/files", twice);
  EXPECT_EQ(message(res),
            "path '/home/user/same.txt' is written more than once");
}

}  // namespace
}  // namespace e2b_local
