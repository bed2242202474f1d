// The options of Commands.Run/Start/Connect beyond the seed's four (which
// live in options.cpp).

#include <e2b/options.hpp>

#include <utility>

namespace e2b {

RunOption WithNoTimeout() {
  return RunOption([](RunParams& p) { p.NoTimeout = true; });
}

RunOption WithMaxOutputBytes(std::size_t bytes) {
  return RunOption([bytes](RunParams& p) { p.MaxOutputBytes = bytes; });
}

RunOption WithRequestTimeout(std::chrono::milliseconds timeout) {
  return RunOption([timeout](RunParams& p) { p.RequestTimeout = timeout; });
}

RunOption WithOnStdout(OutputTextCallback callback) {
  return RunOption(
      [cb = std::move(callback)](RunParams& p) { p.OnStdout = cb; });
}

RunOption WithOnStderr(OutputTextCallback callback) {
  return RunOption(
      [cb = std::move(callback)](RunParams& p) { p.OnStderr = cb; });
}

ConnectOption WithConnectOnStdout(OutputBytesCallback callback) {
  return WithOnStdoutBytes(std::move(callback));
}

ConnectOption WithConnectOnStderr(OutputBytesCallback callback) {
  return WithOnStderrBytes(std::move(callback));
}

WaitOption WithWaitOnStdout(OutputBytesCallback callback) {
  return WaitOption(
      [cb = std::move(callback)](WaitParams& p) { p.OnStdout = cb; });
}

WaitOption WithWaitOnStderr(OutputBytesCallback callback) {
  return WaitOption(
      [cb = std::move(callback)](WaitParams& p) { p.OnStderr = cb; });
}

WaitOption WithWaitOnPty(OutputBytesCallback callback) {
  return WaitOption(
      [cb = std::move(callback)](WaitParams& p) { p.OnPty = cb; });
}

RunOption WithOnStdoutBytes(OutputBytesCallback callback) {
  return RunOption(
      [cb = std::move(callback)](RunParams& p) { p.OnStdoutBytes = cb; });
}

RunOption WithOnStderrBytes(OutputBytesCallback callback) {
  return RunOption(
      [cb = std::move(callback)](RunParams& p) { p.OnStderrBytes = cb; });
}

RunOption WithStdin(bool enabled) {
  return RunOption([enabled](RunParams& p) { p.Stdin = enabled; });
}

RunOption WithTag(std::string tag) {
  return RunOption([v = std::move(tag)](RunParams& p) { p.Tag = v; });
}

RunOption WithCommandExitError(bool enabled) {
  return RunOption([enabled](RunParams& p) { p.ExitError = enabled; });
}

}  // namespace e2b
