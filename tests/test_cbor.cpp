// Tests for tee/detail/cbor.hpp: RFC 8949 Appendix A known answers, round trips, one
// negative case (at least) per errc, and the real AWS Nitro attestation document.
#include <doctest/doctest.h>

#include <tee/detail/cbor.hpp>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#ifndef TEE_TEST_DATA_DIR
#error "define TEE_TEST_DATA_DIR as a string literal, e.g. -DTEE_TEST_DATA_DIR='\"/path/to/tests/data\"'"
#endif

namespace cbor = tee::cbor;
using bytes = std::vector<std::uint8_t>;

namespace {

bytes from_hex(std::string_view h) {
    auto nibble = [](char c) -> std::uint8_t {
        if (c >= '0' && c <= '9') return static_cast<std::uint8_t>(c - '0');
        if (c >= 'a' && c <= 'f') return static_cast<std::uint8_t>(c - 'a' + 10);
        throw std::invalid_argument("bad hex digit in test");
    };
    std::string digits;  // spaces are allowed between bytes for readability
    for (char c : h)
        if (c != ' ') digits += c;
    bytes out;
    for (std::size_t i = 0; i + 1 < digits.size(); i += 2)
        out.push_back(static_cast<std::uint8_t>(nibble(digits[i]) << 4 | nibble(digits[i + 1])));
    return out;
}

std::string to_hex(const bytes& b) {
    static const char* digits = "0123456789abcdef";
    std::string s;
    for (auto c : b) {
        s += digits[c >> 4];
        s += digits[c & 15];
    }
    return s;
}

cbor::result decode_hex(std::string_view h, const cbor::limits& lim = {}) { return cbor::decode(from_hex(h), lim); }

// Asserts that `h` fails with `code` (and, if given, at `offset`).
void expect_error(std::string_view h, cbor::errc code, std::size_t offset = SIZE_MAX, const cbor::limits& lim = {}) {
    CAPTURE(h);
    const auto r = decode_hex(h, lim);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == code);
    if (offset != SIZE_MAX) CHECK(r.error().offset == offset);
}

// Encodes v, compares with the expected hex, and decodes the hex back to v.
void known_answer(const cbor::value& v, std::string_view h) {
    CAPTURE(h);
    CHECK(to_hex(cbor::encode(v)) == h);
    const auto r = decode_hex(h);
    REQUIRE(r.ok());
    CHECK(r.value() == v);
}

bytes base64_decode(std::string_view in) {
    bytes out;
    std::uint32_t acc = 0;
    int bits = 0;
    for (char c : in) {
        int d;
        if (c >= 'A' && c <= 'Z')
            d = c - 'A';
        else if (c >= 'a' && c <= 'z')
            d = c - 'a' + 26;
        else if (c >= '0' && c <= '9')
            d = c - '0' + 52;
        else if (c == '+')
            d = 62;
        else if (c == '/')
            d = 63;
        else
            continue;  // '=', newlines
        acc = (acc << 6) | static_cast<std::uint32_t>(d);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<std::uint8_t>(acc >> bits));
        }
    }
    return out;
}

