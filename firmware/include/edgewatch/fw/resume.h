// Resume planning: what a (re)subscribing client must receive so that, per concrete topic, it
// sees every event exactly once and in order -- or is told precisely what it lost.
//
// Used by the WebSocket subscribe op and by HTTP long-poll. Pure: reads topic rings, no I/O.
// Loop thread only (topic rings are loop-owned).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "edgewatch/fw/bus.h"

namespace edgewatch::fw {

// Events of `topic` the client will not receive: seqs from..to inclusive in the current epoch
// (reason "ring_overflow": they fell off the topic's ring), or everything after `from - 1` in the
// client's previous epoch (reason "epoch_changed", to = nullopt: the gateway restarted).
struct Gap {
  std::string topic;
  uint64_t from = 0;
  std::optional<uint64_t> to;
  std::string reason;
};

struct ResumeRequest {
  std::string epoch;                      // the client's epoch; empty: none given
  std::map<std::string, uint64_t> since;  // last seq seen per concrete topic
  // True when the client asked to resume ("epoch" or "since" present); false: a plain subscribe,
  // which gets the latest event of each topic (the snapshot).
  bool resume() const { return !epoch.empty() || !since.empty(); }
};

struct ResumePlan {
  bool recovered = true;  // meaningful when resuming: every missed event is in `events`
  std::vector<Gap> gaps;
  // To send, oldest publish first (merged across topics by global publish order).
  std::vector<FrameRef> events;
};

// Plans delivery for `topics` (the concrete topics newly matched by the subscription):
//  - plain subscribe: the latest event of each topic;
//  - resume in the current epoch: for each topic the events after `since` (0 when the topic is
//    not in `since`: e.g. created after the disconnect), when the ring still holds all of them;
//    otherwise a ring_overflow gap up to the latest seq - 1, and the latest event;
//  - resume from another epoch: for each topic in `since` an epoch_changed gap, and the latest
//    event of every topic.
ResumePlan PlanResume(const std::vector<TopicState*>& topics, const ResumeRequest& request,
                      const std::string& current_epoch);

// {"type":"gap","topic":..,"from":..,"to":..|null,"reason":..}
std::string GapMessage(const Gap& gap);

}  // namespace edgewatch::fw
