// tee/tee.hpp - everything of tee-client in one include.
//
//   #include <tee/tee.hpp>
//   tee::client<> c(tee::config::from_env());
//   std::cout << c.chat("BTC price right now").response << "\n";
#pragma once

#include "tee/version.hpp"
#include "tee/client.hpp"
#include "tee/openssl_crypto.hpp"  // the alternative crypto backend (links libcrypto if used)