bytes nitro_document() {
    std::ifstream f(std::string(TEE_TEST_DATA_DIR) + "/nitro_attestation_2025-04-24.b64");
    REQUIRE(f.good());
    const std::string b64((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    return base64_decode(b64);
}

using V = cbor::value;

}  // namespace

TEST_CASE("cbor: RFC 8949 Appendix A known answers - integers and simple values") {
    known_answer(V::uint(0), "00");
    known_answer(V::uint(1), "01");
    known_answer(V::uint(10), "0a");
    known_answer(V::uint(23), "17");
    known_answer(V::uint(24), "1818");
    known_answer(V::uint(25), "1819");
    known_answer(V::uint(100), "1864");
    known_answer(V::uint(1000), "1903e8");
    known_answer(V::uint(1000000), "1a000f4240");
    known_answer(V::uint(1000000000000), "1b000000e8d4a51000");
    known_answer(V::uint(18446744073709551615u), "1bffffffffffffffff");
    known_answer(V::integer(-1), "20");
    known_answer(V::integer(-10), "29");
    known_answer(V::integer(-100), "3863");
    known_answer(V::integer(-1000), "3903e7");
    known_answer(V::integer(std::numeric_limits<std::int64_t>::min()), "3b7fffffffffffffff");
    known_answer(V::integer(42), "182a");  // integer() picks major 0 for >= 0
    known_answer(V::boolean(false), "f4");
    known_answer(V::boolean(true), "f5");
    known_answer(V::null(), "f6");
}

TEST_CASE("cbor: RFC 8949 Appendix A known answers - strings") {
    known_answer(V::bytes({}), "40");
    known_answer(V::bytes({1, 2, 3, 4}), "4401020304");
    known_answer(V::text(""), "60");
    known_answer(V::text("a"), "6161");
    known_answer(V::text("IETF"), "6449455446");
    known_answer(V::text("\"\\"), "62225c");
    known_answer(V::text("\xc3\xbc"), "62c3bc");              // "\u00fc"
    known_answer(V::text("\xe6\xb0\xb4"), "63e6b0b4");        // "\u6c34"
    known_answer(V::text("\xf0\x90\x85\x91"), "64f0908591");  // "\ud800\udd51"
    known_answer(V::text(std::string(24, 'x')), "7818" + to_hex(bytes(24, 'x')));
    known_answer(V::bytes(bytes(256, 7)), "590100" + to_hex(bytes(256, 7)));
}

TEST_CASE("cbor: RFC 8949 Appendix A known answers - arrays, maps, tag 24") {
    known_answer(V::array({}), "80");
    known_answer(V::array({V::uint(1), V::uint(2), V::uint(3)}), "83010203");
    known_answer(V::array({V::uint(1), V::array({V::uint(2), V::uint(3)}), V::array({V::uint(4), V::uint(5)})}),
                 "8301820203820405");
    V::array_type twenty_five;
    for (std::uint64_t i = 1; i <= 25; ++i) twenty_five.push_back(V::uint(i));
    known_answer(V::array(twenty_five), "98190102030405060708090a0b0c0d0e0f101112131415161718181819");
    known_answer(V::map({}), "a0");
    known_answer(V::map({{V::uint(1), V::uint(2)}, {V::uint(3), V::uint(4)}}), "a201020304");
    known_answer(V::map({{V::text("a"), V::uint(1)}, {V::text("b"), V::array({V::uint(2), V::uint(3)})}}),
                 "a26161016162820203");
    known_answer(V::array({V::text("a"), V::map({{V::text("b"), V::text("c")}})}), "826161a161626163");
    known_answer(V::map({{V::text("a"), V::text("A")},
                         {V::text("b"), V::text("B")},
                         {V::text("c"), V::text("C")},
                         {V::text("d"), V::text("D")},
                         {V::text("e"), V::text("E")}}),
                 "a56161614161626142616361436164614461656145");
    known_answer(V::tag(24, V::bytes(from_hex("6449455446"))), "d818456449455446");
    known_answer(V::tag(18, V::array({V::bytes({}), V::map({}), V::null(), V::bytes({})})), "d28440a0f640");
}

TEST_CASE("cbor: map order is preserved, not sorted") {
    const V m = V::map({{V::uint(3), V::uint(4)}, {V::uint(1), V::uint(2)}});
    CHECK(to_hex(cbor::encode(m)) == "a203040102");
    CHECK(cbor::decode(cbor::encode(m)).value() == m);
}

TEST_CASE("cbor: non-shortest arguments are accepted on input, re-encoded shortest") {
    const auto r = decode_hex("1800");
    REQUIRE(r.ok());
    CHECK(r.value() == V::uint(0));
    CHECK(to_hex(cbor::encode(r.value())) == "00");
    CHECK(decode_hex("5a00000002 0102").value() == V::bytes({1, 2}));
}

TEST_CASE("cbor: round trips decode(encode(x)) == x") {
    const V doc = V::map({
        {V::text("module_id"), V::text("i-0123-enc")},
        {V::integer(-7), V::bytes(bytes(48, 0xab))},
        {V::uint(18446744073709551615u), V::boolean(true)},
        {V::integer(std::numeric_limits<std::int64_t>::min()), V::null()},
        {V::text("nested"), V::array({V::array({V::array({V::uint(65535), V::uint(65536), V::uint(4294967296)})})})},
        {V::text("cose"),
         V::tag(18, V::array({V::bytes({0xa1, 0x01, 0x38, 0x22}), V::map({}), V::bytes({}), V::bytes(bytes(96, 1))}))},
        {V::text("embedded"), V::tag(24, V::bytes(cbor::encode(V::text("\xc3\xbc"))))},
        {V::text(""), V::boolean(false)},
    });
    const auto r = cbor::decode(cbor::encode(doc));
    REQUIRE(r.ok());
    CHECK(r.value() == doc);
    CHECK(cbor::encode(r.value()) == cbor::encode(doc));
    CHECK_FALSE(doc == V::map({}));
    CHECK_FALSE(V::uint(1) == V::integer(-1));
    CHECK_FALSE(V::bytes({'a'}) == V::text("a"));
}

TEST_CASE("cbor: value accessors and lookups") {
    const V m = V::map(
        {{V::uint(0), V::text("zero")}, {V::integer(-2), V::text("minus two")}, {V::text("k"), V::boolean(true)}});
    REQUIRE(m.is_map());
    CHECK(m.type() == V::kind::map);
    REQUIRE(m.find(0) != nullptr);
    CHECK(m.find(0)->as_text() == "zero");
    CHECK(m.find(-2)->as_text() == "minus two");
    CHECK(m.find("k")->as_bool());
    CHECK(m.find(1) == nullptr);
    CHECK(m.find("zero") == nullptr);
    CHECK(V::array({}).find("k") == nullptr);
    CHECK(V::null().find(0) == nullptr);

    CHECK(V::uint(5).is_uint());
    CHECK(V::uint(5).is_int());
    CHECK(V::uint(5).as_int() == 5);
    CHECK(V::integer(-5).is_int());
    CHECK_FALSE(V::integer(-5).is_uint());
    CHECK(V::integer(-5).type() == V::kind::negative_int);
    CHECK(V::integer(-5).as_int() == -5);
    CHECK_FALSE(V::uint(18446744073709551615u).is_int());  // beyond int64
    CHECK_THROWS_AS((void)V::uint(18446744073709551615u).as_int(), std::logic_error);
    CHECK_THROWS_AS((void)V::integer(-5).as_uint(), std::logic_error);
    CHECK_THROWS_AS((void)V::text("x").as_bytes(), std::logic_error);
    CHECK_THROWS_AS((void)V::bytes({}).as_text(), std::logic_error);
    CHECK_THROWS_AS((void)V::null().as_array(), std::logic_error);
    CHECK_THROWS_AS((void)V::null().as_map(), std::logic_error);
    CHECK_THROWS_AS((void)V::null().tag_number(), std::logic_error);
    CHECK_THROWS_AS((void)V::null().tag_content(), std::logic_error);
    CHECK_THROWS_AS((void)V::null().as_bool(), std::logic_error);
    const V t = V::tag(24, V::bytes({1}));
    CHECK(t.is_tag());
    CHECK(t.tag_number() == 24);
    CHECK(t.tag_content().as_bytes() == bytes{1});
    CHECK(V().is_null());
    CHECK(V::boolean(false).is_bool());
    CHECK(V::text("x").is_text());
    CHECK(V::bytes({}).is_bytes());
    CHECK(V::array({}).is_array());
}

TEST_CASE("cbor: result accessors") {
    auto good = decode_hex("820102");
    REQUIRE(good.ok());
    CHECK(static_cast<bool>(good));
    CHECK_THROWS_AS((void)good.error(), std::logic_error);
    const V taken = good.take();
    CHECK(taken == V::array({V::uint(1), V::uint(2)}));

    const auto bad = decode_hex("82 01 19 01");
    CHECK_FALSE(bad.ok());
    CHECK_FALSE(static_cast<bool>(bad));
    CHECK_THROWS_AS((void)bad.value(), std::logic_error);
    CHECK(bad.error() == cbor::error{cbor::errc::truncated, 2});
    CHECK(bad.error().message() == "CBOR: truncated input at byte 2");
    CHECK(decode_hex("0000").error().message() == "CBOR: trailing bytes after the item at byte 1");

    const V moved = decode_hex("f5").value();  // rvalue overload returns by value
    CHECK(moved.as_bool());
}

TEST_CASE("cbor: errc truncated - every proper prefix of a valid document") {
    const bytes doc =
        cbor::encode(V::map({{V::text("a"), V::array({V::uint(1000000), V::integer(-1000), V::bytes({1, 2, 3})})},
                             {V::uint(7), V::tag(24, V::bytes({0xf6}))},
                             {V::integer(-1), V::text("\xc3\xbc\xe6\xb0\xb4")}}));
    REQUIRE(cbor::decode(doc).ok());
    for (std::size_t n = 0; n < doc.size(); ++n) {
        CAPTURE(n);
        const auto r = cbor::decode(std::span(doc.data(), n));
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().code == cbor::errc::truncated);
        CHECK(r.error().offset <= n);
    }
    expect_error("", cbor::errc::truncated, 0);
    expect_error("19 01", cbor::errc::truncated, 0);
    expect_error("83 01 02", cbor::errc::truncated, 0);     // 3 items cannot fit in 2 bytes
    expect_error("82 01 19 01", cbor::errc::truncated, 2);  // the second item runs past the end
    expect_error("45 010203", cbor::errc::truncated, 0);    // string length beyond input
    expect_error("78 05 6161", cbor::errc::truncated, 0);
    expect_error("a1 01", cbor::errc::truncated, 0);
    expect_error("a1 01 82 01", cbor::errc::truncated, 2);
    expect_error("d2", cbor::errc::truncated, 1);
}

