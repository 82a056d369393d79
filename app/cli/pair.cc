// edgewatch pair: mints a token for a phone and shows it as pairing URLs and a QR code.
//
// Prints (stdout) the QR code of the first URL in Unicode half blocks, then the URLs, one per
// line: http(s)://<hostname>.local:PORT/#token=..., then one per non-loopback address of this
// machine. The dashboard reads the token from the fragment, which browsers never send to the
// server. The token is printed and nowhere else (never logged). --png also writes the QR code
// as a PNG file (mode 0600: it is a credential).
#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "commands.h"
#include "edgewatch/base/json.h"
#include "flags.h"
#include "mint.h"
#include "qr_code.h"

namespace edgewatch::cli {

namespace {

constexpr int kQuietModules = 2;  // terminal border; phones scan a 2-module zone fine on screen

std::string ShortHostname() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof(buf) - 1) != 0) return "";
  std::string name(buf);
  if (size_t dot = name.find('.'); dot != std::string::npos) name.resize(dot);
  return name;
}

// Addresses of interfaces that are up, not loopback; IPv6 only when globally routable (a
// link-local address needs a zone id no browser accepts in a URL).
std::vector<std::string> LocalAddresses() {
  std::vector<std::string> out;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return out;
  for (ifaddrs* a = list; a != nullptr; a = a->ifa_next) {
    if (a->ifa_addr == nullptr || (a->ifa_flags & IFF_UP) == 0 ||
        (a->ifa_flags & IFF_LOOPBACK) != 0) {
      continue;
    }
    char text[INET6_ADDRSTRLEN] = {};
    std::string host;
    if (a->ifa_addr->sa_family == AF_INET) {
      auto* in = reinterpret_cast<sockaddr_in*>(a->ifa_addr);
      if (::inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text)) == nullptr) continue;
      host = text;
    } else if (a->ifa_addr->sa_family == AF_INET6) {
      auto* in6 = reinterpret_cast<sockaddr_in6*>(a->ifa_addr);
      if (IN6_IS_ADDR_LINKLOCAL(&in6->sin6_addr) || IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr)) {
        continue;
      }
      if (::inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text)) == nullptr) continue;
      host = std::string("[") + text + "]";
    } else {
      continue;
    }
    bool seen = false;
    for (const std::string& h : out) seen = seen || h == host;
    if (!seen) out.push_back(host);
  }
  ::freeifaddrs(list);
  return out;
}

Status WriteFilePrivate(const std::string& path, const std::string& data) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoToStatus(errno, path);
  // An existing file keeps its mode through O_TRUNC: make it private before writing.
  if (::fchmod(fd, 0600) != 0) {
    Status s = ErrnoToStatus(errno, path);
    ::close(fd);
    return s;
  }
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Status s = ErrnoToStatus(errno, path);
      ::close(fd);
      return s;
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) return ErrnoToStatus(errno, path);
  return OkStatus();
}

// Reads edgewatchd's --config JSON file: the port of "listen" ("HOST:PORT") and whether TLS is on
// ("tls": "auto", or "tls_cert"). Leaves the outputs alone for absent keys.
Status ReadDaemonConfig(const std::string& path, int64_t* port, bool* tls) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  EW_ASSIGN_OR_RETURN(JsonPtr root, ParseJson(text.str(), JsonLimits{1 << 20, 32}));
  if (auto listen = GetString(root.get(), "listen")) {
    size_t colon = listen->rfind(':');
    int64_t p = -1;
    if (colon != std::string_view::npos) {
      std::string digits(listen->substr(colon + 1));
      if (!digits.empty() && digits.size() <= 5 &&
          digits.find_first_not_of("0123456789") == std::string::npos) {
        p = std::stoll(digits);
      }
    }
    if (p < 1 || p > 65535) {
      return InvalidArgument(path + ": \"listen\" has no usable port (HOST:PORT)");
    }
    *port = p;
  }
  if (auto mode = GetString(root.get(), "tls"); mode && *mode == "auto") *tls = true;
  if (auto cert = GetString(root.get(), "tls_cert"); cert && !cert->empty()) *tls = true;
  return OkStatus();
}

}  // namespace

