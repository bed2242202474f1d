#ifndef E2B_LOCAL_CONFIG_HPP_
#define E2B_LOCAL_CONFIG_HPP_

// e2b-local's command line (the contract scripts and tests depend on):
//   e2b-local [--host H] [--api-port P] [--envd-port P] [--api-key KEY]...
//             [--api-key-file PATH]... [--max-sandboxes N]
//             [--state-dir DIR] [--isolation auto|namespaces|none]
//             [--rootfs DIR|TAR] [--images-dir DIR] [--prepare-rootfs]
//             [--help]

#include "runtime/sandbox_runtime.hpp"

#include <cstddef>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace e2b_local {

struct ServerConfig {
  std::string host = "127.0.0.1";
  int api_port = 3000;    ///< 0 = pick a free port
  int envd_port = 49983;  ///< 0 = pick a free port
  /// Accepted API keys; the first is the one printed. Never empty after
  /// ParseCommandLine.
  std::vector<std::string> api_keys;
  bool api_key_generated = false;
  /// A key came from --api-key, where `ps` shows it to every local user.
  bool api_key_on_command_line = false;
  /// Running plus paused sandboxes allowed at once; 0 = DefaultMaxSandboxes.
  std::size_t max_sandboxes = 0;
  std::string state_dir;
  IsolationMode isolation = IsolationMode::kAuto;
  /// --rootfs: a directory or tarball imported as the base template.
  std::string rootfs;
  /// --images-dir: where template builds find FromImage images; empty:
  /// <state-dir>/images (made absolute by ParseCommandLine).
  std::string images_dir;
  /// --prepare-rootfs: make the base root filesystem ready and exit.
  bool prepare_rootfs = false;
  bool show_help = false;
};

/// A bad command line; main prints it with a hint and exits 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Reads an environment variable ("" when unset); injectable for tests.
using EnvLookup = std::function<std::string(const std::string&)>;

/// Reads a file's contents ("" and false when it cannot be read);
/// injectable for tests.
using FileReader = std::function<bool(const std::string& path, std::string*)>;

/// Parses argv (accepting `--flag value` and `--flag=value`). Keys come
/// from --api-key and --api-key-file (its first line, trimmed), in order;
/// without either, from $E2B_API_KEY, else a generated "e2b_" + 40 hex.
/// Without --state-dir, uses $XDG_STATE_HOME/e2b-local, else
/// $HOME/.local/state/e2b-local, else /tmp/e2b-local-<uid>.
ServerConfig ParseCommandLine(int argc, const char* const* argv,
                              const EnvLookup& env,
                              const FileReader& read_file = {});

/// The default --max-sandboxes: one per 16 MiB of `meminfo`'s MemTotal,
/// at least 1 (64 when MemTotal cannot be read).
std::size_t DefaultMaxSandboxes(const std::string& meminfo);

/// The --help text.
std::string HelpText();

}  // namespace e2b_local

#endif  // E2B_LOCAL_CONFIG_HPP_
