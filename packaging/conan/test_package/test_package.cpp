// Links and runs against the packaged e2b-cpp without a network: the
// version the headers name is the one the library reports, and a client
// can be made from an explicit configuration.
#include <e2b/e2b.hpp>
#include <e2b/version.h>

#include <cstring>
#include <iostream>

int main() {
  std::cout << "e2b-cpp " << e2b::Version() << "\n";
  if (std::strcmp(e2b::Version(), E2B_VERSION_STRING) != 0) {
    std::cerr << "headers say " << E2B_VERSION_STRING << "\n";
    return 1;
  }
  e2b::ClientConfig cfg;
  cfg.APIKey = "e2b_0000000000000000000000000000000000000000";
  cfg.APIBaseURL = "http://127.0.0.1:9";
  e2b::Client client = e2b::NewClient(cfg);
  (void)client;
  return 0;
}
