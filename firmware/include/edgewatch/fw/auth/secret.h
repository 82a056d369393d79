// The HMAC secret that signs and verifies tokens (`--jwt-secret-file`).
//
// File format: the secret is the file's bytes, used verbatim as the HMAC-SHA256 key, after
// removing one trailing "\n" (or "\r\n") so that a secret written with `echo` works. A secret
// created by edgewatch is 32 random bytes from mbedTLS's entropy source and CTR-DRBG, stored as
// 64 lower-case hex digits and a newline (so it can be copied between machines as text); the key
// is then those 64 characters, carrying 256 bits of entropy.
//
// Neither the secret nor any part of it is ever logged.
#pragma once

#include <string>
#include <string_view>

#include "edgewatch/base/status.h"

namespace edgewatch::fw::auth {

// Longest secret file accepted, in bytes.
inline constexpr size_t kMaxSecretFileBytes = 4096;

// Returns the secret stored at `path`, creating it first when `path` does not exist.
//
// Creating: missing parent directories are created with mode 0700; 32 random bytes are written
// as hex to a temporary file (mode 0600) in the same directory, flushed with fsync, and moved into
// place atomically without replacing a file another process created meanwhile (that file is then
// read instead); the directory is fsync'ed. Logs one info line naming the path (never the value).
//
// Reading refuses, with PermissionDenied, a file that others may read or write (mode & 0007) or
// that its group may write (mode & 0020): a secret anyone on the board can read lets them mint
// tokens. A group-readable file (mode & 0040, for deployments where a service group owns the
// secret) is accepted with a warning. Refuses with InvalidArgument: not a regular file, larger than
// kMaxSecretFileBytes, or shorter than kMinSecretBytes (jwt.h) after the trailing newline is
// removed. Other failures come from ErrnoToStatus (NotFound, PermissionDenied, ...).
//
// Blocking file I/O: call at start-up, not from the event loop. Any thread.
Result<std::string> LoadOrCreateSecret(std::string_view path);

}  // namespace edgewatch::fw::auth
