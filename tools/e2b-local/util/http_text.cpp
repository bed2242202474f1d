#include "util/http_text.hpp"

#include <algorithm>
#include <cctype>

namespace e2b_local {

std::string Lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return text;
}

std::string TrimWhitespace(std::string text) {
  auto not_space = [](unsigned char c) { return !std::isspace(c); };
  text.erase(text.begin(), std::find_if(text.begin(), text.end(), not_space));
  text.erase(std::find_if(text.rbegin(), text.rend(), not_space).base(),
             text.end());
  return text;
}

std::string MediaType(const std::string& content_type) {
  return Lowercase(
      TrimWhitespace(content_type.substr(0, content_type.find(';'))));
}

}  // namespace e2b_local
