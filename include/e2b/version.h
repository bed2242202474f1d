// The e2b-cpp version, under the name the release notes use: the same
// macros and e2b::Version() as <e2b/version.hpp>, which CMake generates from
// project(e2b VERSION ...) in CMakeLists.txt, the one place a release sets it.
#ifndef E2B_VERSION_H_
#define E2B_VERSION_H_

#include <e2b/version.hpp>

#endif  // E2B_VERSION_H_
