// GenerateSelfSigned -> parse back with mbedtls_x509_crt_parse: SANs, key type, validity,
// extensions, self-signature, hostname verification; the SubjectAltName encoding byte for byte;
// fingerprints; key/certificate pairing.
#include "edgewatch/fw/tls/certificate.h"

#include <mbedtls/ecp.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>
#include <time.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace edgewatch::fw::tls {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;
using ::testing::StartsWith;

constexpr int64_t kDay = 86400;

// A certificate valid around the real current time (so mbedTLS's own verification accepts it).
CertificateSpec BoardSpec() {
  CertificateSpec spec;
  spec.common_name = "board";
  spec.dns_names = {"board", "board.local", "localhost"};
  spec.ip_addresses = {"192.168.1.20", "127.0.0.1", "2001:db8::7"};
  int64_t now = static_cast<int64_t>(::time(nullptr));
  spec.not_before_s = now - kDay;
  spec.not_after_s = now + 825 * kDay;
  return spec;
}

// Owns an mbedtls_x509_crt parsed from PEM.
struct ParsedCrt {
  mbedtls_x509_crt crt;
  int rc;
  explicit ParsedCrt(const std::string& pem) {
    mbedtls_x509_crt_init(&crt);
    rc = mbedtls_x509_crt_parse(&crt, reinterpret_cast<const unsigned char*>(pem.c_str()),
                                pem.size() + 1);
  }
  ~ParsedCrt() { mbedtls_x509_crt_free(&crt); }
  std::string Der() const {
    return std::string(reinterpret_cast<const char*>(crt.raw.p), crt.raw.len);
  }
};

