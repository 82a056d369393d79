// Status and Result<T>: how errors cross module boundaries in edgewatch (no exceptions).
//
// A Status is a code plus a human-readable message. Codes follow the canonical set used by
// Pigweed/Abseil so callers can branch on them; messages are for logs and for the error texts
// sent back to producers and clients, so they never contain secrets.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace edgewatch {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kPermissionDenied,
  kUnauthenticated,
  kResourceExhausted,
  kFailedPrecondition,
  kOutOfRange,
  kUnavailable,
  kDeadlineExceeded,
  kInternal,
};

// Returns a stable lower_snake_case name for `code` (e.g. "invalid_argument").
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "code: message", for logs.
  std::string ToString() const;

  // Explicitly discards a Status the caller has decided not to act on.
  void IgnoreError() const {}

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status OkStatus() {
  return Status();
}
inline Status InvalidArgument(std::string m) {
  return {StatusCode::kInvalidArgument, std::move(m)};
}
inline Status NotFound(std::string m) {
  return {StatusCode::kNotFound, std::move(m)};
}
inline Status AlreadyExists(std::string m) {
  return {StatusCode::kAlreadyExists, std::move(m)};
}
inline Status PermissionDenied(std::string m) {
  return {StatusCode::kPermissionDenied, std::move(m)};
}
inline Status Unauthenticated(std::string m) {
  return {StatusCode::kUnauthenticated, std::move(m)};
}
inline Status ResourceExhausted(std::string m) {
  return {StatusCode::kResourceExhausted, std::move(m)};
}
inline Status FailedPrecondition(std::string m) {
  return {StatusCode::kFailedPrecondition, std::move(m)};
}
inline Status OutOfRange(std::string m) {
  return {StatusCode::kOutOfRange, std::move(m)};
}
inline Status Unavailable(std::string m) {
  return {StatusCode::kUnavailable, std::move(m)};
}
inline Status DeadlineExceeded(std::string m) {
  return {StatusCode::kDeadlineExceeded, std::move(m)};
}
inline Status Internal(std::string m) {
  return {StatusCode::kInternal, std::move(m)};
}

// Maps an errno value to a Status once, at the edge where a system call failed.
// EBUSY -> Unavailable, ENOENT -> NotFound, EACCES/EPERM -> PermissionDenied, ...
Status ErrnoToStatus(int err, std::string_view what);

// Result<T>: either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return std::holds_alternative<T>(v_); }
  // The error; OK when the Result holds a value.
  Status status() const { return ok() ? Status() : std::get<Status>(v_); }

  // Precondition: ok().
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace edgewatch

#define EW_CONCAT_INNER_(a, b) a##b
#define EW_CONCAT_(a, b) EW_CONCAT_INNER_(a, b)

// EW_TRY(expr): returns the Status of `expr` from the enclosing function when it is not OK.
// `expr` may yield a Status or a Result<T>.
#define EW_TRY(expr)                                               \
  do {                                                             \
    auto ew_try_status_ = ::edgewatch::internal::AsStatus((expr)); \
    if (!ew_try_status_.ok()) return ew_try_status_;               \
  } while (0)

// EW_ASSIGN_OR_RETURN(lhs, expr): evaluates a Result<T>; on error returns its Status, otherwise
// moves the value into `lhs` (which may be a declaration such as `auto x`).
#define EW_ASSIGN_OR_RETURN(lhs, expr) \
  EW_ASSIGN_OR_RETURN_IMPL_(EW_CONCAT_(ew_result_, __LINE__), lhs, expr)
#define EW_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()

namespace edgewatch::internal {
inline Status AsStatus(Status s) {
  return s;
}
template <typename T>
Status AsStatus(const Result<T>& r) {
  return r.status();
}
}  // namespace edgewatch::internal
