// WebAssets: the dashboard's static files (docs/dashboard.md), read once at start from a
// directory (--web-root, built by web/build.mjs) into memory and served by the gateway's HTTP
// router without a token (the token lives in the page's URL fragment, never in a request).
//
// Load() does blocking file I/O: call it before the loop runs. Register() and the handlers it
// installs run on the loop thread and never touch the file system.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "edgewatch/base/status.h"
#include "edgewatch/fw/http.h"

namespace edgewatch::app {

// One file as served. `gzip` is its precompressed twin (<name>.gz), empty when there is none.
struct WebAsset {
  std::string content_type;
  std::string cache_control;
  std::string identity;
  std::string gzip;
};

// Limits on what Load() accepts (memory is bounded: everything is held in RAM).
struct WebAssetLimits {
  size_t max_files = 64;
  size_t max_file_bytes = 2u << 20;
  size_t max_total_bytes = 8u << 20;
};

class WebAssets {
 public:
  // Reads every regular file directly in `dir` (not subdirectories; dot files skipped) and its
  // `<name>.gz` twin. `dir` must contain index.html. NotFound when `dir` or index.html is missing,
  // ResourceExhausted beyond `limits`, InvalidArgument for a file name that is not a plain URL
  // path segment.
  static Result<WebAssets> Load(const std::string& dir, const WebAssetLimits& limits = {});

  // Routes GET /, /index.html and /<name> of every file to its bytes. The assets are shared with
  // the handlers (they stay alive as long as the router holds them).
  void Register(fw::HttpRouter& router) const;

  // The response for `asset`: 405 unless GET; the gzip twin with `Content-Encoding: gzip` when
  // `accept_encoding` accepts gzip, else the identity bytes; `Vary: Accept-Encoding`, the asset's
  // Cache-Control, `X-Content-Type-Options: nosniff` (and a Content-Security-Policy for HTML).
  static fw::HttpResponse Respond(const WebAsset& asset, std::string_view method,
                                  std::optional<std::string_view> accept_encoding);

  size_t file_count() const { return files_ ? files_->size() : 0; }
  // Bytes held in memory (identity + gzip of every file).
  size_t bytes() const { return bytes_; }
  const WebAsset* Find(std::string_view name) const;

 private:
  std::shared_ptr<const std::map<std::string, WebAsset, std::less<>>> files_;
  size_t bytes_ = 0;
};

// True when an Accept-Encoding value accepts gzip (`gzip` or `*`, without `q=0`).
bool AcceptsGzip(std::string_view accept_encoding);

// The Content-Type for a file name, by extension ("application/octet-stream" when unknown).
std::string_view ContentTypeForName(std::string_view name);

// "public, max-age=31536000, immutable" for names with an esbuild content hash
// (`<name>-<8+ letters/digits>.<ext>`), "no-cache" for everything else (index.html).
std::string_view CacheControlForName(std::string_view name);

}  // namespace edgewatch::app
