#include "http_get.h"

#include <cstring>

#include "lws_client.h"
#include "url.h"

namespace edgewatch::cli {
namespace {

constexpr char kProtocol[] = "edgewatch-http-get";
constexpr size_t kMaxBody = 16 << 20;

struct Fetch;
struct FetchTimer {
  lws_sorted_usec_list_t sul;
  Fetch* fetch;
};

struct Fetch {
  std::string token;
  unsigned int status = 0;
  std::string body;
  std::string error;
  bool timed_out = false;
  bool done = false;
  FetchTimer timer{{}, this};
};

int Callback(struct lws* wsi, enum lws_callback_reasons reason, void*, void* in, size_t len) {
  auto* f = static_cast<Fetch*>(lws_context_user(lws_get_context(wsi)));
  switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
      f->error = in != nullptr ? static_cast<const char*>(in) : "connection failed";
      f->done = true;
      return 0;
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: {
      if (f->token.empty()) return 0;
      auto** p = static_cast<unsigned char**>(in);
      std::string value = "Bearer " + f->token;
      return lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_AUTHORIZATION,
                                          reinterpret_cast<const unsigned char*>(value.c_str()),
                                          static_cast<int>(value.size()), p, *p + len) != 0
                 ? -1
                 : 0;
    }
    case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP:
      f->status = lws_http_client_http_response(wsi);
      return 0;
    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ:
      if (f->body.size() + len > kMaxBody) return -1;
      f->body.append(static_cast<const char*>(in), len);
      return 0;
    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP: {
      char buffer[4096 + LWS_PRE];
      char* px = buffer + LWS_PRE;
      int lenx = sizeof(buffer) - LWS_PRE;
      return lws_http_client_read(wsi, &px, &lenx) < 0 ? -1 : 0;
    }
    case LWS_CALLBACK_COMPLETED_CLIENT_HTTP:
    case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
      f->done = true;
      return 0;
    default:
      return 0;
  }
}

const struct lws_protocols kProtocols[] = {
    {kProtocol, Callback, 0, 0, 0, nullptr, 0},
    {nullptr, nullptr, 0, 0, 0, nullptr, 0},
};

}  // namespace

Result<HttpGetResult> HttpGet(const std::string& base_url, const std::string& path,
                              const std::string& token, int timeout_s, bool insecure,
                              bool verbose) {
  auto url = ParseUrl(base_url, "");
  if (!url.ok()) return InvalidArgument("--url: " + url.status().message());
  if (url->scheme == "ws") url->scheme = "http";
  if (url->scheme == "wss") url->scheme = "https";
  std::string base = url->path;
  if (base.size() >= 3 && base.compare(base.size() - 3, 3, "/ws") == 0)
    base.resize(base.size() - 3);
  while (!base.empty() && base.back() == '/') base.pop_back();
  const std::string full_path = base + path;
  const std::string host_port = url->HostPort();

  Fetch f;
  f.token = token;
  struct lws_context* context = CreateClientContext(kProtocols, &f, verbose);
  if (context == nullptr) return Internal("cannot create the lws context");
  lws_sul_schedule(
      context, 0, &f.timer.sul,
      [](lws_sorted_usec_list_t* sul) {
        Fetch* fetch = reinterpret_cast<FetchTimer*>(sul)->fetch;
        fetch->timed_out = true;
        fetch->done = true;
      },
      static_cast<lws_usec_t>(timeout_s) * LWS_USEC_PER_SEC);
  struct lws_client_connect_info ci;
  std::memset(&ci, 0, sizeof(ci));
  ci.context = context;
  ci.address = url->host.c_str();
  ci.port = url->port;
  ci.path = full_path.c_str();
  ci.host = host_port.c_str();
  ci.method = "GET";
  ci.ssl_connection = ClientTlsFlags(url->tls(), insecure) | LCCSCF_HTTP_NO_FOLLOW_REDIRECT;
  ci.protocol = kProtocol;
  ci.alpn = "http/1.1";
  if (lws_client_connect_via_info(&ci) == nullptr && !f.done) {
    f.error = "connection failed";
    f.done = true;
  }
  while (!f.done) {
    if (lws_service(context, 0) < 0) break;
  }
  lws_context_destroy(context);

  HttpGetResult r;
  r.target = url->scheme + "://" + host_port + full_path;
  if (f.timed_out) return DeadlineExceeded(r.target + ": timed out");
  if (!f.error.empty()) return Unavailable(r.target + ": " + f.error);
  r.status = f.status;
  r.body = std::move(f.body);
  return r;
}

}  // namespace edgewatch::cli