TEST_CASE("cbor: errc trailing_bytes") {
    expect_error("0000", cbor::errc::trailing_bytes, 1);
    expect_error("820102 ff", cbor::errc::trailing_bytes, 3);
    expect_error("f6 f6", cbor::errc::trailing_bytes, 1);
}

TEST_CASE("cbor: errc indefinite_length") {
    expect_error("9f 01 02 ff", cbor::errc::indefinite_length, 0);
    expect_error("5f 41 01 ff", cbor::errc::indefinite_length, 0);
    expect_error("7f 61 61 ff", cbor::errc::indefinite_length, 0);
    expect_error("bf 01 02 ff", cbor::errc::indefinite_length, 0);
    expect_error("81 9f ff", cbor::errc::indefinite_length, 1);
    expect_error("ff", cbor::errc::indefinite_length, 0);  // lone break code
}

TEST_CASE("cbor: errc unsupported_simple_value (floats, undefined, other simple values)") {
    expect_error("f9 3c00", cbor::errc::unsupported_simple_value, 0);              // 1.0 half
    expect_error("fa 47c35000", cbor::errc::unsupported_simple_value, 0);          // 100000.0 single
    expect_error("fb 3ff199999999999a", cbor::errc::unsupported_simple_value, 0);  // 1.1 double
    expect_error("f9", cbor::errc::unsupported_simple_value, 0);                   // rejected before length
    expect_error("f7", cbor::errc::unsupported_simple_value, 0);                   // undefined
    expect_error("f0", cbor::errc::unsupported_simple_value, 0);                   // simple(16)
    expect_error("f8 ff", cbor::errc::unsupported_simple_value, 0);                // simple(255)
    expect_error("f8 14", cbor::errc::unsupported_simple_value, 0);                // two-byte false
    expect_error("82 f5 f7", cbor::errc::unsupported_simple_value, 2);
}

