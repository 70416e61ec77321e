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
#error \
    "tee-client: include <tee/...> before <fcntl.h> / <httplib.h>: glibc's tee(2) declared there collides with namespace tee"
#endif
#define TEE_FCNTL_RENAMED 1
#define tee tee_glibc_splice_function
#include <fcntl.h>
#undef tee
#endif

// Declarations and definitions (like spdlog's SPDLOG_HEADER_ONLY / -inl.h).
// Every header declares its classes and functions first; the bodies of its
// non-template functions follow in a section guarded by TEE_CLIENT_DEFINITIONS,
// each marked TEE_INLINE:
//  * header-only (the default): the section is compiled, TEE_INLINE is
//    `inline`; every file that includes a header compiles what it uses;
//  * TEE_CLIENT_COMPILED_LIB: a file sees the declarations only (and the
//    templates, which stay where they are); src/tee_client.cpp, which defines
//    TEE_CLIENT_IMPLEMENTATION too, holds the one (non-inline) definition of
//    each function, and the program links it. All files of a program choose
//    the same mode.
#if !defined(TEE_CLIENT_COMPILED_LIB)
#define TEE_INLINE inline
#define TEE_CLIENT_DEFINITIONS 1
#elif defined(TEE_CLIENT_IMPLEMENTATION)
#define TEE_INLINE
#define TEE_CLIENT_DEFINITIONS 1
#else
#define TEE_INLINE
#endif

// TEE_GCC_NOINLINE: not inlined under GCC. For the few functions whose inlined
// copies make GCC 12 at -O2/-O3 report a false -Wstringop-overflow or
// -Warray-bounds (warnings it enables by default) in the including file, which
// would fail a user's -Werror release build.
#if defined(__GNUC__) && !defined(__clang__)
#define TEE_GCC_NOINLINE [[gnu::noinline]]
#else
#define TEE_GCC_NOINLINE
#endif
