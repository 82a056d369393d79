#include "long_poll.h"

#include <algorithm>
#include <charconv>

#include "edgewatch/base/clock.h"
#include "edgewatch/base/json_writer.h"
#include "edgewatch/fw/gateway.h"
#include "edgewatch/fw/topic.h"

namespace edgewatch::fw {
namespace {

constexpr int kDefaultTimeoutS = 25;
constexpr int kMaxTimeoutS = 30;
constexpr size_t kMaxEventsPerResponse = 1000;

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  while (!s.empty()) {
    size_t p = s.find(sep);
    out.push_back(s.substr(0, p));
    if (p == std::string_view::npos) break;
    s.remove_prefix(p + 1);
  }
  return out;
}

bool ParseUint(std::string_view s, uint64_t* out) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

}  // namespace

std::optional<HttpResponse> LongPoll::Start(Gateway& gw, lws* wsi, const HttpRequest& req,
                                            std::unique_ptr<LongPoll>* out) {
  std::unique_ptr<LongPoll> poll(new LongPoll(gw, wsi));
  auto topics = req.Param("topics");
  if (!topics || topics->empty()) {
    return JsonError(400, "bad_request", "'topics' (comma-separated patterns) is required");
  }
  for (std::string_view p : Split(*topics, ',')) {
    Status valid = ValidatePattern(p);
    if (!valid.ok())
      return JsonError(400, "invalid_pattern", std::string(p) + ": " + valid.message());
    if (!req.CanRead(p)) {
      return JsonError(403, "forbidden", "the token's read scopes do not cover " + std::string(p));
    }
    if (poll->patterns_.size() >= gw.bus().limits().max_patterns_per_subscriber) {
      return JsonError(400, "bad_request", "too many patterns");
    }
    poll->patterns_.emplace_back(p);
  }
  if (auto since = req.Param("since"); since && !since->empty()) {
    for (std::string_view entry : Split(*since, ',')) {
      size_t colon = entry.rfind(':');
      uint64_t seq = 0;
      if (colon == std::string_view::npos || !ParseUint(entry.substr(colon + 1), &seq)) {
        return JsonError(400, "bad_request", "'since' must be topic:seq[,topic:seq...]");
      }
      poll->request_.since[std::string(entry.substr(0, colon))] = seq;
    }
  }
  if (auto epoch = req.Param("epoch")) poll->request_.epoch = std::string(*epoch);
  int timeout_s = kDefaultTimeoutS;
  if (auto t = req.Param("timeout")) {
    uint64_t v = 0;
    if (!ParseUint(*t, &v) || v > static_cast<uint64_t>(kMaxTimeoutS)) {
      return JsonError(400, "bad_request", "'timeout' must be an integer from 0 to 30 (seconds)");
    }
    timeout_s = static_cast<int>(v);
  }
  poll->deadline_us_ = MonotonicMicros() + static_cast<int64_t>(timeout_s) * 1000000;

  ResumePlan plan = PlanResume(poll->MatchingTopics(), poll->request_, gw.epoch());
  bool epoch_mismatch = !poll->request_.epoch.empty() && poll->request_.epoch != gw.epoch();
  if (!plan.events.empty() || !plan.gaps.empty() || epoch_mismatch || timeout_s == 0) {
    return poll->Respond();
  }
  for (const std::string& p : poll->patterns_) {
    auto r = gw.bus().Subscribe(poll.get(), p);
    if (!r.ok()) return JsonError(400, "bad_request", r.status().message());
  }
  poll->subscribed_ = true;
  // lws must not time the parked request out before we answer it.
  lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_CONTENT, timeout_s + 10);
  *out = std::move(poll);
  return std::nullopt;
}

LongPoll::~LongPoll() {
  if (subscribed_) gw_.bus().RemoveSubscriber(this);
}

void LongPoll::OnEvent(const FrameRef&) {
  if (ready_) return;
  ready_ = true;
  lws_callback_on_writable(wsi_);
}

void LongPoll::Expire() {
  if (ready_) return;
  ready_ = true;
  lws_callback_on_writable(wsi_);
}

std::vector<TopicState*> LongPoll::MatchingTopics() const {
  std::vector<TopicState*> out;
  for (const auto& t : gw_.bus().topics()) {
    for (const std::string& p : patterns_) {
      if (TopicMatches(p, t->name())) {
        out.push_back(t.get());
        break;
      }
    }
  }
  return out;
}

HttpResponse LongPoll::Respond() {
  std::vector<TopicState*> topics = MatchingTopics();
  ResumePlan plan = PlanResume(topics, request_, gw_.epoch());
  bool same_epoch = request_.epoch.empty() || request_.epoch == gw_.epoch();
  std::map<std::string, uint64_t> next;
  for (TopicState* t : topics) {
    auto it = request_.since.find(t->name());
    next[t->name()] = same_epoch && it != request_.since.end() ? it->second : 0;
  }
  JsonWriter w;
  w.BeginObject().Key("epoch").String(gw_.epoch());
  if (request_.resume()) w.Key("recovered").Bool(plan.recovered);
  w.Key("events").BeginArray();
  size_t n = std::min(plan.events.size(), kMaxEventsPerResponse);
  for (size_t i = 0; i < n; ++i) {
    const FrameRef& f = plan.events[i];
    w.Raw(f->payload());
    next[f->topic->name()] = std::max(next[f->topic->name()], f->seq);
  }
  w.EndArray();
  w.Key("gaps").BeginArray();
  for (const Gap& g : plan.gaps) w.Raw(GapMessage(g));
  w.EndArray();
  w.Key("more").Bool(plan.events.size() > n);
  w.Key("next").BeginObject();
  for (const auto& [topic, seq] : next) w.Key(topic).Uint(seq);
  w.EndObject().EndObject();
  HttpResponse r;
  r.body = w.Take();
  return r;
}

}  // namespace edgewatch::fw