TEST_CASE("cbor: errc unsupported_tag") {
    expect_error("c1 1a514b67b0", cbor::errc::unsupported_tag, 0);  // tag 1 epoch time
    expect_error("c0 6161", cbor::errc::unsupported_tag, 0);
    expect_error("d9 d9f7 00", cbor::errc::unsupported_tag, 0);  // self-described CBOR 55799
    expect_error("d8 18 01", cbor::errc::unsupported_tag, 2);    // tag 24 on a non-byte-string
    expect_error("d8 18 6161", cbor::errc::unsupported_tag, 2);
    CHECK(decode_hex("d2 d2 80").ok());  // tag 18 may wrap anything; it only counts toward depth
}

TEST_CASE("cbor: errc bad_map_key") {
    expect_error("a1 41 01 01", cbor::errc::bad_map_key, 1);  // byte-string key
    expect_error("a1 80 01", cbor::errc::bad_map_key, 1);
    expect_error("a1 a0 01", cbor::errc::bad_map_key, 1);
    expect_error("a1 f6 01", cbor::errc::bad_map_key, 1);
    expect_error("a1 d8 18 41 00 01", cbor::errc::bad_map_key, 1);
    expect_error("a2 01 02 f4 03", cbor::errc::bad_map_key, 3);
}

TEST_CASE("cbor: errc duplicate_key") {
    expect_error("a2 01 02 01 03", cbor::errc::duplicate_key, 3);
    expect_error("a2 6161 01 6161 02", cbor::errc::duplicate_key, 4);
    expect_error("a3 20 00 01 00 20 00", cbor::errc::duplicate_key, 5);
    expect_error("a2 1801 00 01 00", cbor::errc::duplicate_key, 4);  // same key, different encodings
    CHECK(decode_hex("a3 01 00 20 00 6131 00").ok());                // 1, -1 and "1" are distinct
}

