// Attacks on the server's secrets: the API key and other sandboxes' envd
// access tokens must not be readable anywhere in a sandbox (command lines,
// environments, process memory, files), and one sandbox's token must open
// nothing but that sandbox. The secrets never enter the sandbox: it reports
// every long hex string it can find and the test compares them here.

#include "escape/escape_support.hpp"

#include <httplib.h>

#include <string>
#include <vector>

namespace e2b_test {
namespace escape {
namespace {

// Every run of 40+ hex digits in the command lines, environments and
// readable memory of every visible process but the probe itself.
constexpr const char* kSecretScan = R"PY(
me = os.getpid()
pat = re.compile(rb'[0-9a-f]{40,}')
found = set()
budget = [512 << 20]
def scan(data):
    for m in pat.finditer(data):
        if len(found) < 20000:
            found.add(m.group(0)[:256].decode())
def scan_memory(pid):
    try:
        maps = open('/proc/%d/maps' % pid).read().splitlines()
        mem = open('/proc/%d/mem' % pid, 'rb', 0)
    except OSError:
        return
    with mem:
        for line in maps:
            fields = line.split()
            if 'r' not in fields[1] or (len(fields) > 5 and fields[5].startswith('[v')):
                continue
            start, end = (int(x, 16) for x in fields[0].split('-'))
            size = min(end - start, 64 << 20, budget[0])
            if size <= 0:
                return
            try:
                mem.seek(start)
                data = mem.read(size)
            except (OSError, OverflowError, ValueError):
                continue
            budget[0] -= len(data)
            scan(data)
pids = [int(p) for p in os.listdir('/proc') if p.isdigit()]
for pid in pids:
    if pid == me:
        continue
    for name in ('cmdline', 'environ'):
        try:
            with open('/proc/%d/%s' % (pid, name), 'rb') as f:
                scan(f.read(1 << 20))
        except OSError:
            pass
    scan_memory(pid)
put('pids', len(pids))
put('scanned_mem_bytes', (512 << 20) - budget[0])
put('hex', ','.join(sorted(found)))
)PY";

class SecretsTest : public EscapeTest {
 protected:
  // The secrets a sandbox must never learn: the API key and the other
  // sandbox's token (its own token it may know).
  std::vector<std::string> Secrets(const Bystander& b) const {
    const std::string& key = Server().APIKey();
    return {key.substr(key.find('_') + 1), b.sandbox.EnvdAccessToken()};
  }
  void ExpectNoSecret(const std::string& text, const Bystander& b,
                      const std::string& where) {
    for (const auto& s : Secrets(b)) {
      ASSERT_FALSE(s.empty());
      EXPECT_EQ(text.find(s), std::string::npos)
          << (s == Secrets(b)[0] ? "the API key" : "another sandbox's token")
          << " is readable in the sandbox through " << where;
    }
  }
};

TEST_F(SecretsTest, NoProcessHoldsTheServersSecrets) {
  Bystander bystander = NewBystander();
  for (const char* user : kUsers) {
    SCOPED_TRACE(std::string("as ") + user);
    ProbeRun run = RunProbe(Target(), user, kSecretScan, {}, 60s);
    ASSERT_NE(run.Get("hex"), "(missing)") << run.Describe();
    ExpectNoSecret(run.Get("hex"), bystander,
                   "process command lines, environments or memory");
  }
}

TEST_F(SecretsTest, PsShowsNoApiKey) {
  Bystander bystander = NewBystander();
  for (const char* user : kUsers) {
    SCOPED_TRACE(std::string("as ") + user);
    e2b::CommandResult r = Shell(Target(), user, "ps auxeww");
    EXPECT_EQ(r.ExitCode, 0) << r.Stderr;
    ExpectNoSecret(r.Stdout, bystander, "ps");
    EXPECT_EQ(r.Stdout.find("--api-key"), std::string::npos) << r.Stdout;
  }
}

TEST_F(SecretsTest, NoFileHoldsTheServersSecrets) {
  // A bounded search of the places a leaked key would land (the server's
  // state and logs, temp files, the sandbox's environment files).
  Bystander bystander = NewBystander();
  e2b::CommandResult r = Shell(
      Target(), "root",
      "timeout 20 grep -rIhoE '[0-9a-f]{40,}' /etc /tmp /run /var/tmp "
      "/var/log /home /root /opt /srv 2>/dev/null | sort -u | head -c 2000000;"
      " env; cat /proc/1/environ 2>/dev/null | tr '\\0' '\\n'; true",
      60s);
  ExpectNoSecret(r.Stdout, bystander, "files");
}

// ---- tokens, checked by the server
// --------------------------------------------

class TokenTest : public EscapeTest {
 protected:
  httplib::Client Envd() const {
    httplib::Client c(Server().SandboxURL());
    c.set_connection_timeout(5, 0);
    c.set_read_timeout(5, 0);
    return c;
  }
};

TEST_F(TokenTest, OneSandboxsTokenOpensNoOtherSandbox) {
  Bystander bystander = NewBystander();
  ASSERT_FALSE(Target().EnvdAccessToken().empty());
  const std::string path =
      "/files?path=%2Fhome%2Fuser%2Fbystander.txt&username=user";
  auto get = [&](const std::string& token) {
    httplib::Headers h = {{"E2b-Sandbox-Id", bystander.sandbox.ID}};
    if (!token.empty()) h.emplace("X-Access-Token", token);
    return Envd().Get(path, h);
  };
  // The bystander's own token works (so the refusals below mean something).
  auto own = get(bystander.sandbox.EnvdAccessToken());
  ASSERT_TRUE(own);
  EXPECT_EQ(own->status, 200);
  EXPECT_EQ(own->body, bystander.marker);
  for (const std::string& token : {Target().EnvdAccessToken(), std::string()}) {
    auto res = get(token);
    ASSERT_TRUE(res);
    EXPECT_TRUE(res->status == 401 || res->status == 403)
        << "status " << res->status << ": " << res->body;
    EXPECT_EQ(res->body.find(bystander.marker), std::string::npos);
  }
  // The same through a filesystem RPC.
  httplib::Headers rpc = {{"E2b-Sandbox-Id", bystander.sandbox.ID},
                          {"X-Access-Token", Target().EnvdAccessToken()},
                          {"Connect-Protocol-Version", "1"},
                          {"Authorization", "Basic dXNlcjo="}};
  auto stat =
      Envd().Post("/filesystem.Filesystem/Stat", rpc,
                  R"({"path":"/home/user/bystander.txt"})", "application/json");
  ASSERT_TRUE(stat);
  EXPECT_TRUE(stat->status == 401 || stat->status == 403)
      << "status " << stat->status << ": " << stat->body;
}

TEST_F(TokenTest, ASignedUrlOpensOnlyItsOwnSandbox) {
  Bystander bystander = NewBystander();
  const std::string url = Target().Filesystem.DownloadURL(
      "/home/user/bystander.txt", e2b::WithSignedURLUser("user"));
  const auto path_start = url.find('/', url.find("://") + 3);
  ASSERT_NE(path_start, std::string::npos) << url;
  auto res = Envd().Get(url.substr(path_start),
                        {{"E2b-Sandbox-Id", bystander.sandbox.ID}});
  ASSERT_TRUE(res);
  EXPECT_TRUE(res->status == 401 || res->status == 403)
      << "status " << res->status << ": " << res->body;
  EXPECT_EQ(res->body.find(bystander.marker), std::string::npos);
}

TEST_F(TokenTest, AnEnvdTokenIsNotAnApiKey) {
  httplib::Client api(Server().APIURL());
  api.set_connection_timeout(5, 0);
  api.set_read_timeout(5, 0);
  for (const std::string header : {"X-API-Key", "Authorization"}) {
    const std::string value = header == "Authorization"
                                  ? "Bearer " + Target().EnvdAccessToken()
                                  : Target().EnvdAccessToken();
    auto res = api.Get("/sandboxes", {{header, value}});
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 401) << header << ": " << res->body;
  }
}

}  // namespace
}  // namespace escape
}  // namespace e2b_test
