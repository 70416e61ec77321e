// Tests for tee/detail/canonical_json.hpp.
//
// Every expected canonical string below was produced by the real CPython
// (Debian's /usr/bin/python3, 3.11.2) with
//
//     json.dumps(json.loads(INPUT), separators=(",", ":"), sort_keys=True)
//
// (or json.dumps(VALUE, ...) for the values built in C++), then pasted here.
// Inputs are written with octal escapes so the file stays ASCII.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>

#include "tee/detail/canonical_json.hpp"

#ifndef TEE_TEST_DATA_DIR
#error "define TEE_TEST_DATA_DIR as a string literal, e.g. -DTEE_TEST_DATA_DIR='\"tests/data\"'"
#endif

namespace {

using nlohmann::json;

void check_python(const std::string& input, const std::string& expected) {
    CAPTURE(input);
    const json parsed = tee::parse_json(input);
    CHECK(tee::canonical_json(parsed) == expected);
    // The canonical form is itself valid input and a fixed point.
    CHECK(tee::canonical_json(tee::parse_json(expected)) == expected);
}

// Asserts that parse_json(body) throws tee::protocol_error whose message
// contains `fragment`.
void check_rejected(const std::string& body, const std::string& fragment, const tee::json_limits& limits = {}) {
    CAPTURE(fragment);
    bool thrown = false;
    try {
        (void)tee::parse_json(body, limits);
    } catch (const tee::protocol_error& e) {
        thrown = true;
        const std::string what = e.what();
        CAPTURE(what);
        CHECK(what.find(fragment) != std::string::npos);
        CHECK(what.size() < 400);  // never the whole body
        CHECK(e.kind() == tee::error_kind::protocol);
    }
    CHECK(thrown);
}

std::string nested_arrays(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

}  // namespace

TEST_CASE("canonical_json: key order is code point order") {
    // keys
    check_python(
        "{\"b\":1,\"a\":2,\"ab\":3,\"B\":4,\"A\":5,\"aa\":6,\"\":7,\"\303\251\":8,\"e\":9,\"z\":10,\"\344\270\255\":11,"
        "\"\360\237\230\200\":12,\"\357\277\277\":13,\"\177\":14,\"_\":15,\"~\":16,\"1\":17}",
        R"py({"":7,"1":17,"A":5,"B":4,"_":15,"a":2,"aa":6,"ab":3,"b":1,"e":9,"z":10,"~":16,"\u007f":14,"\u00e9":8,"\u4e2d":11,"\uffff":13,"\ud83d\ude00":12})py");
    // keys differing only in non-ASCII characters; U+FF61 (3 UTF-8 bytes) sorts
    // before U+1F600 (4 bytes) as in Python, whose str order is by code point
    check_python(
        "{\"\303\251a\":1,\"\303\250b\":2,\"\303\251\":3,\"\344\270\255\346\226\207\":4,\"\344\270\255\":5,"
        "\"\360\237\230\200\":6,\"\360\237\230\201\":7,\"\357\275\241\":8}",
        R"py({"\u00e8b":2,"\u00e9":3,"\u00e9a":1,"\u4e2d":5,"\u4e2d\u6587":4,"\uff61":8,"\ud83d\ude00":6,"\ud83d\ude01":7})py");

    // Insertion order does not matter for a DOM built in C++ either.
    json j = json::object();
    j["zeta"] = 1;
    j["Zeta"] = 2;
    j["ab"] = 3;
    j["a"] = 4;
    CHECK(tee::canonical_json(j) == R"py({"Zeta":2,"a":4,"ab":3,"zeta":1})py");
}

TEST_CASE("canonical_json: unicode escapes are lowercase, non-BMP as surrogate pairs") {
    check_python(
        "[\"\303\251\",\"\344\270\255\",\"\360\237\230\200\",\"\177\",\"\302\200\",\"\342\200\250\",\"\342\200\251\","
        "\"\357\273\277\",\"\364\217\277\277\",\"a\303\251b\344\270\255c\360\237\230\200d\"]",
        R"py(["\u00e9","\u4e2d","\ud83d\ude00","\u007f","\u0080","\u2028","\u2029","\ufeff","\udbff\udfff","a\u00e9b\u4e2dc\ud83d\ude00d"])py");
}

TEST_CASE("canonical_json: control characters, quotes, backslashes, slash") {
    // json.dumps("".join(chr(i) for i in range(0x20)) + "\x7f\x80 ~", ...)
    std::string s;
    for (int c = 0; c < 0x20; ++c) s.push_back(static_cast<char>(c));
    s += "\x7f\xc2\x80 ~";
    CHECK(
        tee::canonical_json(json(s)) ==
        R"py("\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000b\f\r\u000e\u000f\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b\u001c\u001d\u001e\u001f\u007f\u0080 ~")py");

    check_python("[\"\\\"\",\"\\\\\",\"a\\\"b\\\\c\",\"/\",\"<\\/script>\",\"\\\\\\\"\\\\\"]",
                 R"py(["\"","\\","a\"b\\c","/","</script>","\\\"\\"])py");
}

