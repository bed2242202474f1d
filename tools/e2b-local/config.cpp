#include "config.hpp"

#include "store/random_ids.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace e2b_local {
namespace {

UsageError NotAPort(const std::string& flag, const std::string& text) {
  return UsageError(flag + ": expected a port number 0-65535, got '" + text +
                    "'");
}

int ParsePort(const std::string& flag, const std::string& text) {
  if (text.empty() || text.size() > 5) throw NotAPort(flag, text);
  int value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') throw NotAPort(flag, text);
    value = value * 10 + (c - '0');
  }
  if (value > 65535) throw NotAPort(flag, text);
  return value;
}

bool HasControlCharacters(const std::string& s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

// A key must be printable text without spaces. Messages never echo it.
bool IsValidKey(const std::string& key) {
  return !key.empty() && !HasControlCharacters(key) &&
         key.find(' ') == std::string::npos;
}

bool ReadSmallFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  // A key file is one line: reading more than this means a wrong path.
  constexpr std::size_t kMaxKeyFile = std::size_t{64} * 1024;
  std::string text(kMaxKeyFile, '\0');
  in.read(&text[0], static_cast<std::streamsize>(text.size()));
  if (in.bad()) return false;
  text.resize(static_cast<std::size_t>(in.gcount()));
  *out = std::move(text);
  return true;
}

std::string KeyFromFile(const std::string& path, const FileReader& read_file) {
  std::string text;
  bool ok = read_file ? read_file(path, &text) : ReadSmallFile(path, &text);
  if (!ok) throw UsageError("--api-key-file: cannot read '" + path + "'");
  std::string line = text.substr(0, text.find('\n'));
  const char* kSpace = " \t\r\v\f";
  std::size_t first = line.find_first_not_of(kSpace);
  std::size_t last = line.find_last_not_of(kSpace);
  line = first == std::string::npos ? "" : line.substr(first, last - first + 1);
  if (!IsValidKey(line)) {
    throw UsageError("--api-key-file: the first line of '" + path +
                     "' must be a key: non-empty printable text without "
                     "spaces");
  }
  return line;
}

std::size_t ParseCount(const std::string& flag, const std::string& text) {
  if (text.empty() || text.size() > 9 ||
      text.find_first_not_of("0123456789") != std::string::npos) {
    throw UsageError(flag + ": expected a positive number, got '" + text + "'");
  }
  std::size_t value = std::stoul(text);
  if (value == 0) throw UsageError(flag + ": must be at least 1");
  return value;
}

std::string DefaultStateDir(const EnvLookup& env) {
  std::string xdg = env("XDG_STATE_HOME");
  if (!xdg.empty() && xdg.front() == '/') return xdg + "/e2b-local";
  std::string home = env("HOME");
  if (!home.empty() && home.front() == '/') {
    return home + "/.local/state/e2b-local";
  }
  return "/tmp/e2b-local-" + std::to_string(::getuid());
}

// `value` as a path or address: non-empty, no control characters.
std::string PrintableValue(const std::string& value, const char* complaint) {
  if (value.empty() || HasControlCharacters(value)) throw UsageError(complaint);
  return value;
}

void SetApiKey(const std::string& value, ServerConfig& config) {
  // Never echo the key itself.
  if (!IsValidKey(value)) {
    throw UsageError(
        "--api-key: a key must be non-empty printable text without spaces");
  }
  config.api_keys.push_back(value);
  config.api_key_on_command_line = true;
}

IsolationMode ParseIsolation(const std::string& value) {
  if (value == "auto") return IsolationMode::kAuto;
  if (value == "namespaces") return IsolationMode::kNamespaces;
  if (value == "none") return IsolationMode::kNone;
  throw UsageError("--isolation: expected auto, namespaces or none, got '" +
                   value + "'");
}

// A flag that takes a value (`--flag value` or `--flag=value`), and what it
// does with it.
struct ValueFlag {
  const char* name;
  void (*apply)(const std::string& value, ServerConfig& config,
                const FileReader& read_file);
};

