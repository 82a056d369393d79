// edgewatch bench: the load generator of the benchmarks (docs/benchmarks.md, `make bench`).
//
// N subscribers on raw epoll sockets (bench/load_generator.h) against edgewatchd or any broadcast
// server (--protocol raw), one publisher at a fixed rate or saturating with a bounded window;
// reports connect times, deliveries, losses, publish-to-receive latency, and the server's CPU
// and RSS from /proc (--server-pid). Flags are parsed here; everything else lives in bench/.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench/load_generator.h"
#include "bench/report.h"
#include "commands.h"
#include "edgewatch/base/clock.h"
#include "edgewatch/base/paths.h"
#include "edgewatch/fw/auth/jwt.h"
#include "edgewatch/fw/auth/secret.h"
#include "flags.h"
#include "token_file.h"
#include "url.h"

namespace edgewatch::cli {
namespace {

constexpr const char* kCmd = "edgewatch bench";

Result<bench::Endpoint> EndpointOf(std::string_view text, std::string_view default_path) {
  EW_ASSIGN_OR_RETURN(Url url, ParseUrl(text, default_path));
  if (url.scheme != "ws") return InvalidArgument("only ws:// URLs are supported: " + url.scheme);
  bench::Endpoint ep;
  ep.host = url.host;
  ep.port = url.port;
  ep.path = url.path;
  ep.host_port = url.HostPort();
  return ep;
}

Result<std::string> MintFromSecret(const std::string& secret_file, const std::string& pattern) {
  // Never create a secret here: a bench must use the running gateway's.
  if (::access(secret_file.c_str(), R_OK) != 0) {
    return ErrnoToStatus(errno, "--secret-file " + secret_file);
  }
  EW_ASSIGN_OR_RETURN(std::string secret, fw::auth::LoadOrCreateSecret(secret_file));
  fw::auth::MintOptions mint;
  mint.sub = "bench";
  mint.scope = "read:" + pattern;
  mint.now_s = UnixMillis() / 1000;
  mint.ttl_s = 6 * 3600;
  return fw::auth::MintToken(mint, secret);
}

}  // namespace

int RunBench(const std::vector<std::string>& args) {
  std::string url_text = "ws://127.0.0.1:8080/ws";
  std::string protocol = "edgewatch";
  std::string pub_url_text;
  std::string ingest;
  std::string token, token_file, secret_file;
  std::string auth = "frame";
  std::string pattern = "bench/#";
  std::string prefix = "bench/";
  std::string hello;
  int64_t subscribers = 100, topics = 1, rate = 0, window = 64, count = 0, duration_s = 0;
  int64_t payload = 200, concurrency = 256, connect_timeout_s = 120, settle_ms = 1000;
  int64_t drain_timeout_ms = 5000, server_pid = 0, slow = 0;
  bool json = false, batch = false;

  FlagParser flags(
      "bench", "",
      "Load generator: N WebSocket subscribers on raw epoll sockets and one publisher; reports "
      "connect time, deliveries/s, losses (per subscriber and topic), publish-to-receive "
      "latency, and with --server-pid the server's CPU per delivery and RSS per connection. "
      "Publishes --count events, or for --duration-s, at --rate events/s or saturating with at "
      "most --window events in flight; with neither, it only connects and measures the idle "
      "footprint. See app/cli/README.md and docs/benchmarks.md.");
  flags.String("url", &url_text, "URL",
               "subscribers' WebSocket URL (default ws://127.0.0.1:8080/ws)");
  flags.String("protocol", &protocol, "NAME",
               "edgewatch (docs/protocol.md; publisher on the ingest socket), raw (every "
               "frame is one event; publisher on --pub-url), mqtt (MQTT 3.1.1 over WebSocket, "
               "QoS 0, subscribes to --pattern) or socketio (Engine.IO 4 WebSocket transport; "
               "the publisher emits \"pub\"); default edgewatch");
  flags.String("pub-url", &pub_url_text, "URL",
               "raw, mqtt, socketio: the publisher's WebSocket URL (default: raw: --url with "
               "path /pub; mqtt, socketio: --url)");
  flags.String("ingest", &ingest, "PATH",
               "edgewatch: the gateway's ingest socket (default: "
               "the daemon's default path)");
  flags.String("token", &token, "TOKEN", "access token (default: $EDGEWATCH_TOKEN)");
  flags.String("token-file", &token_file, "FILE", "read the token from FILE");
  flags.String("secret-file", &secret_file, "FILE",
               "mint a token (sub bench, scope read:PATTERN, 6 h) with the gateway's "
               "--jwt-secret-file");
  flags.String("auth", &auth, "HOW",
               "how subscribers present the token: frame (first frame, "
               "default), header (Authorization) or query (?token=)");
  flags.String("pattern", &pattern, "PATTERN", "edgewatch: subscription pattern (default bench/#)");
  flags.String("topic-prefix", &prefix, "PREFIX",
               "topics are PREFIX0..PREFIX<K-1> (default bench/)");
  flags.String("hello", &hello, "TEXT",
               "raw: a text frame each subscriber sends after the upgrade");
  flags.Int("subscribers", &subscribers, "N", "subscriber connections (default 100)", 0, 1000000);
  flags.Int("topics", &topics, "K", "topics, published round-robin (default 1)", 1, 100000);
  flags.Int("rate", &rate, "R", "events per second in total (default 0: saturate)", 0, 10000000);
  flags.Int("window", &window, "W", "saturating: events in flight (default 64)", 1, 1000000);
  flags.Int("count", &count, "M", "events to publish (0: use --duration-s)");
  flags.Int("duration-s", &duration_s, "S", "seconds to publish for (used without --count)");
  flags.Int("payload", &payload, "BYTES", "size of each event's data object (default 200)", 0,
            16 << 20);
  flags.Int("connect-concurrency", &concurrency, "C",
            "handshakes in progress at once (default 256)", 1, 1000000);
  flags.Int("connect-timeout-s", &connect_timeout_s, "S",
            "bound for connecting every subscriber (default 120)", 1, 86400);
  flags.Int("settle-ms", &settle_ms, "MS",
            "idle time after the last subscriber is ready, before sampling RSS (default 1000)");
  flags.Int("drain-timeout-ms", &drain_timeout_ms, "MS",
            "after publishing, stop waiting once nothing arrived for this long (default 5000)", 1,
            86400000);
  flags.Int("slow-subscribers", &slow, "K",
            "the first K subscribers stop reading once ready (4 KiB receive buffer): a stalled "
            "consumer; the delivery figures are the others' (default 0)",
            0, 1000000);
  flags.Int("server-pid", &server_pid, "PID", "sample this process's CPU and RSS from /proc", 0,
            INT32_MAX);
  flags.Bool("batch", &batch,
             "edgewatch: subscribe with \"batch\":true (several events per frame)");
  flags.Bool("json", &json, "print the report as one JSON object (stdout)");
  std::vector<std::string> positionals;
  if (auto rc = flags.ParseOrExit(args, &positionals)) return *rc;
  if (!positionals.empty()) {
    std::fprintf(stderr, "%s: unexpected argument '%s'\n", kCmd, positionals[0].c_str());
    return kExitUsage;
  }

  bench::BenchConfig config;
  config.protocol = protocol;
  auto sub = EndpointOf(url_text, protocol == "edgewatch"  ? "/ws"
                                  : protocol == "socketio" ? "/socket.io/"
                                                           : "/");
  if (!sub.ok()) {
    std::fprintf(stderr, "%s: --url: %s\n", kCmd, sub.status().message().c_str());
    return kExitUsage;
  }
  config.sub = *sub;
  if (protocol != "edgewatch") {
    if (pub_url_text.empty()) {
      pub_url_text = protocol == "raw" ? "ws://" + sub->host_port + "/pub" : url_text;
    }
    auto pub = EndpointOf(pub_url_text, protocol == "raw" ? "/pub" : sub->path);
    if (!pub.ok()) {
      std::fprintf(stderr, "%s: --pub-url: %s\n", kCmd, pub.status().message().c_str());
      return kExitUsage;
    }
    config.pub = *pub;
  }
  config.ingest_path = ingest.empty() ? DefaultIngestPath() : ingest;

  if (protocol == "edgewatch") {
    // --token, else --token-file, else --secret-file, else $EDGEWATCH_TOKEN.
    Result<std::string> got = token;
    const char* env = std::getenv("EDGEWATCH_TOKEN");
    if (token.empty() && !token_file.empty()) {
      got = ReadTokenFile(token_file);
    } else if (token.empty() && !secret_file.empty()) {
      got = MintFromSecret(secret_file, pattern);
    } else if (token.empty() && env != nullptr) {
      got = std::string(env);
    }
    if (!got.ok()) {
      std::fprintf(stderr, "%s: token: %s\n", kCmd, got.status().message().c_str());
      return kExitFailure;
    }
    config.proto.token = *got;
  }
  config.proto.auth_mode = auth;
  config.proto.pattern = pattern;
  config.proto.topic_prefix = prefix;
  config.proto.topics = static_cast<uint32_t>(topics);
  config.proto.hello = hello;
  config.proto.batch = batch;
  config.subscribers = static_cast<int>(subscribers);
  config.rate = static_cast<double>(rate);
  config.window = static_cast<int>(window);
  config.count = count;
  config.duration_s = static_cast<double>(duration_s);
  config.payload = static_cast<size_t>(payload);
  config.connect_concurrency = static_cast<int>(concurrency);
  config.connect_timeout_s = static_cast<int>(connect_timeout_s);
  config.settle_ms = static_cast<int>(settle_ms);
  config.drain_timeout_ms = static_cast<int>(drain_timeout_ms);
  config.server_pid = static_cast<pid_t>(server_pid);
  if (slow >= subscribers && slow > 0) {
    std::fprintf(stderr, "%s: --slow-subscribers must be below --subscribers\n", kCmd);
    return kExitUsage;
  }
  config.slow_subscribers = static_cast<int>(slow);

  int64_t needed = subscribers + 64;
  int64_t limit = bench::RaiseFileLimit(needed);
  if (limit < needed) {
    std::fprintf(stderr,
                 "%s: only %lld file descriptors available for %lld subscribers "
                 "(raise ulimit -n)\n",
                 kCmd, static_cast<long long>(limit), static_cast<long long>(subscribers));
    return kExitFailure;
  }

  bench::LoadGenerator generator(config);
  auto report = generator.Run();
  if (!report.ok()) {
    std::fprintf(stderr, "%s: %s\n", kCmd, report.status().message().c_str());
    return kExitFailure;
  }
  const std::string& target = url_text;
  std::string publisher = protocol != "edgewatch" ? pub_url_text : "ingest:" + config.ingest_path;
  if (json) {
    std::printf("%s\n", bench::ReportJson(*report, target, publisher).c_str());
  } else {
    std::fputs(bench::ReportText(*report, target, publisher).c_str(), stdout);
  }
  std::fflush(stdout);
  // Incomplete runs fail; losses are figures, not failures (the caller judges them).
  return report->fatal.empty() && !report->interrupted && report->failed == 0 ? kExitOk
                                                                              : kExitFailure;
}

}  // namespace edgewatch::cli
