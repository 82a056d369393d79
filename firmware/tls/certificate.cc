#include "edgewatch/fw/tls/certificate.h"

#include <arpa/inet.h>
#include <mbedtls/asn1write.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/md.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>
#include <mbedtls/x509_crt.h>
#include <time.h>

#include <array>
#include <cstdio>
#include <cstring>

#include "file_util.h"

namespace edgewatch::fw::tls {
namespace {

// mbedTLS's description of an error code, for messages ("X509 - ...").
std::string MbedError(int rc) {
  char buf[160];
  mbedtls_strerror(rc, buf, sizeof(buf));
  char code[24];
  std::snprintf(code, sizeof(code), " (-0x%04x)", static_cast<unsigned>(-rc));
  return std::string(buf) + code;
}

// Overwrites `s` and empties it.
void Wipe(std::string& s) {
  if (!s.empty()) mbedtls_platform_zeroize(s.data(), s.size());
  s.clear();
}

// A string holding key material; overwritten on destruction.
class SecretCopy {
 public:
  explicit SecretCopy(std::string_view s) : s_(s) {}
  SecretCopy(const SecretCopy&) = delete;
  SecretCopy& operator=(const SecretCopy&) = delete;
  ~SecretCopy() { Wipe(s_); }
  const unsigned char* data() const { return reinterpret_cast<const unsigned char*>(s_.c_str()); }
  // mbedTLS parses PEM only when the length includes the terminating NUL.
  size_t size_for_mbedtls() const { return IsPem() ? s_.size() + 1 : s_.size(); }
  bool IsPem() const { return s_.find("-----BEGIN") != std::string::npos; }

