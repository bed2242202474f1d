// ParseJsonBody parses the common subset of JSON itself and hands the rest
// to nlohmann: for any input it must give exactly json::parse's value (with
// the same number types) or fail where json::parse fails.

#include "internal/json_mapping.hpp"

#include <e2b/errors.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace {

using e2b::internal::ParseJsonBody;
using nlohmann::json;

// Equal values and equal types all the way down (json's operator== calls
// 1 and 1u and 1.0 equal).
bool SameTree(const json& a, const json& b) {
  if (a.type() != b.type()) return false;
  if (a.is_object()) {
    if (a.size() != b.size()) return false;
    for (auto it = a.begin(); it != a.end(); ++it) {
      auto other = b.find(it.key());
      if (other == b.end() || !SameTree(*it, *other)) return false;
    }
    return true;
  }
  if (a.is_array()) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (!SameTree(a[i], b[i])) return false;
    }
    return true;
  }
  return a == b;
}

std::optional<json> Reference(const std::string& text) {
  try {
    return json::parse(text);
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

std::optional<json> Ours(const std::string& text) {
  try {
    return ParseJsonBody(text, "GET /op");
  } catch (const e2b::Error& e) {
    EXPECT_EQ(e.Message().rfind("malformed response from GET /op: ", 0), 0u);
    return std::nullopt;
  }
}

void ExpectSameAsNlohmann(const std::string& text) {
  const auto expected = Reference(text);
  const auto got = Ours(text);
  ASSERT_EQ(expected.has_value(), got.has_value()) << text;
  if (expected) {
    EXPECT_TRUE(SameTree(*expected, *got))
        << text << "\nnlohmann: " << expected->dump()
        << "\nours: " << got->dump();
  }
}

const std::vector<std::string> kCorpus = {
    R"({"alias":"base","allowInternetAccess":true,"clientID":"e2b-local",)"
    R"("cpuCount":2,"diskSizeMB":1024,"domain":null,"endAt":)"
    R"("2026-11-29T07:19:24.486Z","envdVersion":"0.6.4","lifecycle":)"
    R"({"autoResume":false,"onTimeout":"kill"},"memoryMB":512,)"
    R"("metadata":{},"sandboxID":"i923n5","state":"running"})",
    "[]",
    "{}",
    " \t\r\n{ \"a\" : [ 1 , -2 , 0 , -0 , true , false , null ] } \n",
    R"([18446744073709551615, 18446744073709551616, -9223372036854775808,
        -9223372036854775809, 9223372036854775807])",
    R"({"a":1,"a":2,"b":{"a":[{"c":"d"}]}})",
    R"(["x\"y", "tab\there", "\u00e9", "é", "\ud83d\ude00"])",
    R"([1.5, 1e3, -0.0, 2E-2, 0.1e+1])",
    R"([01, -01, 00, -, 1., .5, 1e, +1])",
    "\xEF\xBB\xBF{\"bom\":true}",
    "[\"\x7F\", \"\x01\"]",
    "[\"\xC3\x28\"]",
    R"({"a":1,})",
    R"([1,])",
    R"({"a" 1})",
    R"({a:1})",
    "tru",
    "nul",
    "true false",
    "",
    "   ",
    "\"just a string\"",
    "42",
    "-7",
    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
    "]]]]]]]",
    R"({"a":[]}garbage)",
    "{\"a\":1}\0",
    "/* comment */ {}",
    R"([1e400])",
};

TEST(JsonBodyParseTest, CorpusMatchesNlohmann) {
  for (const auto& text : kCorpus) ExpectSameAsNlohmann(text);
  ExpectSameAsNlohmann(std::string("{\"a\":1}\0", 8));
}

TEST(JsonBodyParseTest, DeepNestingGoesToNlohmann) {
  std::string deep(5000, '[');
  deep += std::string(5000, ']');
  ExpectSameAsNlohmann(deep);
  std::string deep_object;
  for (int i = 0; i < 100; ++i) deep_object += "{\"k\":";
  deep_object += "1";
  deep_object += std::string(100, '}');
  ExpectSameAsNlohmann(deep_object);
}

// Random edits of valid documents: every outcome, valid or not, must be
// the one nlohmann gives.
TEST(JsonBodyParseTest, MutationsMatchNlohmann) {
  std::mt19937 random(20261129);
  const std::string alphabet = "{}[]\",:-0123456789.eE+ \t\ntruefalsnl\\/u\x80";
  int checked = 0;
  for (int round = 0; round < 4000; ++round) {
    std::string text = kCorpus[random() % 7];
    const int edits = 1 + static_cast<int>(random() % 3);
    for (int e = 0; e < edits && !text.empty(); ++e) {
      const std::size_t at = random() % text.size();
      const char c = alphabet[random() % alphabet.size()];
      switch (random() % 3) {
        case 0:
          text[at] = c;
          break;
        case 1:
          text.insert(text.begin() + static_cast<long>(at), c);
          break;
        default:
          text.erase(at, 1);
      }
    }
    ExpectSameAsNlohmann(text);
    if (::testing::Test::HasFailure()) return;
    ++checked;
  }
  EXPECT_EQ(checked, 4000);
}

}  // namespace
