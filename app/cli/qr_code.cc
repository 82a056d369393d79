#include "qr_code.h"

#include <qrencode.h>
#include <zlib.h>

#include <cerrno>
#include <memory>

namespace edgewatch::cli {

namespace {

constexpr std::string_view kUpper = "\u2580";  // ▀ upper half block
constexpr std::string_view kLower = "\u2584";  // ▄ lower half block
constexpr std::string_view kFull = "\u2588";   // █ full block

struct QrFree {
  void operator()(QRcode* q) const { QRcode_free(q); }
};

void PutU32(std::string* out, uint32_t v) {
  out->push_back(static_cast<char>(v >> 24));
  out->push_back(static_cast<char>(v >> 16));
  out->push_back(static_cast<char>(v >> 8));
  out->push_back(static_cast<char>(v));
}

// length, type, data, CRC-32 over type and data (PNG spec 5.3).
void PutChunk(std::string* out, std::string_view type, std::string_view data) {
  PutU32(out, static_cast<uint32_t>(data.size()));
  out->append(type);
  out->append(data);
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = crc32(crc, reinterpret_cast<const Bytef*>(type.data()), static_cast<uInt>(type.size()));
  crc = crc32(crc, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size()));
  PutU32(out, static_cast<uint32_t>(crc));
}

}  // namespace

Result<QrMatrix> EncodeQr(std::string_view text) {
  if (text.empty()) return InvalidArgument("nothing to encode");
  errno = 0;
  std::unique_ptr<QRcode, QrFree> code(
      QRcode_encodeData(static_cast<int>(text.size()),
                        reinterpret_cast<const unsigned char*>(text.data()), 0, QR_ECLEVEL_M));
  if (code == nullptr) {
    return InvalidArgument(errno == ERANGE ? "too long for a QR code"
                                           : "QR encoding failed: " + std::to_string(errno));
  }
  QrMatrix m;
  m.size = code->width;
  m.dark.resize(static_cast<size_t>(m.size) * m.size);
  for (size_t i = 0; i < m.dark.size(); ++i) m.dark[i] = code->data[i] & 1;
  return m;
}

std::string RenderQrHalfBlocks(const QrMatrix& qr, int quiet, bool ansi) {
  const int lo = -quiet;
  const int hi = qr.size + quiet;  // exclusive
  std::string out;
  for (int y = lo; y < hi; y += 2) {
    if (ansi) out += "\x1b[40;97m";
    for (int x = lo; x < hi; ++x) {
      const bool top_light = !qr.Dark(x, y);
      const bool bottom_light = y + 1 < hi && !qr.Dark(x, y + 1);
      if (top_light && bottom_light) {
        out += kFull;
      } else if (top_light) {
        out += kUpper;
      } else if (bottom_light) {
        out += kLower;
      } else {
        out += ' ';
      }
    }
    if (ansi) out += "\x1b[0m";
    out += '\n';
  }
  return out;
}

Result<QrMatrix> ParseQrHalfBlocks(std::string_view text, int quiet) {
  // Decode every line into rows of light(1)/dark(0) cells.
  std::vector<std::vector<uint8_t>> rows;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    std::vector<uint8_t> top, bottom;
    while (!line.empty()) {
      bool t = false, b = false;
      if (line[0] == ' ') {
        line.remove_prefix(1);
      } else if (line.substr(0, kFull.size()) == kFull) {
        t = b = true;
        line.remove_prefix(kFull.size());
      } else if (line.substr(0, kUpper.size()) == kUpper) {
        t = true;
        line.remove_prefix(kUpper.size());
      } else if (line.substr(0, kLower.size()) == kLower) {
        b = true;
        line.remove_prefix(kLower.size());
      } else {
        return InvalidArgument("not a half-block QR rendering");
      }
      top.push_back(t);
      bottom.push_back(b);
    }
    rows.push_back(std::move(top));
    rows.push_back(std::move(bottom));
  }
  if (rows.empty()) return InvalidArgument("empty QR rendering");
  const int width = static_cast<int>(rows[0].size());
  const int size = width - 2 * quiet;
  if (size < 21 || static_cast<int>(rows.size()) < width) {
    return InvalidArgument("QR rendering has the wrong shape");
  }
  QrMatrix m;
  m.size = size;
  m.dark.resize(static_cast<size_t>(size) * size);
  for (int y = 0; y < size; ++y) {
    const std::vector<uint8_t>& row = rows[y + quiet];
    if (static_cast<int>(row.size()) != width) return InvalidArgument("ragged QR rendering");
    for (int x = 0; x < size; ++x) m.dark[y * size + x] = row[x + quiet] ? 0 : 1;
  }
  return m;
}

Result<std::string> EncodeQrPng(const QrMatrix& qr, int scale, int quiet) {
  if (scale < 1 || quiet < 0 || (qr.size + 2 * quiet) * static_cast<int64_t>(scale) > 8192) {
    return InvalidArgument("PNG scale/quiet zone out of range");
  }
  const uint32_t side = static_cast<uint32_t>((qr.size + 2 * quiet) * scale);
  // Raw image: each row is a filter byte (0 = none) followed by one grey byte per pixel.
  std::string raw;
  raw.reserve(static_cast<size_t>(side) * (side + 1));
  for (uint32_t py = 0; py < side; ++py) {
    raw.push_back(0);
    const int y = static_cast<int>(py) / scale - quiet;
    for (uint32_t px = 0; px < side; ++px) {
      const int x = static_cast<int>(px) / scale - quiet;
      raw.push_back(qr.Dark(x, y) ? '\x00' : '\xff');
    }
  }
  uLongf packed_size = compressBound(static_cast<uLong>(raw.size()));
  std::string packed(packed_size, '\0');
  int rc = compress2(reinterpret_cast<Bytef*>(packed.data()), &packed_size,
                     reinterpret_cast<const Bytef*>(raw.data()), static_cast<uLong>(raw.size()),
                     Z_BEST_COMPRESSION);
  if (rc != Z_OK) return Internal("zlib compress2 failed: " + std::to_string(rc));
  packed.resize(packed_size);

  std::string ihdr;
  PutU32(&ihdr, side);  // width
  PutU32(&ihdr, side);  // height
  ihdr.push_back(8);    // bit depth
  ihdr.push_back(0);    // colour type: greyscale
  ihdr.push_back(0);    // compression: deflate
  ihdr.push_back(0);    // filter method 0
  ihdr.push_back(0);    // no interlace

  std::string png("\x89PNG\r\n\x1a\n", 8);
  PutChunk(&png, "IHDR", ihdr);
  PutChunk(&png, "IDAT", packed);
  PutChunk(&png, "IEND", "");
  return png;
}

}  // namespace edgewatch::cli
