#include "command_router.h"

#include <string_view>
#include <utility>

#include "edgewatch/base/clock.h"
#include "edgewatch/base/json.h"
#include "edgewatch/base/json_writer.h"
#include "edgewatch/base/log.h"
#include "edgewatch/fw/gateway.h"
#include "edgewatch/fw/topic.h"

namespace edgewatch::fw {
namespace {

std::string ResultMessage(std::optional<int64_t> id, bool ok, std::string_view message) {
  JsonWriter w;
  w.BeginObject().Key("type").String("command_result").Key("id");
  if (id) {
    w.Int(*id);
  } else {
    w.Null();
  }
  w.Key("ok").Bool(ok).Key("message").String(message).EndObject();
  return w.Take();
}

std::string Joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) {
    if (!out.empty()) out += ",";
    out += s;
  }
  return out;
}

}  // namespace

void CommandRouter::HandleOp(const ClientOp& op, OpContext& ctx) {
  retired_.clear();  // timers that fired earlier; never freed inside their own callback
  const cJSON* root = op.root.get();
  if (gw_.stopping()) {
    ctx.Error("target_offline", "the gateway is shutting down");
    return;
  }
  auto target = GetString(root, "target");
  auto name = GetString(root, "name");
  if (!target || !name) {
    ctx.Error("bad_request", "command needs string members \"target\" and \"name\"");
    return;
  }
  if (!ValidateTopicName(*target).ok() || name->empty() || name->size() > kMaxCommandNameBytes) {
    ctx.Error("bad_request", "\"target\" must be a topic name and \"name\" 1-64 bytes");
    return;
  }
  const cJSON* args = cJSON_GetObjectItemCaseSensitive(root, "args");
  if (args != nullptr && !cJSON_IsObject(args)) {
    ctx.Error("bad_request", "\"args\" must be an object");
    return;
  }
  int64_t timeout_ms = kDefaultCommandTimeoutMs;
  if (cJSON_GetObjectItemCaseSensitive(root, "timeout_ms") != nullptr) {
    auto t = GetInt(root, "timeout_ms");
    if (!t || *t < 1 || *t > kMaxCommandTimeoutMs) {
      ctx.Error("bad_request", "\"timeout_ms\" must be an integer within 1..300000");
      return;
    }
    timeout_ms = *t;
  }

  Pending p;
  p.session = std::string(ctx.session_id());
  p.client_id = ctx.id();
  p.from = std::string(ctx.sub());
  p.target = std::string(*target);
  p.name = std::string(*name);
  p.args = args != nullptr ? PrintJson(args) : "{}";
  p.started_us = MonotonicMicros();

  auto refuse = [&](std::string_view code, std::string message) {
    ctx.Error(code, message);
    Outcome o{false, std::string(code), std::move(message)};
    Audit("", p, o, 0);
    EW_INFO("command", "command %s on %s from %s (session %s) refused: %.*s", p.name.c_str(),
            p.target.c_str(), p.from.c_str(), p.session.c_str(), static_cast<int>(code.size()),
            code.data());
  };
  // Scope first, so a client cannot probe which targets exist without being allowed to write.
  if (!ctx.CanWrite(p.target)) {
    refuse("forbidden", "no write scope on " + p.target);
    return;
  }
  auto it = targets_.find(p.target);
  if (it == targets_.end()) {
    refuse("no_such_target", "no producer has registered " + p.target);
    return;
  }
  if (!it->second.commands.contains(p.name)) {
    refuse("unknown_command", p.target + " does not accept \"" + p.name + "\"");
    return;
  }
  if (it->second.owner == nullptr) {
    refuse("target_offline", "the producer of " + p.target + " is not connected");
    return;
  }
  if (pending_.size() >= kMaxPendingCommands) {
    refuse("overloaded", "too many commands in flight");
    return;
  }
  std::string id;
  do {
    id = RandomHexId(8);
  } while (pending_.contains(id));
  p.sink = it->second.owner;
  if (!p.sink->SendLine(CommandLine(id, p.target, p.name, args, p.from))) {
    refuse("target_offline", "the producer of " + p.target + " is not reading its socket");
    return;
  }
  EW_INFO("command", "command %s: %s on %s from %s (session %s) sent to producer %llu", id.c_str(),
          p.name.c_str(), p.target.c_str(), p.from.c_str(), p.session.c_str(),
          static_cast<unsigned long long>(p.sink->producer_id()));
  p.timer = std::make_unique<Timer>();
  p.timer->Init(gw_.context(), [this, id] {
    auto pit = pending_.find(id);
    if (pit == pending_.end()) return;
    retired_.push_back(std::move(pit->second.timer));
    Finish(id, Outcome{false, "timeout", "no result from the producer in time"});
  });
  p.timer->StartOnce(timeout_ms * 1000);
  pending_.emplace(id, std::move(p));
}