const ValueFlag kValueFlags[] = {
    {"--host",
     [](const std::string& v, ServerConfig& c, const FileReader&) {
       c.host = PrintableValue(v, "--host: expected an address");
     }},
    {"--api-port",
     [](const std::string& v, ServerConfig& c, const FileReader&) {
       c.api_port = ParsePort("--api-port", v);
     }},
    {"--envd-port",
     [](const std::string& v, ServerConfig& c, const FileReader&) {
       c.envd_port = ParsePort("--envd-port", v);
     }},
    {"--api-key", [](const std::string& v, ServerConfig& c,
                     const FileReader&) { SetApiKey(v, c); }},
    {"--state-dir",
     [](const std::string& v, ServerConfig& c, const FileReader&) {
       c.state_dir =
           PrintableValue(v, "--state-dir: expected a directory path");
     }},
    {"--isolation", [](const std::string& v, ServerConfig& c,
                       const FileReader&) { c.isolation = ParseIsolation(v); }},
    {"--api-key-file",
     [](const std::string& v, ServerConfig& c, const FileReader& read_file) {
       if (v.empty()) throw UsageError("--api-key-file: expected a path");
       c.api_keys.push_back(KeyFromFile(v, read_file));
     }},
    {"--max-sandboxes",
     [](const std::string& v, ServerConfig& c, const FileReader&) {
       c.max_sandboxes = ParseCount("--max-sandboxes", v);
     }},
    {"--images-dir",
     [](const std::string& v, ServerConfig& c, const FileReader&) {
       c.images_dir =
           PrintableValue(v, "--images-dir: expected a directory path");
     }},
    {"--rootfs",
     [](const std::string& v, ServerConfig& c, const FileReader&) {
       c.rootfs =
           PrintableValue(v, "--rootfs: expected a directory or tarball path");
     }},
};

// A flag without a value; only its exact spelling counts ("--help=1" is an
// unknown flag).
struct Switch {
  const char* name;
  bool ServerConfig::*field;
};

const Switch kSwitches[] = {
    {"--help", &ServerConfig::show_help},
    {"-h", &ServerConfig::show_help},
    {"--prepare-rootfs", &ServerConfig::prepare_rootfs},
};

// Applies argv[i]; moves `i` past the value when it is the next argument.
void ApplyArgument(int argc, const char* const* argv, int& i,
                   ServerConfig& config, const FileReader& read_file) {
  const std::string arg = argv[i];
  for (const auto& s : kSwitches) {
    if (arg == s.name) {
      config.*s.field = true;
      return;
    }
  }
  if (arg.rfind("--", 0) != 0) {
    throw UsageError("unexpected argument '" + arg + "'");
  }
  const auto eq = arg.find('=');
  const std::string name = arg.substr(0, eq);
  const ValueFlag* flag = nullptr;
  for (const auto& f : kValueFlags) {
    if (name == f.name) flag = &f;
  }
  if (flag == nullptr) throw UsageError("unknown flag '" + name + "'");
  std::string value;
  if (eq != std::string::npos) {
    value = arg.substr(eq + 1);
  } else if (i + 1 < argc) {
    value = argv[++i];
  } else {
    throw UsageError(name + " needs a value");
  }
  flag->apply(value, config, read_file);
}

// Without a key from the flags: $E2B_API_KEY, else a generated one.
void DefaultApiKey(const EnvLookup& env, ServerConfig& config) {
  if (!config.api_keys.empty()) return;
  std::string from_env = env("E2B_API_KEY");
  if (!from_env.empty() && !HasControlCharacters(from_env)) {
    config.api_keys.push_back(from_env);
  } else {
    config.api_keys.push_back(NewApiKey());
    config.api_key_generated = true;
  }
}

// `path` relative to the working directory made absolute.
void MakeAbsolute(std::string& path) {
  if (path.empty() || path.front() == '/') return;
  char* cwd = ::getcwd(nullptr, 0);
  if (cwd != nullptr) {
    path = std::string(cwd) + "/" + path;
    std::free(cwd);
  }
}

