#ifndef E2B_LOCAL_UTIL_JOIN_PATH_HPP_
#define E2B_LOCAL_UTIL_JOIN_PATH_HPP_

// Host paths of the entries found by listing a directory, built the same
// way wherever a tree is walked.

#include <string>

namespace e2b_local {

/// `dir` + "/" + `name`, in one allocation (walks call it once per entry).
std::string JoinPath(const std::string& dir, const std::string& name);

}  // namespace e2b_local

#endif  // E2B_LOCAL_UTIL_JOIN_PATH_HPP_
