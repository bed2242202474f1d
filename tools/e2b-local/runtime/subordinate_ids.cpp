#include "runtime/subordinate_ids.hpp"

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace e2b_local {
namespace {

// Sandboxes use exactly this many ids; shadow's default SUB_UID_MIN is
// 100000, and anything below 65536 would include ordinary host users.
constexpr std::uint64_t kIdsPerSandbox = 65536;
constexpr std::uint64_t kLowestStart = 65536;
constexpr std::uint64_t kIdLimit = 0xffffffffULL;  // (uid_t)-1 is invalid

struct Entry {
  std::uint64_t start = 0, count = 0;
};

bool ParseNumber(const std::string& text, std::uint64_t& value) {
  if (text.empty() || text.size() > 10) return false;
  value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return true;
}

// The first entry for `account` with enough ids; `named` tells whether any
// line named it at all.
std::optional<Entry> FindEntry(const std::string& text,
                               const std::string& account, bool& named) {
  named = false;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string name, start, count;
    if (!std::getline(fields, name, ':') || name != account ||
        !std::getline(fields, start, ':') || !std::getline(fields, count)) {
      continue;
    }
    named = true;
    Entry entry;
    if (!ParseNumber(start, entry.start) || !ParseNumber(count, entry.count)) {
      continue;
    }
    if (entry.count >= kIdsPerSandbox) return entry;
  }
  return std::nullopt;
}

// One of the two files, for an account that one of them names: it must
// name the account too, with enough ids above the ordinary host users.
void CheckEntry(const char* file, const std::optional<Entry>& entry, bool named,
                const std::string& account) {
  const std::string example = "'" + account + ":1000000000:65536'";
  if (!named) {
    throw std::runtime_error(std::string(file) + " has no entry for " +
                             account + " but the other file has: add one (" +
                             example + ") or remove both");
  }
  if (!entry) {
    throw std::runtime_error(std::string(file) + ": no entry for " + account +
                             " with at least 65536 ids (e.g. " + example + ")");
  }
  if (entry->start < kLowestStart || entry->start + kIdsPerSandbox > kIdLimit) {
    throw std::runtime_error(
        std::string(file) + ": the range of " + account + " starts at " +
        std::to_string(entry->start) +
        ", which would overlap ordinary host users or run past the last "
        "id; start it at 65536 or above (e.g. " +
        example + ")");
  }
}

std::string ReadFileIfPresent(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return "";
    throw std::runtime_error("cannot read " + path + ": " +
                             std::strerror(errno));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

std::optional<IdRange> SubordinateIdRange(const std::string& subuid_text,
                                          const std::string& subgid_text,
                                          const std::string& account) {
  bool uid_named = false, gid_named = false;
  auto uids = FindEntry(subuid_text, account, uid_named);
  auto gids = FindEntry(subgid_text, account, gid_named);
  if (!uid_named && !gid_named) return std::nullopt;
  CheckEntry("/etc/subuid", uids, uid_named, account);
  CheckEntry("/etc/subgid", gids, gid_named, account);
  if (uids->start != gids->start) {
    throw std::runtime_error("/etc/subuid and /etc/subgid give " + account +
                             " ranges starting at different ids (" +
                             std::to_string(uids->start) + " and " +
                             std::to_string(gids->start) +
                             "); e2b-local needs the same start in both");
  }
  IdRange range;
  range.base = static_cast<uid_t>(uids->start);
  range.count = static_cast<uid_t>(kIdsPerSandbox);
  return range;
}

IdRange ConfiguredIdRange(const std::string& subuid_path,
                          const std::string& subgid_path, std::string* source) {
  auto range = SubordinateIdRange(ReadFileIfPresent(subuid_path),
                                  ReadFileIfPresent(subgid_path));
  if (source) {
    *source = range ? subuid_path + " and " + subgid_path + " (account " +
                          kSubordinateIdsAccount + ")"
                    : "built-in default";
  }
  return range.value_or(IdRange{});
}

}  // namespace e2b_local
