// HTTP routing for the gateway's listener: small JSON endpoints, not a web framework.
//
// Handlers run on the loop thread, must not block, and return the whole response.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "edgewatch/fw/auth/claims.h"

struct lws;

namespace edgewatch::fw {

struct HttpRequest {
  std::string method;                                     // "GET", "POST", ...
  std::string path;                                       // URL-decoded, without the query
  std::map<std::string, std::string, std::less<>> query;  // URL-decoded name -> value
  std::string peer;                                       // client address, for logs
  lws* wsi = nullptr;  // for header lookups by later layers; valid during the handler only
  // The verified token of the request, or null (auth disabled, or a path that needs none).
  const auth::Claims* claims = nullptr;
  // Authorisation helpers: everything is allowed when `claims` is null.
  bool CanRead(std::string_view pattern) const {
    return claims == nullptr || claims->CanRead(pattern);
  }

  // The query parameter `name`, or nullopt.
  std::optional<std::string_view> Param(std::string_view name) const;
  // A request header by lws token name (e.g. "authorization:"); nullopt when absent.
  std::optional<std::string> Header(std::string_view name_with_colon) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra, e.g. Retry-After
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

class HttpRouter {
 public:
  // Registers `handler` for exactly `path` (no patterns). A later Add for the same path wins.
  void Add(std::string path, HttpHandler handler);
  // The handler for `path`, or null.
  const HttpHandler* Find(std::string_view path) const;

 private:
  std::map<std::string, HttpHandler, std::less<>> routes_;
};

// {"error":"<error>","message":"<message>"} with `status`.
HttpResponse JsonError(int status, std::string_view error, std::string_view message);
// The standard reason phrase for `status` ("Not Found").
const char* HttpReason(int status);

}  // namespace edgewatch::fw
