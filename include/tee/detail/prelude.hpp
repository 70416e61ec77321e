// tee/detail/prelude.hpp - included first by every tee header.
//
// glibc declares a function ::tee(2) (the splice family) in <fcntl.h> whenever
// _GNU_SOURCE is defined, which g++ always does for libstdc++. A function and
// a namespace cannot share a name, so `namespace tee` would not compile after
// <fcntl.h> (which <httplib.h> includes). We include <fcntl.h> here with that
// one declaration renamed; its include guard keeps it from coming back later.
// The only order that cannot work is <fcntl.h> or <httplib.h> *before* the
// first tee header, and that gets a readable error instead of a puzzling one.
#pragma once

#if defined(__GLIBC__) || __has_include(<features.h>)
#if defined(_FCNTL_H) && !defined(TEE_FCNTL_RENAMED)
#error "tee-client: include <tee/...> before <fcntl.h> / <httplib.h>: glibc's tee(2) declared there collides with namespace tee"
#endif
#define TEE_FCNTL_RENAMED 1
#define tee tee_glibc_splice_function
#include <fcntl.h>
#undef tee
#endif
