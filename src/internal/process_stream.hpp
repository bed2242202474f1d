#ifndef E2B_INTERNAL_PROCESS_STREAM_HPP_
#define E2B_INTERNAL_PROCESS_STREAM_HPP_

// The process.Process service behind Commands and Pty: parsing of process
// events and answers, delivery of output to callbacks, and the background
// stream behind every CommandHandle. The calls themselves are the
// EnvdApi's (internal/envd_api.hpp).

#include "internal/background_stream.hpp"
#include "internal/client_state.hpp"
#include "internal/connect_client.hpp"
#include "internal/json_mapping.hpp"
#include "internal/utf8_decoder.hpp"

#include <e2b/command_handle.hpp>
#include <e2b/context.hpp>
#include <e2b/options.hpp>
#include <e2b/types.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace e2b::internal {

/// Asks envd for a keepalive after this many seconds without output, so an
/// idle stream is not cut by an intermediary (envd's default is 90 s).
inline constexpr const char* kKeepalivePingSeconds = "50";
/// A stream's client-side limit exceeds the process lifetime by this much,
/// so envd's deadline_exceeded arrives before a bare client timeout.
inline constexpr std::chrono::milliseconds kStreamGrace{5000};

/// The process lifetime envd enforces (Connect-Timeout-Ms) for a command's
/// or PTY's timeout options: none with `no_timeout`, else `timeout`, or
/// DefaultCommandTimeout when it is 0.
std::optional<std::chrono::milliseconds> ProcessLifetime(
    bool no_timeout, std::chrono::milliseconds timeout);

/// Where process output goes as it arrives.
struct OutputCallbacks {
  OutputTextCallback on_stdout;
  OutputTextCallback on_stderr;
  OutputBytesCallback on_stdout_bytes;
  OutputBytesCallback on_stderr_bytes;
  OutputBytesCallback on_pty;
};

/// One StartResponse/ConnectResponse, with output already base64-decoded.
struct ProcessEvent {
  enum class Kind { kOther, kStart, kData, kEnd, kKeepalive };
  Kind kind = Kind::kOther;
  std::uint32_t pid = 0;
  std::string out;  ///< stdout bytes
  std::string err;  ///< stderr bytes
  std::string pty;  ///< terminal bytes
  int exit_code = 0;
  std::string error;  ///< envd's text for an abnormal end
};

/// Parses one stream message; throws Error(0, "<procedure>: ...") when it
/// is malformed. Unknown event kinds are Kind::kOther.
ProcessEvent ParseProcessEvent(const nlohmann::json& message,
                               const std::string& procedure);

/// The same for a message DecodeFlat read (internal/json_mapping.hpp):
/// the same event, or the same error, as for the message's JSON tree.
ProcessEvent ParseProcessEvent(const ProcessEventText& message,
                               const std::string& procedure);

/// The next event of a process stream, or nullopt at its successful end:
/// decoded without a JSON tree when the message has the common shape.
/// Throws as ConnectStreamReader::Next and ParseProcessEvent do.
std::optional<ProcessEvent> NextProcessEvent(ConnectStreamReader& reader,
                                             const std::string& procedure);

/// Calls the callbacks for output events, decoding text callbacks'
/// UTF-8 incrementally per stream.
class OutputDispatcher {
 public:
  explicit OutputDispatcher(OutputCallbacks callbacks)
      : callbacks_(std::move(callbacks)) {}
  void Deliver(const ProcessEvent& event);
  /// Delivers what the text decoders still hold (at the end of output).
  void Finish();

 private:
  OutputCallbacks callbacks_;
  Utf8StreamDecoder stdout_text_;
  Utf8StreamDecoder stderr_text_;
};

/// What a process.Process/Start request asks for: the process, its tag,
/// and either a stdin choice (commands) or a terminal size (PTY).
struct ProcessStart {
  std::string cmd;
  std::vector<std::string> args;
  std::map<std::string, std::string> envs;
  std::string cwd;
  std::optional<std::string> tag;
  /// Commands always send it: an absent "stdin" leaves a stdin pipe open,
  /// and a command that reads it would hang until its timeout (PROTOCOL.md
  /// section 6, bug 4). A PTY sends none: its input is the terminal.
  std::optional<bool> stdin_open;
  std::optional<std::pair<std::uint32_t, std::uint32_t>> pty_cols_rows;
};

