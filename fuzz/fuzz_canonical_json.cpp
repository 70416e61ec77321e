// fuzz_canonical_json: the strict parser for untrusted bodies and Python's
// json.dumps(sort_keys=True, separators=(",", ":")) writer. For every body
// parse_json accepts: canonical_json succeeds (unless the value holds a float
// that overflowed to infinity, which Python would write as "Infinity" and we
// refuse), its output parses back to an equal value, and canonicalizing that
// gives the same bytes (idempotence). Only tee::protocol_error may be thrown.
#include <tee/detail/canonical_json.hpp>

#include <cmath>
#include <limits>
#include <string>

#include "fuzz_util.hpp"

namespace {
bool has_non_finite(const nlohmann::json& j) {
    if (j.is_number_float()) return !std::isfinite(j.get<double>());
    for (const auto& e : j)
        if ((e.is_structured() || e.is_number_float()) && has_non_finite(e)) return true;
    return false;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    nlohmann::json j;
    try {
        j = tee::parse_json(fuzz::text(data, size));
    } catch (const tee::protocol_error&) {
        return 0;
    }
    std::string canonical;
    try {
        canonical = tee::canonical_json(j);
    } catch (const tee::protocol_error&) {
        FUZZ_CHECK(has_non_finite(j));
        return 0;
    }
    FUZZ_CHECK(!has_non_finite(j));
    // \u escapes can make the canonical form up to 6x longer than the body.
    const tee::json_limits unlimited_size{32, std::numeric_limits<std::size_t>::max()};
    nlohmann::json back;
    try {
        back = tee::parse_json(canonical, unlimited_size);
    } catch (const tee::protocol_error& e) {
        std::fprintf(stderr, "canonical form does not parse: %s\n", e.what());
        FUZZ_CHECK(false);
    }
    FUZZ_CHECK(back == j);
    FUZZ_CHECK(tee::canonical_json(back) == canonical);
    return 0;
}