// The state directory, defaulted and made absolute; the images directory
// too (under the state directory by default).
void ResolveStateDir(const EnvLookup& env, ServerConfig& config) {
  if (config.state_dir.empty()) config.state_dir = DefaultStateDir(env);
  MakeAbsolute(config.state_dir);
  if (config.images_dir.empty())
    config.images_dir = config.state_dir + "/images";
  MakeAbsolute(config.images_dir);
}

}  // namespace

std::size_t DefaultMaxSandboxes(const std::string& meminfo) {
  std::istringstream lines(meminfo);
  std::string key;
  unsigned long long kib = 0;
  std::string unit;
  while (lines >> key >> kib >> unit) {
    if (key == "MemTotal:") {
      return std::max<std::size_t>(1, static_cast<std::size_t>(kib / 16384));
    }
  }
  return 64;
}

ServerConfig ParseCommandLine(int argc, const char* const* argv,
                              const EnvLookup& env,
                              const FileReader& read_file) {
  ServerConfig config;
  for (int i = 1; i < argc; ++i) {
    ApplyArgument(argc, argv, i, config, read_file);
  }
  DefaultApiKey(env, config);
  if (config.api_port != 0 && config.api_port == config.envd_port) {
    throw UsageError("--api-port and --envd-port must differ");
  }
  ResolveStateDir(env, config);
  return config;
}

std::string HelpText() {
  return R"(e2b-local: an E2B-compatible sandbox server on this machine.

Usage: e2b-local [flags]

  --host H            address both listeners bind (default 127.0.0.1)
  --api-port P        control plane (E2B REST API) port (default 3000)
  --envd-port P       envd port serving every sandbox (default 49983)
                      A port of 0 picks a free port.
  --api-key KEY       accepted API key; repeat for several. The first is
                      printed. Visible to every local user through ps and
                      /proc: prefer $E2B_API_KEY or --api-key-file.
  --api-key-file PATH accepted API key read from the first line of PATH
                      (trimmed); repeatable, combines with --api-key.
                      Without either: $E2B_API_KEY, else a generated
                      "e2b_" + 40 hex key.
  --max-sandboxes N   running plus paused sandboxes allowed at once; over
                      it create, fork and resume answer 429 (default: one
                      per 16 MiB of host memory)
  --state-dir DIR     where templates, snapshots and sandbox layers live
                      (default $XDG_STATE_HOME/e2b-local, else
                      ~/.local/state/e2b-local)
  --isolation MODE    auto or namespaces (default): every sandbox in its own
                      user, mount, PID, network, UTS, IPC and cgroup
                      namespaces with a seccomp filter and cgroup limits;
                      fails to start when the kernel cannot. none: NO
                      ISOLATION, sandbox processes run on this host as its
                      users (trusted code only; warned at every start)
  --rootfs DIR|TAR    base root filesystem of every sandbox, copied once
                      into the cache (default: a Debian 12 tree built with
                      mmdebstrap from the host's apt mirror on first start)
  --images-dir DIR    where template builds find FromImage images, as
                      <name>:<tag>.tar (docker-archive or oci-archive) or
                      an OCI layout directory <name>:<tag> (default
                      <state-dir>/images); nothing is pulled from registries
  --prepare-rootfs    build or import the base root filesystem, then exit
  --help              show this text

Once both listeners are bound it prints, on stdout:
  E2B_API_URL=http://<host>:<api-port>
  E2B_SANDBOX_URL=http://<host>:<envd-port>
  E2B_API_KEY=<first key>
  E2B_VOLUME_API_URL=http://<host>:<api-port>  (the JS SDK's volume content)
All other output goes to stderr. SIGINT or SIGTERM kills every sandbox and
exits 0. envd requests are routed by the E2b-Sandbox-Id header or a Host of
the form <port>-<sandboxID>.<anything>.
)";
}

}  // namespace e2b_local
