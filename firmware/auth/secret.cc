#include "edgewatch/fw/auth/secret.h"

#include <fcntl.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/platform_util.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "edgewatch/base/file_util.h"
#include "edgewatch/base/log.h"
#include "edgewatch/fw/auth/jwt.h"

namespace edgewatch::fw::auth {
namespace {

constexpr size_t kRandomBytes = 32;

// Overwrites a string's bytes before it is released.
void Wipe(std::string& s) {
  if (!s.empty()) mbedtls_platform_zeroize(s.data(), s.size());
  s.clear();
}

// 32 bytes from mbedTLS's entropy source through CTR-DRBG, as 64 lower-case hex digits.
Result<std::string> RandomHexSecret() {
  mbedtls_entropy_context entropy;
  mbedtls_ctr_drbg_context drbg;
  mbedtls_entropy_init(&entropy);
  mbedtls_ctr_drbg_init(&drbg);
  constexpr char kPersonalisation[] = "edgewatch jwt secret";
  unsigned char bytes[kRandomBytes];
  int rc = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy,
                                 reinterpret_cast<const unsigned char*>(kPersonalisation),
                                 sizeof(kPersonalisation) - 1);
  if (rc == 0) rc = mbedtls_ctr_drbg_random(&drbg, bytes, sizeof(bytes));
  mbedtls_ctr_drbg_free(&drbg);
  mbedtls_entropy_free(&entropy);
  if (rc != 0) {
    mbedtls_platform_zeroize(bytes, sizeof(bytes));
    return Internal("mbedTLS random generator failed: " + std::to_string(rc));
  }
  constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * kRandomBytes + 1);
  for (unsigned char b : bytes) {
    hex += kHex[b >> 4];
    hex += kHex[b & 15];
  }
  mbedtls_platform_zeroize(bytes, sizeof(bytes));
  return hex;
}

// Writes a new secret file at `path`. Returns AlreadyExists when another process created `path`
// first (nothing of ours is left behind then).
Status CreateSecretFile(const std::string& path) {
  std::string dir = DirName(path);
  EW_TRY(MakePrivateDirs(dir));
  std::string tmp = path + ".tmp.XXXXXX";
  int raw_fd = ::mkostemp(tmp.data(), O_CLOEXEC);  // creates the file with mode 0600
  if (raw_fd < 0) return ErrnoToStatus(errno, "create temporary file in " + dir);
  ScopedFd fd(raw_fd);
  auto fail = [&tmp](Status s) {
    ::unlink(tmp.c_str());
    return s;
  };
  if (::fchmod(fd.get(), 0600) != 0) return fail(ErrnoToStatus(errno, "chmod " + tmp));
  Result<std::string> secret = RandomHexSecret();
  if (!secret.ok()) return fail(secret.status());
  *secret += '\n';
  Status written = WriteAll(fd.get(), *secret, tmp);
  Wipe(*secret);
  if (!written.ok()) return fail(written);
  if (::fsync(fd.get()) != 0) return fail(ErrnoToStatus(errno, "fsync " + tmp));

  // link() publishes the complete file atomically and, unlike rename(), fails with EEXIST instead
  // of replacing a secret another process created meanwhile. Filesystems without hard links fall
  // back to rename().
  if (::link(tmp.c_str(), path.c_str()) == 0) {
    ::unlink(tmp.c_str());
  } else if (errno == EEXIST) {
    return fail(AlreadyExists(path + " was created concurrently"));
  } else if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return fail(ErrnoToStatus(errno, "rename to " + path));
  }
  ScopedFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir_fd.get() >= 0) ::fsync(dir_fd.get());  // best effort: the file itself is complete
  EW_INFO("auth", "created a new JWT secret in %s (mode 0600)", path.c_str());
  return OkStatus();
}

Result<std::string> ReadSecretFile(const std::string& path) {
  ScopedFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (fd.get() < 0) return ErrnoToStatus(errno, "open " + path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return ErrnoToStatus(errno, "stat " + path);
  if (!S_ISREG(st.st_mode)) return InvalidArgument(path + " is not a regular file");
  if ((st.st_mode & 0027) != 0) {
    return PermissionDenied(path +
                            " may be read or written by others (or written by its group); run "
                            "chmod 600 on it");
  }
  if ((st.st_mode & 0040) != 0) {
    EW_WARN("auth", "JWT secret %s is readable by its group; chmod 600 unless that is intended",
            path.c_str());
  }
  if (st.st_size > static_cast<off_t>(kMaxSecretFileBytes)) {
    return InvalidArgument(path + " is larger than 4096 bytes");
  }
  std::string secret(kMaxSecretFileBytes + 1, '\0');
  size_t len = 0;
  while (len < secret.size()) {
    ssize_t n = ::read(fd.get(), secret.data() + len, secret.size() - len);
    if (n < 0) {
      if (errno == EINTR) continue;
      Status s = ErrnoToStatus(errno, "read " + path);
      Wipe(secret);
      return s;
    }
    if (n == 0) break;
    len += static_cast<size_t>(n);
  }
  if (len > kMaxSecretFileBytes) {
    Wipe(secret);
    return InvalidArgument(path + " is larger than 4096 bytes");
  }
  if (len > 0 && secret[len - 1] == '\n') {
    --len;
    if (len > 0 && secret[len - 1] == '\r') --len;
  }
  if (len < kMinSecretBytes) {
    Wipe(secret);
    return InvalidArgument(path + " holds fewer than 32 bytes (an empty or truncated secret?)");
  }
  mbedtls_platform_zeroize(secret.data() + len, secret.size() - len);
  secret.resize(len);
  return secret;
}

}  // namespace

Result<std::string> LoadOrCreateSecret(std::string_view path_view) {
  if (path_view.empty()) return InvalidArgument("secret file path is empty");
  std::string path(path_view);
  if (path.find('\0') != std::string::npos) return InvalidArgument("secret file path contains NUL");
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno != ENOENT) return ErrnoToStatus(errno, "stat " + path);
    Status created = CreateSecretFile(path);
    // AlreadyExists: another process won the race; use its secret.
    if (!created.ok() && created.code() != StatusCode::kAlreadyExists) return created;
  }
  return ReadSecretFile(path);
}

}  // namespace edgewatch::fw::auth
