// e2b-reap: the command-line face of Client::ReapSandboxes, for the crash
// case: a program died before closing its sandboxes, and they run (and
// bill) until their timeout. Configured by the environment exactly as
// e2b::NewClient is (E2B_API_KEY, E2B_API_URL, E2B_DOMAIN, ...); the API
// key is never printed.
//
// Exit codes: 0 every selected sandbox was killed or was already gone (or
// a dry run listed them); 1 at least one kill failed; 2 the command line
// was refused; 3 nothing was killed because the client could not be made
// or the listing failed.

#include <e2b/e2b.hpp>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr int kExitOk = 0;
constexpr int kExitKillFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kExitNoListing = 3;

constexpr const char* kUsage =
    "usage: e2b-reap [--expired] [--older-than DURATION] [--metadata K=V]...\n"
    "                [--owner OWNER | --mine] [--dry-run] [--quiet]\n"
    "\n"
    "Kills this API key's sandboxes (running and paused) that match every\n"
    "criterion given; at least one of --expired, --older-than, --metadata\n"
    "is required.\n"
    "\n"
    "  --expired            the sandbox's e2b-cpp lease has expired\n"
    "  --older-than D       it started at least D ago (e.g. 90s, 10m,\n"
    "                       1h30m, 2d; units ms s m h d)\n"
    "  --metadata K=V       its metadata has K=V (repeatable)\n"
    "  --owner OWNER        only sandboxes leased by OWNER\n"
    "  --mine               only sandboxes leased by this user and host\n"
    "                       (E2B_LEASE_OWNER, else <user>@<host>)\n"
    "  --dry-run            print what would be killed, kill nothing\n"
    "  --quiet              print only failures and the summary\n"
    "\n"
    "Environment: E2B_API_KEY, E2B_API_URL, E2B_DOMAIN (as the e2b-cpp\n"
    "client reads them).\n"
    "Exit status: 0 done, 1 a kill failed, 2 usage, 3 could not list.\n";

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct CommandLine {
  e2b::ReapOptions options;
  bool quiet = false;
  bool help = false;
};

// One unit of a duration: "ms" must be tried before "m".
std::optional<std::chrono::milliseconds> UnitOf(std::string_view text,
                                                std::size_t& length) {
  using namespace std::chrono;
  struct Unit {
    std::string_view name;
    milliseconds size;
  };
  static const Unit kUnits[] = {{"ms", milliseconds(1)},
                                {"s", seconds(1)},
                                {"m", minutes(1)},
                                {"h", hours(1)},
                                {"d", hours(24)}};
  for (const auto& unit : kUnits) {
    if (text.substr(0, unit.name.size()) == unit.name) {
      length = unit.name.size();
      return unit.size;
    }
  }
  return std::nullopt;
}

// Go-style durations of whole numbers: "90s", "1h30m", "2d", or "0".
std::chrono::milliseconds ParseDuration(std::string_view text) {
  const std::string shown(text);
  if (text == "0") return std::chrono::milliseconds::zero();
  if (text.empty()) throw UsageError("--older-than: empty duration");
  std::chrono::milliseconds total{0};
  while (!text.empty()) {
    std::size_t digits = 0;
    std::int64_t count = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
      if (count > 1'000'000'000) {
        throw UsageError("--older-than: duration too large: " + shown);
      }
      count = count * 10 + (text[digits] - '0');
      ++digits;
    }
    std::size_t unit_length = 0;
    const auto unit = UnitOf(text.substr(digits), unit_length);
    if (digits == 0 || !unit) {
      throw UsageError("--older-than: not a duration (e.g. 90s, 1h30m): " +
                       shown);
    }
    total += *unit * count;
    text.remove_prefix(digits + unit_length);
  }
  return total;
}

void AddMetadata(std::string_view pair, e2b::ReapOptions& options) {
  const auto eq = pair.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    throw UsageError("--metadata: expected KEY=VALUE, got: " +
                     std::string(pair));
  }
  options.Metadata[std::string(pair.substr(0, eq))] =
      std::string(pair.substr(eq + 1));
}

CommandLine ParseCommandLine(const std::vector<std::string_view>& args) {
  CommandLine line;
  auto& o = line.options;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    auto value = [&]() -> std::string_view {
      if (i + 1 >= args.size()) {
        throw UsageError(std::string(arg) + " needs a value");
      }
      return args[++i];
    };
    if (arg == "--help" || arg == "-h") {
      line.help = true;
    } else if (arg == "--expired") {
      o.Expired = true;
    } else if (arg == "--older-than") {
      o.OlderThan = ParseDuration(value());
    } else if (arg == "--metadata") {
      AddMetadata(value(), o);
    } else if (arg == "--owner") {
      o.Owner = std::string(value());
    } else if (arg == "--mine") {
      o.Owner = e2b::DefaultLeaseOwner();
    } else if (arg == "--dry-run") {
      o.DryRun = true;
    } else if (arg == "--quiet") {
      line.quiet = true;
    } else {
      throw UsageError("unknown argument: " + std::string(arg));
    }
  }
  if (!line.help && !o.Expired && !o.OlderThan && o.Metadata.empty()) {
    throw UsageError(
        "no criterion: give --expired, --older-than or --metadata");
  }
  return line;
}

int PrintReport(const e2b::ReapReport& report, const CommandLine& line) {
  const bool dry = line.options.DryRun;
  if (!line.quiet) {
    if (dry) {
      for (const auto& id : report.Selected)
        std::cout << "would kill " << id << "\n";
    }
    for (const auto& id : report.Killed) std::cout << "killed " << id << "\n";
    for (const auto& id : report.Gone) std::cout << "gone " << id << "\n";
  }
  for (const auto& failure : report.Failed) {
    std::cerr << "e2b-reap: failed " << failure.SandboxID << ": "
              << failure.Message << "\n";
  }
  std::cout << "e2b-reap: "
            << (dry ? report.Selected.size() : report.Killed.size())
            << (dry ? " would be killed, " : " killed, ") << report.Gone.size()
            << " gone, " << report.Failed.size() << " failed, "
            << report.Skipped.size() << " skipped\n";
  return report.Failed.empty() ? kExitOk : kExitKillFailed;
}

}  // namespace

int main(int argc, char** argv) {
  CommandLine line;
  try {
    line =
        ParseCommandLine(std::vector<std::string_view>(argv + 1, argv + argc));
  } catch (const UsageError& e) {
    std::cerr << "e2b-reap: " << e.what() << "\n\n" << kUsage;
    return kExitUsage;
  }
  if (line.help) {
    std::cout << kUsage;
    return kExitOk;
  }
  e2b::ReapReport report;
  try {
    const e2b::Client client = e2b::NewClient();
    report = client.ReapSandboxes(line.options);
  } catch (const e2b::InvalidArgumentError& e) {
    std::cerr << e.what() << "\n";
    return e.StatusCode() == 0 ? kExitUsage : kExitNoListing;
  } catch (const std::exception& e) {
    // Library errors never carry the API key (errors.hpp).
    std::cerr << "e2b-reap: " << e.what() << "\n";
    return kExitNoListing;
  }
  return PrintReport(report, line);
}
