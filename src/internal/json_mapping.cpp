#include "internal/json_mapping.hpp"

#include "internal/civil_time.hpp"

#include <e2b/errors.hpp>

#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <system_error>
#include <type_traits>

namespace e2b {
namespace internal {
namespace {

using nlohmann::json;

[[noreturn]] void WrongType(const char* key, const char* expected,
                            const json& value) {
  throw JsonMappingError(std::string("field '") + key + "': expected " +
                         expected + ", got " + value.type_name());
}

// The value of `key`, or null when the field is missing.
const json* Field(const json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  // Looked up as a string_view: json::find(const char*) measures the key
  // again at every comparison of the tree walk.
  const auto& members = j.get_ref<const json::object_t&>();
  auto it = members.find(std::string_view(key));
  if (it == members.end() || it->second.is_null()) return nullptr;
  return &it->second;
}

// An integer in [lo, hi] from a JSON number or a decimal string.
template <typename Int>
Int ReadInteger(const char* key, const json& value) {
  constexpr auto lo = std::numeric_limits<Int>::min();
  constexpr auto hi = std::numeric_limits<Int>::max();
  if (value.is_number_unsigned()) {
    const auto v = value.get<std::uint64_t>();
    if (v > static_cast<std::uint64_t>(hi)) {
      throw JsonMappingError(std::string("field '") + key +
                             "': integer out of range");
    }
    return static_cast<Int>(v);
  }
  if (value.is_number_integer()) {
    const auto v = value.get<std::int64_t>();
    if (v < static_cast<std::int64_t>(lo) ||
        v > static_cast<std::int64_t>(hi)) {
      throw JsonMappingError(std::string("field '") + key +
                             "': integer out of range");
    }
    return static_cast<Int>(v);
  }
  if (value.is_number_float()) {
    // 2.0 is an integer in JSON's eyes; 2.5 is not.
    const double v = value.get<double>();
    // hi itself rounds up to 2^63 as a double for 64-bit types, so the
    // bound is the exact power of two above it: 2^63 must be refused, not
    // converted (undefined behaviour; found by the json_mapping fuzzer).
    const double above_hi = std::ldexp(1.0, std::numeric_limits<Int>::digits);
    if (!std::isfinite(v) || std::floor(v) != v ||
        v < static_cast<double>(lo) || v >= above_hi) {
      throw JsonMappingError(std::string("field '") + key +
                             "': expected an integer");
    }
    return static_cast<Int>(v);
  }
  if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    Int v{};
    const char* begin = text.data();
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(begin, end, v);
    if (text.empty() || ec != std::errc() || ptr != end) {
      throw JsonMappingError(std::string("field '") + key +
                             "': expected an integer string");
    }
    return v;
  }
  WrongType(key, "an integer", value);
}

}  // namespace

void RequireObject(const json& j, const char* what) {
  if (!j.is_object()) {
    throw JsonMappingError(std::string(what) +
                           ": expected a JSON object, got " + j.type_name());
  }
}

namespace {

// Conversions of a member's value (not null); `key` is named in errors.
void ReadValue(const char* key, const json& v, std::string& out) {
  if (!v.is_string()) WrongType(key, "a string", v);
  out = v.get_ref<const std::string&>();
}

// The same from a value that is not needed afterwards (DecodeFlat's).
void ReadValue(const char* key, json&& v, std::string& out) {
  if (!v.is_string()) WrongType(key, "a string", v);
  out = std::move(v.get_ref<std::string&>());
}

void ReadValue(const char* key, const json& v, int& out) {
  out = ReadInteger<int>(key, v);
}

void ReadValue(const char* key, const json& v, std::int64_t& out) {
  out = ReadInteger<std::int64_t>(key, v);
}

void ReadValue(const char* key, const json& v, double& out) {
  if (v.is_number()) {
    out = v.get<double>();
    return;
  }
  if (v.is_string()) {
    const auto& text = v.get_ref<const std::string&>();
    try {
      std::size_t used = 0;
      const double parsed = std::stod(text, &used);
      if (used == text.size()) {
        out = parsed;
        return;
      }
    } catch (const std::exception&) {
      // Reported below.
    }
    throw JsonMappingError(std::string("field '") + key +
                           "': expected a number string");
  }
  WrongType(key, "a number", v);
}

void ReadValue(const char* key, const json& v, bool& out) {
  if (!v.is_boolean()) WrongType(key, "a boolean", v);
  out = v.get<bool>();
}

void ReadValue(const char* key, const json& v, std::vector<std::string>& out) {
  if (!v.is_array()) WrongType(key, "an array of strings", v);
  out.clear();
  for (const auto& item : v) {
    if (!item.is_string()) WrongType(key, "an array of strings", item);
    out.push_back(item.get<std::string>());
  }
}

void ReadValue(const char* key, const json& v,
               std::map<std::string, std::string>& out) {
  if (!v.is_object()) WrongType(key, "an object", v);
  out.clear();
  for (auto it = v.begin(); it != v.end(); ++it) {
    // Log fields are meant to be strings; keep any other scalar readable
    // instead of failing the whole call over one odd field.
    out[it.key()] =
        it.value().is_string() ? it.value().get<std::string>() : it->dump();
  }
}

// A nested object or array through its from_json, errors prefixed with
// the field's name.
template <typename T>
void ReadNested(const char* key, const json& v, T& out) {
  try {
    Decode(v, out);
  } catch (const JsonMappingError& e) {
    throw JsonMappingError(std::string("field '") + key + "': " + e.what());
  }
}

void ReadValue(const char* key, const json& v, SandboxLifecycle& out) {
  ReadNested(key, v, out);
}

void ReadValue(const char* key, const json& v, std::vector<VolumeMount>& out) {
  ReadNested(key, v, out);
}

void ReadValue(const char* key, const json& v, NetworkConfig& out) {
  ReadNested(key, v, out);
}

template <typename T>
void ReadValue(const char* key, const json& v, std::optional<T>& out) {
  T value{};
  ReadValue(key, v, value);
  out = std::move(value);
}

}  // namespace

void ReadField(const json& j, const char* key, std::string& out) {
  if (const json* v = Field(j, key)) ReadValue(key, *v, out);
}

void ReadField(const json& j, const char* key, int& out) {
  if (const json* v = Field(j, key)) ReadValue(key, *v, out);
}

void ReadField(const json& j, const char* key, std::int64_t& out) {
  if (const json* v = Field(j, key)) ReadValue(key, *v, out);
}

void ReadField(const json& j, const char* key, double& out) {
  if (const json* v = Field(j, key)) ReadValue(key, *v, out);
}

void ReadField(const json& j, const char* key, bool& out) {
  if (const json* v = Field(j, key)) ReadValue(key, *v, out);
}

void ReadField(const json& j, const char* key,
               std::optional<std::string>& out) {
  const json* v = Field(j, key);
  if (v == nullptr) {
    out.reset();
    return;
  }
  ReadValue(key, *v, out);
}

void ReadField(const json& j, const char* key, std::vector<std::string>& out) {
  if (const json* v = Field(j, key)) ReadValue(key, *v, out);
}

void ReadField(const json& j, const char* key,
               std::map<std::string, std::string>& out) {
  if (const json* v = Field(j, key)) ReadValue(key, *v, out);
}

void ReadField(const json& j, const char* key, std::uint32_t& out) {
  if (const json* v = Field(j, key)) out = ReadInteger<std::uint32_t>(key, *v);
}

void ReadField(const json& j, const char* key,
               std::chrono::system_clock::time_point& out) {
  const json* v = Field(j, key);
  if (v == nullptr) return;
  if (!v->is_string()) WrongType(key, "an RFC 3339 time string", *v);
  auto time = ParseRfc3339(v->get_ref<const std::string&>());
  if (!time) {
    throw JsonMappingError(std::string("field '") + key +
                           "': expected an RFC 3339 time");
  }
  out = *time;
}

const char* ProtoField(const json& j, const char* json_name,
                       const char* proto_name) {
  if (Field(j, json_name) == nullptr && Field(j, proto_name) != nullptr) {
    return proto_name;
  }
  return json_name;
}

std::optional<json> ParseJsonObject(std::string_view text) {
  auto parsed = TryParseJson(text);
  if (!parsed || !parsed->is_object()) return std::nullopt;
  return parsed;
}

std::string StringMember(const json& j, const char* key) {
  const json* v = Field(j, key);
  return v != nullptr && v->is_string() ? v->get<std::string>() : std::string();
}

namespace {

bool Digits(std::string_view text, std::size_t pos, std::size_t count,
            int& out) {
  if (pos + count > text.size()) return false;
  out = 0;
  for (std::size_t i = pos; i < pos + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    out = out * 10 + (text[i] - '0');
  }
  return true;
}

}  // namespace

std::optional<std::chrono::system_clock::time_point> ParseRfc3339(
    std::string_view text) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!Digits(text, 0, 4, year) || text.size() < 20 || text[4] != '-' ||
      !Digits(text, 5, 2, month) || text[7] != '-' ||
      !Digits(text, 8, 2, day) ||
      (text[10] != 'T' && text[10] != 't' && text[10] != ' ') ||
      !Digits(text, 11, 2, hour) || text[13] != ':' ||
      !Digits(text, 14, 2, minute) || text[16] != ':' ||
      !Digits(text, 17, 2, second)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 ||
      minute > 59 || second > 60) {
    return std::nullopt;
  }
  std::size_t pos = 19;
  std::int64_t nanos = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (digits < 9) {
        nanos = nanos * 10 + (text[pos] - '0');
        ++digits;
      }
      ++pos;
    }
    if (digits == 0) return std::nullopt;
    for (; digits < 9; ++digits) nanos *= 10;
  }
  if (pos >= text.size()) return std::nullopt;
  std::int64_t offset_seconds = 0;
  if (text[pos] == 'Z' || text[pos] == 'z') {
    ++pos;
  } else if (text[pos] == '+' || text[pos] == '-') {
    int oh = 0, om = 0;
    if (!Digits(text, pos + 1, 2, oh) || pos + 3 >= text.size() ||
        text[pos + 3] != ':' || !Digits(text, pos + 4, 2, om) || oh > 23 ||
        om > 59) {
      return std::nullopt;
    }
    offset_seconds = (std::int64_t{oh} * 3600 + std::int64_t{om} * 60) *
                     (text[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;
  const std::int64_t days = DaysFromCivil(year, static_cast<unsigned>(month),
                                          static_cast<unsigned>(day));
  const std::int64_t seconds = days * 86400 + std::int64_t{hour} * 3600 +
                               std::int64_t{minute} * 60 + second -
                               offset_seconds;
  // system_clock counts nanoseconds in 64 bits (years 1678..2262 here): a
  // time outside that range cannot be represented, so it is not a time.
  constexpr auto kClockLimit = std::chrono::duration_cast<std::chrono::seconds>(
                                   std::chrono::system_clock::duration::max())
                                   .count() -
                               1;
  if (seconds > kClockLimit || seconds < -kClockLimit) return std::nullopt;
  const auto since_epoch =
      std::chrono::seconds(seconds) + std::chrono::nanoseconds(nanos);
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          since_epoch));
}

