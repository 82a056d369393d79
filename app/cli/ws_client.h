// WsClient: the one-shot WebSocket client behind `edgewatch tail` and `edgewatch command`. One
// lws client context per run, served by Run()'s loop on the calling (main) thread; SIGINT and
// SIGTERM arrive through a signalfd adopted into the same loop. Subclasses say what to send once
// connected and what to do with each complete text message; the base reassembles messages split
// across callbacks, queues writes, bounds the close handshake and turns every way the connection
// can end into an exit code and one line on stderr.
#pragma once

#include <libwebsockets.h>

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

#include "url.h"

namespace edgewatch::cli {

class WsClient {
 public:
  // `command` names the CLI command in messages ("tail" -> "edgewatch tail: ...").
  explicit WsClient(std::string command) : command_(std::move(command)) {}
  virtual ~WsClient() = default;
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  // Connects to `url` (ws:// or wss://; `insecure` accepts any certificate), services the loop
  // until the run finishes, prints the failure (if any) to stderr and returns the exit code.
  // When `deadline_us` > 0, OnDeadline() runs that long after the start. Call once.
  int Run(const Url& url, bool insecure, bool verbose, int64_t deadline_us);

 protected:
  // Loop thread (all of these). The connection is open: queue the first messages.
  virtual void OnEstablished() = 0;
  // One complete text message from the server.
  virtual void HandleMessage(std::string_view text) = 0;
  // The deadline given to Run() passed. Default: exit 1 with "timed out".
  virtual void OnDeadline();
  // SIGINT or SIGTERM. Default: exit 0.
  virtual void OnSignal();

  // Ends the run with `code`, closing the connection (close 1000) if it is open; `message` is
  // printed to stderr at exit when not empty. The first caller decides the outcome.
  void Finish(int code, std::string message);
  // Sends `msg`, a serialised text message with LWS_PRE bytes of headroom, in order.
  void Queue(std::string msg);
  // Prints "edgewatch <command>: <line>" to stderr.
  void Note(std::string_view line) const;
  bool verbose() const { return verbose_; }

 private:
  // An lws timer that knows its client (standard layout, so the sul pointer converts back).
  struct Timer {
    lws_sorted_usec_list_t sul;
    WsClient* client;
  };
  static int Callback(struct lws* wsi, enum lws_callback_reasons reason, void* user, void* in,
                      size_t len);
  int OnWriteable();
  int OnReceive(const void* in, size_t len);
  void OnConnectionError(const char* why);
  void OnClosed();

  const std::string command_;
  Url url_;
  bool verbose_ = false;
  struct lws_context* context_ = nullptr;
  struct lws* wsi_ = nullptr;
  std::deque<std::string> outbox_;
  std::string rx_;        // message being reassembled
  bool closing_ = false;  // we asked for the connection to end
  bool finished_ = false;
  int exit_code_ = 1;
  std::string failure_;
  std::optional<int> peer_close_code_;
  std::string peer_close_reason_;
  Timer deadline_timer_{{}, this};
  Timer grace_timer_{{}, this};
};

}  // namespace edgewatch::cli
