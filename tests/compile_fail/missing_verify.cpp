// tests/compile_fail/missing_verify.cpp - an attestation policy without
// verify() is not a tee::attestation_policy: tee::client<> must refuse it with
// the concept's name. Compiled as is (must fail) and with -DTEE_CONTROL (must
// compile) by check.py.
#include <tee/tee.hpp>

#include <string_view>

struct no_verify_policy {
    static constexpr std::string_view kind = "custom";
    static constexpr bool verifies = true;
#ifdef TEE_CONTROL
    template <tee::crypto_backend Crypto>
    tee::enclave_identity verify(const nlohmann::json&, const Crypto&) const {
        return {};
    }
#endif
};

int main() {
    tee::client<tee::httplib_transport, tee::botan_crypto, no_verify_policy> client(tee::config{});
    (void)client;
}
