// nodelay_preload - an LD_PRELOAD shim for bench/compare.sh: sets TCP_NODELAY
// on every TCP socket a process connects or accepts. It measures what the
// library would gain from that one transport setting without changing it:
//
//   LD_PRELOAD=build-bench/bench/libnodelay_preload.so tee-chat ...
//
// Not part of the library and not for production use.
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cstring>

namespace {

void nodelay(int fd) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

template <class F>
F real(const char* name) {
    void* sym = dlsym(RTLD_NEXT, name);
    F f = nullptr;
    static_assert(sizeof f == sizeof sym);
    std::memcpy(&f, &sym, sizeof f);  // object to function pointer, without a pedantic cast
    return f;
}

bool is_tcp(const sockaddr* a) { return a != nullptr && (a->sa_family == AF_INET || a->sa_family == AF_INET6); }

}  // namespace

extern "C" {

int connect(int fd, const sockaddr* addr, socklen_t len) {
    static const auto next = real<int (*)(int, const sockaddr*, socklen_t)>("connect");
    if (is_tcp(addr)) nodelay(fd);
    return next(fd, addr, len);
}

int accept(int fd, sockaddr* addr, socklen_t* len) {
    static const auto next = real<int (*)(int, sockaddr*, socklen_t*)>("accept");
    const int c = next(fd, addr, len);
    if (c >= 0) nodelay(c);  // fails harmlessly on a non-TCP socket
    return c;
}

int accept4(int fd, sockaddr* addr, socklen_t* len, int flags) {
    static const auto next = real<int (*)(int, sockaddr*, socklen_t*, int)>("accept4");
    const int c = next(fd, addr, len, flags);
    if (c >= 0) nodelay(c);
    return c;
}

}  // extern "C"
