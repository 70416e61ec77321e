// tee/detail/canonical_json.hpp - the bytes the enclave signs, and a strict parser
// for the bodies it sends.
//
// The trap: the enclave signs the bytes of the Python expression
//
//     json.dumps(data, separators=(",", ":"), sort_keys=True)
//
// but sends `data` in a different form (UTF-8, keys in insertion order). The
// client must re-serialize `data` exactly as Python would, byte for byte, or
// no signature verifies. Python's defaults that matter (ensure_ascii=True):
//
//   - keys sorted by code point. nlohmann::json keeps objects in a
//     std::map<std::string, json, std::less<>>, whose order is that of
//     std::char_traits<char>::compare, i.e. unsigned bytes; UTF-8 byte order
//     is code point order, so iterating the map gives Python's order.
//   - no spaces; `"` -> \" and `\` -> \\; \b \f \n \r \t short escapes;
//     every other character outside 0x20..0x7E as \u00XX / \uXXXX with
//     LOWERCASE hex, characters above U+FFFF as a surrogate pair
//     (\ud83d\ude00); `/` is not escaped.
//   - integers as integers; floats as Python's repr(): the shortest digits
//     that round-trip, fixed notation when the decimal exponent is in
//     [-5, 16) ("0.0001", "100.0", "1000000000000000.0", "-0.0"), otherwise
//     "1e-05", "1e+16", "1.5e+16" (mantissa without ".0", exponent signed and
//     at least two digits).
//
// nlohmann's own dump() differs on all of these points except key order (it
// writes UTF-8 raw or uppercase \u escapes, and "1e16" style floats), hence
// this serializer. Where Python would write something no JSON peer accepts,
// we throw tee::protocol_error instead: NaN/Infinity (Python writes `NaN`,
// `Infinity`), strings that are not valid UTF-8, binary values.
//
// parse_json() is the parser for untrusted HTTP bodies. It is stricter than
// Python's json.loads so that what we verify is what Python would have signed:
//   - integers outside int64/uint64 are rejected: nlohmann would silently turn
//     them into doubles, which canonicalize differently from Python's exact
//     integers (12345678901234567890123 vs 1.2345678901234568e+22);
//   - duplicate object keys are rejected (Python silently keeps the last one);
//   - NaN/Infinity literals, comments, invalid UTF-8 and lone \ud800-style
//     surrogates are rejected (nlohmann's lexer already refuses them; Python
//     accepts NaN and lone surrogates);
//   - nesting deeper than json_limits::max_depth and bodies over max_bytes
//     are rejected. The SAX parser is iterative and the depth is checked
//     before each container is built, so "[[[[..." cannot exhaust the stack.
// A leading UTF-8 byte order mark is skipped (nlohmann's behaviour); it does
// not reach the signed bytes since `data` is re-serialized anyway.
#pragma once

#include "tee/detail/prelude.hpp"

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cmath>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <nlohmann/json.hpp>

#include "tee/errors.hpp"
#include "tee/detail/utf8.hpp"

