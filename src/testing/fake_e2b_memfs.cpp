#include "testing/fake_e2b_memfs.hpp"

#include <utility>

namespace e2b::testing::internal {
namespace {

MemNode Directory() {
  MemNode node;
  node.directory = true;
  node.modified = std::chrono::system_clock::now();
  return node;
}

std::string ParentOf(const std::string& abs) {
  const auto slash = abs.rfind('/');
  return slash == 0 ? "/" : abs.substr(0, slash);
}

// True when `path` is `dir` itself or below it.
bool IsAtOrBelow(const std::string& path, const std::string& dir) {
  if (dir == "/") return true;
  return path == dir ||
         (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
          path[dir.size()] == '/');
}

}  // namespace

std::string BaseName(const std::string& abs) {
  if (abs == "/") return "/";
  return abs.substr(abs.rfind('/') + 1);
}

MemFilesystem::MemFilesystem() {
  // What a fresh E2B sandbox has that tests most often touch.
  for (const char* dir : {"/", "/home", kFakeHome, "/tmp"}) {
    nodes_.emplace(dir, Directory());
  }
}

std::optional<std::string> MemFilesystem::Resolve(std::string_view path) {
  if (path.find('\0') != std::string_view::npos) return std::nullopt;
  std::string full;
  if (path.empty() || path == "~") {
    full = kFakeHome;
  } else if (path.substr(0, 2) == "~/") {
    full = std::string(kFakeHome) + std::string(path.substr(1));
  } else if (path.front() == '~') {
    return std::nullopt;  // ~otheruser: envd cannot resolve it either
  } else if (path.front() == '/') {
    full = std::string(path);
  } else {
    full = std::string(kFakeHome) + "/" + std::string(path);
  }
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= full.size()) {
    std::size_t end = full.find('/', start);
    if (end == std::string::npos) end = full.size();
    std::string part = full.substr(start, end - start);
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(std::move(part));
    }
    start = end + 1;
  }
  std::string out;
  for (const auto& part : parts) out += "/" + part;
  return out.empty() ? "/" : out;
}

const MemNode* MemFilesystem::Find(const std::string& abs) const {
  auto it = nodes_.find(abs);
  return it == nodes_.end() ? nullptr : &it->second;
}

MemStatus MemFilesystem::MakeParents(const std::string& abs) {
  if (abs == "/") return MemStatus::kOk;
  const std::string parent = ParentOf(abs);
  if (const MemNode* node = Find(parent)) {
    return node->directory ? MemStatus::kOk : MemStatus::kNotDirectory;
  }
  const MemStatus status = MakeParents(parent);
  if (status != MemStatus::kOk) return status;
  nodes_.emplace(parent, Directory());
  return MemStatus::kOk;
}

MemStatus MemFilesystem::WriteFile(
    const std::string& abs, std::string content,
    std::map<std::string, std::string> metadata) {
  if (const MemNode* node = Find(abs); node != nullptr && node->directory) {
    return MemStatus::kIsDirectory;
  }
  const MemStatus status = MakeParents(abs);
  if (status != MemStatus::kOk) return status;
  MemNode& node = nodes_[abs];
  node.directory = false;
  node.content = std::move(content);
  node.metadata = std::move(metadata);
  node.modified = std::chrono::system_clock::now();
  return MemStatus::kOk;
}

MemStatus MemFilesystem::MakeDir(const std::string& abs) {
  if (const MemNode* node = Find(abs)) {
    return node->directory ? MemStatus::kAlreadyExists
                           : MemStatus::kNotDirectory;
  }
  const MemStatus status = MakeParents(abs);
  if (status != MemStatus::kOk) return status;
  nodes_.emplace(abs, Directory());
  return MemStatus::kOk;
}

void MemFilesystem::Remove(const std::string& abs) {
  for (auto it = nodes_.lower_bound(abs); it != nodes_.end();) {
    if (IsAtOrBelow(it->first, abs)) {
      it = nodes_.erase(it);
    } else if (it->first.compare(0, abs.size(), abs) == 0) {
      ++it;  // a sibling such as "/a-b" sorts between "/a" and "/a/..."
    } else {
      break;
    }
  }
  if (abs == "/") nodes_.emplace("/", Directory());
}

MemStatus MemFilesystem::Move(const std::string& from, const std::string& to) {
  if (Find(from) == nullptr) return MemStatus::kNotFound;
  if (from == to) return MemStatus::kOk;
  if (IsAtOrBelow(to, from)) return MemStatus::kInvalidPath;
  if (const MemNode* target = Find(to);
      target != nullptr && target->directory && !Find(from)->directory) {
    return MemStatus::kIsDirectory;
  }
  const MemStatus status = MakeParents(to);
  if (status != MemStatus::kOk) return status;
  std::map<std::string, MemNode> moved;
  for (const auto& [path, node] : nodes_) {
    if (IsAtOrBelow(path, from))
      moved.emplace(to + path.substr(from.size()), node);
  }
  Remove(from);
  Remove(to);
  for (auto& [path, node] : moved) nodes_[path] = std::move(node);
  return MemStatus::kOk;
}

MemStatus MemFilesystem::List(const std::string& abs, unsigned depth,
                              std::vector<MemEntry>& out) const {
  const MemNode* dir = Find(abs);
  if (dir == nullptr) return MemStatus::kNotFound;
  if (!dir->directory) return MemStatus::kNotDirectory;
  const std::string prefix = abs == "/" ? "/" : abs + "/";
  for (const auto& [path, node] : nodes_) {
    if (path.size() <= prefix.size() ||
        path.compare(0, prefix.size(), prefix) != 0) {
      continue;
    }
    const std::string rest = path.substr(prefix.size());
    unsigned level = 1;
    for (char c : rest) level += c == '/' ? 1U : 0U;
    if (level <= depth) out.push_back(MemEntry{path, BaseName(path), &node});
  }
  return MemStatus::kOk;
}

}  // namespace e2b::testing::internal
