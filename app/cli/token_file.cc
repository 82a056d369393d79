#include "token_file.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "edgewatch/fw/auth/jwt.h"

namespace edgewatch::cli {

Result<std::string> ReadTokenFile(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "re");
  if (f == nullptr) return ErrnoToStatus(errno, "--token-file " + path);
  char buf[fw::auth::kMaxTokenBytes + 2];
  size_t n = std::fread(buf, 1, sizeof(buf), f);
  std::fclose(f);
  std::string token(buf, n);
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) {
    token.pop_back();
  }
  return token;
}

Result<std::string> ResolveToken(const std::string& token, const std::string& token_file) {
  if (!token.empty()) return token;
  if (!token_file.empty()) return ReadTokenFile(token_file);
  if (const char* env = std::getenv("EDGEWATCH_TOKEN")) return std::string(env);
  return std::string();
}

}  // namespace edgewatch::cli
