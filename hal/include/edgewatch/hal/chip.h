// GpioChip: hands out the board's lines by role.
//
// A chip is opened from a BoardSpec (OpenChip() in open_chip.h chooses the backend). Opening
// claims every line of the board at once and holds them for the chip's life: a GPIO line reverts
// to its default when the last descriptor holding it closes, so lines are never requested on
// demand. Output()/Input() only look up what was claimed.
//
// Threading: the event-loop thread only. Ownership: the chip owns its lines; the pointers it
// returns stay valid until the chip is destroyed.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "edgewatch/base/status.h"
#include "edgewatch/hal/board.h"
#include "edgewatch/hal/digital.h"

namespace edgewatch::hal {

class GpioChip {
 public:
  virtual ~GpioChip();
  GpioChip(const GpioChip&) = delete;
  GpioChip& operator=(const GpioChip&) = delete;

  // The output line for `role`. NotFound when the board has no such role; FailedPrecondition when
  // the role is an input.
  Result<DigitalOut*> Output(std::string_view role);
  // The input line for `role`. NotFound when the board has no such role; FailedPrecondition when
  // the role is an output.
  Result<DigitalIn*> Input(std::string_view role);

  const BoardSpec& board() const { return board_; }

  // A JSON object describing the chip and every line, for `GET /api/v1/hal` and `edgewatch gpio`:
  // {"board":..., "backend":..., "chip":..., "lines":{"<role>":{"direction":..., "offset":...,
  // "active_low":..., "level":"active"|"inactive"|null, ...}}}. Backends may add fields.
  std::string StateJson() { return DoStateJson(); }

 protected:
  explicit GpioChip(BoardSpec board);

  // Called by backends while opening, once per role of the board.
  void AddOutput(const std::string& role, std::unique_ptr<DigitalOut> line);
  void AddInput(const std::string& role, std::unique_ptr<DigitalIn> line);

  const std::map<std::string, std::unique_ptr<DigitalOut>, std::less<>>& outputs() const {
    return outputs_;
  }
  const std::map<std::string, std::unique_ptr<DigitalIn>, std::less<>>& inputs() const {
    return inputs_;
  }

 private:
  // Default: the fields listed at StateJson(); inputs' levels are read with Get().
  virtual std::string DoStateJson();

  BoardSpec board_;
  std::map<std::string, std::unique_ptr<DigitalOut>, std::less<>> outputs_;
  std::map<std::string, std::unique_ptr<DigitalIn>, std::less<>> inputs_;
};

}  // namespace edgewatch::hal
