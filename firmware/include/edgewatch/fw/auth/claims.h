// Token claims and the authorisation decisions made from them.
//
// Scopes come from the JWT `scope` claim, a space-separated list of words:
//   read:<pattern>    may subscribe to any pattern that lies inside <pattern>
//   write:<pattern>   may perform writing operations (acknowledge alerts, commands) on topics
//                     inside <pattern>
//   admin             may read and write everything
// <pattern> is a topic pattern as defined in edgewatch/fw/topic.h ("pipeline/#", "+/status").
// Pure data and functions; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "edgewatch/base/status.h"

namespace edgewatch::fw::auth {

struct Scopes {
  std::vector<std::string> read;   // valid patterns, in token order, without duplicates
  std::vector<std::string> write;  // valid patterns, in token order, without duplicates
  bool admin = false;
};

// Parses a `scope` claim. Words are separated by one or more ASCII spaces; "" (or only spaces)
// yields no scopes. Returns InvalidArgument, naming the offending word, for an unknown word
// (words are case-sensitive: "Admin" is unknown), an empty pattern ("read:") or a pattern that
// ValidatePattern() refuses. Duplicate words are accepted and kept once.
Result<Scopes> ParseScopes(std::string_view text);

// The canonical scope string: read words, then write words, then "admin", one space apart.
// ParseScopes(FormatScopes(s)) reproduces `s`. Scopes are not secret and may be logged.
std::string FormatScopes(const Scopes& scopes);

// The verified claims of a token (see VerifyToken in jwt.h). Times are Unix seconds.
struct Claims {
  std::string sub;             // never empty in a verified token
  std::optional<int64_t> exp;  // absent only when VerifyOptions::allow_no_exp
  std::optional<int64_t> nbf;
  std::optional<int64_t> iat;    // informational; not checked against the clock
  std::vector<std::string> aud;  // `aud` as a string or an array of strings; empty when absent
  Scopes scopes;

  bool IsAdmin() const { return scopes.admin; }

  // True when every topic `pattern` can match lies inside one of the read scopes
  // (fw::PatternCovers), or the token is admin. False for an invalid pattern, even for admin.
  // "read:pipeline/#" allows "pipeline/+/frame" and "pipeline", refuses "#" and "system/#".
  bool CanRead(std::string_view pattern) const;

  // Same rule for write scopes; `topic_or_pattern` may be a concrete topic name or a pattern.
  // Read scopes never grant writing, and write scopes never grant reading.
  bool CanWrite(std::string_view topic_or_pattern) const;
};

}  // namespace edgewatch::fw::auth
