#include "url.h"

#include <cctype>

namespace edgewatch::cli {

std::string Url::HostPort() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return h + ":" + std::to_string(port);
}

Result<Url> ParseUrl(std::string_view text, std::string_view default_path) {
  Url u;
  size_t sep = text.find("://");
  if (sep == std::string_view::npos) {
    // Built with append rather than "'" + std::string(...): GCC 12 -O3 reports a false
    // -Wrestrict for `literal + std::string&&` (GCC bug 105651, docs/cross.md).
    std::string message = "'";
    message.append(text).append("' has no scheme (expected ws://HOST:PORT/...)");
    return InvalidArgument(std::move(message));
  }
  for (char c : text.substr(0, sep)) u.scheme.push_back(static_cast<char>(std::tolower(c)));
  if (u.scheme != "ws" && u.scheme != "wss" && u.scheme != "http" && u.scheme != "https") {
    return InvalidArgument("unsupported scheme '" + u.scheme + "'");
  }
  std::string_view rest = text.substr(sep + 3);
  if (rest.find('#') != std::string_view::npos) return InvalidArgument("URL has a fragment");
  size_t slash = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  if (authority.find('@') != std::string_view::npos) {
    return InvalidArgument("user-info in URLs is not supported (use --token)");
  }
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return InvalidArgument("unterminated IPv6 literal");
    u.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return InvalidArgument("junk after IPv6 literal");
      port_text = after.substr(1);
      if (port_text.empty()) return InvalidArgument("empty port");
    }
  } else {
    size_t colon = authority.rfind(':');
    u.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) return InvalidArgument("empty port");
    }
  }
  if (u.host.empty()) return InvalidArgument("URL has no host");
  if (!port_text.empty()) {
    int port = 0;
    for (char c : port_text) {
      if (c < '0' || c > '9' || port > 65535) return InvalidArgument("bad port");
      port = port * 10 + (c - '0');
    }
    if (port < 1 || port > 65535) return InvalidArgument("port out of range");
    u.port = port;
  } else {
    u.port = u.tls() ? 443 : 80;
  }
  if (path.empty()) {
    u.path = std::string(default_path);
  } else if (path.front() == '?') {
    u.path = std::string(default_path) + std::string(path);
  } else {
    u.path = std::string(path);
  }
  return u;
}

}  // namespace edgewatch::cli
