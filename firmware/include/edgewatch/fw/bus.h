// Bus: topics, their rings of recent events, subscriptions and fan-out.
//
// Loop thread only (no locking). Topics are created on first publish and live for the process
// (bounded by BusLimits::max_topics). Each topic has its own seq, starting at 1 and increasing by
// one per published event; each keeps its last `history_len` events (bounded in bytes too) in a
// ring shared by every session.
//
// Subscriptions are indexed by pattern: publishing to a topic walks only that topic's subscriber
// list, which is maintained when a subscriber adds/removes a pattern and when a topic is created.
// A subscriber matched by several of its patterns is listed (and receives the event) once.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "edgewatch/base/status.h"
#include "edgewatch/fw/frame.h"

namespace edgewatch::fw {

// Receives events for the topics it is subscribed to.
class Subscriber {
 public:
  // Called on the loop thread for each event published on a matching topic. Must not call back
  // into the Bus's subscription methods (defer closes and unsubscribes).
  virtual void OnEvent(const FrameRef& event) = 0;

 protected:
  ~Subscriber() = default;
};

struct BusLimits {
  size_t max_topics = 1024;
  size_t history_len = 100;            // events kept per topic
  size_t ring_max_bytes = 512 * 1024;  // per topic; the latest event is always kept
  size_t max_patterns_per_subscriber = 64;
};

class TopicState {
 public:
  const std::string& name() const { return name_; }
  uint64_t last_seq() const { return seq_; }
  // Time (unix ms) of the last published event; 0 before the first.
  int64_t last_ts_ms() const { return latest_ ? latest_->ts_ms : 0; }
  // The last published event, or null.
  const FrameRef& latest() const { return latest_; }
  // The latest value including suppressed updates (serialised JSON object); empty before any.
  const std::string& latest_data() const { return latest_data_; }
  // The events in the ring, oldest first.
  const std::deque<FrameRef>& ring() const { return ring_; }
  size_t ring_bytes() const { return ring_bytes_; }
  // Lowest seq still in the ring (0 when empty).
  uint64_t first_seq() const { return ring_.empty() ? 0 : ring_.front()->seq; }
  // Appends the events with seq > `since` to `out`, oldest first. Returns false (and appends
  // what it has) when the ring no longer holds every such event.
  bool CollectSince(uint64_t since, std::vector<FrameRef>* out) const;
  size_t subscriber_count() const { return subs_.size(); }
  // Monotonic time (µs) of the last publish; 0 before the first.
  int64_t last_publish_mono_us() const { return last_publish_mono_us_; }

 private:
  friend class Bus;
  struct SubEntry {
    Subscriber* sub;
    uint32_t patterns;  // how many of the subscriber's patterns match this topic
  };

  std::string name_;
  uint64_t seq_ = 0;
  FrameRef latest_;
  std::deque<FrameRef> ring_;
  size_t ring_bytes_ = 0;
  std::string latest_data_;
  int64_t latest_data_ts_ms_ = 0;
  int64_t last_publish_mono_us_ = 0;
  std::vector<SubEntry> subs_;
  std::unordered_map<Subscriber*, size_t> sub_index_;  // sub -> position in subs_
};

class Bus {
 public:
  explicit Bus(BusLimits limits = {});
  Bus(const Bus&) = delete;
  Bus& operator=(const Bus&) = delete;

  const BusLimits& limits() const { return limits_; }

  // Publishes `data_json` (a serialised JSON object, trusted to be valid) on the concrete
  // `topic` with event time `ts_ms`: assigns the next seq, stores it in the ring and delivers it
  // to every matching subscriber. Returns the shared frame, InvalidArgument for a bad topic
  // name, or ResourceExhausted when the topic is new and max_topics is reached.
  Result<FrameRef> Publish(std::string_view topic, std::string_view data_json, int64_t ts_ms);

  // Records a suppressed update: it becomes the topic's latest value without being fanned out.
  Status SetLatest(std::string_view topic, std::string_view data_json, int64_t ts_ms);

  // Topics whose last publish is at least `interval_us` old (monotonic) and that have a value.
  std::vector<TopicState*> DueForRefresh(int64_t now_mono_us, int64_t interval_us);

  TopicState* Find(std::string_view topic);
  const std::vector<std::unique_ptr<TopicState>>& topics() const { return topics_; }

  // Adds `pattern` (validated here) for `sub`. Returns the topics that this call newly matched
  // for the subscriber (it was not already receiving them through another pattern), oldest
  // topic first; empty when the subscriber already had this exact pattern. InvalidArgument for
  // a bad pattern, ResourceExhausted past max_patterns_per_subscriber.
  Result<std::vector<TopicState*>> Subscribe(Subscriber* sub, std::string_view pattern);
  // Removes `pattern` for `sub`; NotFound when it was not subscribed.
  Status Unsubscribe(Subscriber* sub, std::string_view pattern);
  // Removes every subscription of `sub` (call before destroying it).
  void RemoveSubscriber(Subscriber* sub);
  // The subscriber's patterns, in subscription order.
  const std::vector<std::string>* PatternsOf(Subscriber* sub) const;

  uint64_t events_published() const { return gseq_; }
  uint64_t deliveries() const { return deliveries_; }

 private:
  Result<TopicState*> GetOrCreate(std::string_view topic);
  static void AddSub(TopicState& t, Subscriber* sub, bool* newly);
  static void DropSub(TopicState& t, Subscriber* sub);
  void PushRing(TopicState& t, const FrameRef& f);

  BusLimits limits_;
  std::vector<std::unique_ptr<TopicState>> topics_;
  std::unordered_map<std::string_view, TopicState*> by_name_;  // keys point into TopicState
  // pattern -> subscribers holding it
  std::unordered_map<std::string, std::vector<Subscriber*>> patterns_;
  std::unordered_map<Subscriber*, std::vector<std::string>> sub_patterns_;
  uint64_t gseq_ = 0;
  uint64_t deliveries_ = 0;
};

// Serialises an event frame: {"type":"event","topic":T,"seq":N,"ts":N,"data":DATA}.
FrameRef MakeEventFrame(const TopicState* topic, uint64_t seq, uint64_t gseq, int64_t ts_ms,
                        std::string_view data_json);

}  // namespace edgewatch::fw
