// fuzz_known_enclaves: the known-enclaves file parser (tee/image_policy.hpp).
// For every input: parse() either throws tee::config_error or gives entries
// with distinct normalized URLs and 32/48/64-byte PCRs, and format() of them
// parses back to the same entries.
#include <tee/image_policy.hpp>

#include <set>
#include <string>

#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::vector<tee::known_enclave> entries;
    try {
        entries = tee::known_enclaves::parse(fuzz::text(data, size));
    } catch (const tee::config_error& e) {
        fuzz::refused(e);
        return 0;
    }
    std::set<std::string> urls;
    for (const auto& e : entries) {
        FUZZ_CHECK(!e.url.empty() && e.url.back() != '/');
        FUZZ_CHECK(tee::known_enclaves::normalize_url(e.url) == e.url);
        FUZZ_CHECK(urls.insert(e.url).second);
        for (const auto* p : {&e.pcr0, &e.pcr1, &e.pcr2})
            FUZZ_CHECK(p->size() == 32 || p->size() == 48 || p->size() == 64);
    }
    const auto back = tee::known_enclaves::parse(tee::known_enclaves::format(entries));
    FUZZ_CHECK(back.size() == entries.size());
    for (std::size_t i = 0; i < back.size(); ++i)
        FUZZ_CHECK(back[i].url == entries[i].url && back[i].pcr0 == entries[i].pcr0 &&
                   back[i].pcr1 == entries[i].pcr1 && back[i].pcr2 == entries[i].pcr2);
    return 0;
}
