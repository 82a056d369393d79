// libFuzzer target for the board file parser (edgewatch::hal::ParseBoard).
//
// The whole input is a board file. Beyond "no crash, no sanitizer report", it traps when an
// invariant breaks: a refusal is InvalidArgument with a non-empty, valid UTF-8 message (it is
// logged and may be shown to the user); an accepted board has a 1-64 byte name, non-empty model
// strings, unique line offsets, non-negative debounce times and a chip name when it uses gpiod.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string_view>

#include "edgewatch/base/json.h"
#include "edgewatch/hal/board.h"

namespace {

namespace hal = edgewatch::hal;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  edgewatch::Result<hal::BoardSpec> board = hal::ParseBoard(text);
  if (!board.ok()) {
    Check(board.status().code() == edgewatch::StatusCode::kInvalidArgument);
    Check(!board.status().message().empty());
    Check(edgewatch::IsValidUtf8(board.status().message()));
    return 0;
  }
  Check(!board->name.empty() && board->name.size() <= 64);
  for (const auto& m : board->models) Check(!m.empty());
  if (board->backend == hal::GpioBackend::kGpiod) Check(!board->chip.empty());
  std::set<unsigned> offsets;
  for (const auto& [role, line] : board->lines) {
    Check(!role.empty());
    Check(offsets.insert(line.offset).second);
    Check(line.debounce_ms >= 0);
  }
  return 0;
}
