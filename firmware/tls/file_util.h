// File helpers for firmware/tls (private): bounded reads, atomic writes, private directories.
// Blocking; any thread.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "edgewatch/base/status.h"

namespace edgewatch::fw::tls {

// Largest certificate (chain) file read, in bytes.
inline constexpr size_t kMaxCertificateFileBytes = 1 << 20;
// Largest private key file read, in bytes.
inline constexpr size_t kMaxKeyFileBytes = 64 * 1024;

// The contents of the regular file at `path`. InvalidArgument when it is not a regular file or is
// longer than `max_bytes`; ErrnoToStatus otherwise. The caller wipes secret contents.
Result<std::string> ReadSmallFile(const std::string& path, size_t max_bytes);

// Creates `dir` and its missing parents with mode 0700; an existing directory is left as is.
Status MakePrivateDirs(const std::string& dir);

// Writes `data` to a temporary file next to `path` created with `mode`, fsyncs it and renames it
// over `path` (replacing an existing file), then fsyncs the directory (best effort). On failure
// nothing is left behind and `path` is unchanged.
Status WriteFileAtomically(const std::string& path, std::string_view data, mode_t mode);

}  // namespace edgewatch::fw::tls
