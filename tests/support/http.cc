#include "edgewatch/testing/http.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <strings.h>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace edgewatch::testing {

namespace {

constexpr size_t kMaxHead = 64 * 1024;
constexpr size_t kMaxBody = 64 << 20;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// Reads more bytes into *buf; Unavailable("EOF") at end of stream.
Status ReadMore(int fd, std::string* buf, const Deadline& deadline, std::string_view what) {
  EW_ASSIGN_OR_RETURN(size_t n, ReadSome(fd, buf, 16 * 1024, deadline));
  if (n == 0) return Unavailable("connection closed while reading " + std::string(what));
  return OkStatus();
}

// Decodes a chunked body from the front of *pending, reading more as needed.
Status ReadChunked(int fd, std::string* pending, std::string* body, const Deadline& deadline) {
  for (;;) {
    size_t eol;
    while ((eol = pending->find("\r\n")) == std::string::npos) {
      if (pending->size() > kMaxHead) return InvalidArgument("chunk size line too long");
      EW_TRY(ReadMore(fd, pending, deadline, "a chunk size"));
    }
    std::string size_line = pending->substr(0, eol);
    char* end = nullptr;
    unsigned long long size = std::strtoull(size_line.c_str(), &end, 16);
    if (end == size_line.c_str()) return InvalidArgument("bad chunk size line: " + size_line);
    if (size > kMaxBody || body->size() + size > kMaxBody) {
      return ResourceExhausted("chunked body too large");
    }
    pending->erase(0, eol + 2);
    if (size == 0) {
      // Trailers end with an empty line.
      for (;;) {
        while ((eol = pending->find("\r\n")) == std::string::npos) {
          if (pending->size() > kMaxHead) return InvalidArgument("trailer too long");
          EW_TRY(ReadMore(fd, pending, deadline, "chunk trailers"));
        }
        bool empty = eol == 0;
        pending->erase(0, eol + 2);
        if (empty) return OkStatus();
      }
    }
    while (pending->size() < size + 2) EW_TRY(ReadMore(fd, pending, deadline, "a chunk"));
    body->append(*pending, 0, size);
    pending->erase(0, size + 2);
  }
}

}  // namespace

std::optional<std::string> HttpResponse::Header(std::string_view name) const {
  for (const HttpHeader& h : headers) {
    if (h.name.size() == name.size() && strncasecmp(h.name.data(), name.data(), name.size()) == 0) {
      return h.value;
    }
  }
  return std::nullopt;
}

Result<JsonPtr> HttpResponse::Json() const {
  return ParseJson(body, JsonLimits{.max_bytes = kMaxBody, .max_depth = 64});
}

Result<HttpResponse> ParseHttpResponseHead(std::string_view head) {
  HttpResponse r;
  size_t eol = head.find("\r\n");
  std::string_view status_line = head.substr(0, eol);
  if (status_line.size() < 12 || status_line.substr(0, 7) != "HTTP/1." || status_line[8] != ' ') {
    return InvalidArgument("not an HTTP/1.x status line: " + std::string(status_line));
  }
  std::string code(status_line.substr(9, 3));
  char* end = nullptr;
  long status = std::strtol(code.c_str(), &end, 10);
  if (end != code.c_str() + 3 || status < 100 || status > 599) {
    return InvalidArgument("bad status code in: " + std::string(status_line));
  }
  r.status = static_cast<int>(status);
  if (status_line.size() > 13) r.reason = std::string(Trim(status_line.substr(13)));
  std::string_view rest = eol == std::string_view::npos ? std::string_view() : head.substr(eol + 2);
  while (!rest.empty()) {
    size_t next = rest.find("\r\n");
    std::string_view line = rest.substr(0, next);
    rest = next == std::string_view::npos ? std::string_view() : rest.substr(next + 2);
    if (line.empty()) continue;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return InvalidArgument("malformed header line: " + std::string(line));
    }
    r.headers.push_back(
        {std::string(line.substr(0, colon)), std::string(Trim(line.substr(colon + 1)))});
  }
  return r;
}

