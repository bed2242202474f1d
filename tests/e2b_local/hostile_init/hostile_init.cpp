// A sandbox init that lies: started by tests/e2b_local/hostile_init_test.cpp
// in place of e2b-sandbox-init, as root inside a real sandbox, it answers
// the server the way init code taken over by the sandbox could. The mode
// is the hostname the test gives the sandbox:
//
//   forge   before each real answer: truncated and unterminated datagrams,
//           answers to requests never made, exits of unknown pids, and
//           more descriptors than any message carries; then "started"
//           with a pipe where the server expects a PTY master (and for a
//           plain start, an extra descriptor), and at once "exited".
//   flood   100,000 answers to nothing before each real answer.
//   fail    "failed" with a stage and errno no init sends.
//   die     exits at the first start request.
//
// It never execs anything; the descriptors of each request are closed.

#include "runtime/init_protocol.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

namespace proto = e2b_local::init_protocol;
using proto::Kind;
using proto::Message;

namespace {

constexpr int kSock = proto::kControlFd;

void SendRaw(const std::string& data, const int* fds = nullptr,
             std::size_t count = 0) {
  proto::SendDatagram(kSock, data, fds, count);
}

void Send(Kind kind, std::uint32_t id, std::int32_t a, std::int32_t b,
          const int* fds = nullptr, std::size_t count = 0) {
  Message m;
  m.kind = kind;
  m.id = id;
  m.a = a;
  m.b = b;
  SendRaw(proto::EncodeMessage(m), fds, count);
}

// One request (its descriptors closed); false when the server went away
// or sent something unreadable.
bool Receive(Message& out) {
  static std::vector<char> buffer(proto::kMaxMessage);
  std::vector<int> fds;
  const proto::Received received = proto::ReceiveMessage(
      kSock, buffer.data(), buffer.size(), out, fds, proto::kMaxFds);
  for (int fd : fds) close(fd);
  return received == proto::Received::kMessage;
}

void Forge(std::uint32_t id) {
  SendRaw("abc");                                     // shorter than a header
  SendRaw(proto::EncodeMessage(Message{}) + "open");  // no final NUL
  Send(Kind::kStarted, id + 1000, 77, 0);             // never requested
  Send(Kind::kFailed, id + 1001, 1, 1);
  Send(Kind::kExited, 0, 424242, 0);         // unknown pid
  Send(static_cast<Kind>(12345), id, 1, 1);  // unknown kind
  int pipes[16];
  for (int i = 0; i < 16; i += 2) {
    if (pipe(pipes + i) != 0) _exit(3);
  }
  // More descriptors than the server's control buffer holds.
  Send(Kind::kStarted, id + 2000, 78, 0, pipes, 16);
  for (int fd : pipes) close(fd);
}

}  // namespace

int main() {
  Message config;
  if (!Receive(config) || config.kind != Kind::kConfig ||
      config.strings.empty()) {
    return 2;
  }
  const std::string mode = config.strings[0];
  Send(Kind::kReady, 0, 0, 0);
  std::int32_t next_pid = 100;
  Message request;
  while (Receive(request)) {
    if (request.kind != Kind::kSpawn) continue;
    if (mode == "die") return 0;
    if (mode == "fail") {
      Send(Kind::kFailed, request.id, 99999, -5);
      continue;
    }
    if (mode == "flood") {
      for (int i = 0; i < 100000; ++i) {
        Send(i % 2 ? Kind::kExited : Kind::kStarted, request.id + 1 + i,
             1000 + i, 0);
      }
    } else {
      Forge(request.id);
    }
    // A pipe where a PTY master belongs; an extra descriptor otherwise.
    int pipe_fds[2];
    if (pipe(pipe_fds) != 0) return 3;
    const std::int32_t pid = next_pid++;
    Send(Kind::kStarted, request.id, pid, 0, pipe_fds, 1);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    // The same pid started twice, then its end.
    Send(Kind::kStarted, request.id, pid, 0);
    Send(Kind::kExited, 0, pid, 7 << 8);
  }
  return 0;
}