std::string Hex(const std::string& bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

TEST(DnsNameTest, AcceptsHostNamesOnly) {
  EXPECT_TRUE(IsValidDnsName("board"));
  EXPECT_TRUE(IsValidDnsName("board.local"));
  EXPECT_TRUE(IsValidDnsName("jetson-orin_01.lab.example"));
  EXPECT_FALSE(IsValidDnsName(""));
  EXPECT_FALSE(IsValidDnsName(".board"));
  EXPECT_FALSE(IsValidDnsName("board."));
  EXPECT_FALSE(IsValidDnsName("a..b"));
  EXPECT_FALSE(IsValidDnsName("*.local"));
  EXPECT_FALSE(IsValidDnsName("bo ard"));
  EXPECT_FALSE(IsValidDnsName("b\xc3\xa9"));
  EXPECT_FALSE(IsValidDnsName(std::string(64, 'a')));
  EXPECT_TRUE(IsValidDnsName(std::string(63, 'a')));
  EXPECT_FALSE(IsValidDnsName(std::string(254, 'a')));
}

TEST(SubjectAltNameTest, EncodesGeneralNamesByteForByte) {
  auto der = EncodeSubjectAltName({"a", "bc"}, {"10.0.0.1", "::1"});
  ASSERT_TRUE(der.ok()) << der.status().ToString();
  // SEQUENCE { [2] "a", [2] "bc", [7] 0a000001, [7] ::1 }
  EXPECT_EQ(Hex(*der),
            "301f"
            "820161"
            "82026263"
            "87040a000001"
            "871000000000000000000000000000000001");
}

TEST(SubjectAltNameTest, RejectsBadNames) {
  EXPECT_EQ(EncodeSubjectAltName({}, {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(EncodeSubjectAltName({"bad name"}, {}).status().code(), StatusCode::kInvalidArgument);
  auto bad_ip = EncodeSubjectAltName({"ok"}, {"300.1.1.1"});
  EXPECT_EQ(bad_ip.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bad_ip.status().message(), HasSubstr("300.1.1.1"));
}

TEST(SubjectAltNameTest, LongListsUseLongFormLengths) {
  std::vector<std::string> names;
  for (int i = 0; i < 40; ++i) names.push_back("host-" + std::to_string(i) + ".example");
  auto der = EncodeSubjectAltName(names, {});
  ASSERT_TRUE(der.ok());
  EXPECT_EQ(static_cast<unsigned char>((*der)[0]), 0x30);
  EXPECT_EQ(static_cast<unsigned char>((*der)[1]), 0x82);  // two length bytes follow
  size_t len = (static_cast<unsigned char>((*der)[2]) << 8) | static_cast<unsigned char>((*der)[3]);
  EXPECT_EQ(len + 4, der->size());
}

TEST(FingerprintTest, FormatsUpperCaseHexWithColons) {
  EXPECT_EQ(FormatFingerprint(std::string("\x01\xab\xff", 3)), "01:AB:FF");
  EXPECT_EQ(FormatFingerprint(""), "");
  // SHA-256("abc") from FIPS 180-2.
  EXPECT_EQ(Sha256Fingerprint("abc"),
            "BA:78:16:BF:8F:01:CF:EA:41:41:40:DE:5D:AE:22:23:B0:03:61:A3:96:17:7A:9C:B4:10:FF:61:"
            "F2:00:15:AD");
}

TEST(GenerateSelfSignedTest, ParsesBackWithTheRequestedContents) {
  CertificateSpec spec = BoardSpec();
  auto pair = GenerateSelfSigned(spec);
  ASSERT_TRUE(pair.ok()) << pair.status().ToString();
  EXPECT_THAT(pair->cert_pem, StartsWith("-----BEGIN CERTIFICATE-----\n"));
  EXPECT_THAT(pair->key_pem, StartsWith("-----BEGIN EC PRIVATE KEY-----\n"));

  ParsedCrt parsed(pair->cert_pem);
  ASSERT_EQ(parsed.rc, 0);
  const mbedtls_x509_crt& c = parsed.crt;
  EXPECT_EQ(c.version, 3);
  // ECDSA P-256 key, ECDSA-SHA256 signature.
  ASSERT_EQ(mbedtls_pk_get_type(&c.pk), MBEDTLS_PK_ECKEY);
  EXPECT_EQ(mbedtls_pk_ec(c.pk)->grp.id, MBEDTLS_ECP_DP_SECP256R1);
  EXPECT_EQ(c.sig_md, MBEDTLS_MD_SHA256);
  EXPECT_EQ(c.sig_pk, MBEDTLS_PK_ECDSA);
  // A positive serial of 16 bytes.
  EXPECT_EQ(c.serial.len, 16u);
  EXPECT_EQ(c.serial.p[0] & 0x80, 0);
  // Extensions.
  EXPECT_TRUE(c.ext_types & MBEDTLS_X509_EXT_SUBJECT_ALT_NAME);
  EXPECT_TRUE(c.ext_types & MBEDTLS_X509_EXT_BASIC_CONSTRAINTS);
  EXPECT_EQ(c.ca_istrue, 0);
  EXPECT_EQ(mbedtls_x509_crt_check_key_usage(&c, MBEDTLS_X509_KU_DIGITAL_SIGNATURE), 0);
  EXPECT_EQ(mbedtls_x509_crt_check_extended_key_usage(&c, MBEDTLS_OID_SERVER_AUTH,
                                                      MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH)),
            0);
  EXPECT_NE(mbedtls_x509_crt_check_extended_key_usage(&c, MBEDTLS_OID_CLIENT_AUTH,
                                                      MBEDTLS_OID_SIZE(MBEDTLS_OID_CLIENT_AUTH)),
            0);
  // SANs in order, with their GeneralName tags.
  std::vector<std::string> sans;
  for (const mbedtls_x509_sequence* s = &c.subject_alt_names; s != nullptr; s = s->next) {
    int tag = s->buf.tag & MBEDTLS_ASN1_TAG_VALUE_MASK;
    sans.push_back(std::to_string(tag) + ":" +
                   (tag == 2
                        ? std::string(reinterpret_cast<const char*>(s->buf.p), s->buf.len)
                        : Hex(std::string(reinterpret_cast<const char*>(s->buf.p), s->buf.len))));
  }
  EXPECT_THAT(sans, ElementsAre("2:board", "2:board.local", "2:localhost", "7:c0a80114",
                                "7:7f000001", "7:20010db8000000000000000000000007"));

  // What InspectCertificate reports.
  auto info = InspectCertificate(pair->cert_pem);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->subject, "CN=board, O=edgewatch");
  EXPECT_THAT(info->dns_names, ElementsAre("board", "board.local", "localhost"));
  EXPECT_THAT(info->ip_addresses, ElementsAre("192.168.1.20", "127.0.0.1", "2001:db8::7"));
  EXPECT_EQ(info->not_before_s, spec.not_before_s);
  EXPECT_EQ(info->not_after_s, spec.not_after_s);
  EXPECT_EQ(info->key_type, "EC");
  EXPECT_EQ(info->key_bits, 256u);
  EXPECT_TRUE(info->self_signed);
  EXPECT_THAT(info->fingerprint_sha256, MatchesRegex("([0-9A-F]{2}:){31}[0-9A-F]{2}"));
  EXPECT_EQ(info->fingerprint_sha256, Sha256Fingerprint(parsed.Der()));
}

TEST(GenerateSelfSignedTest, VerifiesAgainstItselfForItsNamesOnly) {
  auto pair = GenerateSelfSigned(BoardSpec());
  ASSERT_TRUE(pair.ok());
  ParsedCrt crt(pair->cert_pem);
  ParsedCrt anchor(pair->cert_pem);
  ASSERT_EQ(crt.rc, 0);
  ASSERT_EQ(anchor.rc, 0);
  uint32_t flags = 0;
  EXPECT_EQ(mbedtls_x509_crt_verify(&crt.crt, &anchor.crt, nullptr, "board.local", &flags, nullptr,
                                    nullptr),
            0)
      << std::hex << flags;
  EXPECT_EQ(flags, 0u);
  flags = 0;
  EXPECT_NE(mbedtls_x509_crt_verify(&crt.crt, &anchor.crt, nullptr, "evil.example", &flags, nullptr,
                                    nullptr),
            0);
  EXPECT_TRUE(flags & MBEDTLS_X509_BADCERT_CN_MISMATCH);
}

TEST(GenerateSelfSignedTest, FingerprintIsStableAcrossLoadsAndForms) {
  auto pair = GenerateSelfSigned(BoardSpec());
  ASSERT_TRUE(pair.ok());
  auto a = InspectCertificate(pair->cert_pem);
  auto b = InspectCertificate(pair->cert_pem);
  ParsedCrt parsed(pair->cert_pem);
  ASSERT_EQ(parsed.rc, 0);
  auto der = InspectCertificate(parsed.Der());
  // A chain: the first certificate's fingerprint.
  auto other = GenerateSelfSigned(BoardSpec());
  ASSERT_TRUE(other.ok());
  auto chain = InspectCertificate(pair->cert_pem + other->cert_pem);
  ASSERT_TRUE(a.ok() && b.ok() && der.ok() && chain.ok());
  EXPECT_EQ(a->fingerprint_sha256, b->fingerprint_sha256);
  EXPECT_EQ(a->fingerprint_sha256, der->fingerprint_sha256);
  EXPECT_EQ(a->fingerprint_sha256, chain->fingerprint_sha256);
}

TEST(GenerateSelfSignedTest, EveryCallMakesANewKeyAndSerial) {
  auto a = GenerateSelfSigned(BoardSpec());
  auto b = GenerateSelfSigned(BoardSpec());
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->key_pem, b->key_pem);
  ParsedCrt ca(a->cert_pem), cb(b->cert_pem);
  ASSERT_EQ(ca.rc, 0);
  ASSERT_EQ(cb.rc, 0);
  EXPECT_NE(Hex(std::string(reinterpret_cast<const char*>(ca.crt.serial.p), ca.crt.serial.len)),
            Hex(std::string(reinterpret_cast<const char*>(cb.crt.serial.p), cb.crt.serial.len)));
  EXPECT_NE(InspectCertificate(a->cert_pem)->fingerprint_sha256,
            InspectCertificate(b->cert_pem)->fingerprint_sha256);
}

TEST(GenerateSelfSignedTest, WorksWithoutCommonNameOrDnsNames) {
  CertificateSpec spec = BoardSpec();
  spec.common_name.clear();
  spec.dns_names.clear();
  auto pair = GenerateSelfSigned(spec);
  ASSERT_TRUE(pair.ok()) << pair.status().ToString();
  auto info = InspectCertificate(pair->cert_pem);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->subject, "O=edgewatch");
  EXPECT_TRUE(info->dns_names.empty());
  EXPECT_EQ(info->ip_addresses.size(), 3u);
}

