// Wire protocol v1 (docs/protocol.md): parsing client operations and building server messages.
//
// Pure functions, any thread; no sockets. Client ops are JSON objects with an "op" member; the
// parser never throws and reports a stable error code for every malformed input so the session
// can answer with {"type":"error",...} and keep the connection open.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "edgewatch/base/json.h"
#include "edgewatch/base/status.h"

namespace edgewatch::fw {

inline constexpr int kProtocolVersion = 1;

// The topic on which every operator command's outcome is published (docs/protocol.md, "Audit").
inline constexpr char kAuditTopic[] = "audit/commands";

enum class OpKind { kSubscribe, kUnsubscribe, kPing, kAuth, kOther };

struct ClientOp {
  OpKind kind = OpKind::kOther;
  std::string op;                         // the raw "op" string (for ops handled by later layers)
  std::optional<int64_t> id;              // echoed in replies; absent -> null
  std::vector<std::string> topics;        // subscribe/unsubscribe
  bool batch = false;                     // subscribe: batched delivery requested
  std::string epoch;                      // subscribe: resume epoch
  std::map<std::string, uint64_t> since;  // subscribe: last seq seen per concrete topic
  std::string token;                      // auth
  JsonPtr root;                           // the whole parsed message (for ops of later layers)
};

struct OpError {
  std::string code;     // snake_case: bad_json, bad_request, unknown_op ...
  std::string message;  // human-readable, never echoes secrets
  std::optional<int64_t> id;
};

struct OpLimits {
  size_t max_bytes = 4096;
  int max_depth = 32;
  size_t max_topics_per_op = 64;
};

// Parses one client message. On failure returns the error to send back (with the id when it
// could be read). Known ops: subscribe, unsubscribe, ping, auth; any other string op is returned
// as kOther with `root` set so a later layer can handle it or answer unknown_op.
std::variant<ClientOp, OpError> ParseClientOp(std::string_view text, const OpLimits& limits = {});

// Server -> client messages (compact JSON, no LWS_PRE).
std::string WelcomeMessage(std::string_view server, std::string_view session,
                           std::string_view epoch, int heartbeat_s);
std::string HeartbeatMessage(int64_t ts_ms);
std::string PongMessage(std::optional<int64_t> id);
// `recovered` is included when the subscribe asked to resume.
std::string SubscribedMessage(std::optional<int64_t> id, const std::vector<std::string>& topics,
                              std::optional<bool> recovered = std::nullopt);
std::string UnsubscribedMessage(std::optional<int64_t> id, const std::vector<std::string>& topics);
std::string ErrorMessage(std::optional<int64_t> id, std::string_view code,
                         std::string_view message);

}  // namespace edgewatch::fw
