// tee/detail/cbor.hpp - a small, strict CBOR (RFC 8949) reader and matching writer.
//
// Why our own: an AWS Nitro Enclave attestation document is a COSE_Sign1
// structure (RFC 9052) encoded in CBOR, and its `pcrs` field is a map with
// INTEGER keys. nlohmann/json's CBOR reader rejects integer map keys, so it
// cannot read these documents. This file reads exactly what they need and
// rejects everything else.
//
// Accepted subset (anything else is an error, never silently skipped):
//   major 0  unsigned integer
//   major 1  negative integer, down to INT64_MIN (lower values: integer_overflow)
//   major 2  byte string            major 3  text string (must be valid UTF-8)
//   major 4  array                  major 5  map (keys: integers or text; no duplicates)
//   major 6  tags 18 (COSE_Sign1) and 24 (embedded CBOR; content must be a byte string)
//   major 7  false, true, null only (no floats, no undefined, no other simple values)
//   Only definite lengths (no indefinite-length items, no break code).
// Arguments need not use the shortest form on input; encode() always writes
// the shortest form (RFC 8949 4.2.1 "preferred serialization").
//
// decode() never throws, never reads out of bounds, and checks every length
// against the limits and against the bytes actually left before allocating,
// so a header claiming 2^63 elements fails at once. Recursion is bounded by
// limits::max_depth (keep it small: each level is a stack frame).
//
//   tee::cbor::result r = tee::cbor::decode(bytes);
//   if (!r) throw std::runtime_error(r.error().message());
//   const tee::cbor::value& doc = r.value();
//   if (const auto* pcrs = doc.find("pcrs")) { const auto* pcr0 = pcrs->find(0); ... }
#pragma once

#include "tee/detail/prelude.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <new>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "tee/detail/utf8.hpp"

namespace tee::cbor {

struct limits {
    std::size_t max_depth = 16;        // nested arrays/maps/tags
    std::size_t max_string = 1 << 20;  // bytes in one byte or text string
    std::size_t max_items = 65536;     // elements of one array, entries of one map
};

enum class errc {
    truncated,
    trailing_bytes,
    indefinite_length,
    unsupported_major_type,
    unsupported_simple_value,
    unsupported_tag,
    too_deep,
    too_large,
    invalid_utf8,
    bad_map_key,
    duplicate_key,
    integer_overflow,
    reserved_additional_info
};

constexpr std::string_view to_string(errc c) noexcept {
    switch (c) {
        case errc::truncated: return "truncated input";
        case errc::trailing_bytes: return "trailing bytes after the item";
        case errc::indefinite_length: return "indefinite length or break code (not supported)";
        case errc::unsupported_major_type: return "unsupported major type";
        case errc::unsupported_simple_value: return "unsupported simple value or float (only false, true, null)";
        case errc::unsupported_tag: return "unsupported tag (only 18, and 24 on a byte string)";
        case errc::too_deep: return "nesting too deep";
        case errc::too_large: return "string, array or map too large";
        case errc::invalid_utf8: return "invalid UTF-8 in text string";
        case errc::bad_map_key: return "map key is not an integer or text string";
        case errc::duplicate_key: return "duplicate map key";
        case errc::integer_overflow: return "negative integer below INT64_MIN";
        case errc::reserved_additional_info: return "reserved additional information value";
    }
    return "unknown error";
}

// offset: the byte of the input where the problem was found (for truncated,
// the start of the item that runs past the end).
struct error {
    errc code;
    std::size_t offset;
    std::string message() const;
    friend bool operator==(const error&, const error&) = default;
};

class value {
public:
    enum class kind { unsigned_int, negative_int, bytes, text, array, map, tag, boolean, null };
    using array_type = std::vector<value>;
    using map_type = std::vector<std::pair<value, value>>;  // insertion (= wire) order

    value() noexcept;  // null

    // Factories. They do not check the reader's subset rules (tag numbers,
    // key types, duplicates): encode() writes whatever it is given.
    static value uint(std::uint64_t u);
    static value integer(std::int64_t i);
    static value bytes(std::vector<std::uint8_t> b);
    static value text(std::string s);
    static value array(array_type a);
    static value map(map_type m);
    static value tag(std::uint64_t number, value content);
    static value null();
    static value boolean(bool b);