TEST(GenerateSelfSignedTest, ValidityBeyond2049UsesGeneralizedTime) {
  CertificateSpec spec = BoardSpec();
  spec.not_before_s = 2'500'000'000;  // 2049-03-22
  spec.not_after_s = 2'600'000'000;   // 2052-05-22
  auto pair = GenerateSelfSigned(spec);
  ASSERT_TRUE(pair.ok()) << pair.status().ToString();
  auto info = InspectCertificate(pair->cert_pem);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->not_before_s, spec.not_before_s);
  EXPECT_EQ(info->not_after_s, spec.not_after_s);
}

TEST(GenerateSelfSignedTest, RejectsBadSpecs) {
  CertificateSpec spec = BoardSpec();
  spec.not_after_s = spec.not_before_s;
  EXPECT_EQ(GenerateSelfSigned(spec).status().code(), StatusCode::kInvalidArgument);
  spec = BoardSpec();
  spec.common_name = "CN=evil,O=x";
  EXPECT_EQ(GenerateSelfSigned(spec).status().code(), StatusCode::kInvalidArgument);
  spec = BoardSpec();
  spec.dns_names.clear();
  spec.ip_addresses.clear();
  EXPECT_EQ(GenerateSelfSigned(spec).status().code(), StatusCode::kInvalidArgument);
  spec = BoardSpec();
  spec.not_after_s = 400'000'000'000;  // year ~14645
  EXPECT_EQ(GenerateSelfSigned(spec).status().code(), StatusCode::kInvalidArgument);
}

