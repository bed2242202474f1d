#ifndef E2B_LOCAL_RUNTIME_INIT_PROTOCOL_HPP_
#define E2B_LOCAL_RUNTIME_INIT_PROTOCOL_HPP_

// The messages between e2b-local and a sandbox's init (e2b-sandbox-init),
// over one SOCK_SEQPACKET socket pair: one datagram is one message, a fixed
// header followed by NUL-terminated strings. Descriptors travel as
// SCM_RIGHTS on the datagram that needs them.
//
// Init runs inside the sandbox, so the server treats everything it sends as
// hostile: every field is range-checked by the reader (see ParseMessage),
// unknown kinds are dropped, and descriptors are accepted only where the
// protocol expects one (and then checked).
//
// Header-only and free of the server's code so the init binary stays small.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

namespace e2b_local {
namespace init_protocol {

/// Largest message either side sends or accepts (argv + environment).
constexpr std::size_t kMaxMessage = 4u << 20;
/// The server sends on this descriptor number when it execs init.
constexpr int kControlFd = 3;

enum class Kind : std::uint32_t {
  // server -> init
  kConfig = 1,  ///< strings: root (a host path), hostname
  kSpawn,       ///< a = uid, b = gid, c = flags (kSpawnPty), d = cols<<16|rows
                ///< strings: cwd, "--", argv..., "--", env...
                ///< fds: stdin, stdout, stderr (not with kSpawnPty)
  kSignal,      ///< a = sandbox pid, b = signal
  // init -> server
  kReady = 100,  ///< a = stage (0 = ready), b = errno
  kStarted,  ///< id = request, a = sandbox pid; fd: PTY master with kSpawnPty
  kFailed,   ///< id = request, a = stage, b = errno
  kExited,   ///< a = sandbox pid, b = wait status
};

constexpr std::uint32_t kSpawnPty = 1;

/// Where a spawn failed (kFailed.a); the server turns it into a message.
enum SpawnStage : std::int32_t {
  kStageProtocol = 1,
  kStageFork,
  kStagePty,
  kStageStdio,
  kStageCredentials,
  kStageChdir,
  kStageExec,
};

/// Init's setup stages (kReady.a when not 0).
enum InitStage : std::int32_t {
  kInitOk = 0,
  kInitConfig,
  kInitPrivate,
  kInitHostname,
  kInitLoopback,
  kInitProc,
  kInitSys,
  kInitDev,
  kInitDevpts,
  kInitShm,
  kInitPivot,
  kInitProcMasks,
  kInitSeccomp,
  kInitCapabilities,
};

inline const char* InitStageName(std::int32_t stage) {
  switch (stage) {
    case kInitConfig:
      return "reading its configuration";
    case kInitPrivate:
      return "making mounts private";
    case kInitHostname:
      return "setting the hostname";
    case kInitLoopback:
      return "bringing up loopback";
    case kInitProc:
      return "mounting /proc";
    case kInitSys:
      return "mounting /sys";
    case kInitDev:
      return "populating /dev";
    case kInitDevpts:
      return "mounting /dev/pts";
    case kInitShm:
      return "mounting /dev/shm";
    case kInitPivot:
      return "pivoting into the sandbox root";
    case kInitProcMasks:
      return "masking /proc";
    case kInitSeccomp:
      return "installing the seccomp filter";
    case kInitCapabilities:
      return "dropping capabilities";
    default:
      return "starting init";
  }
}

struct Header {
  std::uint32_t kind;
  std::uint32_t id;
  std::int32_t a, b, c, d;
};

struct Message {
  Kind kind{};
  std::uint32_t id = 0;
  std::int32_t a = 0, b = 0, c = 0, d = 0;
  std::vector<std::string> strings;
};

/// Header and strings as one datagram.
inline std::string EncodeMessage(const Message& message) {
  Header header{static_cast<std::uint32_t>(message.kind),
                message.id,
                message.a,
                message.b,
                message.c,
                message.d};
  std::string out(reinterpret_cast<const char*>(&header), sizeof header);
  for (const auto& s : message.strings) {
    out.append(s.data(), s.size());
    out.push_back('\0');
  }
  return out;
}

/// nullopt for a datagram too short, or whose string area does not end in
/// NUL. Strings containing NUL cannot be sent (EncodeMessage's caller
/// checks).
inline std::optional<Message> ParseMessage(const char* data, std::size_t size) {
  if (size < sizeof(Header)) return std::nullopt;
  Header header;
  std::memcpy(&header, data, sizeof header);
  Message message;
  message.kind = static_cast<Kind>(header.kind);
  message.id = header.id;
  message.a = header.a;
  message.b = header.b;
  message.c = header.c;
  message.d = header.d;
  const char* p = data + sizeof header;
  const char* end = data + size;
  if (p != end && end[-1] != '\0') return std::nullopt;
  while (p < end) {
    const char* nul = static_cast<const char*>(std::memchr(p, '\0', end - p));
    message.strings.emplace_back(p, nul - p);
    p = nul + 1;
  }
  return message;
}

}  // namespace init_protocol
}  // namespace e2b_local

#endif  // E2B_LOCAL_RUNTIME_INIT_PROTOCOL_HPP_
