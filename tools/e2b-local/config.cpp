#include "config.hpp"

#include "store/random_ids.hpp"

#include <unistd.h>

#include <cstdlib>

namespace e2b_local {
namespace {

int ParsePort(const std::string& flag, const std::string& text) {
  if (text.empty() || text.size() > 5) {
    throw UsageError(flag + ": expected a port number 0-65535, got '" + text +
                     "'");
  }
  int value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      throw UsageError(flag + ": expected a port number 0-65535, got '" + text +
                       "'");
    }
    value = value * 10 + (c - '0');
  }
  if (value > 65535) {
    throw UsageError(flag + ": expected a port number 0-65535, got '" + text +
                     "'");
  }
  return value;
}

bool HasControlCharacters(const std::string& s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
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

}  // namespace

ServerConfig ParseCommandLine(int argc, const char* const* argv,
                              const EnvLookup& env) {
  ServerConfig config;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      config.show_help = true;
      continue;
    }
    if (arg.rfind("--", 0) != 0) {
      throw UsageError("unexpected argument '" + arg + "'");
    }
    std::string name = arg, value;
    bool has_value = false;
    auto eq = arg.find('=');
    if (eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      has_value = true;
    }
    static const char* const kValueFlags[] = {"--host",      "--api-port",
                                              "--envd-port", "--api-key",
                                              "--state-dir", "--isolation"};
    bool known = false;
    for (const char* f : kValueFlags) known = known || name == f;
    if (!known) throw UsageError("unknown flag '" + name + "'");
    if (!has_value) {
      if (i + 1 >= argc) throw UsageError(name + " needs a value");
      value = argv[++i];
    }
    if (name == "--host") {
      if (value.empty() || HasControlCharacters(value)) {
        throw UsageError("--host: expected an address");
      }
      config.host = value;
    } else if (name == "--api-port") {
      config.api_port = ParsePort(name, value);
    } else if (name == "--envd-port") {
      config.envd_port = ParsePort(name, value);
    } else if (name == "--api-key") {
      // Never echo the key itself.
      if (value.empty() || HasControlCharacters(value) ||
          value.find(' ') != std::string::npos) {
        throw UsageError(
            "--api-key: a key must be non-empty printable text without "
            "spaces");
      }
      config.api_keys.push_back(value);
    } else if (name == "--state-dir") {
      if (value.empty() || HasControlCharacters(value)) {
        throw UsageError("--state-dir: expected a directory path");
      }
      config.state_dir = value;
    } else if (name == "--isolation") {
      if (value == "auto") {
        config.isolation = IsolationMode::kAuto;
      } else if (value == "namespaces") {
        config.isolation = IsolationMode::kNamespaces;
      } else if (value == "none") {
        config.isolation = IsolationMode::kNone;
      } else {
        throw UsageError(
            "--isolation: expected auto, namespaces or none, got '" + value +
            "'");
      }
    }
  }
  if (config.api_keys.empty()) {
    std::string from_env = env("E2B_API_KEY");
    if (!from_env.empty() && !HasControlCharacters(from_env)) {
      config.api_keys.push_back(from_env);
    } else {
      config.api_keys.push_back(NewApiKey());
      config.api_key_generated = true;
    }
  }
  if (config.api_port != 0 && config.api_port == config.envd_port) {
    throw UsageError("--api-port and --envd-port must differ");
  }
  if (config.state_dir.empty()) config.state_dir = DefaultStateDir(env);
  if (config.state_dir.front() != '/') {
    char* cwd = ::getcwd(nullptr, 0);
    if (cwd != nullptr) {
      config.state_dir = std::string(cwd) + "/" + config.state_dir;
      std::free(cwd);
    }
  }
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
                      printed. Default: $E2B_API_KEY, else a generated
                      "e2b_" + 40 hex key.
  --state-dir DIR     where templates, snapshots and sandbox layers live
                      (default $XDG_STATE_HOME/e2b-local, else
                      ~/.local/state/e2b-local)
  --isolation MODE    auto (default): namespaces + overlayfs when the kernel
                      allows, else unisolated processes with a warning;
                      namespaces: require isolation; none: never isolate
  --help              show this text

Once both listeners are bound it prints, on stdout:
  E2B_API_URL=http://<host>:<api-port>
  E2B_SANDBOX_URL=http://<host>:<envd-port>
  E2B_API_KEY=<first key>
All other output goes to stderr. SIGINT or SIGTERM kills every sandbox and
exits 0. envd requests are routed by the E2b-Sandbox-Id header or a Host of
the form <port>-<sandboxID>.<anything>.
)";
}

}  // namespace e2b_local
