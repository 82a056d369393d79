// A minimal blocking HTTP/1.1 client for tests: enough to read the daemon's JSON endpoints and
// refused WebSocket upgrades (status, headers, body). Single-threaded per call.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "edgewatch/base/json.h"
#include "edgewatch/base/status.h"
#include "edgewatch/testing/io.h"

namespace edgewatch::testing {

struct HttpHeader {
  std::string name;
  std::string value;
};
using HttpHeaders = std::vector<HttpHeader>;

struct HttpResponse {
  int status = 0;
  std::string reason;
  HttpHeaders headers;  // in arrival order, names as sent
  std::string body;     // de-chunked; empty for 101

  // First header named `name` (case-insensitive); nullopt when absent.
  std::optional<std::string> Header(std::string_view name) const;
  // The body parsed as JSON (InvalidArgument when it is not).
  Result<JsonPtr> Json() const;
};

// Parses the status line and header lines of `head` (without the terminating blank line).
// InvalidArgument when it is not an HTTP/1.x response.
Result<HttpResponse> ParseHttpResponseHead(std::string_view head);

// Reads one response from the connected stream `fd`: the head, then (when `read_body`) the body by
// Content-Length, chunked transfer coding, or until EOF; 1xx, 204 and 304 have no body. `pending`
// holds bytes already received on the socket and, on return, the bytes that followed the
// response (for a 101, the first WebSocket frames).
Result<HttpResponse> ReadHttpResponse(int fd, std::string* pending, bool read_body,
                                      const Deadline& deadline);
// The body step of ReadHttpResponse alone, for a response whose head was already read.
Status ReadHttpBody(int fd, HttpResponse* response, std::string* pending, const Deadline& deadline);

// Sends one request with "Connection: close" and reads the response. `headers` are added after
// Host; `body`, when non-empty, is sent with a Content-Length.
Result<HttpResponse> HttpRequest(std::string_view host, uint16_t port, std::string_view method,
                                 std::string_view target, const HttpHeaders& headers = {},
                                 std::string_view body = {}, int timeout_ms = 5000);

// GET http://127.0.0.1:<port><path>.
Result<HttpResponse> HttpGet(uint16_t port, std::string_view path, const HttpHeaders& headers = {},
                             int timeout_ms = 5000);

// Opens a TCP connection to host:port (numeric IPv4/IPv6 or a name), bounded by `deadline`.
// Returns a non-blocking socket.
Result<UniqueFd> ConnectTcp(std::string_view host, uint16_t port, const Deadline& deadline);

}  // namespace edgewatch::testing