TEST_CASE("canonical_json: integers") {
    check_python("[0,-1,-9223372036854775808,9223372036854775807,18446744073709551615,1747364177,-0]",
                 R"py([0,-1,-9223372036854775808,9223372036854775807,18446744073709551615,1747364177,0])py");
    json j = json::array({0, -1, std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::uint64_t>::max(),
                          std::int64_t{1747364177}});
    CHECK(tee::canonical_json(j) == R"py([0,-1,-9223372036854775808,18446744073709551615,1747364177])py");
}

TEST_CASE("canonical_json: floats as Python repr") {
    check_python(
        "[0.1,100.0,1e-05,0.0001,1e+16,1e15,1.5e+16,-0.0,123456789.123,5e-324,1.7976931348623157e+308,2.5,0.0,1.0,-1.5,"
        "1e16,9999999999999998.0,1e-4,0.00001,1E2,3.141592653589793,1e22,1e-7,123e-20,2.2250738585072014e-308,0.3,"
        "1e100,-1e-100]",
        R"py([0.1,100.0,1e-05,0.0001,1e+16,1000000000000000.0,1.5e+16,-0.0,123456789.123,5e-324,1.7976931348623157e+308,2.5,0.0,1.0,-1.5,1e+16,9999999999999998.0,0.0001,1e-05,100.0,3.141592653589793,1e+22,1e-07,1.23e-18,2.2250738585072014e-308,0.3,1e+100,-1e-100])py");

    // Doubles built in C++; expected: json.dumps([0.1, 100.0, ...]) in Python.
    json j = json::array(
        {0.1, 100.0, 1e-05, 0.0001, 1e16, 1e15, 1.5e16, -0.0, 123456789.123, 5e-324, 1.7976931348623157e+308, 2.5});
    CHECK(
        tee::canonical_json(j) ==
        R"py([0.1,100.0,1e-05,0.0001,1e+16,1000000000000000.0,1.5e+16,-0.0,123456789.123,5e-324,1.7976931348623157e+308,2.5])py");
    // An integral float stays a float, an integer stays an integer.
    CHECK(tee::canonical_json(tee::parse_json("[1.0,1]")) == "[1.0,1]");
}

TEST_CASE("canonical_json: structure and literals") {
    check_python("{\"z\":{\"b\":[1,{\"y\":null,\"x\":true}],\"a\":{}},\"a\":[[],[[]],{}],\"m\":false}",
                 R"py({"a":[[],[[]],{}],"m":false,"z":{"a":{},"b":[1,{"x":true,"y":null}]}})py");
    check_python("{}", R"py({})py");
    check_python("[]", R"py([])py");
    check_python("[true,false,null]", R"py([true,false,null])py");
    check_python("\"x\"", R"py("x")py");
    check_python("42", R"py(42)py");
    check_python(" { \"a\" : [ 1 , 2 ] }\r\n", R"py({"a":[1,2]})py");
    CHECK(tee::canonical_json(json()) == "null");
    CHECK(tee::canonical_json(json::object()) == "{}");
    CHECK(tee::canonical_json(json::array()) == "[]");
}