namespace {

// The members of the objects that have a tree-free decoder (DecodeFlat),
// in the order the tree decoder reads them (which decides which error a
// document with several bad fields gets): visit(name, field) per member,
// `name` a string literal.
// A missing or null member keeps the field's default.
template <typename Visit>
void VisitMembers(SandboxLifecycle& out, Visit&& visit) {
  visit("autoResume", out.AutoResume);
  visit("onTimeout", out.OnTimeout);
}

template <typename Visit>
void VisitMembers(CreatedSandbox& out, Visit&& visit) {
  visit("sandboxID", out.SandboxID);
  visit("templateID", out.TemplateID);
  visit("alias", out.Alias);
  visit("clientID", out.ClientID);
  visit("envdVersion", out.EnvdVersion);
  visit("envdAccessToken", out.EnvdAccessToken);
  visit("trafficAccessToken", out.TrafficAccessToken);
  visit("domain", out.Domain);
}

template <typename Visit>
void VisitMembers(SandboxInfo& out, Visit&& visit) {
  visit("sandboxID", out.ID);
  visit("alias", out.Alias);
  visit("clientID", out.ClientID);
  visit("templateID", out.Template);
  visit("state", out.State);
  visit("cpuCount", out.CPUCount);
  visit("memoryMB", out.MemoryMB);
  visit("diskSizeMB", out.DiskSizeMB);
  visit("startedAt", out.StartedAt);
  visit("endAt", out.EndAt);
  visit("envdVersion", out.EnvdVersion);
  visit("lifecycle", out.Lifecycle);
  visit("volumeMounts", out.VolumeMounts);
  visit("metadata", out.Metadata);
  visit("domain", out.Domain);
  visit("allowInternetAccess", out.AllowInternetAccess);
  visit("network", out.Network);
}

// The tree decoder of a type with VisitMembers.
template <typename T>
void DecodeMembers(const json& j, const char* what, T& out) {
  RequireObject(j, what);
  VisitMembers(out, [&j](const char* key, auto& field) {
    if (const json* v = Field(j, key)) ReadValue(key, *v, field);
  });
}

}  // namespace

void from_json(const json& j, CreatedSandbox& out) {
  DecodeMembers(j, "sandbox", out);
}

void ThrowMalformedResponse(const std::string& operation,
                            const std::string& why) {
  throw Error(0, "malformed response from " + operation + ": " + why);
}

namespace {

// The JSON the API answers with in practice (ASCII strings without
// escapes, integers, literals, shallow nesting), parsed without nlohmann's
// per-character lexer, which cost more than the whole HTTP exchange of a
// small call such as Sandbox::Info (callgrind: ~43k of ~159k instructions
// per call). Anything outside that subset, valid or not, makes Parse
// return false and nlohmann parses the text instead, so every input gets
// exactly json::parse's value or error.
class CommonJsonReader {
 public:
  explicit CommonJsonReader(std::string_view text)
      : at_(text.data()), end_(text.data() + text.size()) {}

  bool Parse(json& out) {
    SkipSpace();
    if (!Value(out, 0)) return false;
    SkipSpace();
    return at_ == end_;
  }

  // The whole text as one value read by read(*this) (e.g. with Object).
  template <typename Read>
  bool Document(Read&& read) {
    SkipSpace();
    if (!read(*this)) return false;
    SkipSpace();
    return at_ == end_;
  }

