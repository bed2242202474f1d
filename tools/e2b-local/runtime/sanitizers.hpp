#ifndef E2B_LOCAL_RUNTIME_SANITIZERS_HPP_
#define E2B_LOCAL_RUNTIME_SANITIZERS_HPP_

// Which sanitizer runtime this translation unit is built with (GCC defines
// __SANITIZE_*__, Clang answers __has_feature), for the few places that
// must act differently under one.

namespace e2b_local::runtime_internal {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kAddressSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kAddressSanitizer = true;
#else
inline constexpr bool kAddressSanitizer = false;
#endif
#else
inline constexpr bool kAddressSanitizer = false;
#endif

#if defined(__SANITIZE_THREAD__)
inline constexpr bool kThreadSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
inline constexpr bool kThreadSanitizer = true;
#else
inline constexpr bool kThreadSanitizer = false;
#endif
#else
inline constexpr bool kThreadSanitizer = false;
#endif

}  // namespace e2b_local::runtime_internal

#endif  // E2B_LOCAL_RUNTIME_SANITIZERS_HPP_
