// tee/detail/state_file.hpp - the small state files the image policies keep
// (the known-enclaves store, the highest allowlist versions): read with a size
// cap, changed under a lock, replaced atomically, readable by the owner only.
//
// The traps it handles: two processes updating one file at once (each must
// re-read the file under the lock, or one update is lost); a crash half-way
// through a write (the file is replaced by rename(2) of a complete, fsync'ed
// temporary in the same directory, so a reader sees the old or the new file,
// never a mix); and a world-readable file (created 0600, the temporary too).
// This is the library's only OS-specific file code: POSIX (flock, fsync,
// open modes). Elsewhere the functions throw a config_error that says so.
#pragma once

#include "tee/detail/prelude.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "tee/errors.hpp"

namespace tee::detail {

// Holds an exclusive lock on `target + ".lock"` (created 0600 if absent)
// while alive. Every change of `target` is made under it.
class state_file_lock {
public:
    explicit state_file_lock(const std::string& target);
    ~state_file_lock();
    state_file_lock(const state_file_lock&) = delete;
    state_file_lock& operator=(const state_file_lock&) = delete;

private:
    int fd_ = -1;
};

// The file's bytes; nullopt if it does not exist. Larger than max_bytes, or
// unreadable: config_error.
std::optional<std::string> read_state_file(const std::string& path, std::size_t max_bytes);

// Replaces `path` by `content`: a temporary in the same directory (0600),
// written, fsync'ed, renamed over `path`, the directory fsync'ed. Creates the
// parent directories (0700) if needed. Hold a state_file_lock around it.
void write_state_file(const std::string& path, std::string_view content);

// ---- definitions (see tee/detail/prelude.hpp) ----
#if defined(TEE_CLIENT_DEFINITIONS)
}  // namespace tee::detail

#if defined(__linux__) || defined(__unix__) || defined(__APPLE__)
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>

namespace tee::detail {

inline std::string state_file_failure(const std::string& what, const std::string& path) {
    return what + " " + path + ": " + std::strerror(errno);
}

TEE_INLINE state_file_lock::state_file_lock(const std::string& target) {
    const std::string path = target + ".lock";
    std::error_code ec;
    const auto dir = std::filesystem::path(path).parent_path();
    if (!dir.empty() && !std::filesystem::exists(dir, ec)) {
        std::filesystem::create_directories(dir, ec);
        if (!ec) std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);
    }
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) throw config_error(state_file_failure("cannot open the lock file", path));
    while (::flock(fd_, LOCK_EX) != 0) {
        if (errno == EINTR) continue;
        const std::string why = state_file_failure("cannot lock", path);
        ::close(fd_);
        throw config_error(why);
    }
}

TEE_INLINE state_file_lock::~state_file_lock() {
    if (fd_ >= 0) ::close(fd_);  // releases the flock
}

TEE_INLINE std::optional<std::string> read_state_file(const std::string& path, std::size_t max_bytes) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return std::nullopt;
        throw config_error(state_file_failure("cannot read", path));
    }
    std::string out;
    char buf[8192];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            const std::string why = state_file_failure("cannot read", path);
            ::close(fd);
            throw config_error(why);
        }
        if (n == 0) break;
        out.append(buf, static_cast<std::size_t>(n));
        if (out.size() > max_bytes) {
            ::close(fd);
            throw config_error(path + " is larger than " + std::to_string(max_bytes) + " bytes");
        }
    }
    ::close(fd);
    return out;
}

TEE_INLINE void write_state_file(const std::string& path, std::string_view content) {
    const std::filesystem::path target(path);
    const std::filesystem::path dir = target.has_parent_path() ? target.parent_path() : std::filesystem::path(".");
    std::error_code ec;
    if (!std::filesystem::exists(dir, ec)) {
        std::filesystem::create_directories(dir, ec);
        if (ec) throw config_error("cannot create the directory " + dir.string() + ": " + ec.message());
        std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);
    }
    std::random_device rd;
    const std::string tmp = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(rd());
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) throw config_error(state_file_failure("cannot create", tmp));
    auto fail = [&](const char* what) {
        const std::string why = state_file_failure(what, tmp);
        ::close(fd);
        ::unlink(tmp.c_str());
        throw config_error(why);
    };
    for (std::size_t done = 0; done < content.size();) {
        const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) fail("cannot write");
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0) fail("cannot fsync");
    if (::close(fd) != 0) {
        const std::string why = state_file_failure("cannot close", tmp);
        ::unlink(tmp.c_str());
        throw config_error(why);
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        const std::string why = state_file_failure("cannot rename the new file to", path);
        ::unlink(tmp.c_str());
        throw config_error(why);
    }
    if (const int d = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); d >= 0) {
        ::fsync(d);  // the rename itself survives a crash
        ::close(d);
    }
}

}  // namespace tee::detail
#else
namespace tee::detail {

TEE_INLINE state_file_lock::state_file_lock(const std::string&) {
    throw config_error("state files (known-enclaves store, allowlist versions) are implemented for POSIX systems only");
}
TEE_INLINE state_file_lock::~state_file_lock() = default;
TEE_INLINE std::optional<std::string> read_state_file(const std::string&, std::size_t) {
    throw config_error("state files (known-enclaves store, allowlist versions) are implemented for POSIX systems only");
}
TEE_INLINE void write_state_file(const std::string&, std::string_view) {
    throw config_error("state files (known-enclaves store, allowlist versions) are implemented for POSIX systems only");
}

}  // namespace tee::detail
#endif
namespace tee::detail {
#endif  // TEE_CLIENT_DEFINITIONS

}  // namespace tee::detail
