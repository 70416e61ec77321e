// A poisoned header (tests/poisoned_include): what includes only <tee/core.hpp>
// must not reach it. examples/meson.build compiles custom_transport.cpp with
// this folder first on the include path.
#error "<httplib.h> reached from <tee/core.hpp>: the core must include no HTTP library, socket or OS header"