  // The object ahead, without building it: member(key, *this) for each
  // member in order, which reads the value (ReadString, ReadValue,
  // SkipValue or a nested Object) and returns false to give up. False
  // when what is ahead is not an object of the subset or a member gave up.
  template <typename Member>
  bool Object(Member&& member) {
    return Members([&](std::string_view key) { return member(key, *this); });
  }

  // The array ahead, without building it: item(*this) reads each element
  // in order and returns false to give up. False when what is ahead is not
  // an array of the subset or an item gave up.
  template <typename Item>
  bool Items(Item&& item) {
    return Sequence('[', ']', [&] { return item(*this); });
  }

  bool AtObject() const { return at_ != end_ && *at_ == '{'; }
  // Passes over the value ahead (a string without building it).
  bool SkipValue() {
    if (AtString()) {
      std::string_view ignored;
      return StringView(ignored);
    }
    json ignored;
    return Value(ignored, 1);
  }

  // For a Members callback: whether the value ahead is a string.
  bool AtString() const { return at_ != end_ && *at_ == '"'; }
  // Reads the string ahead (see AtString); false when it is outside the
  // subset.
  bool ReadString(std::string& out) { return String(out); }
  // Reads a member's value of any kind.
  bool ReadValue(json& out) { return Value(out, 1); }

  // Passes over a null ahead; false (nothing read) when it is not one.
  bool SkipNull() { return Word("null"); }

  // Reads a boolean ahead; false (nothing read) when it is not one.
  bool ReadBoolean(bool& out) {
    if (Word("true")) {
      out = true;
      return true;
    }
    if (Word("false")) {
      out = false;
      return true;
    }
    return false;
  }

  // Reads an integer ahead that Integer would read and that fits Int;
  // false (nothing read) otherwise, e.g. for 2.0 or a value out of range,
  // which the tree decoder handles or names.
  template <typename Int>
  bool ReadInteger(Int& out) {
    const char* digits = at_;
    if (digits != end_ && *digits == '-') ++digits;
    const char* stop = digits;
    while (stop != end_ && *stop >= '0' && *stop <= '9') ++stop;
    if (stop == digits || (*digits == '0' && stop - digits > 1)) return false;
    if (stop != end_ && (*stop == '.' || *stop == 'e' || *stop == 'E')) {
      return false;
    }
    Int value{};
    auto [end, error] = std::from_chars(at_, stop, value);
    if (error != std::errc() || end != stop) return false;
    out = value;
    at_ = stop;
    return true;
  }

 private:
  // Deeper documents go to nlohmann, whose parser needs no recursion.
  static constexpr int kMaxDepth = 32;

  void SkipSpace() {
    while (at_ != end_ &&
           (*at_ == ' ' || *at_ == '\n' || *at_ == '\r' || *at_ == '\t')) {
      ++at_;
    }
  }

  bool Value(json& out, int depth) {
    if (at_ == end_) return false;
    switch (*at_) {
      case '{':
        return Object(out, depth);
      case '[':
        return Array(out, depth);
      case '"': {
        std::string text;
        if (!String(text)) return false;
        out = std::move(text);
        return true;
      }
      case 't':
        return Literal("true", json(true), out);
      case 'f':
        return Literal("false", json(false), out);
      case 'n':
        return Literal("null", json(nullptr), out);
      default:
        return Integer(out);
    }
  }

  // `open`, then element() for each element (which reads it) separated
  // by commas, then `close`.
  template <typename Element>
  bool Sequence(char open, char close, Element&& element) {
    if (at_ == end_ || *at_ != open) return false;
    ++at_;
    SkipSpace();
    if (at_ != end_ && *at_ == close) {
      ++at_;
      return true;
    }
    for (;;) {
      if (!element()) return false;
      SkipSpace();
      if (at_ == end_) return false;
      if (*at_ == close) {
        ++at_;
        return true;
      }
      if (*at_ != ',') return false;
      ++at_;
      SkipSpace();
    }
  }

  // An object: member(key) for each member, positioned at its value.
  template <typename Member>
  bool Members(Member&& member) {
    return Sequence('{', '}', [&] {
      std::string_view key;
      if (!AtString() || !StringView(key)) return false;
      SkipSpace();
      if (at_ == end_ || *at_ != ':') return false;
      ++at_;
      SkipSpace();
      return member(key);
    });
  }

  bool Object(json& out, int depth) {
    if (depth >= kMaxDepth) return false;
    out = json::object();
    return Members([&](std::string_view key) {
      // A repeated key keeps its last value, as with nlohmann.
      return Value(out[std::string(key)], depth + 1);
    });
  }

  bool Array(json& out, int depth) {
    if (depth >= kMaxDepth) return false;
    out = json::array();
    return Sequence('[', ']', [&] {
      out.push_back(json());
      return Value(out.back(), depth + 1);
    });
  }

  // Printable ASCII only: escapes, control characters and UTF-8 (which
  // nlohmann validates) go the slow way.
  bool String(std::string& out) {
    std::string_view text;
    if (!StringView(text)) return false;
    out.assign(text.data(), text.size());
    return true;
  }

  bool StringView(std::string_view& out) {
    static const std::array<bool, 256> kPlain = [] {
      std::array<bool, 256> plain{};
      for (int c = 0x20; c < 0x80; ++c)
        plain[static_cast<std::size_t>(c)] = true;
      plain['"'] = false;
      plain['\\'] = false;
      return plain;
    }();
    const char* start = ++at_;
    while (at_ != end_ && kPlain[static_cast<unsigned char>(*at_)]) ++at_;
    if (at_ == end_ || *at_ != '"') return false;
    out = std::string_view(start, static_cast<std::size_t>(at_ - start));
    ++at_;
    return true;
  }

  bool Literal(std::string_view word, json value, json& out) {
    if (!Word(word)) return false;
    out = std::move(value);
    return true;
  }

  // Passes over `word` if it is ahead.
  bool Word(std::string_view word) {
    if (static_cast<std::size_t>(end_ - at_) < word.size() ||
        std::string_view(at_, word.size()) != word) {
      return false;
    }
    at_ += word.size();
    return true;
  }

  // Integers only, typed as nlohmann types them: unsigned when not
  // negative, signed otherwise. Fractions, exponents, leading zeros and
  // values beyond 64 bits go the slow way.
  bool Integer(json& out) {
    const char* start = at_;
    const bool negative = *at_ == '-';
    if (negative) ++at_;
    const char* digits = at_;
    while (at_ != end_ && *at_ >= '0' && *at_ <= '9') ++at_;
    if (at_ == digits || (*digits == '0' && at_ - digits > 1)) return false;
    if (at_ != end_ && (*at_ == '.' || *at_ == 'e' || *at_ == 'E')) {
      return false;
    }
    if (negative) {
      std::int64_t value = 0;
      auto [end, error] = std::from_chars(start, at_, value);
      if (error != std::errc() || end != at_) return false;
      out = value;
    } else {
      std::uint64_t value = 0;
      auto [end, error] = std::from_chars(start, at_, value);
      if (error != std::errc() || end != at_) return false;
      out = value;
    }
    return true;
  }