Result<HttpResponse> ReadHttpResponse(int fd, std::string* pending, bool read_body,
                                      const Deadline& deadline) {
  size_t end;
  while ((end = pending->find("\r\n\r\n")) == std::string::npos) {
    if (pending->size() > kMaxHead) return InvalidArgument("response head over 64 KiB");
    EW_TRY(ReadMore(fd, pending, deadline, "the response head"));
  }
  EW_ASSIGN_OR_RETURN(HttpResponse r,
                      ParseHttpResponseHead(std::string_view(*pending).substr(0, end)));
  pending->erase(0, end + 4);
  if (read_body) EW_TRY(ReadHttpBody(fd, &r, pending, deadline));
  return r;
}

Status ReadHttpBody(int fd, HttpResponse* r, std::string* pending, const Deadline& deadline) {
  if (r->status < 200 || r->status == 204 || r->status == 304) return OkStatus();
  std::optional<std::string> te = r->Header("Transfer-Encoding");
  if (te && strcasecmp(te->c_str(), "chunked") == 0) {
    return ReadChunked(fd, pending, &r->body, deadline);
  }
  if (std::optional<std::string> cl = r->Header("Content-Length")) {
    char* e = nullptr;
    unsigned long long len = std::strtoull(cl->c_str(), &e, 10);
    if (e == cl->c_str() || *e != '\0') return InvalidArgument("bad Content-Length: " + *cl);
    if (len > kMaxBody) return ResourceExhausted("body too large");
    while (pending->size() < len) EW_TRY(ReadMore(fd, pending, deadline, "the body"));
    r->body = pending->substr(0, len);
    pending->erase(0, len);
    return OkStatus();
  }
  // Neither: the body runs until the server closes.
  for (;;) {
    EW_ASSIGN_OR_RETURN(size_t n, ReadSome(fd, pending, 16 * 1024, deadline));
    if (n == 0) break;
    if (pending->size() > kMaxBody) return ResourceExhausted("body too large");
  }
  r->body = std::move(*pending);
  pending->clear();
  return OkStatus();
}

Result<UniqueFd> ConnectTcp(std::string_view host, uint16_t port, const Deadline& deadline) {
  struct addrinfo hints = {};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  struct addrinfo* res = nullptr;
  std::string h(host), p = std::to_string(port);
  if (int rc = getaddrinfo(h.c_str(), p.c_str(), &hints, &res); rc != 0) {
    return Unavailable("resolve " + h + ": " + gai_strerror(rc));
  }
  Status last = Unavailable("no address for " + h);
  for (struct addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    UniqueFd fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd.valid()) {
      last = ErrnoToStatus(errno, "socket");
      continue;
    }
    int one = 1;
    setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (::connect(fd.get(), ai->ai_addr, ai->ai_addrlen) != 0) {
      if (errno != EINPROGRESS) {
        last = ErrnoToStatus(errno, "connect " + h + ":" + p);
        continue;
      }
      Status s = WaitFd(fd.get(), POLLOUT, deadline, "connect " + h + ":" + p);
      if (!s.ok()) {
        last = s;
        continue;
      }
      int err = 0;
      socklen_t len = sizeof(err);
      getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        last = ErrnoToStatus(err, "connect " + h + ":" + p);
        continue;
      }
    }
    freeaddrinfo(res);
    return fd;
  }
  freeaddrinfo(res);
  return last;
}

Result<HttpResponse> HttpRequest(std::string_view host, uint16_t port, std::string_view method,
                                 std::string_view target, const HttpHeaders& headers,
                                 std::string_view body, int timeout_ms) {
  Deadline deadline(timeout_ms);
  EW_ASSIGN_OR_RETURN(UniqueFd fd, ConnectTcp(host, port, deadline));
  std::string req;
  req.append(method).append(" ").append(target).append(" HTTP/1.1\r\n");
  req.append("Host: ").append(host).append(":").append(std::to_string(port)).append("\r\n");
  req.append("Connection: close\r\n");
  for (const HttpHeader& h : headers)
    req.append(h.name).append(": ").append(h.value).append("\r\n");
  if (!body.empty()) req.append("Content-Length: " + std::to_string(body.size()) + "\r\n");
  req.append("\r\n").append(body);
  EW_TRY(WriteAll(fd.get(), req, deadline));
  std::string pending;
  return ReadHttpResponse(fd.get(), &pending, method != "HEAD", deadline);
}

Result<HttpResponse> HttpGet(uint16_t port, std::string_view path, const HttpHeaders& headers,
                             int timeout_ms) {
  return HttpRequest("127.0.0.1", port, "GET", path, headers, {}, timeout_ms);
}

}  // namespace edgewatch::testing
