#ifndef E2B_LOCAL_RUNTIME_CLONE_MEMORY_HPP_
#define E2B_LOCAL_RUNTIME_CLONE_MEMORY_HPP_

// Whether a child the server clones to exec something (a sandbox's init,
// slirp4netns) borrows the server's memory until the exec (CLONE_VM, as
// posix_spawn does) or gets a copy of it.
//
// Borrowing is what makes creates fast: a copy turns every page of the
// server copy-on-write, and the faults that follow cost ~10 ms per create
// in a VM. But the child then runs on the calling thread's thread-local
// storage, so it may call nothing that keeps state there. Sanitizer
// runtimes do (ASan's fake stacks, TSan's shadow stack and signal tables,
// their interceptors of read, mount, sigaction...), so sanitized builds
// copy: slower, and safe.

#include "runtime/sanitizers.hpp"

#include <sched.h>

namespace e2b_local::runtime_internal {

inline constexpr bool kSanitizerRuntime = kAddressSanitizer || kThreadSanitizer;

/// CLONE_VM, or 0 in sanitized builds (see above).
inline constexpr int kCloneBorrowMemory = kSanitizerRuntime ? 0 : CLONE_VM;

}  // namespace e2b_local::runtime_internal

#endif  // E2B_LOCAL_RUNTIME_CLONE_MEMORY_HPP_
