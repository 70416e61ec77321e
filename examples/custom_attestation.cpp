// examples/custom_attestation.cpp - an attestation policy that wraps
// tee::nitro_attestation and adds its own check: an allow-list of enclave
// images (PCR0 values) read from a plain file. It shows the customization
// point; for real deployments the built-in signed allowlist
// (nitro_options::allowlist, docs/security.md) is the one to use: it is signed
// by a release key, expires, and refuses rollbacks. The wrapped policy is told
// to accept any image (the wrapper is the image policy), and gets everything
// else checked as usual.
//
//   custom_attestation [ALLOWLIST]    default: pcr_allowlist.txt next to the program
#include <tee/tee.hpp>
#include <tee/testing/enclave_server.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

class pcr0_allowlist {
public:
    static constexpr std::string_view kind = "nitro+allowlist";  // recorded in enclave_identity::kind
    static constexpr bool verifies = true;                       // it proves who the enclave is

    pcr0_allowlist(tee::nitro_attestation nitro, std::vector<std::vector<std::uint8_t>> images)
        : nitro_(std::move(nitro)), images_(std::move(images)) {}

    // One hex PCR0 per line; '#' starts a comment.
    static std::vector<std::vector<std::uint8_t>> load(const std::filesystem::path& file) {
        std::ifstream in(file);
        if (!in) throw tee::config_error("cannot read the allow-list " + file.string());
        std::vector<std::vector<std::uint8_t>> images;
        for (std::string line; std::getline(in, line);) {
            line = line.substr(0, line.find('#'));
            std::erase_if(line, [](unsigned char c) { return std::isspace(c); });
            if (line.empty()) continue;
            auto pcr0 = tee::from_hex(line);
            if (!pcr0 || pcr0->size() != 48) throw tee::config_error("allow-list line is not a 48-byte hex PCR0");
            images.push_back(std::move(*pcr0));
        }
        if (images.empty()) throw tee::config_error("the allow-list is empty: no enclave would pass");
        return images;
    }

    // Everything the Nitro policy checks (signature, chain, key binding, its
    // own pins), then the allow-list. Throwing tee::attestation_error refuses;
    // its reason says which check (here: the image policy).
    template <tee::crypto_backend Crypto>
    tee::enclave_identity verify(const nlohmann::json& answer, const Crypto& crypto) const {
        tee::enclave_identity id = nitro_.verify(answer, crypto);
        const auto& pcr0 = id.pcrs.at(0);  // the Nitro policy guarantees PCR0 is present
        if (std::find(images_.begin(), images_.end(), pcr0) == images_.end())
            throw tee::attestation_error(tee::attestation_reason::image_policy,
                                         "enclave image PCR0 " + tee::to_hex(pcr0) + " is not in the allow-list");
        id.kind = std::string(kind);
        return id;
    }

private:
    tee::nitro_attestation nitro_;
    std::vector<std::vector<std::uint8_t>> images_;
};
static_assert(tee::attestation_policy<pcr0_allowlist, tee::botan_crypto>);

using allowlist_client = tee::client<tee::httplib_transport, tee::botan_crypto, pcr0_allowlist>;

// A simulated Nitro enclave whose image measures `pcr0`, asked for one chat.
std::string chat_with_enclave(const std::vector<std::uint8_t>& pcr0,
                              const std::vector<std::vector<std::uint8_t>>& images) {
    tee::testing::simulated_enclave enclave({.nitro = true, .pcrs = {{0, pcr0}}});
    tee::testing::enclave_server server(enclave);
    tee::config cfg;
    cfg.url = server.url();
    cfg.api_key = tee::secret_string("demo-key");
    cfg.platform = "openai";
    cfg.model = "gpt-4";
    tee::nitro_options trust;
    trust.trusted_root = enclave.pki()->root_pem();  // trust the simulated enclave's test root
    trust.accept_any_enclave_image = true;           // the allow-list below is this program's image policy
    allowlist_client client(cfg, pcr0_allowlist(tee::nitro_attestation(trust), images));
    return client.chat("BTC price right now").response;
}

int main(int argc, char** argv) try {
    auto file =
        argc > 1 ? std::filesystem::path(argv[1]) : std::filesystem::path(argv[0]).parent_path() / "pcr_allowlist.txt";
    auto images = pcr0_allowlist::load(file);
    std::cout << images.size() << " enclave images allowed (" << file.filename().string() << ")\n";

    std::cout << "listed image:   " << chat_with_enclave(images.front(), images) << "\n";
    try {
        chat_with_enclave(std::vector<std::uint8_t>(48, 0x5e), images);
        std::cerr << "an unlisted image was accepted\n";
        return 1;
    } catch (const tee::attestation_error& e) {
        std::cout << "unlisted image: refused (" << e.what() << ")\n";
    }
} catch (const tee::error& e) {
    std::cerr << tee::to_string(e.kind()) << " error: " << e.what() << "\n";
    return 1;
}
