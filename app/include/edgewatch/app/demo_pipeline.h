// DemoPipeline: a deterministic generator of ingest lines for two synthetic cameras and one
// training run (`edgewatchd --demo`, `make demo`).
//
// What it produces (all through the public schemas of schema.h; see app/demo/README.md):
//   pipeline/cam1/frame, pipeline/cam2/frame  one PipelineFrameUpdate per frame: cam1 at ~30 FPS,
//                                            cam2 at ~15 FPS (half rate while degraded);
//   pipeline/<cam>/analytics                 every second: people_count wandering with a trend
//                                            ("up" | "down" | "stable"), line crossings (new and
//                                            total), occasional zone intrusions, active_zones;
//   pipeline/<cam>/status                    on each change: "starting" at time zero, "running"
//                                            shortly after, occasionally "degraded" and back,
//                                            rarely "error" (no frames) and back;
//   pipeline/<cam>/error                     on entering "degraded" or "error", and occasional
//                                            stand-alone warnings (severity "low" | "medium" |
//                                            "high");
//   training/demo-run/metrics                every 2 s: epoch, step, loss (decreasing, noisy),
//                                            map50 (rising), map50_95, lr.
// No degraded/error episode starts in the first 12 s, so short tests see steady rates.
//
// Each line is `{"topic":"...","data":{...},"ts":<unix ms>}\n` (the ingest format). Output
// depends only on the seed, the start time and the times passed to Advance()/SkipTo(): how the
// time range is split between calls does not change it.
//
// Not thread-safe: one owner (DemoProducer's thread, or a test).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace edgewatch::app {

class DemoPipeline {
 public:
  // `start_ms`: the unix ms of the demo's time zero (the first status events are due then).
  explicit DemoPipeline(int64_t start_ms, uint64_t seed = 1);
  ~DemoPipeline();
  DemoPipeline(const DemoPipeline&) = delete;
  DemoPipeline& operator=(const DemoPipeline&) = delete;

  // Returns the lines (each ending in '\n') of every event due in (previous now, `now_ms`], in
  // time order (ties in a fixed source order). A `now_ms` earlier than the current time returns
  // nothing.
  std::vector<std::string> Advance(int64_t now_ms);

  // Moves to `now_ms` without producing lines (events due meanwhile are dropped; frame ids and
  // counters keep counting). Gaps over a minute are jumped over at once, so a producer that was
  // disconnected for hours does not replay them.
  void SkipTo(int64_t now_ms);

  // The current status event of each camera, stamped now_ms() (for a producer that reconnects
  // after SkipTo() and must re-announce state). Empty before the first Advance()/SkipTo().
  std::vector<std::string> StatusSnapshot() const;

  int64_t start_ms() const;
  // The time up to which events have been generated (start_ms - 1 before the first call).
  int64_t now_ms() const;
  // The due time of the next event (> now_ms()).
  int64_t NextDueMs() const;

  // Operator commands (docs/protocol.md, "Commands") for camera `pipeline_id` ("cam1", "cam2"),
  // applied at now_ms(): "restart" (status starting, counters reset, running after the start-up
  // delay), "pause" (status paused, no frames or analytics), "resume" (running again) and
  // "set_threshold" with `threshold` in [0, 1] (detections per frame scale with
  // (1 - threshold) / 0.5; the default 0.5 keeps them as generated). `lines` are the events the
  // command caused (status changes), to be sent before the result.
  struct CommandOutcome {
    bool ok = false;
    std::string message;
    std::vector<std::string> lines;
  };
  static constexpr const char* kCommands[] = {"restart", "pause", "resume", "set_threshold"};
  CommandOutcome Command(std::string_view pipeline_id, std::string_view name,
                         std::optional<double> threshold);

  struct State;  // private; defined in demo_pipeline.cc

 private:
  void Run(int64_t now_ms, std::vector<std::string>* out);

  std::unique_ptr<State> state_;
};

}  // namespace edgewatch::app
