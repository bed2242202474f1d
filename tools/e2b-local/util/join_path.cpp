#include "util/join_path.hpp"

namespace e2b_local {

std::string JoinPath(const std::string& dir, const std::string& name) {
  std::string path;
  path.reserve(dir.size() + 1 + name.size());
  path += dir;
  path += '/';
  path += name;
  return path;
}

}  // namespace e2b_local
