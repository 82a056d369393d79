#include "edgewatch/hal/chip.h"

#include <utility>

#include "edgewatch/base/json_writer.h"

namespace edgewatch::hal {

GpioChip::GpioChip(BoardSpec board) : board_(std::move(board)) {}

GpioChip::~GpioChip() = default;

Result<DigitalOut*> GpioChip::Output(std::string_view role) {
  if (auto it = outputs_.find(role); it != outputs_.end()) return it->second.get();
  std::string r(role);
  if (inputs_.count(role) != 0) {
    return FailedPrecondition("role '" + r + "' on board '" + board_.name +
                              "' is an input, not an output");
  }
  return NotFound("board '" + board_.name + "' has no line with role '" + r + "'");
}

Result<DigitalIn*> GpioChip::Input(std::string_view role) {
  if (auto it = inputs_.find(role); it != inputs_.end()) return it->second.get();
  std::string r(role);
  if (outputs_.count(role) != 0) {
    return FailedPrecondition("role '" + r + "' on board '" + board_.name +
                              "' is an output, not an input");
  }
  return NotFound("board '" + board_.name + "' has no line with role '" + r + "'");
}

void GpioChip::AddOutput(const std::string& role, std::unique_ptr<DigitalOut> line) {
  outputs_[role] = std::move(line);
}

void GpioChip::AddInput(const std::string& role, std::unique_ptr<DigitalIn> line) {
  inputs_[role] = std::move(line);
}

std::string GpioChip::DoStateJson() {
  JsonWriter w;
  w.BeginObject();
  w.Key("board").String(board_.name);
  w.Key("backend").String(GpioBackendName(board_.backend));
  w.Key("chip").String(board_.chip);
  w.Key("lines").BeginObject();
  for (const auto& [role, spec] : board_.lines) {
    w.Key(role).BeginObject();
    w.Key("direction").String(DirectionName(spec.direction));
    w.Key("offset").Uint(spec.offset);
    w.Key("active_low").Bool(spec.active_low);
    w.Key("level");
    if (auto out = outputs_.find(role); out != outputs_.end()) {
      w.String(LevelName(out->second->level()));
    } else if (auto in = inputs_.find(role); in != inputs_.end()) {
      Result<Level> level = in->second->Get();
      if (level.ok()) {
        w.String(LevelName(*level));
      } else {
        w.Null();
      }
    } else {
      w.Null();
    }
    w.EndObject();
  }
  w.EndObject();
  w.EndObject();
  return w.Take();
}

}  // namespace edgewatch::hal
