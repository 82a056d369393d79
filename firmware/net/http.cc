#include "edgewatch/fw/http.h"

#include <libwebsockets.h>

#include "edgewatch/base/json_writer.h"

namespace edgewatch::fw {

std::optional<std::string_view> HttpRequest::Param(std::string_view name) const {
  auto it = query.find(name);
  if (it == query.end()) return std::nullopt;
  return std::string_view(it->second);
}

std::optional<std::string> HttpRequest::Header(std::string_view name_with_colon) const {
  if (wsi == nullptr) return std::nullopt;
  std::string name(name_with_colon);
  int len = lws_hdr_custom_length(wsi, name.c_str(), static_cast<int>(name.size()));
  if (len < 0) {
    // Well-known headers are tokenised by lws and not visible as custom headers.
    static const struct {
      const char* name;
      lws_token_indexes token;
    } kKnown[] = {
        {"authorization:", WSI_TOKEN_HTTP_AUTHORIZATION},
        {"origin:", WSI_TOKEN_ORIGIN},
        {"host:", WSI_TOKEN_HOST},
        {"user-agent:", WSI_TOKEN_HTTP_USER_AGENT},
    };
    for (const auto& k : kKnown) {
      if (name != k.name) continue;
      int n = lws_hdr_total_length(wsi, k.token);
      if (n <= 0) return std::nullopt;
      std::string value(static_cast<size_t>(n) + 1, '\0');
      if (lws_hdr_copy(wsi, value.data(), n + 1, k.token) < 0) return std::nullopt;
      value.resize(static_cast<size_t>(n));
      return value;
    }
    return std::nullopt;
  }
  std::string value(static_cast<size_t>(len) + 1, '\0');
  if (lws_hdr_custom_copy(wsi, value.data(), len + 1, name.c_str(), static_cast<int>(name.size())) <
      0) {
    return std::nullopt;
  }
  value.resize(static_cast<size_t>(len));
  return value;
}

void HttpRouter::Add(std::string path, HttpHandler handler) {
  routes_[std::move(path)] = std::move(handler);
}

const HttpHandler* HttpRouter::Find(std::string_view path) const {
  auto it = routes_.find(path);
  return it == routes_.end() ? nullptr : &it->second;
}

HttpResponse JsonError(int status, std::string_view error, std::string_view message) {
  JsonWriter w;
  w.BeginObject().Key("error").String(error).Key("message").String(message).EndObject();
  HttpResponse r;
  r.status = status;
  r.body = w.Take();
  return r;
}

const char* HttpReason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 413:
      return "Payload Too Large";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "";
  }
}

}  // namespace edgewatch::fw
