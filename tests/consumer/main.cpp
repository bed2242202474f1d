// Proves a downstream build compiles, links and runs against e2b-cpp:
// prints the version (checking that <e2b/version.h> and e2b::Version()
// agree) and checks that a call to an unreachable API fails with a typed
// error (so curl is linked and working at run time).
#include <e2b/e2b.hpp>
#include <e2b/version.h>

#include <cstring>
#include <iostream>
#include <string>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: consumer <unused loopback port>\n";
    return 2;
  }
  std::cout << "e2b-cpp " << e2b::Version() << " (" << E2B_VERSION_STRING
            << ")\n";
  if (std::strcmp(e2b::Version(), E2B_VERSION_STRING) != 0) return 1;
  if (std::to_string(E2B_VERSION_MAJOR) + "." +
          std::to_string(E2B_VERSION_MINOR) + "." +
          std::to_string(E2B_VERSION_PATCH) !=
      E2B_VERSION_STRING) {
    std::cerr << "E2B_VERSION_MAJOR/MINOR/PATCH disagree with the string\n";
    return 1;
  }

  e2b::ClientConfig cfg;
  cfg.APIKey = "e2b_0000000000000000000000000000000000000000";
  cfg.APIBaseURL = std::string("http://127.0.0.1:") + argv[1];
  e2b::Client client = e2b::NewClient(cfg);
  try {
    client.ListSandboxes();
  } catch (const e2b::Error& e) {
    if (e.StatusCode() != 0) return 1;
    if (std::string(e.what()).find(cfg.APIKey) != std::string::npos) return 1;
    std::cout << "expected failure: " << e.what() << "\n";
    return 0;
  }
  std::cerr << "a call to a closed port succeeded\n";
  return 1;
}
