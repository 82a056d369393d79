// QR codes for `edgewatch pair`: encoding (libqrencode), terminal rendering with Unicode half
// blocks, and PNG export (zlib; no libpng). Pure functions; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "edgewatch/base/status.h"

namespace edgewatch::cli {

// A square QR symbol without its quiet zone: dark(x, y) is true for a dark module.
struct QrMatrix {
  int size = 0;               // modules per side (21 for version 1, +4 per version)
  std::vector<uint8_t> dark;  // size * size, row-major, 1 = dark
  bool Dark(int x, int y) const {
    return x >= 0 && y >= 0 && x < size && y < size && dark[y * size + x] != 0;
  }
};

// Encodes `text` as 8-bit bytes with error correction level M (recovers ~15 %), the smallest
// version that fits. InvalidArgument when it is empty or too long for a QR code.
Result<QrMatrix> EncodeQr(std::string_view text);

// Renders `qr` with a `quiet`-module light border, two module rows per text line: each cell is
// ' ', '▀', '▄' or '█' where the glyph's ink marks the LIGHT modules (ink is light on a dark
// terminal). With `ansi`, every line sets bright white ink on a black background and resets at
// its end, so the code scans on light-themed terminals too. Lines end with '\n'.
std::string RenderQrHalfBlocks(const QrMatrix& qr, int quiet, bool ansi);

// Inverse of RenderQrHalfBlocks(ansi = false) for tests: reads the glyph lines back into a
// matrix of `size` modules after skipping `quiet` modules of border. InvalidArgument when the
// text is not such a rendering.
Result<QrMatrix> ParseQrHalfBlocks(std::string_view text, int quiet);

// An 8-bit greyscale PNG of `qr`: each module `scale` × `scale` pixels, a `quiet`-module white
// border, dark = 0, light = 255. Chunks IHDR, IDAT (zlib), IEND, each with its CRC-32.
// InvalidArgument when scale < 1, quiet < 0 or the image would exceed 8192 pixels per side;
// Internal when zlib fails.
Result<std::string> EncodeQrPng(const QrMatrix& qr, int scale, int quiet);

}  // namespace edgewatch::cli
