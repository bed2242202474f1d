#include <e2b/version.hpp>

namespace e2b {

const char* Version() { return E2B_VERSION_STRING; }

}  // namespace e2b
