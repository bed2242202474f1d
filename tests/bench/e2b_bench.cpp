// e2b_bench: e2b-cpp measured side by side with what users would otherwise
// use (raw libcurl, the official JS SDK, the curl command line) against one
// e2b-local. tools/bench.sh runs every subcommand and then `report`.
//
//   e2b_bench overhead    --out F [--rounds R] [--batch B] [--js-dir D]
//                         [--ops info,run_shell,run_direct]
//   e2b_bench transfer    --out F --bytes N [--rounds R] [--tmp-dir D]
//   e2b_bench concurrency --out F [--threads T] [--calls C] [--rounds R]
//   e2b_bench server      --out F [--create N] [--idle N] [--starts N]
//   e2b_bench loop        --op info|raw-info|run|raw-run [--calls N]
//                         (one client's calls in a row, for profilers)
//   e2b_bench report      --in DIR --out FILE --command CMD [--mode M]
//   e2b_bench transfer-child <source file> <bytes>   (used by transfer)
//
// Every phase needs E2B_API_URL, E2B_SANDBOX_URL and E2B_API_KEY (as
// tools/with-e2b-local.sh exports them). Results are JSON; ratios are what
// to read, since absolute times on a shared machine are noise.

#include "bench_phases.hpp"
#include "bench_support.hpp"

#include <curl/curl.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <iostream>
#include <map>
#include <string>

namespace {

using e2b_bench::Args;
using e2b_bench::BenchError;

Args ParseArgs(int argc, char** argv, int first) {
  Args args;
  for (int i = first; i < argc; ++i) {
    std::string key = argv[i];
    if (key.rfind("--", 0) != 0) {
      args.positional.push_back(key);
      continue;
    }
    key = key.substr(2);
    if (const auto eq = key.find('='); eq != std::string::npos) {
      args.named[key.substr(0, eq)] = key.substr(eq + 1);
    } else if (i + 1 < argc) {
      args.named[key] = argv[++i];
    } else {
      throw BenchError("--" + key + " needs a value");
    }
  }
  return args;
}

int Usage() {
  std::cerr
      << "usage: e2b_bench "
         "overhead|transfer|concurrency|server|loop|report|transfer-child "
         "[--flag value]...\n(see the comment at the top of "
         "tests/bench/e2b_bench.cpp)\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return Usage();
  const std::string command = argv[1];
  curl_global_init(CURL_GLOBAL_DEFAULT);
  try {
    const Args args = ParseArgs(argc, argv, 2);
    int status = 0;
    if (command == "overhead") {
      e2b_bench::RunOverhead(args);
    } else if (command == "transfer") {
      e2b_bench::RunTransfer(args, argv[0]);
    } else if (command == "transfer-child") {
      e2b_bench::RunTransferChild(args);
    } else if (command == "concurrency") {
      e2b_bench::RunConcurrency(args);
    } else if (command == "server") {
      e2b_bench::RunServer(args);
    } else if (command == "loop") {
      e2b_bench::RunLoop(args);
    } else if (command == "report") {
      e2b_bench::WriteReport(args);
    } else {
      status = Usage();
    }
    curl_global_cleanup();
    return status;
  } catch (const std::exception& e) {
    std::cerr << "e2b_bench " << command << ": " << e.what() << "\n";
    curl_global_cleanup();
    return 1;
  }
}
