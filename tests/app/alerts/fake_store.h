// A store for engine tests: writes wait in `pending` until the test commits them, so a test can
// observe what happens before and after "stored".
#pragma once

#include <utility>
#include <vector>

#include "edgewatch/app/store/alert_store.h"

namespace edgewatch::app::alerts::testing {

class FakeStore final : public store::AlertStore {
 public:
  Status Write(store::StoreWrite write, Done done) override {
    if (refuse) return ResourceExhausted("queue full (test)");
    pending.emplace_back(std::move(write), std::move(done));
    return OkStatus();
  }
  // Completes every pending write with `status`, in order (completions may queue more writes;
  // those stay pending).
  void CommitAll(Status status = OkStatus()) {
    auto batch = std::move(pending);
    pending.clear();
    for (auto& [w, done] : batch) {
      if (status.ok()) committed.push_back(w);
      done(status);
    }
  }

  bool refuse = false;
  std::vector<std::pair<store::StoreWrite, Done>> pending;
  std::vector<store::StoreWrite> committed;
};

}  // namespace edgewatch::app::alerts::testing