 private:
  std::string s_;
};

// RAII wrappers for the mbedTLS contexts used here.
struct Drbg {
  mbedtls_entropy_context entropy;
  mbedtls_ctr_drbg_context ctr;
  Drbg() {
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&ctr);
  }
  ~Drbg() {
    mbedtls_ctr_drbg_free(&ctr);
    mbedtls_entropy_free(&entropy);
  }
  Drbg(const Drbg&) = delete;
  Drbg& operator=(const Drbg&) = delete;
  int Seed() {
    static constexpr char kPersonalisation[] = "edgewatch tls";
    return mbedtls_ctr_drbg_seed(&ctr, mbedtls_entropy_func, &entropy,
                                 reinterpret_cast<const unsigned char*>(kPersonalisation),
                                 sizeof(kPersonalisation) - 1);
  }
};

struct Pk {
  mbedtls_pk_context ctx;
  Pk() { mbedtls_pk_init(&ctx); }
  ~Pk() { mbedtls_pk_free(&ctx); }
  Pk(const Pk&) = delete;
  Pk& operator=(const Pk&) = delete;
};

struct Crt {
  mbedtls_x509_crt ctx;
  Crt() { mbedtls_x509_crt_init(&ctx); }
  ~Crt() { mbedtls_x509_crt_free(&ctx); }
  Crt(const Crt&) = delete;
  Crt& operator=(const Crt&) = delete;
};

struct CrtWriter {
  mbedtls_x509write_cert ctx;
  CrtWriter() { mbedtls_x509write_crt_init(&ctx); }
  ~CrtWriter() { mbedtls_x509write_crt_free(&ctx); }
  CrtWriter(const CrtWriter&) = delete;
  CrtWriter& operator=(const CrtWriter&) = delete;
};

struct Mpi {
  mbedtls_mpi ctx;
  Mpi() { mbedtls_mpi_init(&ctx); }
  ~Mpi() { mbedtls_mpi_free(&ctx); }
  Mpi(const Mpi&) = delete;
  Mpi& operator=(const Mpi&) = delete;
};

// Parses the first certificate of `data` (PEM, possibly a chain, or DER) into `crt`.
Status ParseCertificate(std::string_view data, Crt* crt) {
  if (data.empty()) return InvalidArgument("empty certificate");
  int rc;
  if (data.find("-----BEGIN") != std::string_view::npos) {
    std::string text(data);  // NUL-terminated, as mbedTLS's PEM parser requires
    rc = mbedtls_x509_crt_parse(&crt->ctx, reinterpret_cast<const unsigned char*>(text.c_str()),
                                text.size() + 1);
    if (rc > 0) rc = MBEDTLS_ERR_X509_INVALID_FORMAT;  // some certificates of the chain failed
  } else {
    rc = mbedtls_x509_crt_parse_der(&crt->ctx, reinterpret_cast<const unsigned char*>(data.data()),
                                    data.size());
  }
  if (rc != 0) return InvalidArgument("certificate does not parse: " + MbedError(rc));
  return OkStatus();
}

// "YYYYMMDDhhmmss" (UTC) for mbedtls_x509write_crt_set_validity.
Result<std::string> ValidityString(int64_t unix_s) {
  time_t t = static_cast<time_t>(unix_s);
  struct tm tm {};
  if (gmtime_r(&t, &tm) == nullptr || tm.tm_year + 1900 < 1950 || tm.tm_year + 1900 > 9999) {
    return InvalidArgument("certificate validity out of range (years 1950..9999)");
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%04d%02d%02d%02d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return std::string(buf);
}

int64_t UnixTime(const mbedtls_x509_time& t) {
  struct tm tm {};
  tm.tm_year = t.year - 1900;
  tm.tm_mon = t.mon - 1;
  tm.tm_mday = t.day;
  tm.tm_hour = t.hour;
  tm.tm_min = t.min;
  tm.tm_sec = t.sec;
  return static_cast<int64_t>(timegm(&tm));
}

// The DER value of an extendedKeyUsage extension naming id-kp-serverAuth only.
Result<std::string> EncodeServerAuthEku() {
  unsigned char buf[32];
  unsigned char* p = buf + sizeof(buf);
  size_t len = 0;
  int rc = mbedtls_asn1_write_oid(&p, buf, MBEDTLS_OID_SERVER_AUTH,
                                  MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH));
  if (rc < 0) return Internal("encode extendedKeyUsage: " + MbedError(rc));
  len += static_cast<size_t>(rc);
  rc = mbedtls_asn1_write_len(&p, buf, len);
  if (rc < 0) return Internal("encode extendedKeyUsage: " + MbedError(rc));
  len += static_cast<size_t>(rc);
  rc = mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE);
  if (rc < 0) return Internal("encode extendedKeyUsage: " + MbedError(rc));
  len += static_cast<size_t>(rc);
  return std::string(reinterpret_cast<const char*>(p), len);
}

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

}  // namespace

KeyAndCertificate::~KeyAndCertificate() {
  Wipe(key_pem);
}

bool IsValidDnsName(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  size_t label = 0;
  for (char c : name) {
    if (c == '.') {
      if (label == 0) return false;  // leading dot or ".."
      label = 0;
    } else if (IsNameChar(c)) {
      if (++label > 63) return false;
    } else {
      return false;
    }
  }
  return label > 0;  // no trailing dot
}