  const char* at_;
  const char* end_;
};

}  // namespace

std::optional<json> TryParseJson(std::string_view text) {
  {
    json value;
    if (CommonJsonReader(text).Parse(value)) return value;
  }
  json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return std::nullopt;
  return parsed;
}

json ParseJsonBody(std::string_view body, const std::string& operation) {
  if (auto value = TryParseJson(body)) return std::move(*value);
  // Invalid: parsed again, with exceptions, only to say where and why.
  try {
    const json accepted = json::parse(body.begin(), body.end());
    static_cast<void>(accepted);
  } catch (const json::parse_error& e) {
    // nlohmann's own text quotes the input, which may hold a token.
    if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
      ThrowMalformedResponse(operation, "empty body, expected JSON");
    }
    ThrowMalformedResponse(operation,
                           "invalid JSON at byte " + std::to_string(e.byte));
  } catch (const json::exception&) {
    // E.g. a number beyond double's range (out_of_range); nlohmann's text
    // would quote the body, so name only the kind of failure.
    ThrowMalformedResponse(operation, "JSON value out of range");
  }
  // nlohmann accepted it with exceptions on but not without: not expected.
  ThrowMalformedResponse(operation, "invalid JSON");
}

namespace {

// AutoPause and AutoResume after folding in the official SDKs' Lifecycle
// form; contradictions are the caller's mistake and fail before any call.
struct TimeoutBehaviour {
  bool auto_pause = false;
  std::optional<bool> auto_resume;
};

TimeoutBehaviour ResolveTimeoutBehaviour(const SandboxConfig& cfg) {
  TimeoutBehaviour out;
  out.auto_pause = cfg.AutoPause;
  if (cfg.AutoResume) out.auto_resume = cfg.AutoResume->Enabled;
  if (!cfg.Lifecycle) return out;
  const SandboxLifecycle& lc = *cfg.Lifecycle;
  if (!lc.OnTimeout.empty() && lc.OnTimeout != "kill" &&
      lc.OnTimeout != "pause") {
    throw InvalidArgumentError(
        "SandboxConfig.Lifecycle.OnTimeout must be \"kill\" or "
        "\"pause\", not \"" +
            lc.OnTimeout + "\"",
        0);
  }
  const bool pause = lc.OnTimeout == "pause";
  if (cfg.AutoPause && lc.OnTimeout == "kill") {
    throw InvalidArgumentError(
        "SandboxConfig.AutoPause contradicts Lifecycle.OnTimeout", 0);
  }
  if (lc.AutoResume && !pause && !cfg.AutoPause) {
    throw InvalidArgumentError(
        "SandboxConfig.Lifecycle.AutoResume needs OnTimeout "
        "\"pause\"",
        0);
  }
  if (cfg.AutoResume && cfg.AutoResume->Enabled != lc.AutoResume) {
    throw InvalidArgumentError(
        "SandboxConfig.AutoResume contradicts Lifecycle.AutoResume", 0);
  }
  out.auto_pause = out.auto_pause || pause;
  out.auto_resume = lc.AutoResume;
  return out;
}

// The JSON value parameter `name` of MCP server `server` holds; text from
// MCPValue::JSON that is not JSON is refused here.
json McpParameter(const std::string& server, const std::string& name,
                  const MCPValue& value) {
  json parsed = json::parse(value.JSONText(), nullptr, false);
  if (parsed.is_discarded()) {
    throw InvalidArgumentError("SandboxConfig.MCP: parameter '" + name +
                                   "' of '" + server + "' is not JSON",
                               0);
  }
  return parsed;
}

// The `mcp` object: server -> parameters, each parameter the JSON value its
// MCPValue holds.
json McpBody(const MCPConfig& mcp) {
  json out = json::object();
  for (const auto& [server, params] : mcp.Integrations) {
    json& entry = out[server] = json::object();
    for (const auto& [name, value] : params) {
      entry[name] = McpParameter(server, name, value);
    }
  }
  return out;
}

}  // namespace

json NewSandboxBody(const SandboxConfig& cfg) {
  json body = json::object();
  body["templateID"] = cfg.Template.empty() ? DefaultTemplate : cfg.Template;
  body["timeout"] = cfg.Timeout == 0 ? DefaultTimeout : cfg.Timeout;
  body["envVars"] = json::object();
  for (const auto& [key, value] : cfg.EnvVars) body["envVars"][key] = value;
  body["secure"] = cfg.Secure;
  const TimeoutBehaviour timeout = ResolveTimeoutBehaviour(cfg);
  if (timeout.auto_pause) {
    body["autoPause"] = true;
    if (cfg.AutoPauseMemory) body["autoPauseMemory"] = *cfg.AutoPauseMemory;
  } else if (cfg.AutoPauseMemory) {
    throw InvalidArgumentError("SandboxConfig.AutoPauseMemory needs AutoPause",
                               0);
  }
  if (timeout.auto_resume) {
    body["autoResume"] = json{{"enabled", *timeout.auto_resume}};
  }
  if (cfg.AllowInternetAccess) {
    body["allow_internet_access"] = *cfg.AllowInternetAccess;
  }
  if (cfg.Network) body["network"] = *cfg.Network;
  if (!cfg.Metadata.empty()) body["metadata"] = cfg.Metadata;
  if (!cfg.VolumeMounts.empty()) {
    for (const auto& mount : cfg.VolumeMounts) {
      if (mount.Name.empty() || mount.Path.empty()) {
        throw InvalidArgumentError(
            "SandboxConfig.VolumeMounts: every mount needs a Name "
            "and a Path",
            0);
      }
    }
    body["volumeMounts"] = cfg.VolumeMounts;
  }
  if (cfg.MCP) body["mcp"] = McpBody(*cfg.MCP);
  return body;
}

json NetworkUpdateBody(const NetworkUpdateConfig& cfg) {
  json body = json::object();
  if (!cfg.AllowOut.empty()) body["allowOut"] = cfg.AllowOut;
  if (!cfg.DenyOut.empty()) body["denyOut"] = cfg.DenyOut;
  if (!cfg.Rules.empty()) {
    json rules = json::object();
    for (const auto& [host, list] : cfg.Rules) rules[host] = list;
    body["rules"] = rules;
  }
  if (cfg.EgressProxy) body["egressProxy"] = *cfg.EgressProxy;
  if (cfg.AllowInternetAccess) {
    body["allow_internet_access"] = *cfg.AllowInternetAccess;
  }
  return body;
}

json VolumeMetadataBody(const VolumeMetadataParams& params) {
  json body = json::object();
  if (params.UID) body["uid"] = *params.UID;
  if (params.GID) body["gid"] = *params.GID;
  if (params.Mode) body["mode"] = *params.Mode;
  return body;
}

json CreateTemplateBody(const CreateTemplateConfig& cfg) {
  json body = json::object();
  body["name"] = cfg.Name;
  if (!cfg.Tags.empty()) body["tags"] = cfg.Tags;
  if (cfg.CPUCount > 0) body["cpuCount"] = cfg.CPUCount;
  if (cfg.MemoryMB > 0) body["memoryMB"] = cfg.MemoryMB;
  return body;
}