std::optional<IngestError> CommandRouter::Register(CommandSink* sink, const IngestRegister& reg) {
  for (const auto& t : reg.targets) {
    auto it = targets_.find(t);
    if (it != targets_.end() && it->second.owner != nullptr && it->second.owner != sink) {
      return IngestError{"target_taken", t + " is owned by producer " +
                                             std::to_string(it->second.owner->producer_id())};
    }
  }
  for (const auto& t : reg.targets) {
    Target& target = targets_[t];
    target.owner = sink;
    target.commands = {reg.commands.begin(), reg.commands.end()};
  }
  EW_INFO("command", "producer %llu registered %s (commands %s)",
          static_cast<unsigned long long>(sink->producer_id()), Joined(reg.targets).c_str(),
          Joined(reg.commands).c_str());
  return std::nullopt;
}

std::optional<IngestError> CommandRouter::OnResult(CommandSink* sink, const IngestResult& result) {
  auto it = pending_.find(result.id);
  if (it == pending_.end() || it->second.sink != sink) {
    return IngestError{"unknown_command_id",
                       "no command " + result.id + " is pending for this producer"};
  }
  Finish(result.id, Outcome{result.ok, result.ok ? "ok" : "failed", result.message});
  return std::nullopt;
}

void CommandRouter::ProducerGone(CommandSink* sink) {
  for (auto& [name, target] : targets_) {
    if (target.owner == sink) target.owner = nullptr;
  }
  std::vector<std::string> ids;
  for (const auto& [id, p] : pending_) {
    if (p.sink == sink) ids.push_back(id);
  }
  for (const auto& id : ids) {
    if (gw_.stopping()) {
      pending_.erase(id);  // clients are being closed with 1001 anyway
      continue;
    }
    Finish(id, Outcome{false, "target_offline", "the producer disconnected"});
  }
}

void CommandRouter::Shutdown() {
  pending_.clear();
  retired_.clear();
}

void CommandRouter::Finish(const std::string& id, const Outcome& outcome) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  Pending p = std::move(it->second);
  pending_.erase(it);
  if (p.timer) p.timer->Cancel();
  int64_t duration_ms = (MonotonicMicros() - p.started_us) / 1000;
  if (ClientPeer* peer = gw_.FindPeer(p.session)) {
    if (outcome.result == "ok" || outcome.result == "failed") {
      peer->SendJson(ResultMessage(p.client_id, outcome.ok, outcome.message));
    } else {
      peer->SendJson(ErrorMessage(p.client_id, outcome.result, outcome.message));
    }
  }
  Audit(id, p, outcome, duration_ms);
  EW_LOG(outcome.ok ? log::Level::kInfo : log::Level::kWarn, "command",
         "command %s: %s on %s from %s: %s after %lld ms", id.c_str(), p.name.c_str(),
         p.target.c_str(), p.from.c_str(), outcome.result.c_str(),
         static_cast<long long>(duration_ms));
}

void CommandRouter::Audit(const std::string& id, const Pending& p, const Outcome& outcome,
                          int64_t duration_ms) {
  JsonWriter w;
  w.BeginObject().Key("id");
  if (id.empty()) {
    w.Null();
  } else {
    w.String(id);
  }
  w.Key("from").String(p.from).Key("session").String(p.session);
  w.Key("target").String(p.target).Key("name").String(p.name).Key("args").Raw(p.args);
  w.Key("ok").Bool(outcome.ok).Key("result").String(outcome.result);
  w.Key("message").String(outcome.message).Key("duration_ms").Int(duration_ms);
  w.EndObject();
  JsonLimits limits;
  limits.max_bytes = 64 * 1024;
  auto data = ParseJson(w.str(), limits);
  if (!data.ok()) return;
  Status s = gw_.Submit(kAuditTopic, data->get(), UnixMillis());
  if (!s.ok()) EW_WARN("command", "audit event not published: %s", s.message().c_str());
}

}  // namespace edgewatch::fw
