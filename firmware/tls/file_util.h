// File limits for firmware/tls (private). The helpers themselves are edgewatch/base/file_util.h.
#pragma once

#include <cstddef>

#include "edgewatch/base/file_util.h"

namespace edgewatch::fw::tls {

// Largest certificate (chain) file read, in bytes.
inline constexpr size_t kMaxCertificateFileBytes = 1 << 20;
// Largest private key file read, in bytes.
inline constexpr size_t kMaxKeyFileBytes = 64 * 1024;

}  // namespace edgewatch::fw::tls