int RunPair(const std::vector<std::string>& args) {
  MintRequest req;
  req.sub = "phone";
  // What an operator's phone needs: read the dashboard's topics, and acknowledge alerts
  // (docs/protocol.md: `ack` needs a write scope on `alerts`). No commands, no admin.
  req.scope =
      "read:pipeline/# read:system/# read:forecast/# read:training/# read:alerts write:alerts";
  std::string png_file;
  std::string hostname;
  int64_t port = 0;  // 0: from --config, else 8080
  std::string config_file;
  int64_t png_scale = 8;
  bool tls = false;
  FlagParser flags("pair", "",
                   "Pair a phone: mint a token (like `edgewatch token`) and print the dashboard "
                   "URL with the token in its fragment (http://<hostname>.local:PORT/#token=..., "
                   "then one URL per network address) and a QR code of the first URL to scan.");
  flags.String("sub", &req.sub, "NAME", "the token's subject (default: phone)");
  flags.String("scope", &req.scope, "SCOPES",
               "space-separated scopes (default: read pipeline, system, forecast, training and "
               "alerts; write:alerts to acknowledge alerts)");
  flags.String("ttl", &req.ttl, "DURATION",
               "lifetime: 30d, 12h, 15m, 90s, or 'none' (default 30d)");
  flags.String("secret-file", &req.secret_file, "FILE",
               "the gateway's --jwt-secret-file (default: as for `edgewatch token`); created "
               "when absent");
  flags.String("audience", &req.audience, "AUD", "write this `aud` claim");
  flags.Int("port", &port, "N", "the gateway's listen port (default: from --config, else 8080)", 1,
            65535);
  flags.Bool("tls", &tls, "the gateway serves TLS (--tls auto or a certificate): https:// URLs");
  flags.String("config", &config_file, "FILE",
               "edgewatchd's --config file: its \"listen\" port and TLS setting are the "
               "defaults of --port and --tls");
  flags.String("hostname", &hostname, "NAME",
               "the mDNS host name for the first URL (default: this machine's, + .local)");
  flags.String("png", &png_file, "FILE", "also write the QR code as a PNG image (mode 0600)");
  flags.Int("png-scale", &png_scale, "N", "PNG pixels per module (default 8)", 1, 64);
  std::vector<std::string> positionals;
  if (auto code = flags.ParseOrExit(args, &positionals)) return *code;
  if (!positionals.empty()) {
    std::fprintf(stderr, "edgewatch pair: unexpected argument '%s'\n", positionals[0].c_str());
    return kExitUsage;
  }

  if (!config_file.empty()) {
    int64_t config_port = 0;
    bool config_tls = false;
    Status read = ReadDaemonConfig(config_file, &config_port, &config_tls);
    if (!read.ok()) {
      std::fprintf(stderr, "edgewatch pair: --config: %s\n", read.message().c_str());
      return kExitUsage;
    }
    if (port == 0) port = config_port;
    tls = tls || config_tls;
  }
  if (port == 0) port = 8080;

  auto token = MintCliToken(req);
  if (!token.ok()) {
    std::fprintf(stderr, "edgewatch pair: %s\n", token.status().message().c_str());
    return token.status().code() == StatusCode::kInvalidArgument ? kExitUsage : kExitFailure;
  }

  const std::string scheme = tls ? "https://" : "http://";
  const std::string suffix = ":" + std::to_string(port) + "/#token=" + *token;
  std::vector<std::string> urls;
  if (hostname.empty()) {
    hostname = ShortHostname();
    if (!hostname.empty()) hostname += ".local";
  }
  if (!hostname.empty()) urls.push_back(scheme + hostname + suffix);
  for (const std::string& host : LocalAddresses()) urls.push_back(scheme + host + suffix);
  if (urls.empty()) urls.push_back(scheme + "localhost" + suffix);

  auto qr = EncodeQr(urls[0]);
  if (!qr.ok()) {
    std::fprintf(stderr, "edgewatch pair: QR code: %s\n", qr.status().message().c_str());
    return kExitFailure;
  }
  if (!png_file.empty()) {
    auto png = EncodeQrPng(*qr, static_cast<int>(png_scale), 4);
    Status written = png.ok() ? WriteFilePrivate(png_file, *png) : png.status();
    if (!written.ok()) {
      std::fprintf(stderr, "edgewatch pair: --png: %s\n", written.message().c_str());
      return kExitFailure;
    }
  }
  const bool ansi = ::isatty(STDOUT_FILENO) == 1;
  std::fputs(RenderQrHalfBlocks(*qr, kQuietModules, ansi).c_str(), stdout);
  std::printf(
      "\nScan the code with the phone's camera, or open one of these URLs on it\n"
      "(token for \"%s\", valid %s; anyone with the URL can use it):\n",
      req.sub.c_str(), req.ttl == "none" ? "with no expiry" : ("for " + req.ttl).c_str());
  for (const std::string& url : urls) std::printf("%s\n", url.c_str());
  std::fflush(stdout);
  return kExitOk;
}

}  // namespace edgewatch::cli
