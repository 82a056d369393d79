// CommandRouter: operator commands from clients routed to the producers that own their targets
// (docs/protocol.md, "Commands"). Private to net/; owned by the IngestServer. Loop thread only.
//
// A producer registers targets (topic names such as "pipeline/cam1") and command names on its
// ingest connection; the client op "command" is checked (write scope on the target, known target,
// accepted command, owner online), written to the owner as a "command" line with a server id,
// and answered when the owner's "result" line arrives, when the owner disconnects
// (target_offline) or when the timeout passes. Every command and its outcome is published on
// audit/commands and logged.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "edgewatch/fw/ingest_codec.h"
#include "edgewatch/fw/loop.h"
#include "edgewatch/fw/op_context.h"
#include "edgewatch/fw/protocol.h"

namespace edgewatch::fw {

class Gateway;

// The producer side of a command: an ingest connection.
class CommandSink {
 public:
  virtual uint64_t producer_id() const = 0;
  // Queues one line to the producer; false when it cannot take more (it does not read).
  virtual bool SendLine(std::string_view line) = 0;

 protected:
  ~CommandSink() = default;
};

inline constexpr int64_t kDefaultCommandTimeoutMs = 10000;
inline constexpr int64_t kMaxCommandTimeoutMs = 300000;
inline constexpr size_t kMaxPendingCommands = 4096;

class CommandRouter {
 public:
  explicit CommandRouter(Gateway& gw) : gw_(gw) {}
  ~CommandRouter() { Shutdown(); }
  CommandRouter(const CommandRouter&) = delete;
  CommandRouter& operator=(const CommandRouter&) = delete;

  // The client op {"op":"command",...}.
  void HandleOp(const ClientOp& op, OpContext& ctx);
  // A producer's register / result line; the error to answer it with, if any.
  std::optional<IngestError> Register(CommandSink* sink, const IngestRegister& reg);
  std::optional<IngestError> OnResult(CommandSink* sink, const IngestResult& result);
  // The producer disconnected: its pending commands fail with target_offline now.
  void ProducerGone(CommandSink* sink);
  // At shutdown: drops pending commands and cancels their timers (before the lws context goes).
  void Shutdown();

 private:
  struct Target {
    CommandSink* owner = nullptr;  // null: its producer went away
    std::set<std::string, std::less<>> commands;
  };
  struct Pending {
    std::string session;
    std::optional<int64_t> client_id;
    std::string from;
    std::string target;
    std::string name;
    std::string args;  // JSON text
    CommandSink* sink = nullptr;
    int64_t started_us = 0;
    std::unique_ptr<Timer> timer;
  };
  struct Outcome {
    bool ok = false;
    std::string result;  // "ok", "failed" or an error code
    std::string message;
  };

  // Answers the client, publishes the audit event, logs, and forgets the command.
  void Finish(const std::string& id, const Outcome& outcome);
  void Audit(const std::string& id, const Pending& p, const Outcome& outcome, int64_t duration_ms);

  Gateway& gw_;
  std::map<std::string, Target, std::less<>> targets_;
  std::map<std::string, Pending, std::less<>> pending_;
  std::vector<std::unique_ptr<Timer>> retired_;  // timers that fired (freed later, not in Fire)
};

}  // namespace edgewatch::fw
