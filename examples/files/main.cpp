// Writes a text file and reads it back, then writes every byte value
// 0..255 and verifies the bytes with ReadBytes and with commands run in the
// sandbox (wc, od).

#include <e2b/e2b.hpp>

#include <chrono>
#include <cstdint>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

namespace {

int Fail(const std::string& message) {
  std::cerr << "error: " << message << std::endl;
  return 1;
}

std::string TrimNewline(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

}  // namespace

int main() {
  using namespace std::chrono_literals;
  try {
    e2b::Client client = e2b::NewClient();

    std::cout << "Creating sandbox..." << std::endl;
    e2b::Sandbox sandbox = client.NewSandbox();
    e2b::SandboxCloser closer(sandbox);
    std::cout << "Sandbox created: " << sandbox.ID << std::endl;

    // Text round trip.
    const std::string text_path = "/tmp/e2b-example/hello.txt";
    const std::string text = "Hello from e2b-cpp!\nSecond line.\n";
    std::cout << "Writing " << text_path << std::endl;
    sandbox.Filesystem.WriteString(text_path, text);
    const std::string read_back = sandbox.Filesystem.ReadString(text_path);
    std::cout << "Read back " << read_back.size() << " bytes:\n" << read_back;
    if (read_back != text) return Fail("text file content differs");

    e2b::CommandResult cat =
        sandbox.Commands.Run("cat", {text_path}, e2b::WithTimeout(30s));
    if (cat.ExitCode != 0 || cat.Stdout != text) {
      return Fail("cat in the sandbox shows different content");
    }
    std::cout << "cat in the sandbox agrees." << std::endl;

    // Binary round trip: every byte value once, including NUL and 0xFF.
    const std::string bin_path = "/tmp/e2b-example/all-bytes.bin";
    std::vector<std::uint8_t> bytes(256);
    for (int i = 0; i < 256; ++i) bytes[i] = static_cast<std::uint8_t>(i);
    std::cout << "Writing " << bytes.size() << " binary bytes to " << bin_path
              << std::endl;
    sandbox.Filesystem.WriteBytes(bin_path, bytes);

    const std::vector<std::uint8_t> got =
        sandbox.Filesystem.ReadBytes(bin_path);
    if (got != bytes) {
      return Fail("ReadBytes returned " + std::to_string(got.size()) +
                  " bytes that differ from the 256 written");
    }
    std::cout << "ReadBytes returned the same 256 bytes." << std::endl;

    e2b::CommandResult wc =
        sandbox.Commands.Run("wc", {"-c", bin_path}, e2b::WithTimeout(30s));
    const std::string size = TrimNewline(wc.Stdout);
    std::cout << "wc -c: " << size << std::endl;
    if (wc.ExitCode != 0 || size.rfind("256 ", 0) != 0) {
      return Fail("the sandbox sees a file size other than 256");
    }

    // od prints each byte as an unsigned decimal; compare all of them.
    e2b::CommandResult od = sandbox.Commands.Run(
        "od", {"-An", "-v", "-tu1", bin_path}, e2b::WithTimeout(30s));
    if (od.ExitCode != 0) return Fail("od failed: " + od.Stderr);
    std::vector<int> values;
    int value = -1;
    for (char c : od.Stdout) {
      if (c >= '0' && c <= '9') {
        value = (value < 0 ? 0 : value * 10) + (c - '0');
      } else if (value >= 0) {
        values.push_back(value);
        value = -1;
      }
    }
    if (value >= 0) values.push_back(value);
    bool same = values.size() == 256;
    for (std::size_t i = 0; same && i < values.size(); ++i) {
      same = values[i] == static_cast<int>(i);
    }
    if (!same) return Fail("od in the sandbox shows different bytes");
    std::cout << "od in the sandbox shows bytes 0..255 in order." << std::endl;

    std::cout << "Done." << std::endl;
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << std::endl;
    return 1;
  }
}
