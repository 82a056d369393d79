// X.509 certificates for the gateway's TLS listener, built and read with mbedTLS.
//
// GenerateSelfSigned() makes what `--tls auto` serves: a fresh ECDSA P-256 key and a self-signed
// certificate naming the board in its Subject Alternative Names, so that a phone can connect over
// HTTPS/WSS and its user can verify the certificate by its SHA-256 fingerprint.
// InspectCertificate() reads a certificate back (for the fingerprint the daemon logs and for
// tests).
//
// Pure functions apart from drawing randomness from mbedTLS's entropy source; any thread. Private
// keys never appear in a Status message or a log line.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "edgewatch/base/status.h"

namespace edgewatch::fw::tls {

// What a generated certificate says.
struct CertificateSpec {
  std::string common_name;                // subject (and issuer) CN; may be empty
  std::vector<std::string> dns_names;     // SAN dNSName entries (LDH names, see IsValidDnsName)
  std::vector<std::string> ip_addresses;  // SAN iPAddress entries, textual IPv4 or IPv6
  int64_t not_before_s = 0;               // validity, Unix seconds (UTC)
  int64_t not_after_s = 0;
};

// A private key and its certificate, both PEM. The key is SEC1 ("BEGIN EC PRIVATE KEY"), which
// OpenSSL and mbedTLS both load. The destructor overwrites the key's bytes.
struct KeyAndCertificate {
  std::string key_pem;
  std::string cert_pem;

  KeyAndCertificate() = default;
  KeyAndCertificate(KeyAndCertificate&&) = default;
  KeyAndCertificate& operator=(KeyAndCertificate&&) = default;
  KeyAndCertificate(const KeyAndCertificate&) = delete;
  KeyAndCertificate& operator=(const KeyAndCertificate&) = delete;
  ~KeyAndCertificate();
};

// True for a name usable as a SAN dNSName: 1..253 bytes of labels of 1..63 characters from
// [A-Za-z0-9_-] separated by single dots (no leading/trailing dot, no '*').
bool IsValidDnsName(std::string_view name);

// The DER value of a SubjectAltName extension (RFC 5280 4.2.1.6: GeneralNames, a SEQUENCE of
// dNSName [2] IA5String and iPAddress [7] OCTET STRING of 4 or 16 bytes), DNS names first, each
// list in the given order. InvalidArgument when a name is not IsValidDnsName, an address does
// not parse (inet_pton), or both lists are empty.
Result<std::string> EncodeSubjectAltName(const std::vector<std::string>& dns_names,
                                         const std::vector<std::string>& ip_addresses);

// Generates an ECDSA P-256 key (mbedTLS CTR-DRBG seeded from its entropy source) and an X.509 v3
// certificate signed by that key with ECDSA-SHA256: random positive 128-bit serial, subject =
// issuer = CN=<common_name>,O=edgewatch, the spec's validity and SANs, basicConstraints CA:FALSE
// (critical), keyUsage digitalSignature (critical), extendedKeyUsage serverAuth, subject and
// authority key identifiers. InvalidArgument for a bad spec (see EncodeSubjectAltName;
// not_after_s <= not_before_s; a year outside 1950..9999), Internal when mbedTLS fails.
Result<KeyAndCertificate> GenerateSelfSigned(const CertificateSpec& spec);

// What InspectCertificate reads from a certificate.
struct CertificateInfo {
  std::string fingerprint_sha256;         // SHA-256 of the DER, "AB:01:..." (FormatFingerprint)
  std::string subject;                    // distinguished name, e.g. "CN=board, O=edgewatch"
  std::vector<std::string> dns_names;     // SAN dNSName entries, in certificate order
  std::vector<std::string> ip_addresses;  // SAN iPAddress entries, textual (inet_ntop)
  int64_t not_before_s = 0;
  int64_t not_after_s = 0;
  std::string key_type;  // mbedTLS's name of the public key type: "EC", "RSA", ...
  size_t key_bits = 0;
  bool self_signed = false;  // issuer == subject and the signature verifies with its own key
};

// Parses the first certificate of `pem_or_der` (PEM text, possibly a chain, or one DER
// certificate). InvalidArgument naming mbedTLS's reason when it does not parse.
Result<CertificateInfo> InspectCertificate(std::string_view pem_or_der);

// Reads `path` and InspectCertificate()s it. Errors are prefixed with the path; NotFound or
// PermissionDenied when the file cannot be read.
Result<CertificateInfo> InspectCertificateFile(const std::string& path);

// OK when `key_pem` (a PEM or DER private key, unencrypted) is the private key of the first
// certificate in `cert_pem`. InvalidArgument otherwise (unparsable key or certificate, or not a
// pair); the message never contains key material.
Status CheckKeyMatchesCertificate(std::string_view key_pem, std::string_view cert_pem);

// CheckKeyMatchesCertificate on the files at `key_path` and `cert_path` (a user's --tls-key and
// --tls-cert), so that a wrong pair is reported clearly before the listener starts. Errors name
// the file; the key's bytes are overwritten after use.
Status CheckKeyFileMatchesCertificateFile(const std::string& key_path,
                                          const std::string& cert_path);

// Upper-case hex bytes separated by colons ("AB:01:FF"), the form browsers and
// `openssl x509 -fingerprint -sha256` show.
std::string FormatFingerprint(std::string_view digest);

// SHA-256 of `der`, formatted with FormatFingerprint.
std::string Sha256Fingerprint(std::string_view der);

}  // namespace edgewatch::fw::tls