Result<std::string> EncodeSubjectAltName(const std::vector<std::string>& dns_names,
                                         const std::vector<std::string>& ip_addresses) {
  if (dns_names.empty() && ip_addresses.empty()) {
    return InvalidArgument("a certificate needs at least one subject alternative name");
  }
  size_t capacity = 16;
  for (const std::string& d : dns_names) {
    if (!IsValidDnsName(d)) return InvalidArgument("not a valid DNS name for a certificate: " + d);
    capacity += d.size() + 8;
  }
  std::vector<std::array<unsigned char, 16>> raw_ips(ip_addresses.size());
  std::vector<size_t> raw_len(ip_addresses.size());
  for (size_t i = 0; i < ip_addresses.size(); ++i) {
    const std::string& ip = ip_addresses[i];
    if (inet_pton(AF_INET, ip.c_str(), raw_ips[i].data()) == 1) {
      raw_len[i] = 4;
    } else if (inet_pton(AF_INET6, ip.c_str(), raw_ips[i].data()) == 1) {
      raw_len[i] = 16;
    } else {
      return InvalidArgument("not an IP address: " + ip);
    }
    capacity += 24;
  }

  // mbedTLS's ASN.1 writers fill the buffer from its end backwards: write the last name first.
  std::vector<unsigned char> buf(capacity);
  unsigned char* const start = buf.data();
  unsigned char* p = start + buf.size();
  size_t total = 0;
  auto put = [&](const unsigned char* data, size_t n, unsigned char tag) -> int {
    int rc = mbedtls_asn1_write_raw_buffer(&p, start, data, n);
    if (rc < 0) return rc;
    size_t len = static_cast<size_t>(rc);
    if ((rc = mbedtls_asn1_write_len(&p, start, n)) < 0) return rc;
    len += static_cast<size_t>(rc);
    if ((rc = mbedtls_asn1_write_tag(&p, start, tag)) < 0) return rc;
    len += static_cast<size_t>(rc);
    total += len;
    return 0;
  };
  for (size_t i = ip_addresses.size(); i-- > 0;) {
    int rc = put(raw_ips[i].data(), raw_len[i], MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7);  // iPAddress
    if (rc < 0) return Internal("encode subjectAltName: " + MbedError(rc));
  }
  for (size_t i = dns_names.size(); i-- > 0;) {
    const std::string& d = dns_names[i];
    int rc = put(reinterpret_cast<const unsigned char*>(d.data()), d.size(),
                 MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2);  // dNSName
    if (rc < 0) return Internal("encode subjectAltName: " + MbedError(rc));
  }
  int rc = mbedtls_asn1_write_len(&p, start, total);
  if (rc >= 0) {
    total += static_cast<size_t>(rc);
    rc = mbedtls_asn1_write_tag(&p, start, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE);
  }
  if (rc < 0) return Internal("encode subjectAltName: " + MbedError(rc));
  total += static_cast<size_t>(rc);
  return std::string(reinterpret_cast<const char*>(p), total);
}

