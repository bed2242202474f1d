// e2b-local: an E2B-compatible local sandbox server. See config.hpp for the
// command line and LOCAL_SERVER.md for what it promises.

#include "build/template_builds.hpp"
#include "config.hpp"
#include "control/control_plane.hpp"
#include "envd/envd_server.hpp"
#include "http/listener.hpp"
#include "http/server_setup.hpp"
#include "rootfs/base_rootfs.hpp"
#include "runtime/sandbox_runtime.hpp"
#include "runtime/subordinate_ids.hpp"
#include "sandbox/registry.hpp"
#include "store/build_files.hpp"
#include "store/template_store.hpp"
#include "store/volume_store.hpp"
#include "util/failure.hpp"

#include <httplib.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <thread>

namespace {

std::string UrlHost(const std::string& host) {
  if (host == "0.0.0.0" || host == "::" || host == "[::]") return "127.0.0.1";
  if (host.find(':') != std::string::npos && host.front() != '[') {
    return "[" + host + "]";
  }
  return host;
}

std::size_t MaxSandboxes(const e2b_local::ServerConfig& config) {
  if (config.max_sandboxes != 0) return config.max_sandboxes;
  std::ifstream in("/proc/meminfo");
  std::string meminfo((std::istreambuf_iterator<char>(in)),
                      std::istreambuf_iterator<char>());
  return e2b_local::DefaultMaxSandboxes(meminfo);
}

// Blocked before any thread starts, so every thread inherits the mask and
// only WaitForStopSignal ever sees these signals.
sigset_t BlockStopSignals() {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  return stop_signals;
}

// The command line into `config`; the exit code when there is nothing to
// serve (--help, or a usage error).
std::optional<int> ReadCommandLine(int argc, char** argv,
                                   e2b_local::ServerConfig& config) {
  try {
    config =
        e2b_local::ParseCommandLine(argc, argv, [](const std::string& name) {
          const char* v = std::getenv(name.c_str());
          return v == nullptr ? std::string() : std::string(v);
        });
  } catch (const e2b_local::UsageError& e) {
    std::cerr << "e2b-local: " << e.what()
              << "\nRun 'e2b-local --help' for the flags.\n";
    return 2;
  }
  if (config.show_help) {
    std::cout << e2b_local::HelpText();
    return 0;
  }
  return std::nullopt;
}

// The runtime's options. Isolated sandboxes (and --prepare-rootfs) need the
// host ID range and the base root filesystem, built on first use.
e2b_local::RuntimeOptions RuntimeOptionsFor(
    const e2b_local::ServerConfig& config) {
  e2b_local::RuntimeOptions options;
  if (config.isolation == e2b_local::IsolationMode::kNone &&
      !config.prepare_rootfs) {
    return options;
  }
  std::string ids_source;
  options.ids =
      e2b_local::ConfiguredIdRange("/etc/subuid", "/etc/subgid", &ids_source);
  std::cerr << "e2b-local: sandbox ids 0-" << options.ids.count - 1
            << " are host ids " << options.ids.base << "-"
            << options.ids.base + options.ids.count - 1 << " (" << ids_source
            << ")\n";
  e2b_local::BaseRootfsOptions rootfs;
  rootfs.source = config.rootfs;
  rootfs.ids = options.ids;
  rootfs.progress = [](const std::string& line) {
    std::cerr << "e2b-local: " << line << "\n";
  };
  options.base_rootfs = e2b_local::EnsureBaseRootfs(rootfs);
  return options;
}

// What the registry stands on: the sandbox runtime and the state stores.
struct Backend {
  std::unique_ptr<e2b_local::SandboxRuntime> runtime;
  std::unique_ptr<e2b_local::TemplateStore> store;
  std::unique_ptr<e2b_local::VolumeStore> volumes;
  std::unique_ptr<e2b_local::BuildFileStore> build_files;
};

// Volume files carry the ids sandboxes see through the namespaced
// runtime's mapping; the unisolated runtime shares the host's ids.
e2b_local::VolumeIdMapping VolumeIdsFor(
    const e2b_local::SandboxRuntime& runtime,
    const e2b_local::RuntimeOptions& options) {
  e2b_local::VolumeIdMapping ids;
  ids.range = options.ids;
  ids.identity = std::string(runtime.Name()) != "namespaces";
  return ids;
}

// Fills `backend`; the exit code when there is nothing to serve
// (--prepare-rootfs, or a failure).
std::optional<int> PrepareState(const e2b_local::ServerConfig& config,
                                Backend& backend) {
  try {
    const e2b_local::RuntimeOptions options = RuntimeOptionsFor(config);
    if (config.prepare_rootfs) {
      std::cout << options.base_rootfs << "\n";
      return 0;
    }
    backend.runtime = e2b_local::MakeRuntime(config.isolation, options);
    backend.store =
        std::make_unique<e2b_local::TemplateStore>(config.state_dir);
    backend.volumes = std::make_unique<e2b_local::VolumeStore>(
        config.state_dir, VolumeIdsFor(*backend.runtime, options));
    backend.build_files =
        std::make_unique<e2b_local::BuildFileStore>(config.state_dir);
    for (const auto& note : backend.volumes->Removed()) {
      std::cerr << "e2b-local: volumes: " << note << "\n";
    }
  } catch (const std::exception& e) {
    std::cerr << "e2b-local: " << e.what() << "\n";
    return 1;
  }
  return std::nullopt;
}

// The registry's options, with the startup notes that describe the server.
e2b_local::RegistryOptions RegistryOptionsFor(
    const e2b_local::ServerConfig& config, const Backend& backend) {
  const e2b_local::SandboxRuntime& runtime = *backend.runtime;
  std::cerr << "e2b-local: isolation " << runtime.Name() << ", state in "
            << config.state_dir << "\n";
  if (config.api_key_on_command_line) {
    std::cerr << "e2b-local: warning: --api-key is visible to every local "
                 "user (ps, /proc); prefer E2B_API_KEY or --api-key-file\n";
  }
  e2b_local::RegistryOptions options;
  options.max_sandboxes = MaxSandboxes(config);
  std::cerr << "e2b-local: at most " << options.max_sandboxes
            << " sandboxes at once\n";
  const e2b_local::VolumeStore& volumes = *backend.volumes;
  options.find_volume_dir =
      [&volumes](const std::string& name) -> std::optional<std::string> {
    if (auto volume = volumes.ForMount(name)) return volume->data_dir;
    return std::nullopt;
  };
  options.start_template = [](const auto& sandbox, const auto& outputs) {
    e2b_local::StartTemplateCommands(sandbox, outputs);
  };
  return options;
}

// A request reaching a paused sandbox with auto-resume wakes it, with the
// timeout E2B's edge gives an auto-resumed sandbox (5 minutes).
e2b_local::PausedSandboxResumer AutoResume(
    e2b_local::SandboxRegistry& registry) {
  return [&registry](const std::string& id) {
    try {
      registry.Resume(id, 300, std::nullopt);
    } catch (const e2b_local::Failure& e) {
      // Conflict: another request resumed it first.
      if (e.reason != e2b_local::Failure::Reason::kConflict) throw;
    }
  };
}

struct Ports {
  int api = 0;
  int envd = 0;
};

// Binds both listeners; nullopt (said on stderr) when one cannot listen.
std::optional<Ports> BindListeners(const e2b_local::ServerConfig& config,
                                   e2b_local::Listener& api_server,
                                   e2b_local::Listener& envd_server) {
  Ports ports;
  ports.api = api_server.Bind(config.host, config.api_port);
  if (ports.api <= 0) {
    std::cerr << "e2b-local: cannot listen on " << config.host << ":"
              << config.api_port << " (control plane)\n";
    return std::nullopt;
  }
  ports.envd = envd_server.Bind(config.host, config.envd_port);
  if (ports.envd <= 0) {
    std::cerr << "e2b-local: cannot listen on " << config.host << ":"
              << config.envd_port << " (envd)\n";
    return std::nullopt;
  }
  return ports;
}

// What clients need, on stdout (the contract in config.hpp's --help).
void AnnounceUrls(const e2b_local::ServerConfig& config, const Ports& ports) {
  const std::string host = UrlHost(config.host);
  std::printf("E2B_API_URL=http://%s:%d\nE2B_SANDBOX_URL=http://%s:%d\n",
              host.c_str(), ports.api, host.c_str(), ports.envd);
  std::printf("E2B_API_KEY=%s\n", config.api_keys.front().c_str());
  // The official JS SDK sends volume content here (default api.<domain>).
  std::printf("E2B_VOLUME_API_URL=http://%s:%d\n", host.c_str(), ports.api);
  std::fflush(stdout);
  if (config.api_key_generated) {
    std::cerr << "e2b-local: generated an API key (printed on stdout)\n";
  }
}

void WaitForStopSignal(const sigset_t& stop_signals) {
  int signo = 0;
  while (sigwait(&stop_signals, &signo) != 0) {
  }
  std::cerr << "e2b-local: signal " << signo << ", shutting down\n";
}

int Run(int argc, char** argv) {
  const sigset_t stop_signals = BlockStopSignals();
  signal(SIGPIPE, SIG_IGN);
  e2b_local::RaiseOpenFileLimit();

  e2b_local::ServerConfig config;
  if (auto exit_code = ReadCommandLine(argc, argv, config)) return *exit_code;
  Backend backend;
  if (auto exit_code = PrepareState(config, backend)) return *exit_code;
  e2b_local::SandboxRegistry registry(*backend.runtime, *backend.store,
                                      RegistryOptionsFor(config, backend));
  e2b_local::TemplateBuildService builds(
      registry, *backend.store, *backend.build_files, config.images_dir);
  e2b_local::ControlPlane control(registry, *backend.store, *backend.volumes,
                                  *backend.build_files, builds,
                                  config.api_keys);
  e2b_local::EnvdServer envd(registry, AutoResume(registry));

  // Connections waiting for a request cost no thread (http/listener.hpp),
  // so idle sockets cannot starve /health or anything else.
  e2b_local::Listener api_server(e2b_local::ListenerKind::kControlPlane);
  e2b_local::Listener envd_server(e2b_local::ListenerKind::kEnvd);
  control.Mount(api_server);
  envd.Mount(envd_server);
  const std::optional<Ports> ports =
      BindListeners(config, api_server, envd_server);
  if (!ports) {
    builds.Shutdown();
    registry.Shutdown();
    return 1;
  }
  // Both sockets listen already: a client that connects from here on is
  // queued until Serve accepts it, and a Stop before Serve is kept.
  std::thread api_thread([&] { api_server.Serve(); });
  std::thread envd_thread([&] { envd_server.Serve(); });
  AnnounceUrls(config, *ports);
  WaitForStopSignal(stop_signals);

  // Stop accepting, then kill the sandboxes: that ends their processes and
  // so the envd streams still holding connections open.
  api_server.Stop();
  envd_server.Stop();
  builds.Shutdown();
  registry.Shutdown();
  api_thread.join();
  envd_thread.join();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "e2b-local: " << e.what() << "\n";
    return 1;
  }
}
