// The libgpiod 1.6 backend ("gpio": {"backend": "gpiod"}), over the C API. Link
// edgewatch::hal_gpiod (only built with EDGEWATCH_WITH_GPIOD=ON). Applications call OpenChip()
// (open_chip.h) instead; this header is for that dispatcher and for tests.
#pragma once

#include <memory>

#include "edgewatch/base/status.h"
#include "edgewatch/hal/board.h"
#include "edgewatch/hal/chip.h"

namespace edgewatch::hal {

// Finds the chip by label, then by name ("gpiochip0"), or opens it by path when "chip" starts
// with '/'; requests every line of the board once with consumer "edgewatch" (outputs driven
// inactive; active-low, bias and edge flags from the board) and holds them until the chip is
// destroyed. Errors name the board, role, chip and offset: NotFound (no such chip; the message
// lists the chips present), OutOfRange (offset beyond the chip), Unavailable (line busy; the
// message names its consumer), PermissionDenied (access to /dev/gpiochipN).
Result<std::unique_ptr<GpioChip>> OpenGpiodChip(const BoardSpec& board);

}  // namespace edgewatch::hal
