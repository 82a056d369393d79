#include "edgewatch/fw/auth/claims.h"

#include <algorithm>

#include "edgewatch/fw/topic.h"

namespace edgewatch::fw::auth {
namespace {

void AddOnce(std::vector<std::string>& list, std::string_view pattern) {
  if (std::find(list.begin(), list.end(), pattern) == list.end()) list.emplace_back(pattern);
}

// `word` for an error message: at most 64 bytes, control characters replaced (no log injection).
std::string Printable(std::string_view word) {
  std::string out(word.substr(0, 64));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  if (word.size() > 64) out += "...";
  return out;
}

bool AnyCovers(const std::vector<std::string>& scopes, std::string_view pattern) {
  for (const std::string& scope : scopes) {
    if (PatternCovers(scope, pattern)) return true;
  }
  return false;
}

}  // namespace

Result<Scopes> ParseScopes(std::string_view text) {
  Scopes scopes;
  while (!text.empty()) {
    size_t space = text.find(' ');
    std::string_view word = text.substr(0, space);
    text = space == std::string_view::npos ? std::string_view() : text.substr(space + 1);
    if (word.empty()) continue;
    if (word == "admin") {
      scopes.admin = true;
      continue;
    }
    std::vector<std::string>* list = nullptr;
    std::string_view pattern;
    if (word.substr(0, 5) == "read:") {
      list = &scopes.read;
      pattern = word.substr(5);
    } else if (word.substr(0, 6) == "write:") {
      list = &scopes.write;
      pattern = word.substr(6);
    } else {
      return InvalidArgument("unknown scope '" + Printable(word) + "'");
    }
    Status valid = ValidatePattern(pattern);
    if (!valid.ok()) {
      return InvalidArgument("scope '" + Printable(word) + "': " + valid.message());
    }
    AddOnce(*list, pattern);
  }
  return scopes;
}

std::string FormatScopes(const Scopes& scopes) {
  std::string out;
  auto add = [&out](std::string_view prefix, std::string_view value) {
    if (!out.empty()) out += ' ';
    out += prefix;
    out += value;
  };
  for (const std::string& p : scopes.read) add("read:", p);
  for (const std::string& p : scopes.write) add("write:", p);
  if (scopes.admin) add("admin", "");
  return out;
}

bool Claims::CanRead(std::string_view pattern) const {
  if (!ValidatePattern(pattern).ok()) return false;
  return scopes.admin || AnyCovers(scopes.read, pattern);
}

bool Claims::CanWrite(std::string_view topic_or_pattern) const {
  // Every valid topic name is also a valid pattern (one that matches only itself).
  if (!ValidatePattern(topic_or_pattern).ok()) return false;
  return scopes.admin || AnyCovers(scopes.write, topic_or_pattern);
}

}  // namespace edgewatch::fw::auth
