// Frame: one serialised server->client message, shared by every reader.
//
// An event is serialised exactly once, into a buffer that starts with LWS_PRE bytes of headroom
// so lws_write() can prepend the WebSocket header in place. The topic ring and every session
// queue that still has to send it hold a FrameRef to the same Frame. Control frames (welcome,
// error, subscribed ...) use the same type with no topic.
//
// Frames are created and destroyed on the loop thread. Their bytes are accounted once globally
// (FrameBytesLive()).
#pragma once

#include <libwebsockets.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace edgewatch::fw {

class TopicState;

struct Frame {
  explicit Frame(std::string buffer);
  ~Frame();
  Frame(const Frame&) = delete;
  Frame& operator=(const Frame&) = delete;

  // LWS_PRE bytes of headroom, then the payload.
  std::string buf;
  // For event frames: the topic (owned by the Bus, lives for the process), its per-topic seq, the
  // global publish order and the event time. topic == nullptr for control frames.
  const TopicState* topic = nullptr;
  uint64_t seq = 0;
  uint64_t gseq = 0;
  int64_t ts_ms = 0;
  // The event's `data` object within the payload.
  uint32_t data_offset = 0;
  uint32_t data_len = 0;

  std::string_view payload() const { return std::string_view(buf).substr(LWS_PRE); }
  std::string_view data() const { return payload().substr(data_offset, data_len); }
  // What this frame costs in memory (header + buffer).
  size_t AccountedBytes() const { return sizeof(Frame) + buf.capacity(); }
};

using FrameRef = std::shared_ptr<const Frame>;

// Wraps an already-serialised JSON payload as a control frame (copies it after LWS_PRE).
FrameRef MakeControlFrame(std::string_view json);

// Bytes held by all live frames, each counted once. Any thread.
size_t FrameBytesLive();
size_t FramesLive();

}  // namespace edgewatch::fw