TEST_CASE("canonical_json: a signed answer with non-ASCII text") {
    // The shape of a /talk answer, UTF-8 in insertion order as the service sends it.
    check_python(
        "{\"platform\":\"openai\",\"ai_model\":\"gpt-4\",\"timestamp\":1747364177,\"message\":\"Quelle est la date ? "
        "\346\227\245\346\234\254 \360\237\230\200\",\"response\":\"R\303\251ponse: \\\"ok\\\"\\n/fin\\\\\"}",
        R"py({"ai_model":"gpt-4","message":"Quelle est la date ? \u65e5\u672c \ud83d\ude00","platform":"openai","response":"R\u00e9ponse: \"ok\"\n/fin\\","timestamp":1747364177})py");
}

TEST_CASE("canonical_json: the real signed response vector") {
    std::ifstream in(TEE_TEST_DATA_DIR "/signed_response_vector.json", std::ios::binary);
    REQUIRE(in);
    std::stringstream ss;
    ss << in.rdbuf();
    const json vector = tee::parse_json(ss.str());
    REQUIRE(vector.contains("data"));
    REQUIRE(vector["canonical"].is_string());
    CHECK(tee::canonical_json(vector["data"]) == vector["canonical"].get<std::string>());
}

TEST_CASE("canonical_json: values Python would serialize but no peer accepts") {
    CHECK_THROWS_AS(tee::canonical_json(json(std::nan(""))), tee::protocol_error);
    CHECK_THROWS_AS(tee::canonical_json(json::array({1, std::numeric_limits<double>::infinity()})),
                    tee::protocol_error);
    CHECK_THROWS_AS(tee::canonical_json(json(-std::numeric_limits<double>::infinity())), tee::protocol_error);
    CHECK_THROWS_AS(tee::canonical_json(json::binary({1, 2, 3})), tee::protocol_error);
    // Invalid UTF-8 in a value or a key of a DOM built in C++.
    CHECK_THROWS_WITH_AS(tee::canonical_json(json("a\xff")), doctest::Contains("UTF-8"), tee::protocol_error);
    CHECK_THROWS_AS(tee::canonical_json(json("\xc0\xaf")), tee::protocol_error);          // overlong '/'
    CHECK_THROWS_AS(tee::canonical_json(json("\xed\xa0\x80")), tee::protocol_error);      // encoded surrogate
    CHECK_THROWS_AS(tee::canonical_json(json("\xf4\x90\x80\x80")), tee::protocol_error);  // above U+10FFFF
    CHECK_THROWS_AS(tee::canonical_json(json("\xe4\xb8")), tee::protocol_error);          // truncated
    CHECK_THROWS_AS(tee::canonical_json(json("\x80")), tee::protocol_error);              // lone continuation
    json bad_key = json::object();
    bad_key["\xfe"] = 1;
    CHECK_THROWS_AS(tee::canonical_json(bad_key), tee::protocol_error);
    // Very deep DOMs built in C++ are refused rather than overflowing the stack.
    json deep = json::array();
    for (int i = 0; i < 1000; ++i) deep = json::array({std::move(deep)});
    CHECK_THROWS_AS(tee::canonical_json(deep), tee::protocol_error);
}

TEST_CASE("parse_json: accepts up to the limits") {
    CHECK(tee::parse_json(nested_arrays(32)).is_array());
    CHECK(tee::parse_json("{\"a\":" + nested_arrays(31) + "}").is_object());
    CHECK(tee::parse_json("[-9223372036854775808,18446744073709551615]") ==
          json::array({std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::uint64_t>::max()}));
    CHECK(tee::parse_json("{\"a\":{\"k\":1},\"b\":{\"k\":2}}")["b"]["k"] == 2);  // same key, different objects
    CHECK(tee::parse_json("12345", tee::json_limits{0, 5}) == 12345);
}