namespace {

json TemplateStepBody(const TemplateStep& step) {
  json body = json::object();
  body["type"] = step.Type;
  if (!step.Args.empty()) body["args"] = step.Args;
  if (!step.FilesHash.empty()) body["filesHash"] = step.FilesHash;
  if (step.Force) body["force"] = true;
  return body;
}

json ImageRegistryBody(const ImageRegistry& registry) {
  json body = json::object();
  body["type"] = registry.Type;
  const std::pair<const char*, const std::string*> optional_fields[] = {
      {"awsAccessKeyId", &registry.AWSAccessKeyID},
      {"awsSecretAccessKey", &registry.AWSSecretAccessKey},
      {"awsRegion", &registry.AWSRegion},
      {"serviceAccountJson", &registry.ServiceAccountJSON},
      {"username", &registry.Username},
      {"password", &registry.Password},
  };
  for (const auto& [key, value] : optional_fields) {
    if (!value->empty()) body[key] = *value;
  }
  return body;
}

}  // namespace

json StartBuildBody(const StartBuildConfig& cfg) {
  json body = json::object();
  if (!cfg.FromImage.empty()) body["fromImage"] = cfg.FromImage;
  if (!cfg.FromTemplate.empty()) body["fromTemplate"] = cfg.FromTemplate;
  if (cfg.FromImageRegistry) {
    body["fromImageRegistry"] = ImageRegistryBody(*cfg.FromImageRegistry);
  }
  if (cfg.Force) body["force"] = true;
  json steps = json::array();
  for (const auto& step : cfg.Steps) steps.push_back(TemplateStepBody(step));
  body["steps"] = std::move(steps);
  if (!cfg.StartCmd.empty()) body["startCmd"] = cfg.StartCmd;
  if (!cfg.ReadyCmd.empty()) body["readyCmd"] = cfg.ReadyCmd;
  return body;
}

namespace {

// DecodeFlat for a type with VisitMembers: each member's value is parsed
// alone and converted as the tree decoder converts it. Gives up (false)
// where the two could differ: text outside CommonJsonReader's subset, a
// member given twice (the tree keeps the last), a field of the wrong type
// (the tree decoder names the first in VisitMembers order).
// Whether VisitMembers(T&, ...) exists.
struct IgnoreMembers {
  template <typename Name, typename Field>
  void operator()(const Name&, Field&) const {}
};
template <typename T, typename = void>
struct HasMembers : std::false_type {};
template <typename T>
struct HasMembers<
    T, std::void_t<decltype(VisitMembers(std::declval<T&>(), IgnoreMembers()))>>
    : std::true_type {};

template <typename T>
bool DecodeObjectFlat(CommonJsonReader& in, T& out);

// One member's value into `field`, as ReadValue would convert it.
template <typename Field>
bool DecodeValueFlat(CommonJsonReader& in, const char* name, Field& field) {
  // The common cases without a JSON value in between. A null keeps the
  // default, as in the tree decoder.
  if (in.SkipNull()) return true;
  if constexpr (std::is_same_v<Field, std::string>) {
    if (in.AtString()) return in.ReadString(field);
  } else if constexpr (std::is_same_v<Field, bool> ||
                       std::is_same_v<Field, std::optional<bool>>) {
    bool value = false;
    if (in.ReadBoolean(value)) {
      field = value;
      return true;
    }
  } else if constexpr (std::is_same_v<Field, int> ||
                       std::is_same_v<Field, std::int64_t>) {
    if (in.ReadInteger(field)) return true;
  } else if constexpr (HasMembers<Field>::value) {
    if (in.AtObject()) return DecodeObjectFlat(in, field);
  } else if constexpr (std::is_same_v<Field,
                                      std::map<std::string, std::string>>) {
    if (in.AtObject()) {
      // Values that are not strings are kept as their JSON text by the
      // tree decoder; that case takes the tree path.
      return in.Object([&field](std::string_view key, CommonJsonReader& r) {
        return r.AtString() && r.ReadString(field[std::string(key)]);
      });
    }
  }
  json value;
  if (!in.ReadValue(value)) return false;
  ReadValue(name, std::move(value), field);
  return true;
}

// The members of the object ahead, each through member(key, r, claim),
// which reads or skips the value. For a member it knows, it first calls
// claim(i) with the member's index (below 64): false means the member came
// before, and the decoder gives up, since the tree keeps the last one.
template <typename Member>
bool ReadMembersOnce(CommonJsonReader& in, Member&& member) {
  std::uint64_t seen = 0;
  const auto claim = [&seen](int index) {
    const std::uint64_t bit = std::uint64_t{1} << index;
    if ((seen & bit) != 0) return false;
    seen |= bit;
    return true;
  };
  return in.Object([&](std::string_view key, CommonJsonReader& r) {
    return member(key, r, claim);
  });
}

// The object ahead into `out` through VisitMembers. Gives up where the
// tree decoder could differ: a member given twice (the tree keeps the
// last), a field of the wrong type (JsonMappingError: the tree decoder
// names the first bad one in VisitMembers order).
template <typename T>
bool DecodeObjectFlat(CommonJsonReader& in, T& out) {
  return ReadMembersOnce(
      in, [&out](std::string_view key, CommonJsonReader& r, const auto& claim) {
        bool matched = false;
        bool ok = true;
        int index = 0;
        VisitMembers(out, [&](const auto& name, auto& field) {
          // `name` is a string literal: its length is known here, and the
          // first byte rules out most names before any comparison call.
          constexpr std::size_t size = sizeof name - 1;
          if (!matched && key.size() == size && key[0] == name[0] &&
              std::memcmp(key.data(), name, size) == 0) {
            matched = true;
            ok = claim(index) && DecodeValueFlat(r, name, field);
          }
          ++index;
        });
        return matched ? ok : r.SkipValue();
      });
}

// The whole body through read(reader); a field of the wrong type gives up.
template <typename Read>
bool DecodeDocumentFlat(std::string_view body, Read&& read) {
  try {
    return CommonJsonReader(body).Document(read);
  } catch (const JsonMappingError&) {
    return false;
  }
}

template <typename T>
bool DecodeMembersFlat(std::string_view body, T& out) {
  return DecodeDocumentFlat(
      body, [&out](CommonJsonReader& in) { return DecodeObjectFlat(in, out); });
}

}  // namespace

bool DecodeFlat(std::string_view body, CreatedSandbox& out) {
  return DecodeMembersFlat(body, out);
}

bool DecodeFlat(std::string_view body, SandboxInfo& out) {
  return DecodeMembersFlat(body, out);
}

bool DecodeFlat(std::string_view body, std::vector<SandboxInfo>& out) {
  return DecodeDocumentFlat(body, [&out](CommonJsonReader& in) {
    return in.Items([&out](CommonJsonReader& item) {
      out.emplace_back();
      return DecodeObjectFlat(item, out.back());
    });
  });
}

