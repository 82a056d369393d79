#include "edgewatch/fw/tls/self_signed.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <limits.h>
#include <mbedtls/platform_util.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

#include "file_util.h"

namespace edgewatch::fw::tls {
namespace {

std::string Lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

void AddUnique(std::vector<std::string>& v, std::string s) {
  if (std::find(v.begin(), v.end(), s) == v.end()) v.push_back(std::move(s));
}

std::string Date(int64_t unix_s) {
  time_t t = static_cast<time_t>(unix_s);
  struct tm tm {};
  char buf[32] = "?";
  if (gmtime_r(&t, &tm) != nullptr) ::strftime(buf, sizeof(buf), "%Y-%m-%d", &tm);
  return buf;
}

// Holds key material read from a file; overwritten on destruction.
struct KeyText {
  std::string text;
  KeyText() = default;
  KeyText(const KeyText&) = delete;
  KeyText& operator=(const KeyText&) = delete;
  ~KeyText() {
    if (!text.empty()) mbedtls_platform_zeroize(text.data(), text.size());
  }
};

// Why the pair in cert_path/key_path cannot be reused (empty: it can), or an error that must stop
// the start (a key with unsafe permissions, an unreadable file).
Result<std::string> ReasonToReplace(const std::string& cert_path, const std::string& key_path,
                                    int64_t now_s, const SelfSignedOptions& options,
                                    CertificateInfo* info) {
  struct stat key_st {};
  bool have_key = ::stat(key_path.c_str(), &key_st) == 0;
  if (!have_key && errno != ENOENT) return ErrnoToStatus(errno, "stat " + key_path);
  struct stat cert_st {};
  bool have_cert = ::stat(cert_path.c_str(), &cert_st) == 0;
  if (!have_cert && errno != ENOENT) return ErrnoToStatus(errno, "stat " + cert_path);
  if (!have_key && !have_cert) return std::string("no certificate yet");
  if (!have_key) return std::string("key.pem is missing");
  if (!have_cert) return std::string("cert.pem is missing");
  if ((key_st.st_mode & 0027) != 0) {
    return PermissionDenied(key_path +
                            " may be read by others (or written by its group): consider the key "
                            "leaked; delete the directory to generate a new certificate");
  }

  EW_ASSIGN_OR_RETURN(std::string cert, ReadSmallFile(cert_path, kMaxCertificateFileBytes));
  Result<CertificateInfo> parsed = InspectCertificate(cert);
  if (!parsed.ok()) return "cert.pem is unusable (" + parsed.status().message() + ")";
  KeyText key;
  EW_ASSIGN_OR_RETURN(key.text, ReadSmallFile(key_path, kMaxKeyFileBytes));
  Status pair = CheckKeyMatchesCertificate(key.text, cert);
  if (!pair.ok()) return "key.pem is unusable (" + pair.message() + ")";
  if (parsed->not_after_s - now_s < static_cast<int64_t>(options.renew_before_days) * 86400) {
    return std::string(parsed->not_after_s <= now_s ? "the certificate expired on "
                                                    : "the certificate expires on ") +
           Date(parsed->not_after_s);
  }
  *info = std::move(parsed).value();
  return std::string();
}

}  // namespace

HostIdentity LocalHostIdentity() {
  HostIdentity id;
  char host[HOST_NAME_MAX + 1] = {};
  if (::gethostname(host, sizeof(host) - 1) == 0) {
    std::string name = Lower(host);
    if (IsValidDnsName(name) && name != "localhost") {
      id.hostname = name;
      AddUnique(id.dns_names, name);
      AddUnique(id.dns_names, name.substr(0, name.find('.')) + ".local");
    }
  }
  AddUnique(id.dns_names, "localhost");

  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) == 0) {
    for (const ifaddrs* ifa = list; ifa != nullptr; ifa = ifa->ifa_next) {
      if (ifa->ifa_addr == nullptr || (ifa->ifa_flags & IFF_UP) == 0) continue;
      char text[INET6_ADDRSTRLEN];
      if (ifa->ifa_addr->sa_family == AF_INET) {
        const auto* sin = reinterpret_cast<const sockaddr_in*>(ifa->ifa_addr);
        if (inet_ntop(AF_INET, &sin->sin_addr, text, sizeof(text))) {
          AddUnique(id.ip_addresses, text);
        }
      } else if (ifa->ifa_addr->sa_family == AF_INET6) {
        const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(ifa->ifa_addr);
        if (IN6_IS_ADDR_LINKLOCAL(&sin6->sin6_addr)) continue;
        if (inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof(text))) {
          AddUnique(id.ip_addresses, text);
        }
      }
    }
    ::freeifaddrs(list);
  }
  return id;
}

Result<SelfSignedCertificate> LoadOrCreateSelfSigned(const std::string& dir,
                                                     const HostIdentity& identity, int64_t now_s,
                                                     const SelfSignedOptions& options) {
  EW_TRY(MakePrivateDirs(dir));
  SelfSignedCertificate out;
  out.cert_path = dir + "/cert.pem";
  out.key_path = dir + "/key.pem";

  EW_ASSIGN_OR_RETURN(out.reason,
                      ReasonToReplace(out.cert_path, out.key_path, now_s, options, &out.info));
  if (out.reason.empty()) {
    for (const std::string& name : identity.dns_names) {
      if (std::find(out.info.dns_names.begin(), out.info.dns_names.end(), Lower(name)) ==
          out.info.dns_names.end()) {
        out.uncovered.push_back(name);
      }
    }
    for (const std::string& ip : identity.ip_addresses) {
      if (std::find(out.info.ip_addresses.begin(), out.info.ip_addresses.end(), ip) ==
          out.info.ip_addresses.end()) {
        out.uncovered.push_back(ip);
      }
    }
    return out;
  }

  CertificateSpec spec;
  spec.common_name = identity.hostname;
  spec.dns_names = identity.dns_names;
  spec.ip_addresses = identity.ip_addresses;
  spec.not_before_s = now_s - options.backdate_s;
  spec.not_after_s = now_s + static_cast<int64_t>(options.validity_days) * 86400;
  EW_ASSIGN_OR_RETURN(KeyAndCertificate pair, GenerateSelfSigned(spec));
  // The key first: a crash between the two renames leaves a pair that does not match, which the
  // next start replaces, never a certificate whose key is missing forever.
  EW_TRY(WriteFileAtomically(out.key_path, pair.key_pem, 0600));
  EW_TRY(WriteFileAtomically(out.cert_path, pair.cert_pem, 0644));
  EW_ASSIGN_OR_RETURN(out.info, InspectCertificate(pair.cert_pem));
  out.created = true;
  return out;
}

}  // namespace edgewatch::fw::tls