TEST_CASE("parse_json: rejects malformed answers") {
    check_rejected("", "empty");
    check_rejected("{\"a\":", "answer is not valid JSON");
    check_rejected("{\"a\":", "at byte offset 5");      // the end of input
    check_rejected("{\"a\":1} x", "at byte offset 8");  // the 'x'
    check_rejected("[1,]", "at byte offset 3");
    check_rejected("{\"a\":1} x", "answer is not valid JSON");
    check_rejected("{\"a\":1}{}", "answer is not valid JSON");
    check_rejected("<html>502 Bad Gateway</html>", "answer starts with '<html>502 Bad Gateway</html>'");
    check_rejected("   ", "answer is not valid JSON");
    check_rejected("[NaN]", "answer is not valid JSON");
    check_rejected("[Infinity]", "answer is not valid JSON");
    check_rejected("{\"a\":1,}", "answer is not valid JSON");
    check_rejected("[1] // comment", "answer is not valid JSON");
    check_rejected("[1e400]", "overflow");
    check_rejected("[\"\\ud800\"]", "surrogate");  // lone surrogate (Python accepts it)
}

TEST_CASE("parse_json: rejects invalid UTF-8") {
    check_rejected("[\"a\xff\"]", "UTF-8");
    check_rejected("[\"\xc0\xaf\"]", "UTF-8");          // overlong '/'
    check_rejected("[\"\xed\xa0\x80\"]", "UTF-8");      // encoded surrogate
    check_rejected("[\"\xf4\x90\x80\x80\"]", "UTF-8");  // above U+10FFFF
    check_rejected("{\"\xe4\xb8\":1}", "UTF-8");        // truncated, in a key
    // The sanitized message carries no raw bytes.
    try {
        (void)tee::parse_json("[\"\xff\"]");
    } catch (const tee::protocol_error& e) {
        for (char c : std::string(e.what())) CHECK((c >= 0x20 && c <= 0x7e));
    }
}

TEST_CASE("parse_json: nesting, duplicates, integer range, size") {
    check_rejected(nested_arrays(33), "nested deeper than 32");
    check_rejected("{\"a\":" + nested_arrays(32) + "}", "nested deeper than 32");
    check_rejected(nested_arrays(4), "nested deeper than 3", tee::json_limits{3, 1 << 20});
    // 100000 levels: refused at level 33, no stack overflow.
    check_rejected(std::string(100000, '['), "nested deeper than 32");
    check_rejected(std::string(50000, '[') + std::string(50000, '{'), "nested deeper than 32");

    check_rejected("{\"a\":1,\"a\":2}", "duplicate object key \"a\"");
    check_rejected("{\"x\":{\"b\":1,\"c\":2,\"b\":1}}", "duplicate object key \"b\"");
    check_rejected("{\"\\u00e9\":1,\"\303\251\":2}", "duplicate object key");  // same key, two spellings

    check_rejected("[18446744073709551616]", "integer out of 64-bit range");  // 2^64
    check_rejected("[-9223372036854775809]", "integer out of 64-bit range");  // -2^63-1
    check_rejected("{\"t\":100000000000000000000000000000}", "integer out of 64-bit range");

    check_rejected("[1,2,3,4]", "too large", tee::json_limits{32, 8});
    CHECK(tee::parse_json("[1,2,3]", tee::json_limits{32, 7}).size() == 3);
    // The default limit is 8 MiB.
    check_rejected("\"" + std::string(8 << 20, 'a') + "\"", "too large");
    // A long token in a syntax error is truncated, not echoed.
    check_rejected("[\"" + std::string(100000, 'a') + "\x01\"]", "answer is not valid JSON");
}
