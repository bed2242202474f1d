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

#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

namespace e2b_local::init_protocol {

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
  Header header{};
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

/// Most descriptors one message carries (kSpawn: stdin, stdout, stderr).
constexpr std::size_t kMaxFds = 3;

/// Sends `data` as one datagram with `fds` attached (SCM_RIGHTS), retrying
/// on EINTR. False when it was not sent whole (errno says why).
inline bool SendDatagram(int sock, const std::string& data,
                         const int* fds = nullptr, std::size_t fd_count = 0) {
  struct iovec iov = {const_cast<char*>(data.data()), data.size()};
  struct msghdr msg {};
  std::memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  std::vector<char> control;
  if (fd_count > 0) {
    control.resize(CMSG_SPACE(sizeof(int) * fd_count));
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fd_count);
    std::memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * fd_count);
  }
  ssize_t n = 0;
  do {
    n = sendmsg(sock, &msg, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  return n == static_cast<ssize_t>(data.size());
}

/// SendDatagram of EncodeMessage(message).
inline bool SendMessage(int sock, const Message& message,
                        const int* fds = nullptr, std::size_t fd_count = 0) {
  return SendDatagram(sock, EncodeMessage(message), fds, fd_count);
}

enum class Received {
  kMessage,  ///< `message` and `fds` hold what came
  kDropped,  ///< truncated, malformed, or more than max_fds descriptors:
             ///< what came with it is closed, `message` is untouched
  kClosed,   ///< the peer closed the socket, or an error other than EINTR
};

/// Receives one datagram from `sock` into buffer[0, size). `fds` is cleared
/// and gets the descriptors that came with it (close-on-exec), at most
/// `max_fds`.
inline Received ReceiveMessage(int sock, char* buffer, std::size_t size,
                               Message& message, std::vector<int>& fds,
                               std::size_t max_fds) {
  fds.clear();
  struct iovec iov = {buffer, size};
  struct msghdr msg {};
  std::memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  // Room for one more than allowed, so too many is seen as such.
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * (kMaxFds + 1))];
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n = 0;
  do {
    n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) return Received::kClosed;
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr;
       c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (std::size_t i = 0; i < count; ++i) {
      int fd = -1;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      fds.push_back(fd);
    }
  }
  auto parsed = (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
                    ? std::nullopt
                    : ParseMessage(buffer, static_cast<std::size_t>(n));
  if (!parsed || fds.size() > max_fds) {
    for (int fd : fds) close(fd);
    fds.clear();
    return Received::kDropped;
  }
  message = std::move(*parsed);
  return Received::kMessage;
}

}  // namespace e2b_local::init_protocol

#endif  // E2B_LOCAL_RUNTIME_INIT_PROTOCOL_HPP_
