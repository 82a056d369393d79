#include "edgewatch/fw/bus.h"

#include <algorithm>

#include "edgewatch/base/clock.h"
#include "edgewatch/base/json_writer.h"
#include "edgewatch/fw/topic.h"

namespace edgewatch::fw {

FrameRef MakeEventFrame(const TopicState* topic, uint64_t seq, uint64_t gseq, int64_t ts_ms,
                        std::string_view data_json) {
  std::string buf;
  buf.reserve(LWS_PRE + 64 + topic->name().size() + data_json.size());
  buf.append(LWS_PRE, '\0');
  buf += "{\"type\":\"event\",\"topic\":";
  JsonWriter::AppendEscaped(buf, topic->name());
  buf += ",\"seq\":";
  buf += std::to_string(seq);
  buf += ",\"ts\":";
  buf += std::to_string(ts_ms);
  buf += ",\"data\":";
  size_t data_offset = buf.size() - LWS_PRE;
  buf += data_json;
  buf += '}';
  buf.shrink_to_fit();
  auto frame = std::make_shared<Frame>(std::move(buf));
  frame->topic = topic;
  frame->seq = seq;
  frame->gseq = gseq;
  frame->ts_ms = ts_ms;
  frame->data_offset = static_cast<uint32_t>(data_offset);
  frame->data_len = static_cast<uint32_t>(data_json.size());
  return frame;
}

bool TopicState::CollectSince(uint64_t since, std::vector<FrameRef>* out) const {
  if (since >= seq_) return true;  // nothing newer
  bool complete = !ring_.empty() && ring_.front()->seq <= since + 1;
  for (const FrameRef& f : ring_) {
    if (f->seq > since) out->push_back(f);
  }
  return complete;
}

Bus::Bus(BusLimits limits) : limits_(limits) {}

TopicState* Bus::Find(std::string_view topic) {
  auto it = by_name_.find(topic);
  return it == by_name_.end() ? nullptr : it->second;
}

Result<TopicState*> Bus::GetOrCreate(std::string_view topic) {
  if (TopicState* t = Find(topic)) return t;
  EW_TRY(ValidateTopicName(topic));
  if (topics_.size() >= limits_.max_topics) {
    return ResourceExhausted("too many topics (max " + std::to_string(limits_.max_topics) + ")");
  }
  auto t = std::make_unique<TopicState>();
  t->name_ = std::string(topic);
  TopicState* raw = t.get();
  topics_.push_back(std::move(t));
  by_name_.emplace(std::string_view(raw->name_), raw);
  // Existing subscriptions whose pattern matches the new topic start receiving it.
  for (auto& [pattern, subs] : patterns_) {
    if (!TopicMatches(pattern, raw->name_)) continue;
    for (Subscriber* s : subs) {
      bool newly = false;
      AddSub(*raw, s, &newly);
    }
  }
  return raw;
}

void Bus::PushRing(TopicState& t, const FrameRef& f) {
  t.ring_.push_back(f);
  t.ring_bytes_ += f->AccountedBytes();
  while (t.ring_.size() > 1 &&
         (t.ring_.size() > limits_.history_len || t.ring_bytes_ > limits_.ring_max_bytes)) {
    t.ring_bytes_ -= t.ring_.front()->AccountedBytes();
    t.ring_.pop_front();
  }
}

Result<FrameRef> Bus::Publish(std::string_view topic, std::string_view data_json, int64_t ts_ms) {
  EW_ASSIGN_OR_RETURN(TopicState * t, GetOrCreate(topic));
  FrameRef frame = MakeEventFrame(t, t->seq_ + 1, gseq_ + 1, ts_ms, data_json);
  ++t->seq_;
  ++gseq_;
  t->latest_ = frame;
  t->latest_data_.assign(data_json);
  t->latest_data_ts_ms_ = ts_ms;
  t->last_publish_mono_us_ = MonotonicMicros();
  PushRing(*t, frame);
  for (const auto& entry : t->subs_) entry.sub->OnEvent(frame);
  deliveries_ += t->subs_.size();
  return frame;
}

Status Bus::SetLatest(std::string_view topic, std::string_view data_json, int64_t ts_ms) {
  EW_ASSIGN_OR_RETURN(TopicState * t, GetOrCreate(topic));
  t->latest_data_.assign(data_json);
  t->latest_data_ts_ms_ = ts_ms;
  return OkStatus();
}

std::vector<TopicState*> Bus::DueForRefresh(int64_t now_mono_us, int64_t interval_us) {
  std::vector<TopicState*> due;
  for (auto& t : topics_) {
    if (t->latest_data_.empty() || t->seq_ == 0) continue;
    if (now_mono_us - t->last_publish_mono_us_ >= interval_us) due.push_back(t.get());
  }
  return due;
}

void Bus::AddSub(TopicState& t, Subscriber* sub, bool* newly) {
  auto it = t.sub_index_.find(sub);
  if (it != t.sub_index_.end()) {
    ++t.subs_[it->second].patterns;
    *newly = false;
    return;
  }
  t.sub_index_.emplace(sub, t.subs_.size());
  t.subs_.push_back({sub, 1});
  *newly = true;
}

void Bus::DropSub(TopicState& t, Subscriber* sub) {
  auto it = t.sub_index_.find(sub);
  if (it == t.sub_index_.end()) return;
  size_t pos = it->second;
  if (--t.subs_[pos].patterns > 0) return;
  t.sub_index_.erase(it);
  size_t last = t.subs_.size() - 1;
  if (pos != last) {
    t.subs_[pos] = t.subs_[last];
    t.sub_index_[t.subs_[pos].sub] = pos;
  }
  t.subs_.pop_back();
}

Result<std::vector<TopicState*>> Bus::Subscribe(Subscriber* sub, std::string_view pattern) {
  EW_TRY(ValidatePattern(pattern));
  std::vector<std::string>& mine = sub_patterns_[sub];
  if (std::find(mine.begin(), mine.end(), pattern) != mine.end()) {
    return std::vector<TopicState*>{};
  }
  if (mine.size() >= limits_.max_patterns_per_subscriber) {
    if (mine.empty()) sub_patterns_.erase(sub);
    return ResourceExhausted("too many subscriptions (max " +
                             std::to_string(limits_.max_patterns_per_subscriber) + ")");
  }
  mine.emplace_back(pattern);
  patterns_[std::string(pattern)].push_back(sub);
  std::vector<TopicState*> newly_matched;
  for (auto& t : topics_) {
    if (!TopicMatches(pattern, t->name_)) continue;
    bool newly = false;
    AddSub(*t, sub, &newly);
    if (newly) newly_matched.push_back(t.get());
  }
  return newly_matched;
}

Status Bus::Unsubscribe(Subscriber* sub, std::string_view pattern) {
  auto sp = sub_patterns_.find(sub);
  if (sp == sub_patterns_.end()) return NotFound("not subscribed to " + std::string(pattern));
  auto& mine = sp->second;
  auto it = std::find(mine.begin(), mine.end(), pattern);
  if (it == mine.end()) return NotFound("not subscribed to " + std::string(pattern));
  mine.erase(it);
  if (mine.empty()) sub_patterns_.erase(sp);
  auto pe = patterns_.find(std::string(pattern));
  if (pe != patterns_.end()) {
    auto& subs = pe->second;
    subs.erase(std::remove(subs.begin(), subs.end(), sub), subs.end());
    if (subs.empty()) patterns_.erase(pe);
  }
  for (auto& t : topics_) {
    if (TopicMatches(pattern, t->name_)) DropSub(*t, sub);
  }
  return OkStatus();
}

void Bus::RemoveSubscriber(Subscriber* sub) {
  auto sp = sub_patterns_.find(sub);
  if (sp == sub_patterns_.end()) return;
  std::vector<std::string> mine = std::move(sp->second);
  sub_patterns_.erase(sp);
  for (const std::string& pattern : mine) {
    auto pe = patterns_.find(pattern);
    if (pe != patterns_.end()) {
      auto& subs = pe->second;
      subs.erase(std::remove(subs.begin(), subs.end(), sub), subs.end());
      if (subs.empty()) patterns_.erase(pe);
    }
  }
  for (auto& t : topics_) {
    auto it = t->sub_index_.find(sub);
    if (it == t->sub_index_.end()) continue;
    t->subs_[it->second].patterns = 1;
    DropSub(*t, sub);
  }
}

const std::vector<std::string>* Bus::PatternsOf(Subscriber* sub) const {
  auto it = sub_patterns_.find(sub);
  return it == sub_patterns_.end() ? nullptr : &it->second;
}

}  // namespace edgewatch::fw
