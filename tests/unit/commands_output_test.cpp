// Process output handling shared by Run, handles and PTYs: incremental UTF-8
// decoding for text callbacks and the parsing of process events.

#include "internal/base64.hpp"
#include "internal/process_stream.hpp"
#include "internal/utf8_decoder.hpp"

#include <e2b/errors.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace e2b::internal {
namespace {

using nlohmann::json;

const std::string kFffd = "\xEF\xBF\xBD";

std::string DecodeInPieces(const std::string& bytes,
                           const std::vector<std::size_t>& cuts) {
  Utf8StreamDecoder decoder;
  std::string out;
  std::size_t from = 0;
  for (std::size_t cut : cuts) {
    out += decoder.Decode(std::string_view(bytes).substr(from, cut - from));
    from = cut;
  }
  out += decoder.Decode(std::string_view(bytes).substr(from));
  out += decoder.Flush();
  return out;
}

TEST(Utf8StreamDecoderTest, HoldsBackASplitCharacter) {
  Utf8StreamDecoder decoder;
  // "é" = C3 A9, "🌍" = F0 9F 8C 8D.
  EXPECT_EQ(decoder.Decode("h\xC3"), "h");
  EXPECT_EQ(decoder.Decode("\xA9 \xF0\x9F"), "\xC3\xA9 ");
  EXPECT_EQ(decoder.Decode("\x8C"), "");
  EXPECT_EQ(decoder.Decode("\x8D!"), "\xF0\x9F\x8C\x8D!");
  EXPECT_EQ(decoder.Flush(), "");
}

TEST(Utf8StreamDecoderTest, EverySplitGivesTheSameText) {
  const std::string text =
      "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x8C\x8D\xFF\xC3(\xED\xA0\x80z\xF4\x90";
  const std::string whole = DecodeInPieces(text, {});
  for (std::size_t i = 1; i < text.size(); ++i) {
    for (std::size_t j = i; j < text.size(); ++j) {
      EXPECT_EQ(DecodeInPieces(text, {i, j}), whole) << i << "," << j;
    }
  }
  // Valid parts pass through; each invalid subpart is one U+FFFD.
  EXPECT_EQ(whole, "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x8C\x8D" + kFffd + kFffd +
                       "(" + kFffd + kFffd + kFffd + "z" + kFffd + kFffd);
}

TEST(Utf8StreamDecoderTest, RejectsOverlongAndSurrogates) {
  Utf8StreamDecoder decoder;
  EXPECT_EQ(decoder.Decode("\xC0\xAF"), kFffd + kFffd);
  EXPECT_EQ(decoder.Decode("\xE0\x80\x80"), kFffd + kFffd + kFffd);
  EXPECT_EQ(decoder.Decode("\xED\xBF\xBF"), kFffd + kFffd + kFffd);
  EXPECT_EQ(decoder.Decode("\xF4\x8F\xBF\xBF"), "\xF4\x8F\xBF\xBF");
}

TEST(Utf8StreamDecoderTest, FlushReportsATruncatedCharacterOnce) {
  Utf8StreamDecoder decoder;
  EXPECT_EQ(decoder.Decode("x\xE2\x82"), "x");
  EXPECT_EQ(decoder.Flush(), kFffd);
  EXPECT_EQ(decoder.Flush(), "");
  EXPECT_EQ(decoder.Decode("\xAC"), kFffd);  // a fresh state after Flush
}

TEST(ProcessEventTest, ParsesEveryKind) {
  auto start =
      ParseProcessEvent(json::parse(R"({"event":{"start":{"pid":42}}})"), "p");
  EXPECT_EQ(start.kind, ProcessEvent::Kind::kStart);
  EXPECT_EQ(start.pid, 42u);
  auto pid_string = ParseProcessEvent(
      json::parse(R"({"event":{"start":{"pid":"4294967295"}}})"), "p");
  EXPECT_EQ(pid_string.pid, 4294967295u);
  auto data = ParseProcessEvent(
      json{{"event",
            {{"data",
              {{"stdout", Base64Encode("o")},
               {"stderr", Base64Encode("e")},
               {"pty", Base64Encode(std::string("\0\xff", 2))}}}}}},
      "p");
  EXPECT_EQ(data.kind, ProcessEvent::Kind::kData);
  EXPECT_EQ(data.out, "o");
  EXPECT_EQ(data.err, "e");
  EXPECT_EQ(data.pty, std::string("\0\xff", 2));
  auto end = ParseProcessEvent(
      json::parse(
          R"({"event":{"end":{"exitCode":-1,"status":"signal: killed"}}})"),
      "p");
  EXPECT_EQ(end.kind, ProcessEvent::Kind::kEnd);
  EXPECT_EQ(end.exit_code, -1);
  EXPECT_EQ(end.error, "signal: killed");
  auto clean = ParseProcessEvent(json::parse(R"({"event":{"end":{}}})"), "p");
  EXPECT_EQ(clean.exit_code, 0);
  EXPECT_EQ(
      ParseProcessEvent(json::parse(R"({"event":{"keepalive":{}}})"), "p").kind,
      ProcessEvent::Kind::kKeepalive);
  EXPECT_EQ(
      ParseProcessEvent(json::parse(R"({"event":{"future":{}}})"), "p").kind,
      ProcessEvent::Kind::kOther);
  EXPECT_EQ(ParseProcessEvent(json::object(), "p").kind,
            ProcessEvent::Kind::kOther);
}

TEST(ProcessEventTest, MalformedEventsAreErrorsNamingTheCall) {
  const char* bad[] = {
      R"({"event":[]})",
      R"({"event":{"start":{"pid":-1}}})",
      R"({"event":{"start":{"pid":"12x"}}})",
      R"({"event":{"start":{"pid":4294967296}}})",
      R"({"event":{"data":{"stdout":"***"}}})",
      R"({"event":{"data":{"stdout":5}}})",
      R"({"event":{"data":"x"}})",
      R"({"event":{"end":{"exitCode":"x"}}})",
      R"({"event":{"end":{"exitCode":99999999999}}})",
  };
  for (const char* text : bad) {
    try {
      ParseProcessEvent(json::parse(text), "process.Process/Connect");
      ADD_FAILURE() << "accepted " << text;
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()).find("process.Process/Connect: "),
                std::string("e2b: ").size())
          << e.what();
    }
  }
}

