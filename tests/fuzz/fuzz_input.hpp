#ifndef E2B_TESTS_FUZZ_FUZZ_INPUT_HPP_
#define E2B_TESTS_FUZZ_FUZZ_INPUT_HPP_

// Splits one libFuzzer input into the pieces a target needs. Every reader
// is total: past the end it returns zero or empty, so any byte string is a
// valid input and the corpus files stay readable (pieces are separated by a
// length byte, not by a format a mutation could break).

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace e2b_fuzz {

class FuzzInput {
 public:
  FuzzInput(const std::uint8_t* data, std::size_t size)
      : data_(reinterpret_cast<const char*>(data), size) {}

  bool empty() const { return data_.empty(); }
  std::size_t remaining() const { return data_.size(); }

  std::uint8_t Byte() {
    if (data_.empty()) return 0;
    auto b = static_cast<std::uint8_t>(data_.front());
    data_.remove_prefix(1);
    return b;
  }

  bool Bool() { return (Byte() & 1) != 0; }

  /// A piece of at most 255 bytes: one length byte, then the bytes.
  std::string ShortString() { return Take(Byte()); }

  /// Up to `n` bytes.
  std::string Take(std::size_t n) {
    n = n < data_.size() ? n : data_.size();
    std::string out(data_.substr(0, n));
    data_.remove_prefix(n);
    return out;
  }

  /// Everything not read yet.
  std::string Rest() { return Take(data_.size()); }

 private:
  std::string_view data_;
};

/// A broken invariant: print it and abort so libFuzzer records the input.
[[noreturn]] inline void Fail(const char* what, std::string_view detail = {}) {
  std::fprintf(stderr, "fuzz invariant broken: %s [%.*s]\n", what,
               static_cast<int>(detail.size() < 200 ? detail.size() : 200),
               detail.data());
  std::abort();
}

inline void Check(bool ok, const char* what, std::string_view detail = {}) {
  if (!ok) Fail(what, detail);
}

}  // namespace e2b_fuzz

#endif  // E2B_TESTS_FUZZ_FUZZ_INPUT_HPP_
