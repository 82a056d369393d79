// LoadGenerator: the engine of `edgewatch bench`. One thread, one epoll instance, N subscriber
// WebSockets and one publisher (the ingest socket, or a WebSocket for other servers), raw
// non-blocking sockets and the RFC 6455 client side of ws_codec.h.
//
// A run has phases, each measured on its own:
//   1. publisher connects; the server's CPU and RSS are sampled (baseline);
//   2. N subscribers connect, upgrade, authenticate and subscribe, at most `connect_concurrency`
//      in progress at once; each is timed from connect() to ready (for edgewatch: the
//      `subscribed` reply);
//   3. settle (`settle_ms`, nothing sent), then the server's RSS is sampled: RSS per idle client;
//   4. publish: at a fixed rate (open loop, timerfd) or saturating with at most `window` events in
//      flight (an event leaves the window when every subscriber has received it, as counted by
//      the subscribers' receipts); each event carries its CLOCK_MONOTONIC send time;
//   5. drain: until every expected delivery has arrived or none arrived for `drain_timeout_ms`;
//      the server's CPU over phases 4-5 divided by the deliveries is the CPU cost per delivery.
// Losses are counted per subscriber and topic from the publisher's per-topic index in each
// event, and separately from the server's per-topic seq when the protocol has one.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bench/histogram.h"
#include "bench/proc_stats.h"
#include "bench/protocol.h"
#include "edgewatch/base/status.h"

namespace edgewatch::cli::bench {

struct Endpoint {
  std::string host;  // a numeric address or a name resolved once
  int port = 0;
  std::string path = "/";
  std::string host_port;  // for the Host header
};

struct BenchConfig {
  std::string protocol = "edgewatch";
  ProtocolOptions proto;
  Endpoint sub;             // where subscribers connect
  Endpoint pub;             // the publisher's WebSocket (publisher transport kWebSocket)
  std::string ingest_path;  // the publisher's Unix socket (kIngestLines)
  int subscribers = 100;
  double rate = 0;    // events per second in total; 0: saturate with `window`
  int window = 64;    // events in flight when saturating
  int64_t count = 0;  // events to publish (0: publish for `duration_s`)
  double duration_s = 0;
  size_t payload = 200;  // bytes of each event's data object
  int connect_concurrency = 256;
  int connect_timeout_s = 120;
  int settle_ms = 1000;
  int drain_timeout_ms = 5000;
  int stall_ms = 2000;   // saturating: no receipt for this long with the window full
  pid_t server_pid = 0;  // sampled from /proc when > 0
  // Stalled consumers: subscribers 0..K-1 connect with a 4 KiB receive buffer and never read
  // again once ready, so the server must buffer, drop or close them. They count in the connect
  // figures, never in the delivery ones (expected, lost, latency are the other subscribers').
  int slow_subscribers = 0;
};

struct Counter {
  std::string what;
  uint64_t count = 0;
};

struct BenchReport {
  BenchConfig config;
  std::string run_id;
  bool interrupted = false;
  std::string fatal;  // why the run could not complete (empty when it did)

  // Connect phase.
  int connected = 0;
  int failed = 0;
  std::vector<Counter> connect_errors;  // by message
  double connect_total_ms = 0;
  LatencyHistogram connect_us;  // connect() to ready, per subscriber

  // Publish and delivery.
  int64_t published = 0;
  double publish_s = 0;          // first to last event sent
  int64_t publish_rejected = 0;  // lines the ingest socket refused
  std::string first_rejection;
  int64_t stalls = 0;                // saturating: windows given up on
  size_t publisher_backlog_max = 0;  // bytes the publisher could not write at once
  uint64_t expected = 0;             // deliveries: events x subscribers that should receive them
  uint64_t received = 0;             // unique deliveries of this run's events
  uint64_t lost = 0;                 // expected - received
  uint64_t duplicates = 0;           // an event received again (or older than one already seen)
  uint64_t seq_gaps = 0;             // events missing by the server's per-topic seq
  uint64_t subscribers_with_loss = 0;
  uint64_t max_loss_per_subscriber = 0;
  int subscribers_closed = 0;     // ready subscribers the server closed during the run
  double delivery_s = 0;          // first event sent to last delivery received
  LatencyHistogram latency_ns;    // publish-to-receive
  std::vector<Counter> warnings;  // messages the server sent (edgewatch `error` without id ...)
  std::vector<Counter> close_reasons;

  // Server (when config.server_pid > 0) and the load generator itself.
  bool server_sampled = false;
  ProcSample server_base, server_connected, server_pub_start, server_end;
  int64_t client_cpu_us = 0;  // during publish + drain
  int64_t client_cpu_total_us = 0;
  double client_wall_s = 0;  // publish + drain wall time

  double deliveries_per_s() const { return delivery_s > 0 ? received / delivery_s : 0; }
  double server_cpu_us_per_delivery() const;
  double rss_per_connection_bytes() const;
};

class LoadGenerator {
 public:
  explicit LoadGenerator(BenchConfig config);
  ~LoadGenerator();
  LoadGenerator(const LoadGenerator&) = delete;
  LoadGenerator& operator=(const LoadGenerator&) = delete;

  // Runs every phase. An error only for a run that could not start (bad configuration, publisher
  // unreachable); failures along the way are in the report (fatal, connect_errors, lost).
  Result<BenchReport> Run();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Raises RLIMIT_NOFILE to at least `needed` (the hard limit too when privileged). Returns the
// soft limit in force afterwards.
int64_t RaiseFileLimit(int64_t needed);

}  // namespace edgewatch::cli::bench