namespace {

// ReadMembersOnce for members named by index_of(key) (-1: not one of
// them, skipped) and read by read(index, r), which returns false to give
// up.
template <typename Known, typename Read>
bool ReadKnownMembers(CommonJsonReader& in, Known&& index_of, Read&& read) {
  return ReadMembersOnce(
      in, [&](std::string_view key, CommonJsonReader& r, const auto& claim) {
        const int index = index_of(key);
        if (index < 0) return r.SkipValue();
        return claim(index) && read(index, r);
      });
}

// A string member, or null (which keeps `out` as it is).
bool ReadStringOrNull(CommonJsonReader& r, std::string& out) {
  if (r.SkipNull()) return true;
  return r.AtString() && r.ReadString(out);
}

// The event kind a member of `event` names; kNone for any other member.
ProcessEventText::Kind EventKind(std::string_view key) {
  using Kind = ProcessEventText::Kind;
  if (key == "start") return Kind::kStart;
  if (key == "data") return Kind::kData;
  if (key == "end") return Kind::kEnd;
  if (key == "keepalive") return Kind::kKeepalive;
  return Kind::kNone;
}

// The `start` object: its pid.
bool ReadStartEvent(CommonJsonReader& r, ProcessEventText& out) {
  return r.AtObject() &&
         ReadKnownMembers(
             r, [](std::string_view k) { return k == "pid" ? 0 : -1; },
             [&out](int, CommonJsonReader& v) {
               return v.SkipNull() || v.ReadInteger(out.pid);
             });
}

// The `data` object: one of its base64 outputs.
bool ReadDataEvent(CommonJsonReader& r, ProcessEventText& out) {
  return r.AtObject() && ReadKnownMembers(
                             r,
                             [](std::string_view k) {
                               return k == "stdout"   ? 0
                                      : k == "stderr" ? 1
                                      : k == "pty"    ? 2
                                                      : -1;
                             },
                             [&out](int index, CommonJsonReader& v) {
                               std::string& field =
                                   index == 0   ? out.stdout_base64
                                   : index == 1 ? out.stderr_base64
                                                : out.pty_base64;
                               return ReadStringOrNull(v, field);
                             });
}

// The `end` object: exit code, error and status. exit_code (the proto
// name) is rare: the tree decoder has it.
bool ReadEndEvent(CommonJsonReader& r, ProcessEventText& out) {
  return r.AtObject() &&
         ReadKnownMembers(
             r,
             [](std::string_view k) {
               return k == "exitCode"    ? 0
                      : k == "error"     ? 1
                      : k == "status"    ? 2
                      : k == "exit_code" ? 3
                                         : -1;
             },
             [&out](int index, CommonJsonReader& v) {
               if (index == 0) {
                 return v.SkipNull() || v.ReadInteger(out.exit_code);
               }
               if (index == 3) return false;
               return ReadStringOrNull(v, index == 1 ? out.error : out.status);
             });
}

// The `event` object: exactly one kind, read into `out`.
bool ReadProcessEvent(CommonJsonReader& event, ProcessEventText& out) {
  using Kind = ProcessEventText::Kind;
  return event.Object([&out](std::string_view key, CommonJsonReader& r) {
    const Kind kind = EventKind(key);
    if (kind == Kind::kNone) return r.SkipValue();
    // A second kind: which one counts is the tree decoder's call.
    if (out.kind != Kind::kNone) return false;
    out.kind = kind;
    switch (kind) {
      case Kind::kStart:
        return ReadStartEvent(r, out);
      case Kind::kData:
        return ReadDataEvent(r, out);
      case Kind::kEnd:
        return ReadEndEvent(r, out);
      default:
        return r.SkipValue();
    }
  });
}

}  // namespace

bool DecodeFlat(std::string_view message, ProcessEventText& out) {
  bool seen_event = false;
  return DecodeDocumentFlat(message, [&](CommonJsonReader& in) {
    return in.AtObject() &&
           in.Object([&](std::string_view key, CommonJsonReader& r) {
             if (key != "event") return r.SkipValue();
             if (seen_event) return false;
             seen_event = true;
             if (r.SkipNull()) return true;
             return r.AtObject() && ReadProcessEvent(r, out);
           });
  });
}

std::vector<ForkEntryWire> ParseForkResults(std::string_view body,
                                            const std::string& operation) {
  const json entries = ParseJsonBody(body, operation);
  if (!entries.is_array()) {
    ThrowMalformedResponse(operation, "expected a JSON array of fork results");
  }
  std::vector<ForkEntryWire> out;
  out.reserve(entries.size());
  for (const json& entry : entries) {
    ForkEntryWire wire;
    try {
      RequireObject(entry, "fork result");
      const json* sandbox = Field(entry, "sandbox");
      const json* error = Field(entry, "error");
      if (sandbox != nullptr && error == nullptr) {
        Decode(*sandbox, wire.sandbox);
        wire.kind = ForkEntryWire::Kind::kSandbox;
      } else if (error != nullptr) {
        RequireObject(*error, "error");
        ReadField(*error, "code", wire.code);
        ReadField(*error, "message", wire.message);
        wire.kind = ForkEntryWire::Kind::kError;
      }
    } catch (const JsonMappingError& e) {
      wire = ForkEntryWire{};
      wire.kind = ForkEntryWire::Kind::kMalformed;
      wire.malformed = e.what();
    }
    out.push_back(std::move(wire));
  }
  return out;
}

std::map<std::string, SandboxMetric> ParseSandboxesMetrics(
    std::string_view body, const std::string& operation) {
  const json j = ParseJsonBody(body, operation);
  std::map<std::string, SandboxMetric> out;
  try {
    RequireObject(j, "response");
    const json* sandboxes = Field(j, "sandboxes");
    if (sandboxes == nullptr) return out;
    RequireObject(*sandboxes, "field 'sandboxes'");
    for (auto entry = sandboxes->begin(); entry != sandboxes->end(); ++entry) {
      Decode(entry.value(), out[entry.key()]);
    }
  } catch (const JsonMappingError& e) {
    ThrowMalformedResponse(operation, e.what());
  }
  return out;
}

}  // namespace internal

using internal::ReadField;
using internal::RequireObject;
using nlohmann::json;

void from_json(const json& j, SandboxLifecycle& out) {
  internal::DecodeMembers(j, "lifecycle", out);
}

void from_json(const json& j, VolumeMount& out) {
  RequireObject(j, "volume mount");
  ReadField(j, "name", out.Name);
  ReadField(j, "path", out.Path);
}

void from_json(const json& j, SandboxInfo& out) {
  internal::DecodeMembers(j, "sandbox", out);
}

void from_json(const json& j, EgressProxyConfig& out) {
  RequireObject(j, "egress proxy");
  ReadField(j, "address", out.Address);
  ReadField(j, "username", out.Username);
  ReadField(j, "password", out.Password);
}

void from_json(const json& j, RequestRule& out) {
  RequireObject(j, "rule");
  auto transform = j.find("transform");
  if (transform == j.end() || transform->is_null()) return;
  RequireObject(*transform, "transform");
  ReadField(*transform, "headers", out.Transform.Headers);
}

void from_json(const json& j, NetworkConfig& out) {
  RequireObject(j, "network");
  ReadField(j, "allowOut", out.AllowOut);
  ReadField(j, "denyOut", out.DenyOut);
  ReadField(j, "maskRequestHost", out.MaskRequestHost);
  auto pub = j.find("allowPublicTraffic");
  if (pub != j.end() && !pub->is_null()) {
    bool allowed = true;
    ReadField(j, "allowPublicTraffic", allowed);
    out.AllowPublicTraffic = allowed;
  }
  auto proxy = j.find("egressProxy");
  if (proxy != j.end() && !proxy->is_null()) {
    EgressProxyConfig config;
    from_json(*proxy, config);
    out.EgressProxy = std::move(config);
  }
  auto rules = j.find("rules");
  if (rules != j.end() && !rules->is_null()) {
    RequireObject(*rules, "rules");
    for (auto it = rules->begin(); it != rules->end(); ++it) {
      try {
        internal::Decode(it.value(), out.Rules[it.key()]);
      } catch (const internal::JsonMappingError& e) {
        throw internal::JsonMappingError("rules for one host: " +
                                         std::string(e.what()));
      }
    }
  }
}

