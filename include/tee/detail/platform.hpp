// tee/detail/platform.hpp - everything of tee-client that depends on the
// operating system, in one place: the socket calls of httplib_transport's
// watchdog (tee/httplib_transport.hpp) and UTC calendar time.
//
// Two paths:
//  * Linux (__linux__): POSIX, plus the bytes a TCP socket has read, from
//    TCP_INFO and SIOCINQ, with which the watchdog bounds the headers of an
//    answer where cpp-httplib does not (before 0.22), and TCP_QUICKACK, with
//    which the transport acknowledges an answer's headers at once;
//  * portable POSIX (macOS, the BSDs; and Linux with TEE_PLATFORM_PORTABLE
//    defined, which is how CI tests this path): the same calls without the
//    byte count (bytes_read_known is false) and without the quick ACK
//    (acknowledges_now is false).
// The trap: TCP_INFO's layout differs between systems (and glibc's
// <netinet/tcp.h>, which httplib includes, collides with <linux/tcp.h> and
// stops before tcpi_bytes_received), so the count is read at its Linux ABI
// offset only on Linux; nowhere else does a <linux/...> header appear.
// Windows: sockets are not descriptors (no dup, no /dev/null); the default
// transport is not available there (use <tee/core.hpp> with your own); only
// utc_calendar() is.
#pragma once

#include "tee/detail/prelude.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <ctime>

#if defined(__linux__) && !defined(TEE_PLATFORM_PORTABLE)
#define TEE_PLATFORM_LINUX 1
#endif

#if !defined(_WIN32)
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>
#define TEE_PLATFORM_POSIX_SOCKETS 1
#endif
#if defined(TEE_PLATFORM_LINUX)
#include <linux/sockios.h>  // SIOCINQ
#include <sys/ioctl.h>
#endif

namespace tee::detail::platform {

// Which path this build took, for messages and tests: "linux" or "posix".
#if defined(TEE_PLATFORM_LINUX)
inline constexpr const char* name = "linux";
inline constexpr bool bytes_read_known = true;
inline constexpr bool acknowledges_now = true;
#else
inline constexpr const char* name = "posix";
inline constexpr bool bytes_read_known = false;
inline constexpr bool acknowledges_now = false;
#endif

// The calendar fields of `t` in UTC (gmtime_r, or gmtime_s on Windows).
std::tm utc_calendar(std::time_t t) noexcept;

#if defined(TEE_PLATFORM_POSIX_SOCKETS)
using socket_handle = int;  // what cpp-httplib calls socket_t on these systems
inline constexpr socket_handle no_socket = -1;

// A second handle to the socket, ours alone to close (close-on-exec); no_socket
// if the system has none to give.
socket_handle duplicate(socket_handle s) noexcept;
void close(socket_handle s) noexcept;
// Closes the last handle of a connection its owner has dropped, with a reset
// (SO_LINGER 0) rather than a FIN: a peer still sending into it (an answer cut
// off mid-way) is told at once, instead of blocking on a window that never
// opens while the kernel keeps the half-closed connection for a minute.
void close_dropped(socket_handle s) noexcept;
// Ends a connect, a TLS handshake or a read in progress on the socket.
void shutdown_both(socket_handle s) noexcept;
// Puts /dev/null in the socket's place, so that a connect on it fails at once
// and its owner closes it as usual; shuts it down if that is not possible.
void disable(socket_handle s) noexcept;
// Bytes of the stream read from the socket so far, by whoever reads it
// (received minus still queued); 0 if the system cannot say (the portable
// path, or Linux before 4.1).
std::uint64_t bytes_read(socket_handle s) noexcept;
// Acknowledges what the socket has received at once, not after the delayed-ACK
// timer (Linux: TCP_QUICKACK, which the kernel turns off again by itself, so it
// is set each time); does nothing where acknowledges_now is false (the
// portable path: POSIX has no such option).
void acknowledge_now(socket_handle s) noexcept;
#endif

// ---- definitions (header-only: inline in every file; TEE_CLIENT_COMPILED_LIB:
// compiled once in src/tee_client.cpp; see tee/detail/prelude.hpp) ----
#if defined(TEE_CLIENT_DEFINITIONS)
TEE_INLINE std::tm utc_calendar(std::time_t t) noexcept {
    std::tm tm{};
#if defined(_WIN32)
    gmtime_s(&tm, &t);
#else
    gmtime_r(&t, &tm);
#endif
    return tm;
}

#if defined(TEE_PLATFORM_POSIX_SOCKETS)
TEE_INLINE socket_handle duplicate(socket_handle s) noexcept { return ::fcntl(s, F_DUPFD_CLOEXEC, 0); }

TEE_INLINE void close(socket_handle s) noexcept { ::close(s); }

TEE_INLINE void close_dropped(socket_handle s) noexcept {
    const ::linger reset{1, 0};
    ::setsockopt(s, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    ::close(s);
}

TEE_INLINE void shutdown_both(socket_handle s) noexcept { ::shutdown(s, SHUT_RDWR); }

TEE_INLINE void disable(socket_handle s) noexcept {
    const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
        ::dup2(null, s);
        ::close(null);
    } else {
        ::shutdown(s, SHUT_RDWR);
    }
}

TEE_INLINE std::uint64_t bytes_read(socket_handle s) noexcept {
#if defined(TEE_PLATFORM_LINUX)
    // struct tcp_info's tcpi_bytes_received (<linux/tcp.h>, Linux 4.1 on; the
    // layout only grows). glibc's <netinet/tcp.h>, which httplib includes and
    // <linux/tcp.h> collides with, stops before it.
    constexpr std::size_t bytes_received_at = 128;
    unsigned char info[256] = {};
    socklen_t len = sizeof info;
    if (::getsockopt(s, IPPROTO_TCP, TCP_INFO, info, &len) != 0 || len < bytes_received_at + 8) return 0;
    std::uint64_t received;
    std::memcpy(&received, info + bytes_received_at, sizeof received);
    int queued = 0;  // read after `received`: what arrives in between makes the result smaller, not larger
    if (::ioctl(s, SIOCINQ, &queued) != 0 || queued < 0) return 0;
    return received > static_cast<std::uint64_t>(queued) ? received - static_cast<std::uint64_t>(queued) : 0;
#else
    (void)s;
    return 0;
#endif
}

TEE_INLINE void acknowledge_now(socket_handle s) noexcept {
#if defined(TEE_PLATFORM_LINUX)
    int one = 1;
    ::setsockopt(s, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
#else
    (void)s;
#endif
}
#endif  // TEE_PLATFORM_POSIX_SOCKETS
#endif  // TEE_CLIENT_DEFINITIONS

}  // namespace tee::detail::platform
