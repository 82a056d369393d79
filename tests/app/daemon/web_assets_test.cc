// WebAssets (app/daemon/web_assets.cc): Accept-Encoding parsing, content types, cache policy,
// loading a bundle directory with its limits, and the responses it builds. Serving through the
// real daemon is tested in tests/web (web.static).
#include "edgewatch/app/web_assets.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace edgewatch::app {
namespace {

class TempDir {
 public:
  TempDir() {
    std::string templ = std::filesystem::temp_directory_path().string() + "/ew-web-XXXXXX";
    path_ = ::mkdtemp(templ.data()) ? templ : "";
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  void Write(const std::string& name, const std::string& content) const {
    std::ofstream(path_ + "/" + name, std::ios::binary) << content;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string HeaderOf(const fw::HttpResponse& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

TEST(AcceptsGzipTest, ParsesCodingsAndQValues) {
  EXPECT_TRUE(AcceptsGzip("gzip"));
  EXPECT_TRUE(AcceptsGzip("gzip, deflate, br"));
  EXPECT_TRUE(AcceptsGzip("br;q=1.0, GZIP;q=0.5"));
  EXPECT_TRUE(AcceptsGzip("*"));
  EXPECT_TRUE(AcceptsGzip("x-gzip"));
  EXPECT_FALSE(AcceptsGzip(""));
  EXPECT_FALSE(AcceptsGzip("identity"));
  EXPECT_FALSE(AcceptsGzip("deflate, br"));
  EXPECT_FALSE(AcceptsGzip("gzip;q=0"));
  EXPECT_FALSE(AcceptsGzip("gzip; q=0.000, identity"));
  EXPECT_FALSE(AcceptsGzip("*, gzip;q=0"));  // an explicit refusal beats the wildcard
  EXPECT_FALSE(AcceptsGzip("*;q=0"));
  EXPECT_FALSE(AcceptsGzip("gzipped"));
}

TEST(WebAssetNamesTest, ContentTypeAndCachePolicy) {
  EXPECT_EQ(ContentTypeForName("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(ContentTypeForName("main-ABCD1234.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(ContentTypeForName("main-ABCD1234.css"), "text/css; charset=utf-8");
  EXPECT_EQ(ContentTypeForName("logo.svg"), "image/svg+xml");
  EXPECT_EQ(ContentTypeForName("blob.bin"), "application/octet-stream");
  EXPECT_EQ(CacheControlForName("main-2UCYH3UD.js"), "public, max-age=31536000, immutable");
  EXPECT_EQ(CacheControlForName("index.html"), "no-cache");
  EXPECT_EQ(CacheControlForName("main-short.js"), "no-cache");     // fewer than 8 characters
  EXPECT_EQ(CacheControlForName("main-ABCD_123.js"), "no-cache");  // not letters and digits
  EXPECT_EQ(CacheControlForName("favicon.ico"), "no-cache");
}

TEST(WebAssetsTest, LoadsFilesAndTheirGzipTwins) {
  TempDir dir;
  dir.Write("index.html", "<!doctype html>");
  dir.Write("index.html.gz", "GZ-HTML");
  dir.Write("main-ABCDEFGH.js", "console.log(1)");
  dir.Write(".hidden", "x");
  std::filesystem::create_directory(dir.path() + "/sub");
  auto assets = WebAssets::Load(dir.path());
  ASSERT_TRUE(assets.ok()) << assets.status().ToString();
  EXPECT_EQ(assets->file_count(), 2u);
  EXPECT_EQ(assets->bytes(), 15u + 7u + 14u);
  const WebAsset* index = assets->Find("index.html");
  ASSERT_NE(index, nullptr);
  EXPECT_EQ(index->gzip, "GZ-HTML");
  EXPECT_EQ(assets->Find("main-ABCDEFGH.js")->gzip, "");
  EXPECT_EQ(assets->Find("index.html.gz"), nullptr);
  EXPECT_EQ(assets->Find(".hidden"), nullptr);

  fw::HttpRouter router;
  assets->Register(router);
  EXPECT_NE(router.Find("/"), nullptr);
  EXPECT_NE(router.Find("/index.html"), nullptr);
  EXPECT_NE(router.Find("/main-ABCDEFGH.js"), nullptr);
  EXPECT_EQ(router.Find("/index.html.gz"), nullptr);
  fw::HttpRequest req;
  req.method = "GET";
  fw::HttpResponse r = (*router.Find("/"))(req);  // no wsi: no Accept-Encoding
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "<!doctype html>");
}

TEST(WebAssetsTest, RefusesMissingOrOversizedBundles) {
  EXPECT_EQ(WebAssets::Load("/nonexistent/ew-web").status().code(), StatusCode::kNotFound);
  TempDir empty;
  empty.Write("main.js", "x");
  auto no_index = WebAssets::Load(empty.path());
  EXPECT_EQ(no_index.status().code(), StatusCode::kNotFound);
  EXPECT_NE(no_index.status().message().find("no index.html"), std::string::npos);

  TempDir big;
  big.Write("index.html", std::string(100, 'x'));
  EXPECT_EQ(WebAssets::Load(big.path(), {.max_files = 8, .max_file_bytes = 99}).status().code(),
            StatusCode::kResourceExhausted);
  big.Write("a.js", std::string(60, 'x'));
  EXPECT_EQ(WebAssets::Load(big.path(), {.max_files = 1}).status().code(),
            StatusCode::kResourceExhausted);
  EXPECT_EQ(WebAssets::Load(big.path(), {.max_files = 8, .max_total_bytes = 150}).status().code(),
            StatusCode::kResourceExhausted);
  EXPECT_TRUE(WebAssets::Load(big.path(), {.max_files = 8, .max_total_bytes = 160}).ok());

  TempDir odd;
  odd.Write("index.html", "x");
  odd.Write("a b.js", "x");
  EXPECT_EQ(WebAssets::Load(odd.path()).status().code(), StatusCode::kInvalidArgument);
}

TEST(WebAssetsTest, RespondNegotiatesGzipAndSetsHeaders) {
  WebAsset html{"text/html; charset=utf-8", "no-cache", "<html>", "GZ"};
  fw::HttpResponse gz = WebAssets::Respond(html, "GET", "gzip, br");
  EXPECT_EQ(gz.status, 200);
  EXPECT_EQ(gz.body, "GZ");
  EXPECT_EQ(gz.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(HeaderOf(gz, "Content-Encoding"), "gzip");
  EXPECT_EQ(HeaderOf(gz, "Vary"), "Accept-Encoding");
  EXPECT_EQ(HeaderOf(gz, "Cache-Control"), "no-cache");
  EXPECT_NE(HeaderOf(gz, "Content-Security-Policy").find("default-src 'self'"), std::string::npos);

  fw::HttpResponse plain = WebAssets::Respond(html, "GET", std::nullopt);
  EXPECT_EQ(plain.body, "<html>");
  EXPECT_EQ(HeaderOf(plain, "Content-Encoding"), "");
  EXPECT_EQ(WebAssets::Respond(html, "GET", "gzip;q=0").body, "<html>");

  WebAsset js{"text/javascript; charset=utf-8", "public, max-age=31536000, immutable", "js", ""};
  fw::HttpResponse no_twin = WebAssets::Respond(js, "GET", "gzip");
  EXPECT_EQ(no_twin.body, "js");
  EXPECT_EQ(HeaderOf(no_twin, "Content-Encoding"), "");
  EXPECT_EQ(HeaderOf(no_twin, "Vary"), "");
  EXPECT_EQ(HeaderOf(no_twin, "Content-Security-Policy"), "");

  fw::HttpResponse post = WebAssets::Respond(html, "POST", "gzip");
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(HeaderOf(post, "Allow"), "GET");
}

}  // namespace
}  // namespace edgewatch::app
