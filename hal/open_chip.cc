// The one dispatch point from a board file's "gpio.backend" to a backend.
#include "edgewatch/hal/open_chip.h"

#include <utility>

#include "edgewatch/hal/sim_chip.h"
#if EDGEWATCH_HAVE_GPIOD
#include "edgewatch/hal/gpiod_chip.h"
#endif

namespace edgewatch::hal {

Result<std::unique_ptr<GpioChip>> OpenChip(const BoardSpec& board) {
  switch (board.backend) {
    case GpioBackend::kSim: {
      EW_ASSIGN_OR_RETURN(std::unique_ptr<SimChip> chip, SimChip::Open(board));
      return std::unique_ptr<GpioChip>(std::move(chip));
    }
    case GpioBackend::kGpiod:
#if EDGEWATCH_HAVE_GPIOD
      return OpenGpiodChip(board);
#else
      return FailedPrecondition("board '" + board.name +
                                "' uses the gpiod backend, but this build has "
                                "EDGEWATCH_WITH_GPIOD=OFF");
#endif
  }
  return Internal("unknown gpio backend");
}

}  // namespace edgewatch::hal
