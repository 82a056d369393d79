// FrameQueue: a FIFO of FrameRefs that costs nothing while empty.
//
// A growable ring (capacity doubles from 4, storage released when the queue drains and the
// capacity grew past 16) so an idle session holds no heap memory for its queue. Tracks the bytes
// of the frames it references (each counted in full). Loop thread only.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "edgewatch/fw/frame.h"

namespace edgewatch::fw {

class FrameQueue {
 public:
  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  size_t bytes() const { return bytes_; }
  size_t capacity() const { return slots_.size(); }

  void Push(FrameRef f);
  const FrameRef& Front() const { return slots_[head_]; }
  FrameRef Pop();
  // Removes every frame for which `drop(frame)` is true, keeping the others' order.
  template <typename Pred>
  void RemoveIf(Pred drop);
  void Clear();

 private:
  void Grow();

  std::vector<FrameRef> slots_;
  size_t head_ = 0;
  size_t size_ = 0;
  size_t bytes_ = 0;
};

template <typename Pred>
void FrameQueue::RemoveIf(Pred drop) {
  std::vector<FrameRef> kept;
  kept.reserve(size_);
  while (!empty()) {
    FrameRef f = Pop();
    if (!drop(f)) kept.push_back(std::move(f));
  }
  for (auto& f : kept) Push(std::move(f));
}

}  // namespace edgewatch::fw
