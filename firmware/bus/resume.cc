#include "edgewatch/fw/resume.h"

#include <algorithm>

#include "edgewatch/base/json_writer.h"

namespace edgewatch::fw {

ResumePlan PlanResume(const std::vector<TopicState*>& topics, const ResumeRequest& request,
                      const std::string& current_epoch) {
  ResumePlan plan;
  const bool resume = request.resume();
  const bool same_epoch = resume && (request.epoch.empty() || request.epoch == current_epoch);
  if (resume && !same_epoch) plan.recovered = false;
  for (TopicState* t : topics) {
    auto it = request.since.find(t->name());
    if (!resume || !same_epoch) {
      if (resume && it != request.since.end()) {
        plan.gaps.push_back({t->name(), it->second + 1, std::nullopt, "epoch_changed"});
      }
      if (t->latest()) plan.events.push_back(t->latest());
      continue;
    }
    uint64_t since = it == request.since.end() ? 0 : it->second;
    if (since >= t->last_seq()) continue;  // up to date
    std::vector<FrameRef> missed;
    if (t->CollectSince(since, &missed)) {
      plan.events.insert(plan.events.end(), missed.begin(), missed.end());
      continue;
    }
    plan.recovered = false;
    uint64_t latest = t->last_seq();
    if (latest > since + 1)
      plan.gaps.push_back({t->name(), since + 1, latest - 1, "ring_overflow"});
    if (t->latest()) plan.events.push_back(t->latest());
  }
  std::stable_sort(plan.events.begin(), plan.events.end(),
                   [](const FrameRef& a, const FrameRef& b) { return a->gseq < b->gseq; });
  return plan;
}

std::string GapMessage(const Gap& gap) {
  JsonWriter w;
  w.BeginObject().Key("type").String("gap").Key("topic").String(gap.topic);
  w.Key("from").Uint(gap.from).Key("to");
  if (gap.to) {
    w.Uint(*gap.to);
  } else {
    w.Null();
  }
  w.Key("reason").String(gap.reason).EndObject();
  return w.Take();
}

}  // namespace edgewatch::fw