TEST_CASE("cbor: errc too_deep") {
    std::string deep16, deep17;
    for (int i = 0; i < 16; ++i) deep16 += "81";
    deep17 = deep16 + "81";
    CHECK(decode_hex(deep16 + "00").ok());
    expect_error(deep17 + "00", cbor::errc::too_deep, 16);
    std::string maps17;
    for (int i = 0; i < 17; ++i) maps17 += "a100";
    expect_error(maps17 + "00", cbor::errc::too_deep, 32);
    std::string tags17;
    for (int i = 0; i < 17; ++i) tags17 += "d2";
    expect_error(tags17 + "00", cbor::errc::too_deep, 16);
    expect_error("818100", cbor::errc::too_deep, 1, cbor::limits{.max_depth = 1});
    CHECK(decode_hex("00", cbor::limits{.max_depth = 0}).ok());  // scalars need no depth
}

TEST_CASE("cbor: errc too_large, and huge headers fail fast without allocating") {
    expect_error("9a ffffffff", cbor::errc::too_large, 0);          // 2^32-1 items, 5-byte input
    expect_error("9b 0000000100000000", cbor::errc::too_large, 0);  // 2^32 items
    expect_error("bb 7fffffffffffffff", cbor::errc::too_large, 0);
    expect_error("5a ffffffff", cbor::errc::too_large, 0);
    expect_error("7b ffffffffffffffff", cbor::errc::too_large, 0);
    expect_error("83 010203", cbor::errc::too_large, 0, cbor::limits{.max_items = 2});
    expect_error("43 010203", cbor::errc::too_large, 0, cbor::limits{.max_string = 2});
    // Without the limits, the bytes actually present stop them.
    const cbor::limits huge{.max_depth = 16, .max_string = SIZE_MAX, .max_items = SIZE_MAX};
    expect_error("9b ffffffffffffffff", cbor::errc::truncated, 0, huge);
    expect_error("9a ffffffff", cbor::errc::truncated, 0, huge);
    expect_error("bb 8000000000000000", cbor::errc::truncated, 0, huge);
    expect_error("a3 01020304 05", cbor::errc::truncated, 0, huge);  // 3 entries need >= 6 bytes
    expect_error("5b ffffffffffffffff", cbor::errc::truncated, 0, huge);
    expect_error("7b 7fffffffffffffff", cbor::errc::truncated, 0, huge);
}

