#ifndef E2B_LOCAL_STORE_RANDOM_IDS_HPP_
#define E2B_LOCAL_STORE_RANDOM_IDS_HPP_

// Identifiers and secrets e2b-local hands out, from the kernel's CSPRNG.

#include <cstddef>
#include <string>

namespace e2b_local {

/// `count` characters of [a-z0-9].
std::string RandomAlnum(std::size_t count);
/// `count` lowercase hex characters.
std::string RandomHex(std::size_t count);
/// A random (version 4) UUID in its 36-character text form.
std::string RandomUuid();
/// A sandbox ID as the E2B API makes them: "i" + 20 chars of [a-z0-9].
std::string NewSandboxId();
/// An API key matching ^e2b_[0-9a-f]{40}$ (what the JS SDK validates).
std::string NewApiKey();

}  // namespace e2b_local

#endif  // E2B_LOCAL_STORE_RANDOM_IDS_HPP_