Result<KeyAndCertificate> GenerateSelfSigned(const CertificateSpec& spec) {
  if (!spec.common_name.empty() && !IsValidDnsName(spec.common_name)) {
    return InvalidArgument("certificate common name must be a host name: " + spec.common_name);
  }
  if (spec.not_after_s <= spec.not_before_s) {
    return InvalidArgument("certificate not_after must be later than not_before");
  }
  EW_ASSIGN_OR_RETURN(std::string not_before, ValidityString(spec.not_before_s));
  EW_ASSIGN_OR_RETURN(std::string not_after, ValidityString(spec.not_after_s));
  EW_ASSIGN_OR_RETURN(std::string san, EncodeSubjectAltName(spec.dns_names, spec.ip_addresses));
  EW_ASSIGN_OR_RETURN(std::string eku, EncodeServerAuthEku());
  std::string name =
      spec.common_name.empty() ? "O=edgewatch" : "CN=" + spec.common_name + ",O=edgewatch";

  Drbg drbg;
  int rc = drbg.Seed();
  if (rc != 0) return Internal("seed the random generator: " + MbedError(rc));

  Pk key;
  rc = mbedtls_pk_setup(&key.ctx, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
  if (rc == 0) {
    rc = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(key.ctx),
                             mbedtls_ctr_drbg_random, &drbg.ctr);
  }
  if (rc != 0) return Internal("generate an ECDSA P-256 key: " + MbedError(rc));

  // A random positive serial of 16 bytes (RFC 5280: at most 20 octets, unpredictable).
  unsigned char serial_bytes[16];
  rc = mbedtls_ctr_drbg_random(&drbg.ctr, serial_bytes, sizeof(serial_bytes));
  if (rc != 0) return Internal("random serial: " + MbedError(rc));
  serial_bytes[0] = static_cast<unsigned char>((serial_bytes[0] & 0x7f) | 0x40);
  Mpi serial;
  rc = mbedtls_mpi_read_binary(&serial.ctx, serial_bytes, sizeof(serial_bytes));
  if (rc != 0) return Internal("serial: " + MbedError(rc));

  CrtWriter crt;
  mbedtls_x509write_crt_set_version(&crt.ctx, MBEDTLS_X509_CRT_VERSION_3);
  mbedtls_x509write_crt_set_md_alg(&crt.ctx, MBEDTLS_MD_SHA256);
  mbedtls_x509write_crt_set_subject_key(&crt.ctx, &key.ctx);
  mbedtls_x509write_crt_set_issuer_key(&crt.ctx, &key.ctx);
  const char* step = "serial";
  rc = mbedtls_x509write_crt_set_serial(&crt.ctx, &serial.ctx);
  if (rc == 0) {
    step = "subject";
    rc = mbedtls_x509write_crt_set_subject_name(&crt.ctx, name.c_str());
  }
  if (rc == 0) {
    step = "issuer";
    rc = mbedtls_x509write_crt_set_issuer_name(&crt.ctx, name.c_str());
  }
  if (rc == 0) {
    step = "validity";
    rc = mbedtls_x509write_crt_set_validity(&crt.ctx, not_before.c_str(), not_after.c_str());
  }
  if (rc == 0) {
    step = "basicConstraints";
    rc = mbedtls_x509write_crt_set_basic_constraints(&crt.ctx, /*is_ca=*/0, /*max_pathlen=*/-1);
  }
  if (rc == 0) {
    step = "keyUsage";
    rc = mbedtls_x509write_crt_set_key_usage(&crt.ctx, MBEDTLS_X509_KU_DIGITAL_SIGNATURE);
  }
  if (rc == 0) {
    step = "subjectKeyIdentifier";
    rc = mbedtls_x509write_crt_set_subject_key_identifier(&crt.ctx);
  }
  if (rc == 0) {
    step = "authorityKeyIdentifier";
    rc = mbedtls_x509write_crt_set_authority_key_identifier(&crt.ctx);
  }
  if (rc == 0) {
    step = "extendedKeyUsage";
    rc = mbedtls_x509write_crt_set_extension(
        &crt.ctx, MBEDTLS_OID_EXTENDED_KEY_USAGE, MBEDTLS_OID_SIZE(MBEDTLS_OID_EXTENDED_KEY_USAGE),
        /*critical=*/0, reinterpret_cast<const unsigned char*>(eku.data()), eku.size());
  }
  if (rc == 0) {
    step = "subjectAltName";
    // Non-critical: the subject is not empty (RFC 5280 4.2.1.6).
    rc = mbedtls_x509write_crt_set_extension(
        &crt.ctx, MBEDTLS_OID_SUBJECT_ALT_NAME, MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME),
        /*critical=*/0, reinterpret_cast<const unsigned char*>(san.data()), san.size());
  }
  if (rc != 0) return Internal(std::string("certificate ") + step + ": " + MbedError(rc));

  KeyAndCertificate out;
  std::vector<unsigned char> pem(4096 + san.size() * 2);
  rc = mbedtls_x509write_crt_pem(&crt.ctx, pem.data(), pem.size(), mbedtls_ctr_drbg_random,
                                 &drbg.ctr);
  if (rc != 0) return Internal("sign the certificate: " + MbedError(rc));
  out.cert_pem = reinterpret_cast<const char*>(pem.data());

  unsigned char key_pem[1024];
  rc = mbedtls_pk_write_key_pem(&key.ctx, key_pem, sizeof(key_pem));
  if (rc != 0) {
    mbedtls_platform_zeroize(key_pem, sizeof(key_pem));
    return Internal("encode the private key: " + MbedError(rc));
  }
  out.key_pem = reinterpret_cast<const char*>(key_pem);
  mbedtls_platform_zeroize(key_pem, sizeof(key_pem));
  return out;
}