// ParseProcessEvent's outcome for a message: the event or the error text.
template <typename Message>
std::string Outcome(const Message& message) {
  try {
    const ProcessEvent e = ParseProcessEvent(message, "p");
    return std::to_string(static_cast<int>(e.kind)) + "|" +
           std::to_string(e.pid) + "|" + e.out + "|" + e.err + "|" + e.pty +
           "|" + std::to_string(e.exit_code) + "|" + e.error;
  } catch (const Error& e) {
    return e.what();
  }
}

TEST(ProcessEventTest, TreeFreeDecodingTakesEnvdsShapesAndMatchesTheTree) {
  // What envd sends for every command: decoded without a JSON tree.
  const char* common[] = {
      R"({"event":{"start":{"pid":42}}})",
      R"({"event":{"data":{"stdout":"aGkK"}}})",
      R"({"event":{"data":{"stderr":"ZXJy","stdout":null}}})",
      R"({"event":{"data":{"pty":"AP8="}}})",
      R"({"event":{"data":{"stdout":"***"}}})",  // same error as the tree
      R"({"event":{"end":{"exitCode":1,"exited":true,"status":"exit status 1"}}})",
      R"({"event":{"end":{"exited":true,"status":"signal: killed","error":"x"}}})",
      R"({"event":{"end":{}}})",
      R"({"event":{"keepalive":{}}})",
      R"({"event":{"future":{"a":[1,2]}}})",
      R"({"event":null})",
      R"({"other":1})",
  };
  for (const char* text : common) {
    SCOPED_TRACE(text);
    ProcessEventText flat;
    ASSERT_TRUE(DecodeFlat(text, flat));
    EXPECT_EQ(Outcome(flat), Outcome(json::parse(text)));
  }
  // Anything else is left to the tree, which decides or names the error.
  const char* left[] = {
      R"({"event":{"start":{"pid":"42"}}})",
      R"({"event":{"start":{"pid":-1}}})",
      R"({"event":{"start":{"pid":4294967296}}})",
      R"({"event":{"start":{"pid":1},"end":{}}})",
      R"({"event":{"end":{"exit_code":3}}})",
      R"({"event":{"end":{"exitCode":99999999999}}})",
      R"({"event":{"end":{"exitCode":1.0}}})",
      R"({"event":{"data":{"stdout":5}}})",
      R"({"event":{"data":{"stdout":"aGk=","stdout":"eA=="}}})",
      R"({"event":{"data":"x"}})",
      R"({"event":[]})",
      R"({"event":{},"event":{"keepalive":{}}})",
      R"({"event":{"end":{"status":"caf\u00e9"}}})",
      R"([1])",
      R"({"event":{"start":{"pid":1}}} x)",
  };
  for (const char* text : left) {
    SCOPED_TRACE(text);
    ProcessEventText flat;
    EXPECT_FALSE(DecodeFlat(text, flat));
  }
}

TEST(OutputDispatcherTest, TextAndBytesCallbacksSeeTheSameStream) {
  std::string text;
  std::string bytes;
  std::vector<std::string> text_chunks;
  OutputCallbacks callbacks;
  callbacks.on_stdout = [&](const std::string& t) {
    text += t;
    text_chunks.push_back(t);
  };
  callbacks.on_stdout_bytes = [&](const std::vector<std::uint8_t>& b) {
    bytes.append(b.begin(), b.end());
  };
  OutputDispatcher dispatcher(callbacks);
  ProcessEvent event;
  event.kind = ProcessEvent::Kind::kData;
  for (std::string piece : {"\xE2", "\x82", "\xAC\xFF", "\xC3"}) {
    event.out = piece;
    dispatcher.Deliver(event);
  }
  dispatcher.Finish();
  EXPECT_EQ(bytes, "\xE2\x82\xAC\xFF\xC3");
  EXPECT_EQ(text, "\xE2\x82\xAC" + kFffd + kFffd);
  for (const auto& chunk : text_chunks) EXPECT_FALSE(chunk.empty());
}

}  // namespace
}  // namespace e2b::internal