/// The JSON of a Start request; empty args, envs and cwd are left out.
nlohmann::json StartRequest(const ProcessStart& start);

/// Appends an output event's bytes to `out` (stdout and PTY output) and
/// `err`, each kept to at most `cap` bytes in all (0 = no cap); true when
/// some of it did not fit.
bool AppendOutput(const ProcessEvent& event, std::string& out, std::string& err,
                  std::size_t cap);

/// {"pid": n} or {"tag": t}.
nlohmann::json PidSelector(std::uint32_t pid);
nlohmann::json TagSelector(const std::string& tag);

/// The ConnectCall of a Start/Connect stream: envd headers, keepalive,
/// Basic auth for `user` (when not empty), Connect-Timeout-Ms = lifetime,
/// and a client-side limit of lifetime + kStreamGrace (none without a
/// lifetime: the stream then lasts as long as the process).
ConnectCall ProcessStreamCall(
    const SandboxState& sandbox, const char* procedure, const std::string& user,
    std::optional<std::chrono::milliseconds> lifetime);

/// The processes of a process.Process/List answer; throws Error(0, ...)
/// when it is malformed.
std::vector<ProcessInfo> ParseProcessList(const nlohmann::json& response);

class EnvdApi;

/// What a CommandStream opens.
struct StreamSpec {
  std::shared_ptr<const SandboxState> state;
  ConnectCall call;  ///< its context is replaced by the stream's own
  nlohmann::json request;
  OutputCallbacks callbacks;
  bool pty = false;
  bool exit_error = false;
  std::size_t max_output_bytes = 0;              ///< per stream; 0 = keep all
  std::chrono::milliseconds request_timeout{0};  ///< 0 = client default
};

/// A Start or Connect stream read on its own thread: the state behind a
/// CommandHandle. Thread-safe.
class CommandStream : public std::enable_shared_from_this<CommandStream> {
 public:
  /// Opens the stream and returns once the start event arrived. `ctx` and
  /// the spec's request timeout bound only this wait.
  static std::shared_ptr<CommandStream> Open(StreamSpec spec,
                                             const Context& ctx);
  ~CommandStream();
  CommandStream(const CommandStream&) = delete;
  CommandStream& operator=(const CommandStream&) = delete;

  std::uint32_t Pid() const { return pid_; }
  bool IsPty() const { return spec_.pty; }
  CommandResult Wait(const Context& ctx);
  /// Calls `params`' callbacks on this thread with the output so far, then
  /// with each new chunk, until the stream ends or is disconnected; throws
  /// when `ctx` is done first.
  void FollowOutput(const Context& ctx, const WaitParams& params);
  std::string Stdout() const;
  std::string Stderr() const;
  std::optional<int> ExitCode() const;
  void Disconnect();

  /// The service API and sandbox the stream's process lives behind.
  EnvdApi& Envd() const;
  const SandboxState& Sandbox() const { return *spec_.state; }
  std::chrono::milliseconds RequestTimeout() const { return request_timeout_; }

 private:
  explicit CommandStream(StreamSpec spec);
  void ReadLoop();
  void Record(const ProcessEvent& event, OutputDispatcher& dispatcher);

  StreamSpec spec_;
  std::chrono::milliseconds request_timeout_;
  std::string procedure_;

  // Guards what the reader thread learns from the events.
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  bool started_ = false;
  std::uint32_t pid_ = 0;
  std::optional<int> exit_code_;
  std::string end_error_;
  std::string stdout_;
  std::string stderr_;
  bool truncated_ = false;

  // Last, so it is destroyed first: its thread uses the members above.
  BackgroundStream reader_;
};

/// Owned by CommandHandle copies: the last one disconnects the stream.
struct CommandHandleOwner {
  explicit CommandHandleOwner(std::shared_ptr<CommandStream> s)
      : stream(std::move(s)) {}
  ~CommandHandleOwner();
  CommandHandleOwner(const CommandHandleOwner&) = delete;
  CommandHandleOwner& operator=(const CommandHandleOwner&) = delete;
  std::shared_ptr<CommandStream> stream;
};

}  // namespace e2b::internal

namespace e2b {
void from_json(const nlohmann::json& j, ProcessInfo& out);
}  // namespace e2b

#endif  // E2B_INTERNAL_PROCESS_STREAM_HPP_