    kind type() const noexcept { return static_cast<kind>(v_.index()); }
    bool is_uint() const noexcept { return type() == kind::unsigned_int; }
    // True when as_int() succeeds: a negative int, or an unsigned int <= INT64_MAX.
    bool is_int() const noexcept;
    bool is_bytes() const noexcept { return type() == kind::bytes; }
    bool is_text() const noexcept { return type() == kind::text; }
    bool is_array() const noexcept { return type() == kind::array; }
    bool is_map() const noexcept { return type() == kind::map; }
    bool is_tag() const noexcept { return type() == kind::tag; }
    bool is_bool() const noexcept { return type() == kind::boolean; }
    bool is_null() const noexcept { return type() == kind::null; }

    // Accessors throw std::logic_error on the wrong kind: check first.
    std::uint64_t as_uint() const;
    std::int64_t as_int() const;
    const std::vector<std::uint8_t>& as_bytes() const;
    const std::string& as_text() const;
    const array_type& as_array() const;
    const map_type& as_map() const;
    std::uint64_t tag_number() const;
    const value& tag_content() const;
    bool as_bool() const;

    // Map lookup: the value stored under the key, or nullptr if absent or not a map.
    const value* find(std::string_view text_key) const;
    const value* find(std::int64_t int_key) const;

    friend bool operator==(const value& a, const value& b);

private:
    struct tagged {
        std::uint64_t number;
        std::vector<value> content;  // exactly one element (value is incomplete here)
        friend bool operator==(const tagged&, const tagged&) = default;
    };
    // Alternatives in the order of `kind`, so type() is just index().
    using storage = std::variant<std::uint64_t, std::int64_t, std::vector<std::uint8_t>, std::string, array_type,
                                 map_type, tagged, bool, std::nullptr_t>;

    explicit value(storage v);

    template <class T>
    const T& get(const char* what) const {
        if (const T* p = std::get_if<T>(&v_)) return *p;
        throw std::logic_error(std::string("tee::cbor::value is not ") + what);
    }
    template <class Pred>
    const value* find_if(Pred matches) const {
        const auto* m = std::get_if<map_type>(&v_);
        if (!m) return nullptr;
        for (const auto& [k, v] : *m)
            if (matches(k)) return &v;
        return nullptr;
    }

    storage v_;
};

// Either a decoded value or an error. Member functions value() and error()
// share their names with the types, so inside this class the types are always
// spelled cbor::value and cbor::error.
class result {
public:
    result(cbor::value v);
    result(cbor::error e);

    bool ok() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return ok(); }

    // Precondition ok(); otherwise throws std::logic_error.
    const cbor::value& value() const&;
    cbor::value value() &&;  // by value: no dangling decode(b).value()
    cbor::value&& take();
    // Precondition !ok(); otherwise throws std::logic_error.
    const cbor::error& error() const;

private:
    void require(bool want_ok) const;
    std::variant<cbor::value, cbor::error> v_;
};

namespace detail {

// Recursive-descent reader. Every function returns false after recording the
// first error in err; the caller then stops.
class reader {
public:
    reader(std::span<const std::uint8_t> in, const limits& lim);
    std::size_t pos() const noexcept { return pos_; }
    error err{errc::truncated, 0};

    bool item(value& out, std::size_t depth);

private:
    std::span<const std::uint8_t> in_;
    limits lim_;
    std::size_t pos_ = 0;

    bool fail(errc c, std::size_t offset);
    std::size_t remaining() const noexcept { return in_.size() - pos_; }

    // Checks a count of n elements, each needing at least min_bytes, before any allocation.
    bool check_count(std::uint64_t n, std::size_t max, std::size_t min_bytes, std::size_t start);

    bool simple(value& out, std::uint8_t info, std::size_t start);
    bool string(value& out, bool is_text, std::uint64_t n, std::size_t start);
    bool array(value& out, std::uint64_t n, std::size_t depth, std::size_t start);
    bool map(value& out, std::uint64_t n, std::size_t depth, std::size_t start);
    bool tag(value& out, std::uint64_t number, std::size_t depth, std::size_t start);
};

}  // namespace detail

// Decodes exactly one CBOR item that must span all of `bytes`.
result decode(std::span<const std::uint8_t> bytes, const limits& lim = {}) noexcept;

