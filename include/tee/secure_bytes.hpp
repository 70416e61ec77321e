// tee/secure_bytes.hpp - a byte vector that wipes its memory when freed.
//
// Used for everything secret that passes through the client: the API key,
// the plaintext of a request (which contains the API key), ECDH shared
// secrets and derived AES keys. The allocator zeroes every block before it is
// returned to the heap, also when the vector grows and reallocates.
#pragma once

#include "tee/detail/prelude.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

namespace tee {

template <class T>
struct zeroing_allocator {
    using value_type = T;
    zeroing_allocator() noexcept = default;
    template <class U>
    zeroing_allocator(const zeroing_allocator<U>&) noexcept {}

    T* allocate(std::size_t n) { return std::allocator<T>{}.allocate(n); }
    void deallocate(T* p, std::size_t n) noexcept {
        volatile unsigned char* v = reinterpret_cast<volatile unsigned char*>(p);
        for (std::size_t i = 0; i < n * sizeof(T); ++i) v[i] = 0;
        std::allocator<T>{}.deallocate(p, n);
    }
    template <class U>
    bool operator==(const zeroing_allocator<U>&) const noexcept {
        return true;
    }
};

using secure_bytes = std::vector<std::uint8_t, zeroing_allocator<std::uint8_t>>;

// A secret string (the API key). It is never printed: there is deliberately no
// operator<< and no implicit conversion to std::string.
class secret_string {
public:
    secret_string() = default;
    explicit secret_string(std::string_view s) : bytes_(s.begin(), s.end()) {}
    bool empty() const noexcept { return bytes_.empty(); }
    std::size_t size() const noexcept { return bytes_.size(); }
    // The one place the secret is read: serialising it into the request plaintext.
    std::string_view reveal() const noexcept { return {reinterpret_cast<const char*>(bytes_.data()), bytes_.size()}; }

private:
    secure_bytes bytes_;
};

}  // namespace tee
