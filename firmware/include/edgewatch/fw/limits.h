// Rate limits and origin checks for hostile input (docs/protocol.md, "Limits").
//
// Pure logic with the time passed in; loop thread only (no locking).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace edgewatch::fw {

// A token bucket: `rate` tokens per second, at most `burst` stored. Starts full.
class TokenBucket {
 public:
  TokenBucket() = default;
  TokenBucket(double rate, double burst) : rate_(rate), burst_(burst), tokens_(burst) {}
  // Takes one token at `now_us` (monotonic); false when empty.
  bool Take(int64_t now_us);
  // Seconds until one token is available (0 when one is).
  double SecondsUntilToken(int64_t now_us);

 private:
  void Refill(int64_t now_us);
  double rate_ = 0;
  double burst_ = 0;
  double tokens_ = 0;
  int64_t last_us_ = 0;
  bool started_ = false;
};

// One token bucket per peer address, bounded to `max_peers` entries (full buckets are evicted
// first, so an attacker cannot flush its own bucket by cycling addresses past the bound without
// also being limited).
class PerPeerLimiter {
 public:
  PerPeerLimiter(double rate, double burst, size_t max_peers = 4096)
      : rate_(rate), burst_(burst), max_peers_(max_peers) {}
  // Takes one token for `peer`; false (with the seconds to wait) when over the limit.
  bool Allow(std::string_view peer, int64_t now_us, int* retry_after_s);
  size_t tracked() const { return buckets_.size(); }

 private:
  void Evict(int64_t now_us);
  double rate_;
  double burst_;
  size_t max_peers_;
  std::unordered_map<std::string, TokenBucket> buckets_;
};

// True when a browser `origin` header value (e.g. "http://edge.local:8080") is acceptable:
// it names the same host[:port] as the request's `host` header, or matches an entry of
// `allowed` exactly ("*" allows every origin). An empty origin (non-browser client) is allowed.
bool OriginAllowed(std::string_view origin, std::string_view host,
                   const std::vector<std::string>& allowed);

}  // namespace edgewatch::fw
