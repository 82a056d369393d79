#include "edgewatch/app/web_assets.h"

#include <dirent.h>
#include <libwebsockets.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iterator>
#include <vector>

namespace edgewatch::app {
namespace {

using FileMap = std::map<std::string, WebAsset, std::less<>>;

// Policy for the dashboard page: scripts and styles from the gateway only, connections to the
// gateway (the WebSocket and the API), no framing.
constexpr char kHtmlCsp[] =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' ws: wss:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// A name that maps 1:1 to a URL path segment: letters, digits, '-', '_', '.', not starting
// with '.'.
bool PlainName(std::string_view name) {
  if (name.empty() || name.front() == '.') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

// Reads `path` whole, refusing files larger than `max_bytes`.
Result<std::string> ReadBounded(const std::string& path, size_t max_bytes) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return NotFound("cannot stat " + path);
  if (static_cast<size_t>(st.st_size) > max_bytes) {
    return ResourceExhausted(path + " is larger than " + std::to_string(max_bytes) + " bytes");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read " + path);
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (data.size() > max_bytes) {
    return ResourceExhausted(path + " is larger than " + std::to_string(max_bytes) + " bytes");
  }
  return data;
}

std::optional<std::string> AcceptEncodingOf(lws* wsi) {
  if (wsi == nullptr) return std::nullopt;
  int n = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_ACCEPT_ENCODING);
  if (n <= 0) return std::nullopt;
  std::string value(static_cast<size_t>(n) + 1, '\0');
  if (lws_hdr_copy(wsi, value.data(), n + 1, WSI_TOKEN_HTTP_ACCEPT_ENCODING) < 0) {
    return std::nullopt;
  }
  value.resize(static_cast<size_t>(n));
  return value;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

bool AcceptsGzip(std::string_view accept_encoding) {
  bool star = false;
  bool gzip = false;
  bool gzip_listed = false;
  while (!accept_encoding.empty()) {
    size_t comma = accept_encoding.find(',');
    std::string_view item = accept_encoding.substr(0, comma);
    accept_encoding.remove_prefix(comma == std::string_view::npos ? accept_encoding.size()
                                                                  : comma + 1);
    size_t semi = item.find(';');
    std::string coding = Lower(Trim(item.substr(0, semi)));
    bool allowed = true;
    if (semi != std::string_view::npos) {
      std::string params = Lower(item.substr(semi + 1));
      params.erase(std::remove(params.begin(), params.end(), ' '), params.end());
      // q=0, q=0.0, q=0.00, q=0.000 refuse the coding.
      size_t q = params.find("q=");
      if (q != std::string::npos) {
        std::string_view v = std::string_view(params).substr(q + 2);
        v = v.substr(0, v.find(';'));
        allowed =
            !(v.size() >= 1 && v[0] == '0' && v.find_first_not_of("0.") == std::string_view::npos);
      }
    }
    if (coding == "gzip" || coding == "x-gzip") {
      gzip_listed = true;
      gzip = allowed;
    } else if (coding == "*") {
      star = allowed;
    }
  }
  return gzip_listed ? gzip : star;
}

std::string_view ContentTypeForName(std::string_view name) {
  static const struct {
    const char* ext;
    const char* type;
  } kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".webmanifest", "application/manifest+json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".txt", "text/plain; charset=utf-8"},
      {".map", "application/json"},
  };
  for (const auto& t : kTypes) {
    if (EndsWith(name, t.ext)) return t.type;
  }
  return "application/octet-stream";
}

std::string_view CacheControlForName(std::string_view name) {
  // esbuild's [name]-[hash]: a '-' followed by 8 or more letters/digits, then the extension.
  size_t dot = name.rfind('.');
  size_t dash = name.rfind('-', dot);
  if (dot != std::string_view::npos && dash != std::string_view::npos && dot - dash - 1 >= 8) {
    std::string_view hash = name.substr(dash + 1, dot - dash - 1);
    if (std::all_of(hash.begin(), hash.end(),
                    [](char c) { return std::isalnum(static_cast<unsigned char>(c)); })) {
      return "public, max-age=31536000, immutable";
    }
  }
  return "no-cache";
}

Result<WebAssets> WebAssets::Load(const std::string& dir, const WebAssetLimits& limits) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return NotFound("web root " + dir + " cannot be opened");
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name.empty() || name.front() == '.' || EndsWith(name, ".gz")) continue;
    struct stat st {};
    if (::stat((dir + "/" + name).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    names.push_back(std::move(name));
  }
  ::closedir(d);
  if (names.size() > limits.max_files) {
    return ResourceExhausted("web root " + dir + " has more than " +
                             std::to_string(limits.max_files) + " files");
  }
  auto files = std::make_shared<FileMap>();
  WebAssets out;
  for (const std::string& name : names) {
    if (!PlainName(name)) {
      return InvalidArgument("web root " + dir + ": file name '" + name +
                             "' is not a plain URL path segment");
    }
    WebAsset a;
    a.content_type = std::string(ContentTypeForName(name));
    a.cache_control = std::string(CacheControlForName(name));
    EW_ASSIGN_OR_RETURN(a.identity, ReadBounded(dir + "/" + name, limits.max_file_bytes));
    std::string gz_path = dir + "/" + name + ".gz";
    struct stat st {};
    if (::stat(gz_path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      EW_ASSIGN_OR_RETURN(a.gzip, ReadBounded(gz_path, limits.max_file_bytes));
    }
    out.bytes_ += a.identity.size() + a.gzip.size();
    if (out.bytes_ > limits.max_total_bytes) {
      return ResourceExhausted("web root " + dir + " holds more than " +
                               std::to_string(limits.max_total_bytes) + " bytes");
    }
    files->emplace(name, std::move(a));
  }
  if (files->find("index.html") == files->end()) {
    return NotFound("web root " + dir + " has no index.html (build it: node web/build.mjs)");
  }
  out.files_ = std::move(files);
  return out;
}

const WebAsset* WebAssets::Find(std::string_view name) const {
  if (!files_) return nullptr;
  auto it = files_->find(name);
  return it == files_->end() ? nullptr : &it->second;
}

fw::HttpResponse WebAssets::Respond(const WebAsset& asset, std::string_view method,
                                    std::optional<std::string_view> accept_encoding) {
  if (method != "GET") {
    fw::HttpResponse r = fw::JsonError(405, "method_not_allowed", "static files answer GET only");
    r.headers.emplace_back("Allow", "GET");
    return r;
  }
  fw::HttpResponse r;
  r.content_type = asset.content_type;
  const bool gzip = !asset.gzip.empty() && accept_encoding && AcceptsGzip(*accept_encoding);
  r.body = gzip ? asset.gzip : asset.identity;
  if (gzip) r.headers.emplace_back("Content-Encoding", "gzip");
  if (!asset.gzip.empty()) r.headers.emplace_back("Vary", "Accept-Encoding");
  r.headers.emplace_back("Cache-Control", asset.cache_control);
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  if (asset.content_type.rfind("text/html", 0) == 0) {
    r.headers.emplace_back("Content-Security-Policy", kHtmlCsp);
    r.headers.emplace_back("Referrer-Policy", "no-referrer");
  }
  return r;
}

void WebAssets::Register(fw::HttpRouter& router) const {
  if (!files_) return;
  auto files = files_;
  for (const auto& [name, asset] : *files_) {
    fw::HttpHandler handler = [files, asset = &asset](const fw::HttpRequest& req) {
      std::optional<std::string> ae = AcceptEncodingOf(req.wsi);
      return Respond(*asset, req.method, ae ? std::optional<std::string_view>(*ae) : std::nullopt);
    };
    if (name == "index.html") router.Add("/", handler);
    router.Add("/" + name, std::move(handler));
  }
}

}  // namespace edgewatch::app
