// OpenChip: the one place that chooses a GPIO backend, from the board file's "gpio.backend".
//
// Link edgewatch::hal_backends for this function (it pulls in every backend compiled into this
// build). Call it once at start-up, from the composition root, on the event-loop thread.
#pragma once

#include <memory>

#include "edgewatch/base/status.h"
#include "edgewatch/hal/board.h"
#include "edgewatch/hal/chip.h"

namespace edgewatch::hal {

// Opens the board's chip and claims all its lines. "sim" -> SimChip; "gpiod" -> the libgpiod
// backend, or FailedPrecondition when this build has EDGEWATCH_WITH_GPIOD=OFF. Other errors are
// the backend's (NotFound for a missing chip, Unavailable for a busy line, PermissionDenied, ...).
Result<std::unique_ptr<GpioChip>> OpenChip(const BoardSpec& board);

}  // namespace edgewatch::hal