// Shortest-form (preferred serialization) encoding; map entries in stored order.
std::vector<std::uint8_t> encode(const value& v);

// ---- definitions (header-only: inline in every file; TEE_CLIENT_COMPILED_LIB:
// compiled once in src/tee_client.cpp; see tee/detail/prelude.hpp) ----
#if defined(TEE_CLIENT_DEFINITIONS)
TEE_INLINE bool operator==(const value& a, const value& b) { return a.v_ == b.v_; }

TEE_INLINE std::string error::message() const {
    return "CBOR: " + std::string(to_string(code)) + " at byte " + std::to_string(offset);
}

TEE_INLINE value::value() noexcept : v_(nullptr) {}
TEE_INLINE value::value(storage v) : v_(std::move(v)) {}

TEE_INLINE value value::uint(std::uint64_t u) { return value(u); }
TEE_INLINE value value::integer(std::int64_t i) { return i >= 0 ? value(static_cast<std::uint64_t>(i)) : value(i); }
TEE_INLINE value value::bytes(std::vector<std::uint8_t> b) { return value(std::move(b)); }
TEE_INLINE value value::text(std::string s) { return value(std::move(s)); }
TEE_INLINE value value::array(array_type a) { return value(std::move(a)); }
TEE_INLINE value value::map(map_type m) { return value(std::move(m)); }
TEE_INLINE value value::tag(std::uint64_t number, value content) { return value(tagged{number, {std::move(content)}}); }
TEE_INLINE value value::null() { return value(); }
TEE_INLINE value value::boolean(bool b) { return value(b); }

TEE_INLINE bool value::is_int() const noexcept {
    return type() == kind::negative_int ||
        (is_uint() && std::get<std::uint64_t>(v_) <= std::uint64_t{std::numeric_limits<std::int64_t>::max()});
}

TEE_INLINE std::uint64_t value::as_uint() const { return get<std::uint64_t>("an unsigned integer"); }
TEE_INLINE std::int64_t value::as_int() const {
    if (!is_int()) throw std::logic_error("tee::cbor::value is not an integer in the int64 range");
    return is_uint() ? static_cast<std::int64_t>(std::get<std::uint64_t>(v_)) : std::get<std::int64_t>(v_);
}
TEE_INLINE const std::vector<std::uint8_t>& value::as_bytes() const {
    return get<std::vector<std::uint8_t>>("a byte string");
}
TEE_INLINE const std::string& value::as_text() const { return get<std::string>("a text string"); }
TEE_INLINE const value::array_type& value::as_array() const { return get<array_type>("an array"); }
TEE_INLINE const value::map_type& value::as_map() const { return get<map_type>("a map"); }
TEE_INLINE std::uint64_t value::tag_number() const { return get<tagged>("a tag").number; }
TEE_INLINE const value& value::tag_content() const { return get<tagged>("a tag").content.front(); }
TEE_INLINE bool value::as_bool() const { return get<bool>("a boolean"); }

TEE_INLINE const value* value::find(std::string_view text_key) const {
    return find_if([&](const value& k) { return k.is_text() && k.as_text() == text_key; });
}
TEE_INLINE const value* value::find(std::int64_t int_key) const {
    return find_if([&](const value& k) { return k.is_int() && k.as_int() == int_key; });
}

TEE_INLINE result::result(cbor::value v) : v_(std::move(v)) {}
TEE_INLINE result::result(cbor::error e) : v_(e) {}

TEE_INLINE const cbor::value& result::value() const& {
    require(true);
    return std::get<0>(v_);
}
TEE_INLINE cbor::value result::value() && { return take(); }
TEE_INLINE cbor::value&& result::take() {
    require(true);
    return std::move(std::get<0>(v_));
}
TEE_INLINE const cbor::error& result::error() const {
    require(false);
    return std::get<1>(v_);
}

TEE_INLINE void result::require(bool want_ok) const {
    if (ok() != want_ok)
        throw std::logic_error(want_ok ? "tee::cbor::result holds an error" : "tee::cbor::result holds a value");
}

