// tee/version.hpp - the library version.
#pragma once

#include "tee/detail/prelude.hpp"

#include <string_view>

#define TEE_CLIENT_VERSION_MAJOR 0
#define TEE_CLIENT_VERSION_MINOR 1
#define TEE_CLIENT_VERSION_PATCH 0
#define TEE_CLIENT_VERSION "0.1.0"

namespace tee {
constexpr std::string_view version() noexcept { return TEE_CLIENT_VERSION; }
}  // namespace tee
