// HttpGet: one blocking HTTP(S) GET with lws for the CLI's read-only commands (`gpio`), on a
// client-only context served by its own loop on the calling thread.
#pragma once

#include <string>

#include "edgewatch/base/status.h"

namespace edgewatch::cli {

struct HttpGetResult {
  unsigned int status = 0;  // HTTP status
  std::string body;
  std::string target;  // "http://host:port/path", for messages
};

// GETs `path` (e.g. "/api/v1/hal") from the gateway at `base_url` (http://, https://, or a ws://
// URL whose /ws path is dropped), sending `Authorization: Bearer <token>` when `token` is not
// empty. Returns InvalidArgument for a bad URL, Unavailable when the gateway cannot be reached,
// DeadlineExceeded after `timeout_s`; any HTTP status is a successful result.
Result<HttpGetResult> HttpGet(const std::string& base_url, const std::string& path,
                              const std::string& token, int timeout_s, bool insecure, bool verbose);

}  // namespace edgewatch::cli