namespace detail {

// Strict ordering of map keys (integers and text) for duplicate detection.
TEE_INLINE bool key_less(const value& a, const value& b) {
    if (a.type() != b.type()) return a.type() < b.type();
    switch (a.type()) {
        case value::kind::unsigned_int: return a.as_uint() < b.as_uint();
        case value::kind::negative_int: return a.as_int() < b.as_int();
        default: return a.as_text() < b.as_text();
    }
}

TEE_INLINE reader::reader(std::span<const std::uint8_t> in, const limits& lim) : in_(in), lim_(lim) {}

TEE_INLINE bool reader::item(value& out, std::size_t depth) {
    const std::size_t start = pos_;
    if (pos_ >= in_.size()) return fail(errc::truncated, start);
    const std::uint8_t major = in_[pos_] >> 5, info = in_[pos_] & 0x1f;
    ++pos_;
    if (major == 7) return simple(out, info, start);
    if (info == 31)
        return fail(major >= 2 && major <= 5 ? errc::indefinite_length : errc::reserved_additional_info, start);
    if (info >= 28) return fail(errc::reserved_additional_info, start);
    std::uint64_t arg = info;
    if (info >= 24) {
        const std::size_t n = std::size_t{1} << (info - 24);  // 1, 2, 4 or 8 bytes follow
        if (remaining() < n) return fail(errc::truncated, start);
        arg = 0;
        for (std::size_t i = 0; i < n; ++i) arg = (arg << 8) | in_[pos_++];
    }
    switch (major) {
        case 0: out = value::uint(arg); return true;
        case 1:
            if (arg > std::uint64_t{std::numeric_limits<std::int64_t>::max()})
                return fail(errc::integer_overflow, start);
            out = value::integer(-1 - static_cast<std::int64_t>(arg));
            return true;
        case 2:
        case 3: return string(out, major == 3, arg, start);
        case 4: return array(out, arg, depth, start);
        case 5: return map(out, arg, depth, start);
        case 6: return tag(out, arg, depth, start);
    }
    return fail(errc::unsupported_major_type, start);  // unreachable: major is 3 bits
}

TEE_INLINE bool reader::fail(errc c, std::size_t offset) {
    err = error{c, offset};
    return false;
}

TEE_INLINE bool reader::check_count(std::uint64_t n, std::size_t max, std::size_t min_bytes, std::size_t start) {
    if (n > max) return fail(errc::too_large, start);
    if (n > remaining() / min_bytes) return fail(errc::truncated, start);
    return true;
}

TEE_INLINE bool reader::simple(value& out, std::uint8_t info, std::size_t start) {
    switch (info) {
        case 20: out = value::boolean(false); return true;
        case 21: out = value::boolean(true); return true;
        case 22: out = value::null(); return true;
        case 28:
        case 29:
        case 30: return fail(errc::reserved_additional_info, start);
        case 31: return fail(errc::indefinite_length, start);         // break code
        default: return fail(errc::unsupported_simple_value, start);  // incl. floats 25-27
    }
}

TEE_INLINE bool reader::string(value& out, bool is_text, std::uint64_t n, std::size_t start) {
    if (!check_count(n, lim_.max_string, 1, start)) return false;
    const auto s = in_.subspan(pos_, static_cast<std::size_t>(n));
    if (is_text) {
        if (const std::size_t bad = utf8_error_offset({reinterpret_cast<const char*>(s.data()), s.size()});
            bad != s.size())
            return fail(errc::invalid_utf8, pos_ + bad);
        out = value::text(std::string(s.begin(), s.end()));
    } else {
        out = value::bytes(std::vector<std::uint8_t>(s.begin(), s.end()));
    }
    pos_ += s.size();
    return true;
}

TEE_INLINE bool reader::array(value& out, std::uint64_t n, std::size_t depth, std::size_t start) {
    if (depth >= lim_.max_depth) return fail(errc::too_deep, start);
    if (!check_count(n, lim_.max_items, 1, start)) return false;
    value::array_type items(static_cast<std::size_t>(n));
    for (auto& element : items)
        if (!item(element, depth + 1)) return false;
    out = value::array(std::move(items));
    return true;
}

TEE_INLINE bool reader::map(value& out, std::uint64_t n, std::size_t depth, std::size_t start) {
    if (depth >= lim_.max_depth) return fail(errc::too_deep, start);
    if (!check_count(n, lim_.max_items, 2, start)) return false;
    value::map_type entries(static_cast<std::size_t>(n));
    std::vector<std::size_t> key_offsets(entries.size());
    for (std::size_t i = 0; i < entries.size(); ++i) {
        key_offsets[i] = pos_;
        // Peek at the key's major type so a bad key is rejected before it is parsed.
        const int key_major = pos_ < in_.size() ? in_[pos_] >> 5 : 0;
        if (key_major != 0 && key_major != 1 && key_major != 3) return fail(errc::bad_map_key, pos_);
        if (!item(entries[i].first, depth + 1) || !item(entries[i].second, depth + 1)) return false;
    }
    // Duplicates: sort entry indices by key (O(n log n), not O(n^2)); stable,
    // so of two equal keys the later one is reported.
    std::vector<std::size_t> order(entries.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    const auto less = [&](std::size_t a, std::size_t b) { return key_less(entries[a].first, entries[b].first); };
    std::stable_sort(order.begin(), order.end(), less);
    for (std::size_t i = 1; i < order.size(); ++i)
        if (!less(order[i - 1], order[i])) return fail(errc::duplicate_key, key_offsets[order[i]]);
    out = value::map(std::move(entries));
    return true;
}

TEE_INLINE bool reader::tag(value& out, std::uint64_t number, std::size_t depth, std::size_t start) {
    if (number != 18 && number != 24) return fail(errc::unsupported_tag, start);
    if (depth >= lim_.max_depth) return fail(errc::too_deep, start);
    const std::size_t content_at = pos_;
    value content;
    if (!item(content, depth + 1)) return false;
    if (number == 24 && !content.is_bytes()) return fail(errc::unsupported_tag, content_at);
    out = value::tag(number, std::move(content));
    return true;
}

TEE_INLINE void put_head(std::vector<std::uint8_t>& out, std::uint8_t major, std::uint64_t arg) {
    const auto m = static_cast<std::uint8_t>(major << 5);
    if (arg < 24) {
        out.push_back(static_cast<std::uint8_t>(m | arg));
        return;
    }
    const int n = arg <= 0xff ? 1 : arg <= 0xffff ? 2 : arg <= 0xffffffff ? 4 : 8;
    out.push_back(static_cast<std::uint8_t>(m | (n == 1 ? 24 : n == 2 ? 25 : n == 4 ? 26 : 27)));
    for (int i = n - 1; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(arg >> (8 * i)));
}

TEE_INLINE void put(std::vector<std::uint8_t>& out, const value& v) {
    using k = value::kind;
    switch (v.type()) {
        case k::unsigned_int: put_head(out, 0, v.as_uint()); break;
        case k::negative_int: put_head(out, 1, static_cast<std::uint64_t>(-1 - v.as_int())); break;
        case k::bytes:
            put_head(out, 2, v.as_bytes().size());
            out.insert(out.end(), v.as_bytes().begin(), v.as_bytes().end());
            break;
        case k::text:
            put_head(out, 3, v.as_text().size());
            out.insert(out.end(), v.as_text().begin(), v.as_text().end());
            break;
        case k::array:
            put_head(out, 4, v.as_array().size());
            for (const auto& e : v.as_array()) put(out, e);
            break;
        case k::map:
            put_head(out, 5, v.as_map().size());
            for (const auto& [key, val] : v.as_map()) {
                put(out, key);
                put(out, val);
            }
            break;
        case k::tag:
            put_head(out, 6, v.tag_number());
            put(out, v.tag_content());
            break;
        case k::boolean: out.push_back(v.as_bool() ? 0xf5 : 0xf4); break;
        case k::null: out.push_back(0xf6); break;
    }
}

}  // namespace detail

TEE_INLINE result decode(std::span<const std::uint8_t> bytes, const limits& lim) noexcept {
    try {
        detail::reader r(bytes, lim);
        value v;
        if (!r.item(v, 0)) return r.err;
        if (r.pos() != bytes.size()) return error{errc::trailing_bytes, r.pos()};
        return v;
    } catch (const std::bad_alloc&) {  // only if memory runs out within the limits
        return error{errc::too_large, 0};
    }
}

TEE_INLINE std::vector<std::uint8_t> encode(const value& v) {
    std::vector<std::uint8_t> out;
    detail::put(out, v);
    return out;
}
#endif  // TEE_CLIENT_DEFINITIONS

}  // namespace tee::cbor
