#include "bench/report.h"

#include <cmath>
#include <cstdarg>
#include <cstdio>

#include "edgewatch/base/json_writer.h"

namespace edgewatch::cli::bench {
namespace {

double Round(double v, int digits) {
  double f = std::pow(10.0, digits);
  return std::round(v * f) / f;
}

void Counters(JsonWriter& w, const char* key, const std::vector<Counter>& counters) {
  w.Key(key).BeginObject();
  for (const Counter& c : counters) w.Key(c.what).Uint(c.count);
  w.EndObject();
}

std::string Fmt(const char* format, ...) __attribute__((format(printf, 1, 2)));
std::string Fmt(const char* format, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, format);
  std::vsnprintf(buf, sizeof(buf), format, ap);
  va_end(ap);
  return buf;
}

std::string Micros(double us) {
  if (us >= 1e6) return Fmt("%.2f s", us / 1e6);
  if (us >= 1e3) return Fmt("%.2f ms", us / 1e3);
  return Fmt("%.0f us", us);
}

double CpuPercent(int64_t cpu_us, double wall_s) {
  return wall_s > 0 ? 100.0 * cpu_us / (wall_s * 1e6) : 0;
}

}  // namespace

std::string ReportJson(const BenchReport& r, const std::string& target,
                       const std::string& publisher) {
  const BenchConfig& c = r.config;
  JsonWriter w;
  w.BeginObject();
  w.Key("tool").String("edgewatch bench").Key("format").Int(1).Key("run_id").String(r.run_id);
  w.Key("protocol").String(c.protocol).Key("url").String(target).Key("publisher").String(publisher);
  w.Key("subscribers").Int(c.subscribers).Key("slow_subscribers").Int(c.slow_subscribers);
  w.Key("topics").Uint(c.proto.topics);
  w.Key("pattern").String(c.proto.pattern);
  w.Key("mode").String(c.count <= 0 && c.duration_s <= 0 ? "idle"
                       : c.rate > 0                      ? "rate"
                                                         : "saturate");
  w.Key("rate").Double(c.rate).Key("window").Int(c.window).Key("count").Int(c.count);
  w.Key("duration_s").Double(c.duration_s).Key("payload_bytes").Uint(c.payload);
  w.Key("interrupted").Bool(r.interrupted).Key("fatal");
  if (r.fatal.empty()) {
    w.Null();
  } else {
    w.String(r.fatal);
  }

  w.Key("connect").BeginObject();
  w.Key("requested").Int(c.subscribers).Key("ready").Int(r.connected).Key("failed").Int(r.failed);
  Counters(w, "errors", r.connect_errors);
  w.Key("total_ms").Double(Round(r.connect_total_ms, 3));
  w.Key("per_s").Double(
      Round(r.connect_total_ms > 0 ? r.connected / (r.connect_total_ms / 1e3) : 0, 1));
  w.Key("per_connection_us").BeginObject();
  w.Key("mean").Double(Round(r.connect_us.mean(), 1));
  w.Key("p50").Uint(r.connect_us.Quantile(0.5)).Key("p99").Uint(r.connect_us.Quantile(0.99));
  w.Key("max").Uint(r.connect_us.max()).EndObject();
  w.EndObject();

  w.Key("publish").BeginObject();
  w.Key("events").Int(r.published).Key("seconds").Double(Round(r.publish_s, 4));
  w.Key("per_s").Double(Round(r.publish_s > 0 ? (r.published - 1) / r.publish_s : 0, 1));
  w.Key("rejected").Int(r.publish_rejected).Key("first_rejection");
  if (r.first_rejection.empty()) {
    w.Null();
  } else {
    w.String(r.first_rejection);
  }
  w.Key("stalls").Int(r.stalls).Key("backlog_max_bytes").Uint(r.publisher_backlog_max);
  w.EndObject();

  w.Key("delivery").BeginObject();
  w.Key("expected").Uint(r.expected).Key("received").Uint(r.received).Key("lost").Uint(r.lost);
  w.Key("duplicates").Uint(r.duplicates).Key("seq_gaps").Uint(r.seq_gaps);
  w.Key("subscribers_with_loss").Uint(r.subscribers_with_loss);
  w.Key("max_loss_per_subscriber").Uint(r.max_loss_per_subscriber);
  w.Key("subscribers_closed").Int(r.subscribers_closed);
  Counters(w, "close_reasons", r.close_reasons);
  Counters(w, "warnings", r.warnings);
  w.Key("seconds").Double(Round(r.delivery_s, 4));
  w.Key("per_s").Double(Round(r.deliveries_per_s(), 1));
  w.EndObject();

  const LatencyHistogram& h = r.latency_ns;
  auto us = [](uint64_t ns) { return Round(ns / 1e3, 1); };
  w.Key("latency_us").BeginObject();
  w.Key("count").Uint(h.count()).Key("mean").Double(us(static_cast<uint64_t>(h.mean())));
  w.Key("p50").Double(us(h.Quantile(0.5))).Key("p90").Double(us(h.Quantile(0.9)));
  w.Key("p99").Double(us(h.Quantile(0.99))).Key("p999").Double(us(h.Quantile(0.999)));
  w.Key("max").Double(us(h.max())).EndObject();

  w.Key("server");
  if (!r.server_sampled) {
    w.Null();
  } else {
    w.BeginObject().Key("pid").Int(c.server_pid).Key("threads").Int(r.server_end.threads);
    w.Key("rss_kib").BeginObject();
    w.Key("base").Int(r.server_base.rss_kib).Key("connected").Int(r.server_connected.rss_kib);
    w.Key("end").Int(r.server_end.rss_kib).Key("peak").Int(r.server_end.hwm_kib).EndObject();
    w.Key("rss_per_connection_bytes").Double(Round(r.rss_per_connection_bytes(), 1));
    w.Key("cpu_ms").BeginObject();
    w.Key("connect").Double(Round((r.server_connected.cpu_us - r.server_base.cpu_us) / 1e3, 1));
    w.Key("publish").Double(Round((r.server_end.cpu_us - r.server_pub_start.cpu_us) / 1e3, 1));
    w.EndObject();
    w.Key("cpu_us_per_delivery").Double(Round(r.server_cpu_us_per_delivery(), 3));
    w.Key("cpu_percent_publish")
        .Double(Round(CpuPercent(r.server_end.cpu_us - r.server_pub_start.cpu_us,
                                 (r.server_end.mono_us - r.server_pub_start.mono_us) / 1e6),
                      1));
    w.EndObject();
  }
  w.Key("client").BeginObject();
  w.Key("cpu_ms").Double(Round(r.client_cpu_us / 1e3, 1));
  w.Key("cpu_percent").Double(Round(CpuPercent(r.client_cpu_us, r.client_wall_s), 1));
  w.Key("cpu_ms_total").Double(Round(r.client_cpu_total_us / 1e3, 1));
  w.EndObject();
  w.EndObject();
  return w.Take();
}

