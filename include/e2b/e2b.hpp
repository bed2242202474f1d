#ifndef E2B_E2B_HPP_
#define E2B_E2B_HPP_

// Umbrella header of e2b-cpp, the C++ port of the E2B Go SDK.

/// \namespace e2b
/// e2b-cpp: a synchronous client for E2B sandboxes. Start at NewClient and
/// Client; a Sandbox reaches its Commands, Filesystem and Pty services.

#include <e2b/client.hpp>
#include <e2b/command_handle.hpp>
#include <e2b/commands.hpp>
#include <e2b/context.hpp>
#include <e2b/errors.hpp>
#include <e2b/filesystem.hpp>
#include <e2b/http_client.hpp>
#include <e2b/logging.hpp>
#include <e2b/options.hpp>
#include <e2b/pty.hpp>
#include <e2b/reap.hpp>
#include <e2b/sandbox.hpp>
#include <e2b/template_builder.hpp>
#include <e2b/types.hpp>
#include <e2b/version.hpp>
#include <e2b/volume.hpp>

#endif  // E2B_E2B_HPP_
