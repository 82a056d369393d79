// URL parsing for the CLI's --url options: scheme://host[:port][/path[?query]].
#pragma once

#include <string>
#include <string_view>

#include "edgewatch/base/status.h"

namespace edgewatch::cli {

struct Url {
  std::string scheme;  // lower-case: ws, wss, http, https
  std::string host;    // without brackets for IPv6 literals
  int port = 0;        // explicit, or 80/443 from the scheme
  std::string path;    // "/..." including any query; `default_path` when the URL had none
  bool tls() const { return scheme == "wss" || scheme == "https"; }
  // "host:port" (IPv6 in brackets), for the Host header.
  std::string HostPort() const;
};

// Accepts ws, wss, http and https. InvalidArgument with a short reason otherwise (no scheme, empty
// host, bad port, user-info, fragment).
Result<Url> ParseUrl(std::string_view text, std::string_view default_path = "/");

}  // namespace edgewatch::cli