std::string ReportText(const BenchReport& r, const std::string& target,
                       const std::string& publisher) {
  const BenchConfig& c = r.config;
  std::string s;
  s += Fmt("edgewatch bench: %s %s <- %s, %d subscribers", c.protocol.c_str(), target.c_str(),
           publisher.c_str(), c.subscribers);
  if (c.protocol == "edgewatch") s += " on " + c.proto.pattern;
  s += Fmt(", %u topic(s), ", c.proto.topics);
  if (c.count <= 0 && c.duration_s <= 0) {
    s += "idle (no events)";
  } else {
    s += c.rate > 0 ? Fmt("%.0f events/s", c.rate) : Fmt("saturating (window %d)", c.window);
  }
  s += Fmt(", %zu-byte data, run %s\n", c.payload, r.run_id.c_str());
  if (c.slow_subscribers > 0) {
    s +=
        Fmt("stalled    %d subscriber(s) never read after subscribing (not in the delivery "
            "figures)\n",
            c.slow_subscribers);
  }
  if (!r.fatal.empty()) s += "FAILED     " + r.fatal + "\n";
  if (r.interrupted) s += "INTERRUPTED\n";
  s += Fmt("connect    %d/%d ready in %.1f ms; per connection mean %s, p50 %s, p99 %s, max %s\n",
           r.connected, c.subscribers, r.connect_total_ms, Micros(r.connect_us.mean()).c_str(),
           Micros(r.connect_us.Quantile(0.5)).c_str(), Micros(r.connect_us.Quantile(0.99)).c_str(),
           Micros(r.connect_us.max()).c_str());
  for (const Counter& e : r.connect_errors) {
    s += Fmt("           %llu failed: %s\n", static_cast<unsigned long long>(e.count),
             e.what.c_str());
  }
  if (r.published > 0) {
    s += Fmt("publish    %lld events in %.2f s (%.0f/s)", static_cast<long long>(r.published),
             r.publish_s, r.publish_s > 0 ? (r.published - 1) / r.publish_s : 0.0);
    if (r.publish_rejected > 0) {
      s += Fmt(", %lld REJECTED (first: %s)", static_cast<long long>(r.publish_rejected),
               r.first_rejection.c_str());
    }
    if (r.stalls > 0) s += Fmt(", %lld stalls", static_cast<long long>(r.stalls));
    s += "\n";
    s +=
        Fmt("delivery   %llu/%llu received, %llu lost (%llu subscribers with loss), %llu "
            "duplicates, %llu seq gaps: %.0f deliveries/s\n",
            static_cast<unsigned long long>(r.received),
            static_cast<unsigned long long>(r.expected), static_cast<unsigned long long>(r.lost),
            static_cast<unsigned long long>(r.subscribers_with_loss),
            static_cast<unsigned long long>(r.duplicates),
            static_cast<unsigned long long>(r.seq_gaps), r.deliveries_per_s());
    for (const Counter& e : r.close_reasons) {
      s += Fmt("           %llu subscribers closed: %s\n", static_cast<unsigned long long>(e.count),
               e.what.c_str());
    }
    for (const Counter& e : r.warnings) {
      s += Fmt("           %llu x server said: %s\n", static_cast<unsigned long long>(e.count),
               e.what.c_str());
    }
    const LatencyHistogram& h = r.latency_ns;
    s += Fmt("latency    p50 %s, p90 %s, p99 %s, p99.9 %s, max %s (publish to receive)\n",
             Micros(h.Quantile(0.5) / 1e3).c_str(), Micros(h.Quantile(0.9) / 1e3).c_str(),
             Micros(h.Quantile(0.99) / 1e3).c_str(), Micros(h.Quantile(0.999) / 1e3).c_str(),
             Micros(h.max() / 1e3).c_str());
  }
  if (r.server_sampled) {
    s +=
        Fmt("server     pid %d: RSS %.1f MiB idle, %.1f MiB with %d clients (%.0f bytes per "
            "connection), %.1f MiB at the end",
            static_cast<int>(c.server_pid), r.server_base.rss_kib / 1024.0,
            r.server_connected.rss_kib / 1024.0, r.connected, r.rss_per_connection_bytes(),
            r.server_end.rss_kib / 1024.0);
    if (r.received > 0) {
      s += Fmt("; CPU %.3f us per delivery (%.0f%% of a core)", r.server_cpu_us_per_delivery(),
               CpuPercent(r.server_end.cpu_us - r.server_pub_start.cpu_us,
                          (r.server_end.mono_us - r.server_pub_start.mono_us) / 1e6));
    }
    s += "\n";
  }
  if (r.published > 0) {
    double pct = CpuPercent(r.client_cpu_us, r.client_wall_s);
    s += Fmt("client     CPU %.0f%% of a core while publishing%s\n", pct,
             pct > 70 ? " (above 70%: the figures may measure this client)" : "");
  }
  return s;
}

}  // namespace edgewatch::cli::bench
