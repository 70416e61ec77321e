// tests/compile_fail/missing_member.cpp - a transport without post_json is not
// a tee::transport: plugging it into tee::client<> must not compile, and the
// first error must name the concept. check.py compiles this file twice: as is
// (must fail for that reason) and with -DTEE_CONTROL (the member added: must
// compile), so that a failure for any other reason does not pass.
#include <tee/tee.hpp>

#include <string_view>

struct no_post_transport {
    explicit no_post_transport(const tee::transport_options&) {}
    tee::http_response get(std::string_view) { return {}; }
#ifdef TEE_CONTROL
    tee::http_response post_json(std::string_view, std::string_view) { return {}; }
#endif
};

int main() {
    tee::client<no_post_transport> client(tee::config{});
    (void)client;
}
