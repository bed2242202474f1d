#ifndef E2B_COMMANDS_HPP_
#define E2B_COMMANDS_HPP_

#include <e2b/context.hpp>
#include <e2b/options.hpp>
#include <e2b/types.hpp>

#include <memory>
#include <string>
#include <vector>

namespace e2b {

namespace internal {
struct SandboxState;
}  // namespace internal

/// Runs commands in a sandbox through envd's process.Process/Start stream.
/// Cheap to copy; thread-safe. Go: *CommandService.
class CommandService {
 public:
  CommandService() = default;

  /// Runs `cmd` with `args` (no shell: cmd is looked up on PATH) and blocks
  /// until it ends. A non-zero exit code is returned, not thrown. Options:
  /// WithEnv, WithCwd, WithUser, WithTimeout. Go: CommandService.Run.
  template <typename... Opts>
  CommandResult Run(const std::string& cmd,
                    const std::vector<std::string>& args,
                    const Opts&... opts) const {
    return RunWithContext(Context::Background(), cmd, args, opts...);
  }

  /// Run with a Context for cancellation and deadline.
  /// Go: CommandService.RunWithContext.
  template <typename... Opts>
  CommandResult RunWithContext(const Context& ctx, const std::string& cmd,
                               const std::vector<std::string>& args,
                               const Opts&... opts) const {
    return RunImpl(ctx, cmd, args, ApplyOptions(RunParams{}, opts...));
  }

 private:
  friend class Sandbox;
  explicit CommandService(std::shared_ptr<internal::SandboxState> state);
  CommandResult RunImpl(const Context& ctx, const std::string& cmd,
                        const std::vector<std::string>& args,
                        const RunParams& params) const;

  std::shared_ptr<internal::SandboxState> state_;
};

}  // namespace e2b

#endif  // E2B_COMMANDS_HPP_
