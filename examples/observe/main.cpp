// Traces every HTTP call a Client makes (ClientConfig::Observer) into a
// latency histogram per route, over a few ordinary calls: create a sandbox,
// run commands, write and read a file, kill the sandbox. Prints the
// histogram at the end; exits 1 if no call was observed.
//
// Set E2B_DEBUG=1 as well to see each exchange logged to stderr.

#include <e2b/e2b.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace {

// Upper bounds of the buckets, in milliseconds; the last bucket is open.
constexpr std::array<std::int64_t, 6> kBucketsMs = {5, 10, 25, 50, 100, 250};

// Counts calls per "METHOD route" and latency bucket. The Client may call
// OnCall from several threads, hence the mutex.
class LatencyHistogram final : public e2b::CallObserver {
 public:
  void OnCall(const e2b::CallRecord& record) override {
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(record.Duration)
            .count();
    std::size_t bucket = 0;
    while (bucket < kBucketsMs.size() && ms > kBucketsMs[bucket]) ++bucket;
    const std::lock_guard<std::mutex> lock(mutex_);
    Row& row = rows_[record.Method + " " + record.Route];
    ++row.counts[bucket];
    ++row.calls;
    row.retries += record.Retries;
    if (record.Status == 0 || record.Status >= 400) ++row.failures;
    ++total_;
  }

  int Total() const {
    const std::lock_guard<std::mutex> lock(mutex_);
    return total_;
  }

  void Print(std::ostream& out) const {
    const std::lock_guard<std::mutex> lock(mutex_);
    out << std::left << std::setw(44) << "call";
    for (std::int64_t bound : kBucketsMs) {
      out << std::right << std::setw(7) << ("<=" + std::to_string(bound));
    }
    out << std::setw(7) << ">" << std::setw(8) << "retries" << std::setw(9)
        << "failures"
        << "\n";
    for (const auto& [name, row] : rows_) {
      out << std::left << std::setw(44) << name;
      for (int count : row.counts) out << std::right << std::setw(7) << count;
      out << std::setw(8) << row.retries << std::setw(9) << row.failures
          << "\n";
    }
    out << total_ << " calls observed\n";
  }

 private:
  struct Row {
    std::array<int, kBucketsMs.size() + 1> counts{};
    int calls = 0;
    int retries = 0;
    int failures = 0;
  };
  mutable std::mutex mutex_;
  std::map<std::string, Row> rows_;
  int total_ = 0;
};

}  // namespace

int main() {
  using namespace std::chrono_literals;
  auto histogram = std::make_shared<LatencyHistogram>();
  try {
    e2b::ClientConfig cfg;
    cfg.Observer = histogram;
    e2b::Client client = e2b::NewClient(cfg);

    std::cout << "Creating sandbox..." << std::endl;
    e2b::Sandbox sandbox = client.NewSandbox();
    e2b::SandboxCloser closer(sandbox);
    std::cout << "Sandbox created: " << sandbox.ID << std::endl;

    for (int i = 0; i < 3; ++i) {
      e2b::CommandResult r = sandbox.Commands.Run(
          "echo", {"call " + std::to_string(i)}, e2b::WithTimeout(30s));
      std::cout << r.Stdout;
    }

    const std::string path = "/tmp/e2b-observe.txt";
    sandbox.Filesystem.WriteString(path, "observed\n");
    if (sandbox.Filesystem.ReadString(path) != "observed\n") {
      std::cerr << "error: the file read back differs" << std::endl;
      return 1;
    }
    // Killed here, not by the closer, so the histogram shows the call.
    closer.Release();
    sandbox.Close();
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << std::endl;
    histogram->Print(std::cerr);
    return 1;
  }

  histogram->Print(std::cout);
  if (histogram->Total() == 0) {
    std::cerr << "error: no call was observed" << std::endl;
    return 1;
  }
  return 0;
}
