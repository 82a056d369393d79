#include "edgewatch/base/status.h"

#include <cerrno>
#include <cstring>

namespace edgewatch {

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "ok";
    case StatusCode::kInvalidArgument:
      return "invalid_argument";
    case StatusCode::kNotFound:
      return "not_found";
    case StatusCode::kAlreadyExists:
      return "already_exists";
    case StatusCode::kPermissionDenied:
      return "permission_denied";
    case StatusCode::kUnauthenticated:
      return "unauthenticated";
    case StatusCode::kResourceExhausted:
      return "resource_exhausted";
    case StatusCode::kFailedPrecondition:
      return "failed_precondition";
    case StatusCode::kOutOfRange:
      return "out_of_range";
    case StatusCode::kUnavailable:
      return "unavailable";
    case StatusCode::kDeadlineExceeded:
      return "deadline_exceeded";
    case StatusCode::kInternal:
      return "internal";
  }
  return "unknown";
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  std::string s(StatusCodeName(code_));
  s += ": ";
  s += message_;
  return s;
}

Status ErrnoToStatus(int err, std::string_view what) {
  std::string msg(what);
  msg += ": ";
  msg += std::strerror(err);
  switch (err) {
    case ENOENT:
    case ENODEV:
    case ENXIO:
      return NotFound(std::move(msg));
    case EACCES:
    case EPERM:
      return PermissionDenied(std::move(msg));
    case EBUSY:
    case EAGAIN:
    case ECONNREFUSED:
      return Unavailable(std::move(msg));
    case EEXIST:
    case EADDRINUSE:
      return AlreadyExists(std::move(msg));
    case EINVAL:
    case ENAMETOOLONG:
      return InvalidArgument(std::move(msg));
    case ENOMEM:
    case ENOSPC:
    case EMFILE:
    case ENFILE:
      return ResourceExhausted(std::move(msg));
    case ETIMEDOUT:
      return DeadlineExceeded(std::move(msg));
    default:
      return Internal(std::move(msg));
  }
}

}  // namespace edgewatch
