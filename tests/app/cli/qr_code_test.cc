// QR helpers of `edgewatch pair` (app/cli/qr_code.h): the half-block rendering round-trips to the
// symbol, and the PNG is well formed (signature, IHDR, CRCs, zlib data) with the modules at the
// right pixels. Decoding with a real QR reader is tests/integration/pair_test.cc.
#include "qr_code.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <string>

namespace edgewatch::cli {
namespace {

constexpr char kUrl[] = "http://edge.local:8080/#token=eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl";

uint32_t U32(const std::string& s, size_t at) {
  return (static_cast<uint32_t>(static_cast<unsigned char>(s[at])) << 24) |
         (static_cast<uint32_t>(static_cast<unsigned char>(s[at + 1])) << 16) |
         (static_cast<uint32_t>(static_cast<unsigned char>(s[at + 2])) << 8) |
         static_cast<uint32_t>(static_cast<unsigned char>(s[at + 3]));
}

TEST(QrCodeTest, EncodesToAValidSymbolSize) {
  auto qr = EncodeQr(kUrl);
  ASSERT_TRUE(qr.ok()) << qr.status().ToString();
  EXPECT_GE(qr->size, 21);
  EXPECT_EQ((qr->size - 21) % 4, 0);
  ASSERT_EQ(qr->dark.size(), static_cast<size_t>(qr->size) * qr->size);
  // Finder pattern corners: the top-left 7x7 square has a dark border and a dark 3x3 centre.
  EXPECT_TRUE(qr->Dark(0, 0));
  EXPECT_TRUE(qr->Dark(6, 6));
  EXPECT_FALSE(qr->Dark(1, 1));
  EXPECT_TRUE(qr->Dark(3, 3));
  EXPECT_FALSE(qr->Dark(7, 7));  // separator
}

TEST(QrCodeTest, RejectsEmptyAndOversizedText) {
  EXPECT_EQ(EncodeQr("").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(EncodeQr(std::string(4000, 'x')).status().code(), StatusCode::kInvalidArgument);
}

TEST(QrCodeTest, HalfBlocksRoundTrip) {
  auto qr = EncodeQr(kUrl);
  ASSERT_TRUE(qr.ok());
  for (int quiet : {1, 2, 4}) {
    std::string text = RenderQrHalfBlocks(*qr, quiet, /*ansi=*/false);
    // Two module rows per line (rounded up).
    const int side = qr->size + 2 * quiet;
    int lines = 0;
    for (char c : text) lines += c == '\n';
    EXPECT_EQ(lines, (side + 1) / 2);
    auto back = ParseQrHalfBlocks(text, quiet);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(back->size, qr->size);
    EXPECT_EQ(back->dark, qr->dark) << "quiet " << quiet;
  }
}

TEST(QrCodeTest, AnsiRenderingColoursEveryLine) {
  auto qr = EncodeQr(kUrl);
  ASSERT_TRUE(qr.ok());
  std::string text = RenderQrHalfBlocks(*qr, 2, /*ansi=*/true);
  size_t lines = 0, starts = 0, resets = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    lines += text[i] == '\n';
    starts += text.compare(i, 8, "\x1b[40;97m") == 0;
    resets += text.compare(i, 5, "\x1b[0m\n") == 0;
  }
  EXPECT_EQ(starts, lines);
  EXPECT_EQ(resets, lines);
  EXPECT_FALSE(ParseQrHalfBlocks(text, 2).ok());  // escapes are not glyphs
}

TEST(QrCodeTest, PngIsWellFormedAndMatchesTheModules) {
  auto qr = EncodeQr(kUrl);
  ASSERT_TRUE(qr.ok());
  const int scale = 3, quiet = 4;
  auto png = EncodeQrPng(*qr, scale, quiet);
  ASSERT_TRUE(png.ok()) << png.status().ToString();
  const std::string& p = *png;
  ASSERT_EQ(p.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));

  // Walk the chunks, checking each CRC; collect IHDR and IDAT.
  std::string ihdr, idat;
  std::vector<std::string> types;
  size_t at = 8;
  while (at + 12 <= p.size()) {
    const uint32_t len = U32(p, at);
    ASSERT_LE(at + 12 + len, p.size());
    const std::string type = p.substr(at + 4, 4);
    const std::string data = p.substr(at + 8, len);
    uLong crc = crc32(0L, Z_NULL, 0);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(p.data() + at + 4), 4 + len);
    EXPECT_EQ(U32(p, at + 8 + len), static_cast<uint32_t>(crc)) << type;
    types.push_back(type);
    if (type == "IHDR") ihdr = data;
    if (type == "IDAT") idat += data;
    at += 12 + len;
  }
  EXPECT_EQ(at, p.size());
  ASSERT_EQ(types, (std::vector<std::string>{"IHDR", "IDAT", "IEND"}));
  ASSERT_EQ(ihdr.size(), 13u);
  const uint32_t side = static_cast<uint32_t>((qr->size + 2 * quiet) * scale);
  EXPECT_EQ(U32(ihdr, 0), side);
  EXPECT_EQ(U32(ihdr, 4), side);
  EXPECT_EQ(ihdr[8], 8);  // bit depth
  EXPECT_EQ(ihdr[9], 0);  // greyscale

  std::string raw(static_cast<size_t>(side) * (side + 1), '\0');
  uLongf raw_len = raw.size();
  ASSERT_EQ(uncompress(reinterpret_cast<Bytef*>(raw.data()), &raw_len,
                       reinterpret_cast<const Bytef*>(idat.data()), idat.size()),
            Z_OK);
  ASSERT_EQ(raw_len, raw.size());
  for (uint32_t py = 0; py < side; ++py) {
    ASSERT_EQ(raw[py * (side + 1)], 0) << "filter byte of row " << py;
    for (uint32_t px = 0; px < side; ++px) {
      const bool dark =
          qr->Dark(static_cast<int>(px) / scale - quiet, static_cast<int>(py) / scale - quiet);
      const unsigned char v = static_cast<unsigned char>(raw[py * (side + 1) + 1 + px]);
      ASSERT_EQ(v, dark ? 0 : 255) << px << "," << py;
    }
  }
}

TEST(QrCodeTest, PngRejectsBadGeometry) {
  auto qr = EncodeQr(kUrl);
  ASSERT_TRUE(qr.ok());
  EXPECT_FALSE(EncodeQrPng(*qr, 0, 4).ok());
  EXPECT_FALSE(EncodeQrPng(*qr, 1, -1).ok());
  EXPECT_FALSE(EncodeQrPng(*qr, 1000, 4).ok());
}

}  // namespace
}  // namespace edgewatch::cli
