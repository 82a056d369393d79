#include "edgewatch/fw/limits.h"

#include <algorithm>
#include <cctype>
#include <cmath>

namespace edgewatch::fw {

void TokenBucket::Refill(int64_t now_us) {
  if (!started_) {
    started_ = true;
    last_us_ = now_us;
    return;
  }
  if (now_us <= last_us_) return;
  tokens_ = std::min(burst_, tokens_ + rate_ * static_cast<double>(now_us - last_us_) / 1e6);
  last_us_ = now_us;
}

bool TokenBucket::Take(int64_t now_us) {
  Refill(now_us);
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

double TokenBucket::SecondsUntilToken(int64_t now_us) {
  Refill(now_us);
  if (tokens_ >= 1.0 || rate_ <= 0) return 0;
  return (1.0 - tokens_) / rate_;
}

void PerPeerLimiter::Evict(int64_t now_us) {
  // Drop buckets that have refilled completely: they carry no information.
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    TokenBucket probe = it->second;
    bool full = true;
    for (int i = 0; i < static_cast<int>(burst_); ++i) {
      if (!probe.Take(now_us)) {
        full = false;
        break;
      }
    }
    it = full ? buckets_.erase(it) : std::next(it);
  }
  if (buckets_.size() >= max_peers_) buckets_.clear();  // still full: start over (fail open)
}

bool PerPeerLimiter::Allow(std::string_view peer, int64_t now_us, int* retry_after_s) {
  auto it = buckets_.find(std::string(peer));
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_peers_) Evict(now_us);
    it = buckets_.emplace(std::string(peer), TokenBucket(rate_, burst_)).first;
  }
  if (it->second.Take(now_us)) return true;
  if (retry_after_s != nullptr) {
    *retry_after_s = std::max(1, static_cast<int>(std::ceil(it->second.SecondsUntilToken(now_us))));
  }
  return false;
}

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

bool OriginAllowed(std::string_view origin, std::string_view host,
                   const std::vector<std::string>& allowed) {
  if (origin.empty()) return true;
  for (const std::string& a : allowed) {
    if (a == "*" || a == origin) return true;
  }
  // Same-origin: the origin's authority equals the Host header.
  size_t scheme = origin.find("://");
  if (scheme == std::string_view::npos) return false;
  std::string_view authority = origin.substr(scheme + 3);
  size_t slash = authority.find('/');
  if (slash != std::string_view::npos) authority = authority.substr(0, slash);
  if (authority.empty() || host.empty()) return false;
  std::string a = Lower(authority);
  std::string h = Lower(host);
  if (a == h) return true;
  // Default ports may be omitted on either side.
  std::string_view sch = origin.substr(0, scheme);
  std::string def = sch == "https" ? ":443" : ":80";
  return a + def == h || a == h + def;
}

}  // namespace edgewatch::fw
