// Snippets of docs/guide/files.md: write and read files as strings and
// as streams, list and manage directories, and handle a missing file. Runs
// against E2B or e2b-local and exits non-zero when something differs.

#include <e2b/e2b.hpp>

#include <exception>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

int main() {
  try {
    e2b::Client client = e2b::NewClient();
    e2b::Sandbox sandbox = client.NewSandbox();
    e2b::SandboxCloser closer(sandbox);

    // [START files_strings]
    sandbox.Filesystem.WriteString("/tmp/notes/hello.txt", "hello\n");
    std::string text = sandbox.Filesystem.ReadString("/tmp/notes/hello.txt");
    // [END files_strings]

    // [START files_streams]
    // Uploads read from any std::istream, downloads are an std::istream
    // that pulls from the network as it is read.
    std::istringstream body(std::string(1 << 20, 'x'));
    sandbox.Filesystem.Write("/tmp/notes/big.bin", body);

    std::unique_ptr<std::istream> in =
        sandbox.Filesystem.Read("/tmp/notes/big.bin");
    std::size_t size = 0;
    char buffer[64 * 1024];
    while (in->read(buffer, sizeof buffer) || in->gcount() > 0) {
      size += static_cast<std::size_t>(in->gcount());
    }
    // [END files_streams]

    // [START files_directories]
    sandbox.Filesystem.MakeDir("/tmp/notes/archive");
    sandbox.Filesystem.Rename("/tmp/notes/hello.txt",
                              "/tmp/notes/archive/hello.txt");
    for (const e2b::FileInfo& entry : sandbox.Filesystem.List("/tmp/notes")) {
      std::cout << entry.Type << " " << entry.Path << " " << entry.Size << "\n";
    }
    sandbox.Filesystem.Remove("/tmp/notes/big.bin");
    bool gone = !sandbox.Filesystem.Exists("/tmp/notes/big.bin");
    // [END files_directories]

    // [START files_missing]
    try {
      sandbox.Filesystem.ReadString("/tmp/does-not-exist");
    } catch (const e2b::FileNotFoundError& e) {
      std::cout << "missing: " << e.Path() << "\n";
    }
    // [END files_missing]

    if (text != "hello\n" || size != (1u << 20) || !gone) {
      std::cerr << "error: unexpected file contents\n";
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