namespace tee {

namespace detail {

// At most `max` bytes of `s`, bytes outside printable ASCII shown as '?', for
// error messages built from data the peer sent.
std::string printable_prefix(std::string_view s, std::size_t max);

template <class Out>
void append_u_escape(Out& out, std::uint32_t unit) {
    static constexpr char hex[] = "0123456789abcdef";
    const char e[6] = {'\\', 'u', hex[unit >> 12 & 0xf], hex[unit >> 8 & 0xf], hex[unit >> 4 & 0xf], hex[unit & 0xf]};
    out.insert(out.end(), e, e + 6);
}

// Appends `s` as a Python ensure_ascii JSON string literal to `out` (a
// std::string, or tee::secure_bytes for the request plaintext). Throws
// protocol_error if `s` is not valid UTF-8.
template <class Out>
void append_python_string(Out& out, std::string_view s) {
    auto put = [&](std::string_view t) { out.insert(out.end(), t.begin(), t.end()); };
    out.push_back('"');
    for (std::size_t i = 0; i < s.size();) {
        char32_t cp = 0;
        const std::size_t len = utf8_decode(s, i, cp);
        if (len == 0) throw protocol_error("string is not valid UTF-8 (byte " + std::to_string(i) + ")");
        i += len;
        switch (cp) {
            case '"': put("\\\""); break;
            case '\\': put("\\\\"); break;
            case '\b': put("\\b"); break;
            case '\f': put("\\f"); break;
            case '\n': put("\\n"); break;
            case '\r': put("\\r"); break;
            case '\t': put("\\t"); break;
            default:
                if (cp >= 0x20 && cp < 0x7f)
                    out.push_back(static_cast<char>(cp));
                else if (cp < 0x10000)
                    append_u_escape(out, static_cast<std::uint32_t>(cp));
                else {
                    cp -= 0x10000;
                    append_u_escape(out, static_cast<std::uint32_t>(0xd800 + (cp >> 10)));
                    append_u_escape(out, static_cast<std::uint32_t>(0xdc00 + (cp & 0x3ff)));
                }
        }
    }
    out.push_back('"');
}

// Recursion bound for canonical_json on values not built by parse_json.
inline constexpr std::size_t canonical_max_depth = 512;

}  // namespace detail

// The bytes of Python's json.dumps(j, separators=(",", ":"), sort_keys=True).
// Throws tee::protocol_error for NaN/Infinity, invalid UTF-8, binary values
// and nesting deeper than 512.
std::string canonical_json(const nlohmann::json& j);

struct json_limits {
    std::size_t max_depth = 32;       // containers nested deeper are rejected
    std::size_t max_bytes = 8 << 20;  // bodies larger are rejected unparsed
};

namespace detail {

// SAX handler that builds the DOM (like nlohmann's json_sax_dom_parser) and
// enforces json_limits, unique keys and the 64-bit integer range on the way.
class strict_json_builder {
public:
    using json = nlohmann::json;

    strict_json_builder(json& root, std::string_view body, const json_limits& limits);

    bool null();
    bool boolean(bool v);
    bool number_integer(json::number_integer_t v);
    bool number_unsigned(json::number_unsigned_t v);
    bool number_float(json::number_float_t v, const json::string_t& lexeme);
    bool string(json::string_t& v);
    bool binary(json::binary_t&);

    bool start_object(std::size_t);
    bool start_array(std::size_t);
    bool end_object();
    bool end_array();

    bool key(json::string_t& k);

    bool parse_error(std::size_t position, const std::string&, const nlohmann::json::exception& ex);

private:
    // Stores a value where the grammar says it goes; returns its address.
    template <class V>
    json* add(V&& v) {
        if (stack_.empty()) {
            root_ = json(std::forward<V>(v));
            return &root_;
        }
        json& top = *stack_.back();
        if (top.is_array()) {
            auto& arr = top.get_ref<json::array_t&>();
            arr.emplace_back(std::forward<V>(v));
            return &arr.back();
        }
        *slot_ = json(std::forward<V>(v));
        return slot_;
    }

    void open(json::value_t type);