Result<CertificateInfo> InspectCertificate(std::string_view pem_or_der) {
  Crt crt;
  EW_TRY(ParseCertificate(pem_or_der, &crt));
  const mbedtls_x509_crt& c = crt.ctx;
  CertificateInfo info;
  info.fingerprint_sha256 =
      Sha256Fingerprint(std::string_view(reinterpret_cast<const char*>(c.raw.p), c.raw.len));
  char dn[512];
  if (mbedtls_x509_dn_gets(dn, sizeof(dn), &c.subject) >= 0) info.subject = dn;
  for (const mbedtls_x509_sequence* s = &c.subject_alt_names; s != nullptr && s->buf.p != nullptr;
       s = s->next) {
    int type = s->buf.tag & MBEDTLS_ASN1_TAG_VALUE_MASK;
    if (type == MBEDTLS_X509_SAN_DNS_NAME) {
      info.dns_names.emplace_back(reinterpret_cast<const char*>(s->buf.p), s->buf.len);
    } else if (type == MBEDTLS_X509_SAN_IP_ADDRESS && (s->buf.len == 4 || s->buf.len == 16)) {
      char text[INET6_ADDRSTRLEN];
      if (inet_ntop(s->buf.len == 4 ? AF_INET : AF_INET6, s->buf.p, text, sizeof(text))) {
        info.ip_addresses.emplace_back(text);
      }
    }
  }
  info.not_before_s = UnixTime(c.valid_from);
  info.not_after_s = UnixTime(c.valid_to);
  info.key_type = mbedtls_pk_get_name(&c.pk);
  info.key_bits = mbedtls_pk_get_bitlen(&c.pk);

  if (c.issuer_raw.len == c.subject_raw.len &&
      std::memcmp(c.issuer_raw.p, c.subject_raw.p, c.issuer_raw.len) == 0) {
    const mbedtls_md_info_t* md = mbedtls_md_info_from_type(c.sig_md);
    unsigned char hash[MBEDTLS_MD_MAX_SIZE];
    if (md != nullptr && mbedtls_md(md, c.tbs.p, c.tbs.len, hash) == 0) {
      info.self_signed =
          mbedtls_pk_verify_ext(c.sig_pk, c.sig_opts, const_cast<mbedtls_pk_context*>(&c.pk),
                                c.sig_md, hash, mbedtls_md_get_size(md), c.sig.p, c.sig.len) == 0;
    }
  }
  return info;
}

Result<CertificateInfo> InspectCertificateFile(const std::string& path) {
  EW_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(path, kMaxCertificateFileBytes));
  Result<CertificateInfo> info = InspectCertificate(text);
  if (!info.ok()) return Status(info.status().code(), path + ": " + info.status().message());
  return info;
}

Status CheckKeyMatchesCertificate(std::string_view key_pem, std::string_view cert_pem) {
  Crt crt;
  EW_TRY(ParseCertificate(cert_pem, &crt));
  Pk key;
  SecretCopy copy(key_pem);
  int rc = mbedtls_pk_parse_key(&key.ctx, copy.data(), copy.size_for_mbedtls(), nullptr, 0);
  if (rc != 0) return InvalidArgument("private key does not parse: " + MbedError(rc));
  rc = mbedtls_pk_check_pair(&crt.ctx.pk, &key.ctx);
  if (rc != 0) return InvalidArgument("the private key does not belong to the certificate");
  return OkStatus();
}

Status CheckKeyFileMatchesCertificateFile(const std::string& key_path,
                                          const std::string& cert_path) {
  EW_ASSIGN_OR_RETURN(std::string cert, ReadSmallFile(cert_path, kMaxCertificateFileBytes));
  Result<std::string> key = ReadSmallFile(key_path, kMaxKeyFileBytes);
  if (!key.ok()) return key.status();
  Status s = CheckKeyMatchesCertificate(*key, cert);
  Wipe(*key);
  if (!s.ok()) return Status(s.code(), key_path + " / " + cert_path + ": " + s.message());
  return OkStatus();
}

std::string FormatFingerprint(std::string_view digest) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(digest.size() * 3);
  for (size_t i = 0; i < digest.size(); ++i) {
    if (i > 0) out += ':';
    auto b = static_cast<unsigned char>(digest[i]);
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

std::string Sha256Fingerprint(std::string_view der) {
  unsigned char digest[32];
  mbedtls_sha256_ret(reinterpret_cast<const unsigned char*>(der.data()), der.size(), digest, 0);
  return FormatFingerprint(std::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

}  // namespace edgewatch::fw::tls
