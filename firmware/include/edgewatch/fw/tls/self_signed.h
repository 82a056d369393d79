// `--tls auto`: the board's self-signed certificate, generated on first start and kept in the
// state directory so that its fingerprint stays the same across restarts.
//
// Blocking file I/O and system queries: call at start-up, not from the event loop. Any thread.
// The private key is never logged and never part of a Status message.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "edgewatch/base/status.h"
#include "edgewatch/fw/tls/certificate.h"

namespace edgewatch::fw::tls {

// The names a phone may use to reach this machine.
struct HostIdentity {
  std::string hostname;                   // the certificate's CN
  std::vector<std::string> dns_names;     // SAN dNSName entries
  std::vector<std::string> ip_addresses;  // SAN iPAddress entries (textual)
};

// This machine: gethostname() lower-cased, "<first label>.local" (its mDNS name) and
// "localhost" as DNS names; the addresses of every interface that is up (getifaddrs), IPv4 and
// IPv6, loopback included, IPv6 link-local (fe80::/10, meaningless without a zone) excluded;
// duplicates removed, order stable. A hostname that is not a valid DNS name is left out (the
// CN is then empty). Never fails: a failing query contributes nothing.
HostIdentity LocalHostIdentity();

struct SelfSignedOptions {
  int validity_days = 825;     // the longest validity iOS accepts for a TLS server certificate
  int renew_before_days = 30;  // a certificate expiring sooner than this is replaced
  int64_t backdate_s = 86400;  // not_before = now - backdate_s (clocks of boards drift)
};

// The files `--tls auto` serves and what they contain.
struct SelfSignedCertificate {
  std::string cert_path;  // <dir>/cert.pem, mode 0644
  std::string key_path;   // <dir>/key.pem, mode 0600
  CertificateInfo info;
  // True when this call generated the pair; `reason` says why ("no certificate yet",
  // "the certificate expires ...", "key.pem is missing", ...). Empty when reused.
  bool created = false;
  std::string reason;
  // For a reused certificate: names and addresses of `identity` its SANs do not list (the
  // machine was renamed or got a new address). The certificate is kept so that its fingerprint
  // stays stable; delete the directory to get a new one.
  std::vector<std::string> uncovered;
};

// Returns the certificate in `dir` (created with mode 0700 if missing), generating a new pair
// first when there is none, when it is unusable (unparsable, key and certificate not a pair, one
// of the two files missing) or when it expires within options.renew_before_days of `now_s`.
// A new pair names `identity` and is valid from now_s - backdate_s for validity_days; each file
// is written to a temporary file, fsync'ed and renamed into place, the key first.
//
// Refuses with PermissionDenied a key.pem that its group may write or others may read or write
// (mode & 0027): a key others could read must be considered leaked; fix or delete it. Other
// errors: ErrnoToStatus of the failing call, InvalidArgument/Internal from GenerateSelfSigned.
Result<SelfSignedCertificate> LoadOrCreateSelfSigned(const std::string& dir,
                                                     const HostIdentity& identity, int64_t now_s,
                                                     const SelfSignedOptions& options = {});

}  // namespace edgewatch::fw::tls