    json& root_;
    std::string_view body_;
    const json_limits& limits_;
    std::vector<json*> stack_;  // open containers, innermost last
    json* slot_ = nullptr;      // value slot of the last key read
};

}  // namespace detail

// Parses an untrusted HTTP body. Throws tee::protocol_error (message: fixed
// text, at most a 60-character sanitized prefix of the body) for an empty or
// oversized body, invalid JSON or UTF-8, trailing data, duplicate keys, nesting
// deeper than limits.max_depth, and integers outside the int64/uint64 range.
nlohmann::json parse_json(std::string_view body, const json_limits& limits = {});

// ---- definitions (header-only: inline in every file; TEE_CLIENT_COMPILED_LIB:
// compiled once in src/tee_client.cpp; see tee/detail/prelude.hpp) ----
#if defined(TEE_CLIENT_DEFINITIONS)
namespace detail {

TEE_INLINE std::string printable_prefix(std::string_view s, std::size_t max) {
    std::string out;
    for (std::size_t i = 0; i < s.size() && i < max; ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        out.push_back(c >= 0x20 && c <= 0x7e ? static_cast<char>(c) : '?');
    }
    if (s.size() > max) out += "...";
    return out;
}

// Python's repr(float) for a finite double.
TEE_INLINE void append_python_float(std::string& out, double d) {
    if (!std::isfinite(d)) throw protocol_error("cannot canonicalize NaN or Infinity");
    // Shortest round-trip digits, e.g. "-1.5e+16", "5e-324", "0e+00".
    char buf[64];
    const auto res = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
    std::string_view sci(buf, static_cast<std::size_t>(res.ptr - buf));
    if (!sci.empty() && sci.front() == '-') {
        out.push_back('-');
        sci.remove_prefix(1);
    }
    const auto e = sci.find('e');
    std::string digits;
    for (char c : sci.substr(0, e))
        if (c != '.') digits.push_back(c);
    int exp = 0;
    const auto exp_text = sci.substr(e + 2);  // after "e+" / "e-"
    std::from_chars(exp_text.data(), exp_text.data() + exp_text.size(), exp);
    if (sci[e + 1] == '-') exp = -exp;

    // As CPython's format_float_short (mode 'r'): value = 0.DIGITS * 10^decpt,
    // fixed notation iff -4 < decpt <= 16.
    const int decpt = exp + 1;
    const int ndigits = static_cast<int>(digits.size());
    if (decpt > -4 && decpt <= 16) {
        if (decpt <= 0) {
            out += "0.";
            out.append(static_cast<std::size_t>(-decpt), '0');
            out += digits;
        } else if (decpt >= ndigits) {
            out += digits;
            out.append(static_cast<std::size_t>(decpt - ndigits), '0');
            out += ".0";
        } else {
            out.append(digits, 0, static_cast<std::size_t>(decpt));
            out.push_back('.');
            out.append(digits, static_cast<std::size_t>(decpt));
        }
    } else {
        out.push_back(digits[0]);
        if (ndigits > 1) {
            out.push_back('.');
            out.append(digits, 1);
        }
        out += exp < 0 ? "e-" : "e+";
        const int a = exp < 0 ? -exp : exp;
        if (a < 10) out.push_back('0');
        out += std::to_string(a);
    }
}

TEE_INLINE void append_canonical(std::string& out, const nlohmann::json& j, std::size_t depth) {
    using vt = nlohmann::json::value_t;
    switch (j.type()) {
        case vt::null: out += "null"; return;
        case vt::boolean: out += j.get<bool>() ? "true" : "false"; return;
        case vt::number_integer: out += std::to_string(j.get<std::int64_t>()); return;
        case vt::number_unsigned: out += std::to_string(j.get<std::uint64_t>()); return;
        case vt::number_float: append_python_float(out, j.get<double>()); return;
        case vt::string: append_python_string(out, j.get_ref<const std::string&>()); return;
        case vt::array:
        case vt::object: {
            if (depth >= canonical_max_depth) throw protocol_error("JSON value nested too deeply to canonicalize");
            const bool is_object = j.is_object();
            out.push_back(is_object ? '{' : '[');
            bool first = true;
            // For objects, iteration order is the std::map order = code point order.
            for (auto it = j.begin(); it != j.end(); ++it) {
                if (!first) out.push_back(',');
                first = false;
                if (is_object) {
                    append_python_string(out, it.key());
                    out.push_back(':');
                }
                append_canonical(out, *it, depth + 1);
            }
            out.push_back(is_object ? '}' : ']');
            return;
        }
        case vt::binary: throw protocol_error("cannot canonicalize a binary JSON value");
        case vt::discarded: break;
    }
    throw protocol_error("cannot canonicalize a discarded JSON value");
}

TEE_INLINE strict_json_builder::strict_json_builder(json& root, std::string_view body, const json_limits& limits)
    : root_(root), body_(body), limits_(limits) {}

TEE_INLINE bool strict_json_builder::null() {
    add(nullptr);
    return true;
}
TEE_INLINE bool strict_json_builder::boolean(bool v) {
    add(v);
    return true;
}
TEE_INLINE bool strict_json_builder::number_integer(json::number_integer_t v) {
    add(v);
    return true;
}
TEE_INLINE bool strict_json_builder::number_unsigned(json::number_unsigned_t v) {
    add(v);
    return true;
}
TEE_INLINE bool strict_json_builder::number_float(json::number_float_t v, const json::string_t& lexeme) {
    // nlohmann falls back to double for integers that overflow 64 bits;
    // such a lexeme has no fraction or exponent (only '-' and digits; the
    // '.' may be the locale's decimal point, so look for non-digits).
    if (lexeme.find_first_not_of("-0123456789") == std::string::npos)
        throw protocol_error("answer has an integer out of 64-bit range: " + printable_prefix(lexeme, 40));
    add(v);
    return true;
}
TEE_INLINE bool strict_json_builder::string(json::string_t& v) {
    add(std::move(v));
    return true;
}
TEE_INLINE bool strict_json_builder::binary(json::binary_t&) { throw protocol_error("answer has a binary value"); }

TEE_INLINE bool strict_json_builder::start_object(std::size_t) {
    open(json::value_t::object);
    return true;
}
TEE_INLINE bool strict_json_builder::start_array(std::size_t) {
    open(json::value_t::array);
    return true;
}
TEE_INLINE bool strict_json_builder::end_object() {
    stack_.pop_back();
    return true;
}
TEE_INLINE bool strict_json_builder::end_array() {
    stack_.pop_back();
    return true;
}

TEE_INLINE bool strict_json_builder::key(json::string_t& k) {
    auto& obj = stack_.back()->get_ref<json::object_t&>();
    auto [it, inserted] = obj.try_emplace(std::move(k));
    if (!inserted)
        throw protocol_error("answer has a duplicate object key \"" + printable_prefix(it->first, 60) + "\"");
    slot_ = &it->second;
    return true;
}

TEE_INLINE bool strict_json_builder::parse_error(std::size_t position, const std::string&,
                                                 const nlohmann::json::exception& ex) {
    std::string_view what = ex.what();  // "[json.exception.parse_error.101] parse error at ..."
    if (const auto p = what.find("] "); !what.empty() && what.front() == '[' && p != what.npos)
        what.remove_prefix(p + 2);
    // nlohmann's position counts the bytes read, the offending one (or the
    // end of input) included; report the 0-based offset of that byte.
    const std::size_t offset = position > 0 ? position - 1 : 0;
    throw protocol_error("answer is not valid JSON: " + printable_prefix(what, 200) + " (at byte offset " +
                         std::to_string(offset) + "); answer starts with '" + printable_prefix(body_, 60) + "'");
}

TEE_INLINE void strict_json_builder::open(json::value_t type) {
    if (stack_.size() >= limits_.max_depth)
        throw protocol_error("answer is nested deeper than " + std::to_string(limits_.max_depth) + " levels");
    stack_.push_back(add(type));
}

}  // namespace detail

TEE_INLINE std::string canonical_json(const nlohmann::json& j) {
    std::string out;
    detail::append_canonical(out, j, 0);
    return out;
}

TEE_INLINE nlohmann::json parse_json(std::string_view body, const json_limits& limits) {
    if (body.empty()) throw protocol_error("answer is empty");
    if (body.size() > limits.max_bytes)
        throw protocol_error("answer is too large: " + std::to_string(body.size()) + " bytes, limit " +
                             std::to_string(limits.max_bytes));
    nlohmann::json root;
    detail::strict_json_builder builder(root, body, limits);
    const char* begin = body.data();
    if (!nlohmann::json::sax_parse(begin, begin + body.size(), &builder))
        throw protocol_error("answer is not valid JSON");  // not reached: the handler throws
    return root;
}
#endif  // TEE_CLIENT_DEFINITIONS

}  // namespace tee