TEST_CASE("cbor: errc invalid_utf8") {
    expect_error("62 c080", cbor::errc::invalid_utf8, 1);      // overlong NUL
    expect_error("62 c1bf", cbor::errc::invalid_utf8, 1);      // overlong
    expect_error("63 e08080", cbor::errc::invalid_utf8, 1);    // overlong 3-byte
    expect_error("64 f0808080", cbor::errc::invalid_utf8, 1);  // overlong 4-byte
    expect_error("63 eda080", cbor::errc::invalid_utf8, 1);    // surrogate U+D800
    expect_error("63 edbfbf", cbor::errc::invalid_utf8, 1);    // surrogate U+DFFF
    expect_error("64 f4908080", cbor::errc::invalid_utf8, 1);  // U+110000
    expect_error("64 f7bfbfbf", cbor::errc::invalid_utf8, 1);
    expect_error("61 80", cbor::errc::invalid_utf8, 1);    // lone continuation byte
    expect_error("61 c3", cbor::errc::invalid_utf8, 1);    // sequence cut by the string end
    expect_error("62 c341", cbor::errc::invalid_utf8, 1);  // bad continuation
    expect_error("63 41 41 ff", cbor::errc::invalid_utf8, 3);
    expect_error("65 f88080 8080", cbor::errc::invalid_utf8, 1);
    CHECK(decode_hex("64 f48fbfbf").ok());  // U+10FFFF
    CHECK(decode_hex("63 ed9fbf").ok());    // U+D7FF
    CHECK(decode_hex("63 ee8080").ok());    // U+E000
    CHECK(decode_hex("61 7f").ok());
    CHECK(decode_hex("42 c080").ok());  // byte strings are not checked
}

TEST_CASE("cbor: errc integer_overflow") {
    expect_error("3b ffffffffffffffff", cbor::errc::integer_overflow, 0);  // -2^64
    expect_error("3b 8000000000000000", cbor::errc::integer_overflow, 0);  // INT64_MIN - 1
    const auto r = decode_hex("3b 7fffffffffffffff");
    REQUIRE(r.ok());
    CHECK(r.value().as_int() == std::numeric_limits<std::int64_t>::min());
}

TEST_CASE("cbor: errc reserved_additional_info") {
    for (const char* h : {"1c", "1d", "1e", "3c", "5c", "7d", "9e", "bc", "dc", "fc", "fd", "fe"})
        expect_error(h, cbor::errc::reserved_additional_info, 0);
    // 31 on majors 0, 1 and 6 is not an indefinite length, just not well-formed.
    for (const char* h : {"1f", "3f", "df"}) expect_error(h, cbor::errc::reserved_additional_info, 0);
    expect_error("82 01 1c", cbor::errc::reserved_additional_info, 2);
}

TEST_CASE("cbor: errc unsupported_major_type is reserved and every errc has a message") {
    // Every major type 0-7 is at least partly supported, so the decoder never
    // returns unsupported_major_type; it stays in the enum for API stability.
    for (int c = 0; c <= static_cast<int>(cbor::errc::reserved_additional_info); ++c) {
        const cbor::error e{static_cast<cbor::errc>(c), 17};
        CHECK(e.message().rfind("CBOR: ", 0) == 0);
        CHECK(e.message().find(" at byte 17") != std::string::npos);
        CHECK(cbor::to_string(e.code) != "unknown error");
    }
}