TEST(KeyPairTest, MatchesOnlyItsOwnCertificate) {
  auto a = GenerateSelfSigned(BoardSpec());
  auto b = GenerateSelfSigned(BoardSpec());
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(CheckKeyMatchesCertificate(a->key_pem, a->cert_pem).ok());
  Status mismatch = CheckKeyMatchesCertificate(b->key_pem, a->cert_pem);
  EXPECT_EQ(mismatch.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(mismatch.message(), HasSubstr("does not belong"));

  // A damaged key: the message names the problem, never the key's text.
  std::string damaged = a->key_pem;
  damaged[40] = damaged[40] == 'A' ? 'B' : 'A';
  damaged[41] = '!';
  Status bad = CheckKeyMatchesCertificate(damaged, a->cert_pem);
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.message(), Not(HasSubstr(a->key_pem.substr(31, 20))));
  EXPECT_EQ(CheckKeyMatchesCertificate(a->key_pem, "not a certificate").code(),
            StatusCode::kInvalidArgument);
}

TEST(InspectCertificateTest, RejectsGarbage) {
  EXPECT_EQ(InspectCertificate("").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(InspectCertificate("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(InspectCertificate(std::string("\x30\x03\x02\x01\x00", 5)).status().code(),
            StatusCode::kInvalidArgument);
  auto missing = InspectCertificateFile("/nonexistent/cert.pem");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("/nonexistent/cert.pem"));
}

}  // namespace
}  // namespace edgewatch::fw::tls
