#include "edgewatch/fw/frame_queue.h"

namespace edgewatch::fw {

// The capacity is always a power of two (4, 8, 16, ...): positions wrap with a mask, not a
// division (this is on the path of every delivery).
void FrameQueue::Grow() {
  size_t cap = slots_.empty() ? 4 : slots_.size() * 2;
  std::vector<FrameRef> next(cap);
  const size_t mask = slots_.size() - 1;
  for (size_t i = 0; i < size_; ++i) next[i] = std::move(slots_[(head_ + i) & mask]);
  slots_.swap(next);
  head_ = 0;
}

void FrameQueue::Push(FrameRef f) {
  if (size_ == slots_.size()) Grow();
  bytes_ += f->AccountedBytes();
  slots_[(head_ + size_) & (slots_.size() - 1)] = std::move(f);
  ++size_;
}

FrameRef FrameQueue::Pop() {
  FrameRef f = std::move(slots_[head_]);
  head_ = (head_ + 1) & (slots_.size() - 1);
  --size_;
  bytes_ -= f->AccountedBytes();
  if (size_ == 0) {
    head_ = 0;
    if (slots_.size() > 16) std::vector<FrameRef>().swap(slots_);
  }
  return f;
}

void FrameQueue::Clear() {
  while (!empty()) Pop();
}

}  // namespace edgewatch::fw
