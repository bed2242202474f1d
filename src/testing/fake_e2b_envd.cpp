// FakeE2B's envd: access-token checks, process.Process/Start answered by
// the registered command handlers, the filesystem.Filesystem RPCs and
// /files over each sandbox's in-memory filesystem (PROTOCOL.md 3 to 5).

#include "internal/base64.hpp"
#include "internal/connect_envelope.hpp"
#include "internal/filesystem_mapping.hpp"
#include "testing/fake_e2b_impl.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <utility>

namespace e2b::testing {
namespace {

using internal::Classified;
using internal::FormatRfc3339;
using internal::kJson;
using internal::MemEntry;
using internal::MemFilesystem;
using internal::MemNode;
using internal::MemStatus;
using internal::ParseObject;
using internal::Protocol;
using internal::RestError;
using nlohmann::json;

constexpr const char* kConnectJson = "application/connect+json";

void ConnectError(httplib::Response& res, const std::string& code,
                  const std::string& message) {
  res.status = e2b::internal::ConnectCodeHttpStatus(code);
  res.set_content(json{{"code", code}, {"message", message}}.dump(), kJson);
}

// A server stream answer: the messages, then the end-of-stream envelope
// carrying `error` when set (Connect sends handler errors this way, 200).
void StreamAnswer(httplib::Response& res, const std::vector<json>& messages,
                  const std::optional<json>& error) {
  std::string body;
  for (const auto& message : messages) {
    body += e2b::internal::EncodeEnvelope(0, message.dump());
  }
  json end = json::object();
  if (error) end["error"] = *error;
  body += e2b::internal::EncodeEnvelope(e2b::internal::kEnvelopeEndStream,
                                        end.dump());
  res.status = 200;
  res.set_content(body, kConnectJson);
}

// The user of an envd call: the name in "Authorization: Basic base64(u:)".
std::string BasicUser(const httplib::Request& req) {
  const std::string header = req.get_header_value("Authorization");
  constexpr std::string_view kBasic = "Basic ";
  if (header.compare(0, kBasic.size(), kBasic) != 0) return "";
  auto decoded = e2b::internal::Base64Decode(
      std::string_view(header).substr(kBasic.size()));
  if (!decoded) return "";
  return decoded->substr(0, decoded->find(':'));
}

// The sandbox was killed while the request was on its way.
void SandboxGone(httplib::Response& res) {
  RestError(res, 502, "The sandbox was not found");
}

// A command handler threw: the process started, then the stream failed,
// as envd reports an RPC that broke mid-way.
void HandlerFailed(httplib::Response& res, std::uint32_t pid,
                   const std::string& what) {
  StreamAnswer(res, {json{{"event", {{"start", {{"pid", pid}}}}}}},
               json{{"code", "internal"},
                    {"message", "command handler threw: " + what}});
}

json EntryJson(const MemEntry& entry) {
  const MemNode& node = *entry.node;
  json j{{"name", entry.name},
         {"path", entry.path},
         {"type", node.directory ? "FILE_TYPE_DIRECTORY" : "FILE_TYPE_FILE"},
         {"size", std::to_string(node.directory ? 4096 : node.content.size())},
         {"mode", node.directory ? 0755 : 0644},
         {"permissions", node.directory ? "drwxr-xr-x" : "-rw-r--r--"},
         {"owner", "user"},
         {"group", "user"},
         {"modifiedTime", FormatRfc3339(node.modified)}};
  if (!node.metadata.empty()) j["metadata"] = node.metadata;
  return j;
}

}  // namespace

bool FakeE2B::Impl::AuthorizeEnvd(const httplib::Request& req,
                                  const Classified& c, httplib::Response& res) {
  std::lock_guard<std::mutex> lock(mu);
  const SandboxRecord* record = FindLocked(c.sandbox_id);
  if (record == nullptr || record->info.State != "running") {
    // What E2B's edge answers for a sandbox it cannot reach.
    res.status = 502;
    res.set_content(json{{"sandboxId", c.sandbox_id},
                         {"message", "The sandbox was not found"},
                         {"code", 502}}
                        .dump(),
                    kJson);
    return false;
  }
  if (req.path == "/health") return true;
  const std::string& token = record->info.EnvdAccessToken;
  const std::string sent = req.get_header_value("X-Access-Token");
  bool allowed = sent == token;
  if (!req.has_header("X-Access-Token") && req.path == "/files" &&
      req.has_param("signature")) {
    // A signed URL (Filesystem.DownloadURL / UploadURL).
    std::optional<std::int64_t> expiration;
    if (req.has_param("signature_expiration")) {
      try {
        expiration = std::stoll(req.get_param_value("signature_expiration"));
      } catch (const std::exception&) {
        expiration = -1;
      }
    }
    const bool unexpired =
        !expiration ||
        *expiration >= std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
    allowed = unexpired &&
              req.get_param_value("signature") ==
                  e2b::internal::FilesSignature(
                      req.get_param_value("path"),
                      req.method == "GET" ? "read" : "write",
                      req.get_param_value("username"), token, expiration);
  }
  if (!allowed) {
    RestError(res, 401,
              "unauthorized access, please provide a valid access token or "
              "method signing if supported");
  }
  return allowed;
}

void FakeE2B::Impl::HandleEnvd(const httplib::Request& req, const Classified& c,
                               httplib::Response& res) {
  if (req.path == "/health") {
    res.status = 204;
    return;
  }
  if (req.path == "/files") {
    if (req.method == "GET") return DownloadFile(req, c, res);
    if (req.method == "POST") return UploadFiles(req, c, res);
    return RestError(res, 405, "method not allowed");
  }
  if (req.method != "POST") return RestError(res, 405, "method not allowed");
  if (c.protocol == Protocol::kConnectStream) {
    if (req.get_header_value("Content-Type").rfind(kConnectJson, 0) != 0) {
      return RestError(res, 415, "FakeE2B speaks application/connect+json");
    }
    if (req.path == "/process.Process/Start") return StartProcess(req, c, res);
    return StreamAnswer(
        res, {},
        json{{"code", "unimplemented"},
             {"message", "FakeE2B does not implement " + req.path}});
  }
  if (req.get_header_value("Content-Type").rfind(kJson, 0) != 0) {
    return RestError(res, 415, "FakeE2B speaks application/json");
  }
  const auto body = ParseObject(req.body);
  if (!body) {
    return ConnectError(res, "invalid_argument",
                        "the request is not a JSON object");
  }
  const std::string prefix = "/filesystem.Filesystem/";
  if (req.path.rfind(prefix, 0) == 0) {
    return FilesystemRpc(req.path.substr(prefix.size()), *body, c, res);
  }
  ConnectError(res, "unimplemented", "FakeE2B does not implement " + req.path);
}

FakeE2B::Impl::Handler FakeE2B::Impl::FindHandler(
    const std::string& command) const {
  std::lock_guard<std::mutex> lock(mu);
  const Handler* best = nullptr;
  std::size_t best_size = 0;
  for (const auto& [pattern, handler] : handlers) {
    if (command.compare(0, pattern.size(), pattern) == 0 &&
        (best == nullptr || pattern.size() > best_size)) {
      best = &handler;
      best_size = pattern.size();
    }
  }
  return best == nullptr ? Handler{} : *best;
}

void FakeE2B::Impl::StartProcess(const httplib::Request& req,
                                 const Classified& c, httplib::Response& res) {
  e2b::internal::EnvelopeDecoder decoder;
  std::optional<e2b::internal::Envelope> envelope;
  try {
    decoder.Feed(req.body);
    envelope = decoder.Next();
  } catch (const e2b::internal::EnvelopeError&) {
    envelope.reset();
  }
  if (!envelope || envelope->Compressed() || decoder.HasPartial()) {
    return ConnectError(res, "invalid_argument",
                        "the body is not one Connect envelope");
  }
  const auto request = ParseObject(envelope->payload);
  const json* process = nullptr;
  if (request && request->contains("process") &&
      (*request)["process"].is_object()) {
    process = &(*request)["process"];
  }
  FakeCommandCall call;
  call.SandboxID = c.sandbox_id;
  call.User = BasicUser(req);
  try {
    if (process == nullptr || !process->contains("cmd")) {
      throw std::invalid_argument("process.cmd is required");
    }
    call.Cmd = process->at("cmd").get<std::string>();
    if (process->contains("args")) {
      call.Args = process->at("args").get<std::vector<std::string>>();
    }
    if (process->contains("envs")) {
      call.Envs = process->at("envs").get<std::map<std::string, std::string>>();
    }
    if (process->contains("cwd"))
      call.Cwd = process->at("cwd").get<std::string>();
  } catch (const std::exception& e) {
    return ConnectError(res, "invalid_argument",
                        std::string("malformed StartRequest: ") + e.what());
  }
  if (call.Cmd == "/bin/bash" && call.Args.size() == 3 &&
      call.Args[0] == "-l" && call.Args[1] == "-c") {
    call.Command = call.Args[2];
  } else {
    call.Command = call.Cmd;
    for (const auto& arg : call.Args) call.Command += " " + arg;
  }
  std::uint32_t pid = 0;
  {
    std::lock_guard<std::mutex> lock(mu);
    commands.push_back(call);
    pid = next_pid++;
  }
  FakeCommandResult result;
  // The handler runs unlocked: it may call back into FakeE2B (WriteFile).
  if (Handler handler = FindHandler(call.Command)) {
    try {
      result = handler(call);
    } catch (const std::exception& e) {
      return HandlerFailed(res, pid, e.what());
    } catch (...) {
      return HandlerFailed(res, pid, "an exception that is no std::exception");
    }
  } else {
    const std::string name = call.Command.substr(0, call.Command.find(' '));
    result.Stderr = "bash: " + name + ": command not found\n";
    result.ExitCode = 127;
  }
  std::vector<json> events{json{{"event", {{"start", {{"pid", pid}}}}}}};
  if (!result.Stdout.empty()) {
    events.push_back(
        json{{"event",
              {{"data",
                {{"stdout", e2b::internal::Base64Encode(result.Stdout)}}}}}});
  }
  if (!result.Stderr.empty()) {
    events.push_back(
        json{{"event",
              {{"data",
                {{"stderr", e2b::internal::Base64Encode(result.Stderr)}}}}}});
  }
  const std::string status = "exit status " + std::to_string(result.ExitCode);
  json end{{"exited", true}, {"status", status}};
  if (result.ExitCode != 0) {
    end["exitCode"] = result.ExitCode;
    end["error"] = result.Error.empty() ? status : result.Error;
  }
  events.push_back(json{{"event", {{"end", end}}}});
  StreamAnswer(res, events, std::nullopt);
}

void FakeE2B::Impl::FilesystemRpc(const std::string& method, const json& body,
                                  const Classified& c, httplib::Response& res) {
  auto path_of = [&](const char* key) -> std::optional<std::string> {
    auto it = body.find(key);
    if (it == body.end() || !it->is_string()) return std::nullopt;
    return MemFilesystem::Resolve(it->get<std::string>());
  };
  std::lock_guard<std::mutex> lock(mu);
  SandboxRecord* record = FindLocked(c.sandbox_id);
  if (record == nullptr) return SandboxGone(res);
  MemFilesystem& fs = record->files;
  auto answer_entry = [&](const std::string& abs) {
    res.status = 200;
    res.set_content(
        json{{"entry",
              EntryJson(MemEntry{abs, internal::BaseName(abs), fs.Find(abs)})}}
            .dump(),
        kJson);
  };
  const bool is_move = method == "Move";
  const auto path = path_of(is_move ? "source" : "path");
  if (!path) return ConnectError(res, "invalid_argument", "invalid path");
  const std::string& abs = *path;
  if (method == "Stat") {
    if (fs.Find(abs) == nullptr) {
      return ConnectError(res, "not_found", "path '" + abs + "' not found");
    }
    return answer_entry(abs);
  }
  if (method == "ListDir") {
    unsigned depth = 1;
    if (auto it = body.find("depth"); it != body.end()) {
      if (!it->is_number_unsigned()) {
        return ConnectError(res, "invalid_argument", "depth is not a uint32");
      }
      depth = std::max(1U, it->get<unsigned>());
    }
    std::vector<MemEntry> entries;
    const MemStatus status = fs.List(abs, depth, entries);
    if (status == MemStatus::kNotFound) {
      return ConnectError(res, "not_found", "path '" + abs + "' not found");
    }
    if (status != MemStatus::kOk) {
      return ConnectError(res, "invalid_argument",
                          "path '" + abs + "' is not a directory");
    }
    json list = json::array();
    for (const auto& entry : entries) list.push_back(EntryJson(entry));
    res.status = 200;
    res.set_content(json{{"entries", list}}.dump(), kJson);
    return;
  }
  if (method == "MakeDir") {
    const MemStatus status = fs.MakeDir(abs);
    if (status == MemStatus::kAlreadyExists) {
      return ConnectError(res, "already_exists",
                          "directory '" + abs + "' already exists");
    }
    if (status != MemStatus::kOk) {
      return ConnectError(res, "invalid_argument",
                          "a file is in the way of '" + abs + "'");
    }
    return answer_entry(abs);
  }
  if (method == "Remove") {
    fs.Remove(abs);
    res.status = 200;
    res.set_content("{}", kJson);
    return;
  }
  if (is_move) {
    const auto destination = path_of("destination");
    if (!destination) {
      return ConnectError(res, "invalid_argument", "invalid destination");
    }
    const MemStatus status = fs.Move(abs, *destination);
    if (status == MemStatus::kNotFound) {
      return ConnectError(res, "not_found", "path '" + abs + "' not found");
    }
    if (status != MemStatus::kOk) {
      return ConnectError(
          res, "invalid_argument",
          "cannot move '" + abs + "' to '" + *destination + "'");
    }
    return answer_entry(*destination);
  }
  ConnectError(res, "unimplemented",
               "FakeE2B does not implement filesystem.Filesystem/" + method);
}

void FakeE2B::Impl::DownloadFile(const httplib::Request& req,
                                 const Classified& c, httplib::Response& res) {
  const auto abs = MemFilesystem::Resolve(req.get_param_value("path"));
  if (!abs) return RestError(res, 400, "invalid path");
  std::lock_guard<std::mutex> lock(mu);
  const SandboxRecord* record = FindLocked(c.sandbox_id);
  if (record == nullptr) return SandboxGone(res);
  const MemNode* node = record->files.Find(*abs);
  if (node == nullptr) {
    return RestError(res, 404, "path '" + *abs + "' does not exist");
  }
  if (node->directory) {
    return RestError(res, 400, "path '" + *abs + "' is a directory");
  }
  res.status = 200;
  res.set_content(node->content, "application/octet-stream");
}

void FakeE2B::Impl::UploadFiles(const httplib::Request& req,
                                const Classified& c, httplib::Response& res) {
  std::vector<std::pair<std::string, std::string>> uploads;  // path, bytes
  const std::string type = req.get_header_value("Content-Type");
  if (type.rfind("application/octet-stream", 0) == 0) {
    if (!req.has_param("path")) {
      return RestError(res, 400, "the path query parameter is required");
    }
    uploads.emplace_back(req.get_param_value("path"), req.body);
  } else if (req.is_multipart_form_data()) {
    for (const auto& [name, part] : req.files) {
      if (name != "file") continue;
      uploads.emplace_back(
          req.has_param("path") ? req.get_param_value("path") : part.filename,
          part.content);
    }
  } else {
    return RestError(res, 400, "unsupported Content-Type '" + type + "'");
  }
  std::map<std::string, std::string> metadata;
  for (const auto& [name, value] : req.headers) {
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char ch) { return std::tolower(ch); });
    if (lower.rfind("x-metadata-", 0) == 0) metadata[lower.substr(11)] = value;
  }
  std::lock_guard<std::mutex> lock(mu);
  SandboxRecord* record = FindLocked(c.sandbox_id);
  if (record == nullptr) return SandboxGone(res);
  MemFilesystem& fs = record->files;
  json entries = json::array();
  for (auto& [path, bytes] : uploads) {
    const auto abs = MemFilesystem::Resolve(path);
    if (!abs) return RestError(res, 400, "invalid path '" + path + "'");
    const MemStatus status = fs.WriteFile(*abs, std::move(bytes), metadata);
    if (status == MemStatus::kIsDirectory) {
      return RestError(res, 400, "path '" + *abs + "' is a directory");
    }
    if (status != MemStatus::kOk) {
      return RestError(res, 500, "a file is in the way of '" + *abs + "'");
    }
    json entry{
        {"path", *abs}, {"name", internal::BaseName(*abs)}, {"type", "file"}};
    if (!metadata.empty()) entry["metadata"] = metadata;
    entries.push_back(entry);
  }
  res.status = 200;
  res.set_content(entries.dump(), kJson);
}

}  // namespace e2b::testing