void from_json(const json& j, SandboxLogEntry& out) {
  RequireObject(j, "log entry");
  ReadField(j, "level", out.Level);
  ReadField(j, "message", out.Message);
  ReadField(j, "timestamp", out.Timestamp);
  ReadField(j, "fields", out.Fields);
}

void from_json(const json& j, SandboxMetric& out) {
  RequireObject(j, "metric");
  ReadField(j, "cpuCount", out.CPUCount);
  ReadField(j, "cpuUsedPct", out.CPUUsedPct);
  ReadField(j, "memTotal", out.MemTotal);
  ReadField(j, "memUsed", out.MemUsed);
  ReadField(j, "memCache", out.MemCache);
  ReadField(j, "diskTotal", out.DiskTotal);
  ReadField(j, "diskUsed", out.DiskUsed);
  ReadField(j, "timestamp", out.Timestamp);
  ReadField(j, "timestampUnix", out.TimestampUnix);
}

void from_json(const json& j, SnapshotInfo& out) {
  RequireObject(j, "snapshot");
  ReadField(j, "snapshotID", out.SnapshotID);
  ReadField(j, "names", out.Names);
}

void from_json(const json& j, TemplateInfo& out) {
  RequireObject(j, "template");
  ReadField(j, "templateID", out.TemplateID);
  ReadField(j, "buildID", out.BuildID);
  ReadField(j, "public", out.Public);
  ReadField(j, "names", out.Names);
  ReadField(j, "tags", out.Tags);
  ReadField(j, "aliases", out.Aliases);
}

void from_json(const json& j, TemplateDetail& out) {
  RequireObject(j, "template");
  ReadField(j, "templateID", out.TemplateID);
  ReadField(j, "buildID", out.BuildID);
  ReadField(j, "cpuCount", out.CPUCount);
  ReadField(j, "memoryMB", out.MemoryMB);
  ReadField(j, "diskSizeMB", out.DiskSizeMB);
  ReadField(j, "public", out.Public);
  ReadField(j, "names", out.Names);
  ReadField(j, "aliases", out.Aliases);
  ReadField(j, "createdAt", out.CreatedAt);
  ReadField(j, "updatedAt", out.UpdatedAt);
  ReadField(j, "lastSpawnedAt", out.LastSpawnedAt);
  ReadField(j, "spawnCount", out.SpawnCount);
  ReadField(j, "buildCount", out.BuildCount);
  ReadField(j, "envdVersion", out.EnvdVersion);
  ReadField(j, "buildStatus", out.BuildStatus);
}

void from_json(const json& j, TemplateBuild& out) {
  RequireObject(j, "build");
  ReadField(j, "buildID", out.BuildID);
  ReadField(j, "status", out.Status);
  ReadField(j, "createdAt", out.CreatedAt);
  ReadField(j, "updatedAt", out.UpdatedAt);
  ReadField(j, "finishedAt", out.FinishedAt);
  ReadField(j, "cpuCount", out.CPUCount);
  ReadField(j, "memoryMB", out.MemoryMB);
  ReadField(j, "diskSizeMB", out.DiskSizeMB);
  ReadField(j, "envdVersion", out.EnvdVersion);
}

void from_json(const json& j, TemplateWithBuilds& out) {
  RequireObject(j, "template");
  ReadField(j, "templateID", out.TemplateID);
  ReadField(j, "public", out.Public);
  ReadField(j, "names", out.Names);
  ReadField(j, "aliases", out.Aliases);
  ReadField(j, "createdAt", out.CreatedAt);
  ReadField(j, "updatedAt", out.UpdatedAt);
  ReadField(j, "lastSpawnedAt", out.LastSpawnedAt);
  ReadField(j, "spawnCount", out.SpawnCount);
  auto builds = j.find("builds");
  if (builds != j.end()) {
    try {
      internal::Decode(*builds, out.Builds);
    } catch (const internal::JsonMappingError& e) {
      throw internal::JsonMappingError(std::string("field 'builds': ") +
                                       e.what());
    }
  }
}

void from_json(const json& j, BuildLogEntry& out) {
  RequireObject(j, "log entry");
  ReadField(j, "timestamp", out.Timestamp);
  ReadField(j, "message", out.Message);
  ReadField(j, "level", out.Level);
  ReadField(j, "step", out.Step);
}

void from_json(const json& j, BuildFileStatus& out) {
  RequireObject(j, "file status");
  ReadField(j, "present", out.Present);
  ReadField(j, "url", out.URL);
}

namespace {

// A member that is an array of log entries (missing or null = empty).
void ReadLogEntries(const json& j, const char* key,
                    std::vector<BuildLogEntry>& out) {
  auto it = j.find(key);
  if (it == j.end()) return;
  try {
    internal::Decode(*it, out);
  } catch (const internal::JsonMappingError& e) {
    throw internal::JsonMappingError(std::string("field '") + key +
                                     "': " + e.what());
  }
}

}  // namespace

void from_json(const json& j, BuildStatusReason& out) {
  RequireObject(j, "build status reason");
  ReadField(j, "message", out.Message);
  ReadField(j, "step", out.Step);
  ReadLogEntries(j, "logEntries", out.LogEntries);
}

void from_json(const json& j, BuildStatus& out) {
  RequireObject(j, "build status");
  ReadField(j, "templateID", out.TemplateID);
  ReadField(j, "buildID", out.BuildID);
  ReadField(j, "status", out.Status);
  ReadField(j, "logs", out.Logs);
  ReadLogEntries(j, "logEntries", out.LogEntries);
  auto reason = j.find("reason");
  if (reason != j.end() && !reason->is_null()) {
    try {
      BuildStatusReason r;
      from_json(*reason, r);
      out.Reason = std::move(r);
    } catch (const internal::JsonMappingError& e) {
      throw internal::JsonMappingError(std::string("field 'reason': ") +
                                       e.what());
    }
  }
}

void from_json(const json& j, VolumeInfo& out) {
  RequireObject(j, "volume");
  ReadField(j, "volumeID", out.VolumeID);
  ReadField(j, "name", out.Name);
}

void from_json(const json& j, VolumeAndToken& out) {
  RequireObject(j, "volume");
  ReadField(j, "volumeID", out.VolumeID);
  ReadField(j, "name", out.Name);
  ReadField(j, "token", out.Token);
}

namespace {

// A volume entry's time: Go's client reads "" as the zero time, so it is
// the epoch here rather than a malformed answer.
void ReadVolumeTime(const json& j, const char* key,
                    std::chrono::system_clock::time_point& out) {
  const auto it = j.find(key);
  if (it != j.end() && it->is_string() &&
      it->get_ref<const std::string&>().empty()) {
    return;
  }
  ReadField(j, key, out);
}

}  // namespace

