#include "bench_phases.hpp"

#include <cstdlib>
#include <fstream>

namespace e2b_bench {

std::string Args::Get(const std::string& name,
                      const std::string& fallback) const {
  const auto it = named.find(name);
  return it == named.end() ? fallback : it->second;
}

std::string Args::Require(const std::string& name) const {
  const auto it = named.find(name);
  if (it == named.end() || it->second.empty()) {
    throw BenchError("--" + name + " is required");
  }
  return it->second;
}

long long Args::Int(const std::string& name, long long fallback) const {
  const auto it = named.find(name);
  if (it == named.end()) return fallback;
  char* end = nullptr;
  const long long value = std::strtoll(it->second.c_str(), &end, 10);
  if (end == it->second.c_str() || *end != '\0' || value < 0) {
    throw BenchError("--" + name + " needs a non-negative integer, got '" +
                     it->second + "'");
  }
  return value;
}

nlohmann::json ToJson(const Summary& s) {
  return {{"count", s.count}, {"median", s.median}, {"p10", s.p10},
          {"p90", s.p90},     {"min", s.min},       {"max", s.max}};
}

void WriteResult(const Args& args, const nlohmann::json& result) {
  const std::string path = args.Require("out");
  std::ofstream out(path, std::ios::trunc);
  out << result.dump(2) << "\n";
  if (!out) throw BenchError("cannot write " + path);
}

}  // namespace e2b_bench
