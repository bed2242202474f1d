// LD_PRELOAD shim for experiments only (tools/bench.sh --server-nodelay):
// sets TCP_NODELAY on every socket a server accepts, to show what e2b-local
// would measure with Nagle off. Its httplib server sends response headers
// and body in two writes, so on a kept-alive connection the body waits for
// the client's delayed ACK (~40 ms per call).

#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace {

void NoDelay(int fd) {
  if (fd < 0) return;
  int yes = 1;
  // Fails harmlessly on non-TCP sockets.
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));
}

template <typename Fn>
Fn Next(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
}

}  // namespace

extern "C" int accept(int fd, sockaddr* addr, socklen_t* len) {
  using Fn = int (*)(int, sockaddr*, socklen_t*);
  static const Fn real = Next<Fn>("accept");
  const int client = real(fd, addr, len);
  NoDelay(client);
  return client;
}

extern "C" int accept4(int fd, sockaddr* addr, socklen_t* len, int flags) {
  using Fn = int (*)(int, sockaddr*, socklen_t*, int);
  static const Fn real = Next<Fn>("accept4");
  const int client = real(fd, addr, len, flags);
  NoDelay(client);
  return client;
}