void from_json(const json& j, VolumeEntryStat& out) {
  RequireObject(j, "volume entry");
  ReadField(j, "name", out.Name);
  ReadField(j, "type", out.Type);
  ReadField(j, "path", out.Path);
  ReadField(j, "size", out.Size);
  ReadField(j, "mode", out.Mode);
  ReadField(j, "uid", out.UID);
  ReadField(j, "gid", out.GID);
  ReadVolumeTime(j, "atime", out.ATime);
  ReadVolumeTime(j, "mtime", out.MTime);
  ReadVolumeTime(j, "ctime", out.CTime);
  ReadField(j, "target", out.Target);
}

// ---- output: the wire names, every field (e2b-local and tests use these) --

void to_json(json& j, const SandboxLifecycle& in) {
  j = json{{"autoResume", in.AutoResume}, {"onTimeout", in.OnTimeout}};
}

void to_json(json& j, const VolumeMount& in) {
  j = json{{"name", in.Name}, {"path", in.Path}};
}

void to_json(json& j, const EgressProxyConfig& in) {
  j = json{{"address", in.Address}};
  if (!in.Username.empty()) j["username"] = in.Username;
  if (!in.Password.empty()) j["password"] = in.Password;
}

void to_json(json& j, const RequestRule& in) {
  j = json{{"transform", json{{"headers", in.Transform.Headers}}}};
}

void to_json(json& j, const NetworkConfig& in) {
  j = json::object();
  if (!in.AllowOut.empty()) j["allowOut"] = in.AllowOut;
  if (!in.DenyOut.empty()) j["denyOut"] = in.DenyOut;
  if (!in.Rules.empty()) {
    json rules = json::object();
    for (const auto& [host, list] : in.Rules) rules[host] = list;
    j["rules"] = rules;
  }
  if (in.EgressProxy) j["egressProxy"] = *in.EgressProxy;
  if (in.AllowPublicTraffic) j["allowPublicTraffic"] = *in.AllowPublicTraffic;
  if (!in.MaskRequestHost.empty()) j["maskRequestHost"] = in.MaskRequestHost;
}

void to_json(json& j, const SandboxInfo& in) {
  j = json{{"sandboxID", in.ID},
           {"alias", in.Alias},
           {"clientID", in.ClientID},
           {"templateID", in.Template},
           {"state", in.State},
           {"cpuCount", in.CPUCount},
           {"memoryMB", in.MemoryMB},
           {"diskSizeMB", in.DiskSizeMB},
           {"startedAt", in.StartedAt},
           {"endAt", in.EndAt},
           {"envdVersion", in.EnvdVersion},
           {"lifecycle", in.Lifecycle},
           {"volumeMounts", in.VolumeMounts},
           {"metadata", in.Metadata}};
  if (in.Network) j["network"] = *in.Network;
  if (in.AllowInternetAccess) {
    j["allowInternetAccess"] = *in.AllowInternetAccess;
  }
  if (!in.Domain.empty()) j["domain"] = in.Domain;
}

void to_json(json& j, const SandboxLogEntry& in) {
  j = json{{"level", in.Level},
           {"message", in.Message},
           {"timestamp", in.Timestamp},
           {"fields", in.Fields}};
}

void to_json(json& j, const SandboxMetric& in) {
  j = json{{"cpuCount", in.CPUCount},          {"cpuUsedPct", in.CPUUsedPct},
           {"memTotal", in.MemTotal},          {"memUsed", in.MemUsed},
           {"memCache", in.MemCache},          {"diskTotal", in.DiskTotal},
           {"diskUsed", in.DiskUsed},          {"timestamp", in.Timestamp},
           {"timestampUnix", in.TimestampUnix}};
}

void to_json(json& j, const SnapshotInfo& in) {
  j = json{{"snapshotID", in.SnapshotID}, {"names", in.Names}};
}

void to_json(json& j, const TemplateInfo& in) {
  j = json{{"templateID", in.TemplateID},
           {"buildID", in.BuildID},
           {"public", in.Public},
           {"names", in.Names},
           {"tags", in.Tags},
           {"aliases", in.Aliases}};
}

void to_json(json& j, const TemplateDetail& in) {
  j = json{{"templateID", in.TemplateID},
           {"buildID", in.BuildID},
           {"cpuCount", in.CPUCount},
           {"memoryMB", in.MemoryMB},
           {"diskSizeMB", in.DiskSizeMB},
           {"public", in.Public},
           {"names", in.Names},
           {"aliases", in.Aliases},
           {"createdAt", in.CreatedAt},
           {"updatedAt", in.UpdatedAt},
           {"lastSpawnedAt",
            in.LastSpawnedAt ? json(*in.LastSpawnedAt) : json(nullptr)},
           {"spawnCount", in.SpawnCount},
           {"buildCount", in.BuildCount},
           {"envdVersion", in.EnvdVersion},
           {"buildStatus", in.BuildStatus}};
}

void to_json(json& j, const TemplateBuild& in) {
  j = json{{"buildID", in.BuildID},        {"status", in.Status},
           {"createdAt", in.CreatedAt},    {"updatedAt", in.UpdatedAt},
           {"finishedAt", in.FinishedAt},  {"cpuCount", in.CPUCount},
           {"memoryMB", in.MemoryMB},      {"diskSizeMB", in.DiskSizeMB},
           {"envdVersion", in.EnvdVersion}};
}

void to_json(json& j, const TemplateWithBuilds& in) {
  j = json{{"templateID", in.TemplateID},
           {"public", in.Public},
           {"names", in.Names},
           {"aliases", in.Aliases},
           {"createdAt", in.CreatedAt},
           {"updatedAt", in.UpdatedAt},
           {"lastSpawnedAt",
            in.LastSpawnedAt ? json(*in.LastSpawnedAt) : json(nullptr)},
           {"spawnCount", in.SpawnCount},
           {"builds", in.Builds}};
}

void to_json(json& j, const BuildLogEntry& in) {
  j = json{{"timestamp", in.Timestamp},
           {"message", in.Message},
           {"level", in.Level},
           {"step", in.Step}};
}

// ---- MCPValue: JSON text of one MCP parameter --------------------------

namespace {
std::string McpValueText(const nlohmann::json& value) {
  try {
    return value.dump();
  } catch (const nlohmann::json::type_error&) {
    throw InvalidArgumentError("MCPValue: text that is not valid UTF-8", 0);
  }
}
}  // namespace

MCPValue::MCPValue(std::string text)
    : json_(McpValueText(nlohmann::json(std::move(text)))) {}

MCPValue::MCPValue(const char* text) : MCPValue(std::string(text)) {}

MCPValue::MCPValue(bool value) : json_(value ? "true" : "false") {}

MCPValue::MCPValue(const std::vector<std::string>& list)
    : json_(McpValueText(nlohmann::json(list))) {}

MCPValue MCPValue::JSON(std::string json_text) {
  return MCPValue(Raw{}, std::move(json_text));
}

std::string MCPValue::FloatText(double value) {
  // JSON has no NaN or infinity; nlohmann writes them as null, which is
  // what a JSON encoder must do with them.
  return nlohmann::json(value).dump();
}

}  // namespace e2b