TEST_CASE("cbor: the real AWS Nitro attestation document (COSE_Sign1)") {
    const bytes doc = nitro_document();
    REQUIRE(doc.size() == 4700);
    const auto r = cbor::decode(doc);
    REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message()));
    const V& top = r.value();

    // Untagged COSE_Sign1: [protected bstr, unprotected map, payload bstr, signature bstr].
    REQUIRE(top.is_array());
    REQUIRE(top.as_array().size() == 4);
    const auto& cose = top.as_array();
    REQUIRE(cose[0].is_bytes());
    REQUIRE(cose[1].is_map());
    REQUIRE(cose[2].is_bytes());
    REQUIRE(cose[3].is_bytes());
    CHECK(cose[3].as_bytes().size() == 96);  // ECDSA P-384 r || s

    const auto prot = cbor::decode(cose[0].as_bytes());
    REQUIRE(prot.ok());
    REQUIRE(prot.value().find(1) != nullptr);
    CHECK(prot.value().find(1)->as_int() == -35);  // alg: ES384

    const bytes& payload_bytes = cose[2].as_bytes();
    const auto p = cbor::decode(payload_bytes);
    REQUIRE_MESSAGE(p.ok(), (p.ok() ? "" : p.error().message()));
    const V& payload = p.value();
    REQUIRE(payload.is_map());
    std::vector<std::string> keys;
    for (const auto& [k, v] : payload.as_map()) keys.push_back(k.as_text());
    CHECK(keys ==
          std::vector<std::string>{"module_id", "digest", "timestamp", "pcrs", "certificate", "cabundle", "public_key",
                                   "user_data", "nonce"});

    REQUIRE(payload.find("module_id") != nullptr);
    CHECK(payload.find("module_id")->as_text().rfind("i-0973994", 0) == 0);
    CHECK(payload.find("digest")->as_text() == "SHA384");
    REQUIRE(payload.find("timestamp")->is_uint());
    CHECK(payload.find("timestamp")->as_uint() == 1745463507690u);

    const V* pcrs = payload.find("pcrs");
    REQUIRE(pcrs != nullptr);
    REQUIRE(pcrs->is_map());
    CHECK(pcrs->as_map().size() == 16);
    for (std::int64_t i = 0; i < 16; ++i) {
        CAPTURE(i);
        const V* pcr = pcrs->find(i);
        REQUIRE(pcr != nullptr);
        REQUIRE(pcr->is_bytes());
        CHECK(pcr->as_bytes().size() == 48);
    }

    REQUIRE(payload.find("certificate")->is_bytes());
    CHECK(payload.find("certificate")->as_bytes().at(0) == 0x30);  // DER SEQUENCE
    const V* cabundle = payload.find("cabundle");
    REQUIRE(cabundle->is_array());
    REQUIRE(cabundle->as_array().size() == 4);
    for (const auto& cert : cabundle->as_array()) {
        REQUIRE(cert.is_bytes());
        CHECK(cert.as_bytes().at(0) == 0x30);
    }
    CHECK(payload.find("public_key")->is_bytes());
    CHECK(payload.find("user_data")->is_bytes());
    CHECK(payload.find("nonce")->is_bytes());

    // AWS writes preferred (shortest-form) serialization: re-encoding is byte-exact.
    CHECK(cbor::encode(payload) == payload_bytes);
    CHECK(cbor::encode(top) == doc);
}

TEST_CASE("cbor: every proper prefix of the Nitro document is truncated") {
    const bytes doc = nitro_document();
    for (std::size_t n = 0; n < doc.size(); ++n) {
        const auto r = cbor::decode(std::span(doc.data(), n));
        if (r.ok() || r.error().code != cbor::errc::truncated) {
            FAIL("prefix of length " << n << " did not fail as truncated");
        }
    }
}
