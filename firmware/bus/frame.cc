#include "edgewatch/fw/frame.h"

#include <atomic>

namespace edgewatch::fw {
namespace {
std::atomic<size_t> g_frame_bytes{0};
std::atomic<size_t> g_frames{0};
}  // namespace

Frame::Frame(std::string buffer) : buf(std::move(buffer)) {
  g_frame_bytes.fetch_add(AccountedBytes(), std::memory_order_relaxed);
  g_frames.fetch_add(1, std::memory_order_relaxed);
}

Frame::~Frame() {
  g_frame_bytes.fetch_sub(AccountedBytes(), std::memory_order_relaxed);
  g_frames.fetch_sub(1, std::memory_order_relaxed);
}

FrameRef MakeControlFrame(std::string_view json) {
  std::string buffer;
  buffer.reserve(LWS_PRE + json.size());
  buffer.append(LWS_PRE, '\0');
  buffer.append(json);
  return std::make_shared<const Frame>(std::move(buffer));
}

size_t FrameBytesLive() {
  return g_frame_bytes.load(std::memory_order_relaxed);
}
size_t FramesLive() {
  return g_frames.load(std::memory_order_relaxed);
}

}  // namespace edgewatch::fw
