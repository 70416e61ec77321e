// Tests for tee/encoding.hpp. Base64 vectors are RFC 4648 section 10; the
// trailing-bits case matches Python 3.11: base64.b64decode("Zh==",
// validate=True) == b"f".
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "tee/encoding.hpp"

namespace {

std::vector<std::uint8_t> bytes(std::string_view s) { return {s.begin(), s.end()}; }

}  // namespace

TEST_CASE("hex: encode lowercase, decode strictly") {
    const std::vector<std::uint8_t> all = [] {
        std::vector<std::uint8_t> v;
        for (int i = 0; i < 256; ++i) v.push_back(static_cast<std::uint8_t>(i));
        return v;
    }();
    const std::string hex = tee::to_hex(all);
    CHECK(hex.size() == 512);
    CHECK(hex.substr(0, 8) == "00010203");
    CHECK(hex.substr(504) == "fcfdfeff");
    CHECK(tee::from_hex(hex) == all);

    CHECK(tee::to_hex({}) == "");
    CHECK(tee::from_hex("") == std::vector<std::uint8_t>{});
    CHECK(tee::to_hex(bytes("\x01\xab\xcd\xef")) == "01abcdef");
    CHECK(tee::from_hex("01ABcdEF") == bytes("\x01\xab\xcd\xef"));  // upper case accepted

    CHECK_FALSE(tee::from_hex("0"));
    CHECK_FALSE(tee::from_hex("abc"));
    CHECK_FALSE(tee::from_hex("0g"));
    CHECK_FALSE(tee::from_hex("zz"));
    CHECK_FALSE(tee::from_hex("00 11"));
    CHECK_FALSE(tee::from_hex("0011\n"));
    CHECK_FALSE(tee::from_hex("0x00"));
    CHECK_FALSE(
        tee::from_hex(std::string_view("00\0"
                                       "0",
                                       4)));
    CHECK_FALSE(tee::from_hex("\xc3\xa9"));
}

TEST_CASE("base64: RFC 4648 test vectors") {
    const std::pair<const char*, const char*> vectors[] = {
        {"", ""},
        {"f", "Zg=="},
        {"fo", "Zm8="},
        {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="},
        {"fooba", "Zm9vYmE="},
        {"foobar", "Zm9vYmFy"},
    };
    for (const auto& v : vectors) {
        CAPTURE(v.first);
        CHECK(tee::to_base64(bytes(v.first)) == v.second);
        CHECK(tee::from_base64(v.second) == bytes(v.first));
    }
    // Whole alphabet, including '+' and '/'.
    const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const std::string alphabet_hex =
        "00108310518720928b30d38f41149351559761969b71d79f8218a39259a7a29aabb2dbafc31cb3d35db7e39ebbf3dfbf";
    const auto decoded = tee::from_base64(alphabet);
    REQUIRE(decoded);
    CHECK(tee::to_hex(*decoded) == alphabet_hex);
    CHECK(tee::to_base64(*tee::from_hex(alphabet_hex)) == alphabet);
}

TEST_CASE("base64: round trip of every length and byte value") {
    std::vector<std::uint8_t> data;
    for (int n = 0; n < 300; ++n) {
        CHECK(tee::from_base64(tee::to_base64(data)) == data);
        data.push_back(static_cast<std::uint8_t>(n * 37 + 11));
    }
}

TEST_CASE("base64: whitespace tolerated between characters") {
    CHECK(tee::from_base64("Zm9v\n") == bytes("foo"));
    CHECK(tee::from_base64("Zm9v\r\nYmFy\r\n") == bytes("foobar"));
    CHECK(tee::from_base64(" Z m 9 v Y g = = \t") == bytes("foob"));
    CHECK(tee::from_base64("Zm9vYg=\n=\n") == bytes("foob"));
    CHECK(tee::from_base64("\n\n") == std::vector<std::uint8_t>{});
}

TEST_CASE("base64: non-zero trailing bits accepted, like Python") {
    CHECK(tee::from_base64("Zh==") == bytes("f"));
    CHECK(tee::from_base64("Zm9=") == bytes("fo"));
}

TEST_CASE("base64: malformed input rejected") {
    CHECK_FALSE(tee::from_base64("Zg"));  // missing padding
    CHECK_FALSE(tee::from_base64("Zg="));
    CHECK_FALSE(tee::from_base64("Zm8"));
    CHECK_FALSE(tee::from_base64("Z"));
    CHECK_FALSE(tee::from_base64("Z==="));  // too much padding
    CHECK_FALSE(tee::from_base64("===="));
    CHECK_FALSE(tee::from_base64("="));
    CHECK_FALSE(tee::from_base64("Zm9v="));
    CHECK_FALSE(tee::from_base64("Zm8=="));
    CHECK_FALSE(tee::from_base64("Zg===="));
    CHECK_FALSE(tee::from_base64("Zg==Zg=="));  // data after padding
    CHECK_FALSE(tee::from_base64("Zg=a"));
    CHECK_FALSE(tee::from_base64("Zm9v!!"));  // Python's default decoder would drop "!!"
    CHECK_FALSE(tee::from_base64("Zm-_"));    // URL-safe alphabet
    CHECK_FALSE(tee::from_base64("Zm9v\v"));  // only space, \t, \r, \n are skipped
    CHECK_FALSE(tee::from_base64(std::string_view("Zm9v\0", 5)));
    CHECK_FALSE(tee::from_base64("Zm9\xc3\xa9"));
}
