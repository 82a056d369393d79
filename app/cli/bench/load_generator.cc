#include "bench/load_generator.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <unordered_map>

namespace edgewatch::cli::bench {
namespace {

int64_t MonoNs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

std::string RandomRunId() {
  unsigned char raw[6];
  if (getrandom(raw, sizeof(raw), 0) != static_cast<ssize_t>(sizeof(raw))) {
    int64_t t = MonoNs();
    std::memcpy(raw, &t, sizeof(raw));
  }
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

void Bump(std::vector<Counter>* counters, const std::string& what) {
  for (Counter& c : *counters) {
    if (c.what == what) {
      ++c.count;
      return;
    }
  }
  if (counters->size() < 32) counters->push_back({what, 1});
}

// Bytes waiting to be written, consumed from the front without moving the rest each time.
struct OutBuffer {
  std::string data;
  size_t off = 0;
  bool empty() const { return off == data.size(); }
  size_t size() const { return data.size() - off; }
  void Consume(size_t n) {
    off += n;
    if (off == data.size()) {
      data.clear();
      off = 0;
      if (data.capacity() > 65536) std::string().swap(data);
    } else if (off > 65536 && off > data.size() / 2) {
      data.erase(0, off);
      off = 0;
    }
  }
};

// Per subscriber and topic: the next publisher index expected, the last server seq seen and how
// many distinct events arrived.
struct Track {
  uint64_t next = 0;
  uint64_t last_seq = 0;
  uint64_t received = 0;
};

enum class ConnState : uint8_t { kIdle, kConnecting, kUpgrading, kOpening, kReady, kClosed };

struct Conn {
  int fd = -1;
  ConnState state = ConnState::kIdle;
  bool publisher = false;
  bool counted_ready = false;
  bool stalled = false;  // a slow subscriber that stopped reading (BenchConfig::slow_subscribers)
  std::string key;       // Sec-WebSocket-Key until the 101
  std::string in;        // unparsed bytes: the HTTP head or a partial frame
  OutBuffer out;
  FrameReader reader;
  int64_t t_start_ns = 0;
  std::vector<Track> tracks;
};

constexpr uint64_t kTagTimer = UINT64_MAX - 1;
constexpr uint64_t kTagSignal = UINT64_MAX - 2;
constexpr uint64_t kTagIngest = UINT64_MAX - 3;
constexpr size_t kReadBuffer = 256 * 1024;

enum class Phase { kPublisherConnect, kConnecting, kSettling, kPublishing, kDraining, kDone };

}  // namespace

double BenchReport::server_cpu_us_per_delivery() const {
  if (!server_sampled || received == 0) return 0;
  return static_cast<double>(server_end.cpu_us - server_pub_start.cpu_us) / received;
}

double BenchReport::rss_per_connection_bytes() const {
  if (!server_sampled || connected == 0) return 0;
  return static_cast<double>(server_connected.rss_kib - server_base.rss_kib) * 1024.0 / connected;
}

int64_t RaiseFileLimit(int64_t needed) {
  struct rlimit rl {};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return -1;
  if (static_cast<int64_t>(rl.rlim_cur) >= needed) return static_cast<int64_t>(rl.rlim_cur);
  struct rlimit want = rl;
  want.rlim_cur = static_cast<rlim_t>(needed);
  if (static_cast<int64_t>(rl.rlim_max) < needed) want.rlim_max = static_cast<rlim_t>(needed);
  if (setrlimit(RLIMIT_NOFILE, &want) != 0) {
    want.rlim_cur = rl.rlim_max;  // unprivileged: as far as the hard limit allows
    want.rlim_max = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &want);
  }
  getrlimit(RLIMIT_NOFILE, &rl);
  return static_cast<int64_t>(rl.rlim_cur);
}

struct LoadGenerator::Impl {
  explicit Impl(BenchConfig c) : config(std::move(c)), read_buf(kReadBuffer) {}
  ~Impl() {
    for (Conn& c : conns) {
      if (c.fd >= 0) ::close(c.fd);
    }
    for (int fd : {ingest_fd, timer_fd, signal_fd, epoll_fd}) {
      if (fd >= 0) ::close(fd);
    }
    if (signals_blocked) pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  }

  BenchConfig config;
  BenchReport report;
  std::unique_ptr<Protocol> proto;
  std::vector<char> read_buf;
  int epoll_fd = -1, timer_fd = -1, signal_fd = -1, ingest_fd = -1;
  sigset_t old_mask{};
  bool signals_blocked = false;
  struct sockaddr_storage sub_addr {
  }, pub_addr{};
  socklen_t sub_addr_len = 0, pub_addr_len = 0;
  std::vector<Conn> conns;  // subscribers 0..N-1, then the WebSocket publisher if any
  size_t publisher_index = SIZE_MAX;
  bool publisher_ready = false;
  OutBuffer ingest_out;
  std::string ingest_in;
  uint64_t mask_state = 0x9E3779B97F4A7C15ull;
  std::vector<Protocol::Parsed> parsed;  // reused by OnMessage

  Phase phase = Phase::kPublisherConnect;
  int started = 0, in_progress = 0, ready = 0, done_connecting = 0;
  int64_t connect_begin_ns = 0, connect_deadline_ns = 0, last_ready_ns = 0;
  int64_t settle_deadline_ns = 0;
  // Publishing.
  std::vector<int64_t> published;   // per topic
  std::vector<uint32_t> receivers;  // per topic: ready subscribers that receive it (live)
  std::vector<bool> receives;       // per topic: Protocol::Receives
  int ready_at_publish = 0;
  double receivers_mean = 0;
  uint64_t expected_live = 0;  // deliveries expected by the window accounting
  uint64_t accounted = 0;      // deliveries received, skipped over (gaps) or given up on
  int64_t pub_start_ns = 0, pub_end_ns = 0, pub_deadline_ns = 0, last_sent_ns = 0;
  int64_t last_progress_ns = 0, last_receipt_ns = 0, first_sent_ns = 0;
  int64_t client_cpu_start = 0;

  uint32_t NextMask() {
    mask_state ^= mask_state << 13;
    mask_state ^= mask_state >> 7;
    mask_state ^= mask_state << 17;
    return static_cast<uint32_t>(mask_state);
  }

  static Status Resolve(const Endpoint& ep, sockaddr_storage* out, socklen_t* len) {
    struct addrinfo hints {};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    struct addrinfo* res = nullptr;
    std::string port = std::to_string(ep.port);
    int rc = getaddrinfo(ep.host.c_str(), port.c_str(), &hints, &res);
    if (rc != 0 || res == nullptr) {
      return NotFound("cannot resolve " + ep.host + ": " + gai_strerror(rc));
    }
    std::memcpy(out, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return OkStatus();
  }

  Status Setup() {
    if (config.proto.run_id.empty()) config.proto.run_id = RandomRunId();
    report.run_id = config.proto.run_id;
    EW_ASSIGN_OR_RETURN(proto, MakeProtocol(config.protocol, config.proto));
    EW_TRY(Resolve(config.sub, &sub_addr, &sub_addr_len));
    epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd < 0) return ErrnoToStatus(errno, "epoll_create1");
    // SIGINT/SIGTERM end the run early with a report.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, &old_mask);
    signals_blocked = true;
    signal_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (signal_fd < 0) return ErrnoToStatus(errno, "signalfd");
    EW_TRY(Watch(signal_fd, kTagSignal, EPOLLIN));
    timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (timer_fd < 0) return ErrnoToStatus(errno, "timerfd_create");
    EW_TRY(Watch(timer_fd, kTagTimer, EPOLLIN));
    ::signal(SIGPIPE, SIG_IGN);

    const uint32_t topics = std::max<uint32_t>(1, config.proto.topics);
    published.assign(topics, 0);
    receivers.assign(topics, 0);
    receives.resize(topics);
    for (uint32_t k = 0; k < topics; ++k) receives[k] = proto->Receives(k);
    conns.resize(static_cast<size_t>(config.subscribers) +
                 (proto->publisher_transport() == Protocol::PublisherTransport::kWebSocket));
    if (config.server_pid > 0) {
      auto s = SampleProcess(config.server_pid);
      if (!s.ok()) return NotFound("--server-pid: " + s.status().message());
    }
    return OkStatus();
  }

  Status Watch(int fd, uint64_t tag, uint32_t events) {
    struct epoll_event ev {};
    ev.events = events;
    ev.data.u64 = tag;
    if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) return ErrnoToStatus(errno, "epoll_ctl");
    return OkStatus();
  }

  // --- Publisher ---

  Status ConnectIngest() {
    struct sockaddr_un addr {};
    addr.sun_family = AF_UNIX;
    if (config.ingest_path.size() >= sizeof(addr.sun_path)) {
      return InvalidArgument("ingest path too long: " + config.ingest_path);
    }
    std::memcpy(addr.sun_path, config.ingest_path.data(), config.ingest_path.size());
    ingest_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (ingest_fd < 0) return ErrnoToStatus(errno, "socket");
    if (connect(ingest_fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      return Unavailable("cannot connect to the ingest socket " + config.ingest_path + ": " +
                         std::strerror(errno));
    }
    fcntl(ingest_fd, F_SETFL, fcntl(ingest_fd, F_GETFL) | O_NONBLOCK);
    int sz = 4 << 20;
    setsockopt(ingest_fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
    EW_TRY(Watch(ingest_fd, kTagIngest, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET));
    publisher_ready = true;
    return OkStatus();
  }

  void OnIngestEvent(uint32_t events) {
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
      for (;;) {
        ssize_t n = ::read(ingest_fd, read_buf.data(), read_buf.size());
        if (n > 0) {
          ingest_in.append(read_buf.data(), static_cast<size_t>(n));
          size_t nl;
          while ((nl = ingest_in.find('\n')) != std::string::npos) {
            ++report.publish_rejected;
            if (report.first_rejection.empty()) report.first_rejection = ingest_in.substr(0, nl);
            ingest_in.erase(0, nl + 1);
          }
          continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        Fatal("the gateway closed the ingest connection");
        return;
      }
    }
    if (events & EPOLLOUT) FlushIngest();
  }

  void FlushIngest() {
    while (!ingest_out.empty()) {
      ssize_t n = ::send(ingest_fd, ingest_out.data.data() + ingest_out.off, ingest_out.size(),
                         MSG_NOSIGNAL);
      if (n > 0) {
        ingest_out.Consume(static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      Fatal(std::string("writing to the ingest socket: ") + std::strerror(errno));
      return;
    }
    report.publisher_backlog_max = std::max(report.publisher_backlog_max, ingest_out.size());
  }

  void Fatal(std::string why) {
    if (report.fatal.empty()) report.fatal = std::move(why);
    phase = Phase::kDone;
  }

  // --- Connections ---

  void StartConnect(size_t i, bool publisher) {
    Conn& c = conns[i];
    c.publisher = publisher;
    c.t_start_ns = MonoNs();
    c.state = ConnState::kConnecting;
    if (!publisher) ++in_progress;
    const sockaddr_storage& addr = publisher ? pub_addr : sub_addr;
    socklen_t len = publisher ? pub_addr_len : sub_addr_len;
    c.fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) {
      Fail(i, std::string("socket: ") + std::strerror(errno));
      return;
    }
    int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (!publisher && IsSlow(i)) {
      int small = 4096;  // before connect(): the window it advertises stays small
      setsockopt(c.fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    }
    struct epoll_event ev {};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.u64 = i;
    if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, c.fd, &ev) != 0) {
      Fail(i, std::string("epoll_ctl: ") + std::strerror(errno));
      return;
    }
    int rc = ::connect(c.fd, reinterpret_cast<const sockaddr*>(&addr), len);
    if (rc != 0 && errno != EINPROGRESS) {
      Fail(i, std::string("connect: ") + std::strerror(errno));
      return;
    }
    if (rc == 0) BeginUpgrade(i);
  }

  void BeginUpgrade(size_t i) {
    Conn& c = conns[i];
    c.state = ConnState::kUpgrading;
    c.key = NewClientKey();
    const Endpoint& ep = c.publisher ? config.pub : config.sub;
    std::string path = ep.path + (c.publisher ? proto->PublisherPathSuffix() : proto->PathSuffix());
    c.out.data += BuildUpgradeRequest(
        ep.host_port, path, c.key,
        c.publisher ? proto->PublisherUpgradeHeaders() : proto->UpgradeHeaders());
    Flush(i);
  }

  void SendFrame(size_t i, Opcode op, std::string_view payload) {
    AppendClientFrame(&conns[i].out.data, op, payload, NextMask());
  }

  void Flush(size_t i) {
    Conn& c = conns[i];
    while (!c.out.empty() && c.fd >= 0) {
      ssize_t n = ::send(c.fd, c.out.data.data() + c.out.off, c.out.size(), MSG_NOSIGNAL);
      if (n > 0) {
        c.out.Consume(static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      Fail(i, std::string("send: ") + std::strerror(errno));
      return;
    }
    if (c.publisher) {
      report.publisher_backlog_max = std::max(report.publisher_backlog_max, c.out.size());
    }
  }

  void CloseFd(Conn& c) {
    if (c.fd >= 0) {
      ::close(c.fd);  // also leaves the epoll set
      c.fd = -1;
    }
    c.state = ConnState::kClosed;
    std::string().swap(c.in);
    std::string().swap(c.out.data);
    c.out.off = 0;
  }

  // A connection ends: before ready it is a connect failure, after it a closed subscriber.
  void Fail(size_t i, const std::string& why) {
    Conn& c = conns[i];
    if (c.state == ConnState::kClosed) return;
    bool was_ready = c.state == ConnState::kReady;
    CloseFd(c);
    if (c.publisher) {
      Fatal("publisher connection: " + why);
      return;
    }
    if (!was_ready) {
      --in_progress;
      ++done_connecting;
      ++report.failed;
      Bump(&report.connect_errors, why);
      return;
    }
    ++report.subscribers_closed;
    Bump(&report.close_reasons, why);
    if (phase == Phase::kPublishing || phase == Phase::kDraining) {
      // Its outstanding deliveries will never come: let the window move on without them.
      for (uint32_t k = 0; k < published.size(); ++k) {
        if (!receives[k] || !c.counted_ready) continue;
        Track& t = c.tracks[k];
        accounted += static_cast<uint64_t>(published[k]) - std::min<uint64_t>(t.next, published[k]);
        --receivers[k];
      }
      c.counted_ready = false;
      RecomputeMean();
    }
  }

  void MarkReady(size_t i) {
    Conn& c = conns[i];
    c.state = ConnState::kReady;
    c.key.clear();
    c.key.shrink_to_fit();
    if (c.publisher) {
      publisher_ready = true;
      return;
    }
    --in_progress;
    ++done_connecting;
    ++ready;
    last_ready_ns = MonoNs();
    report.connect_us.Record(static_cast<uint64_t>((last_ready_ns - c.t_start_ns) / 1000));
    c.tracks.assign(published.size(), Track{});
    if (IsSlow(i)) Stall(i);
  }

  bool IsSlow(size_t i) const { return i < static_cast<size_t>(config.slow_subscribers); }

  // Stops reading from subscriber i for good (it stays connected; see slow_subscribers).
  void Stall(size_t i) {
    Conn& c = conns[i];
    c.stalled = true;
    struct epoll_event ev {};
    ev.events = 0;
    ev.data.u64 = i;
    epoll_ctl(epoll_fd, EPOLL_CTL_MOD, c.fd, &ev);
  }

  void OnConnEvent(size_t i, uint32_t events) {
    Conn& c = conns[i];
    if (c.state == ConnState::kConnecting) {
      int err = 0;
      socklen_t len = sizeof(err);
      getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        Fail(i, std::string("connect: ") + std::strerror(err));
        return;
      }
      if (!(events & (EPOLLOUT | EPOLLIN))) return;
      BeginUpgrade(i);
      if (c.state == ConnState::kClosed) return;
    }
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) Read(i);
    if (c.state != ConnState::kClosed && (events & EPOLLOUT)) Flush(i);
  }

  void Read(size_t i) {
    Conn& c = conns[i];
    for (;;) {
      ssize_t n = ::recv(c.fd, read_buf.data(), read_buf.size(), 0);
      if (n > 0) {
        Process(i, std::string_view(read_buf.data(), static_cast<size_t>(n)));
        if (c.state == ConnState::kClosed || c.stalled) return;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      Fail(i, n == 0 ? "connection closed by the server without a close frame"
                     : std::string("recv: ") + std::strerror(errno));
      return;
    }
  }

  void Process(size_t i, std::string_view data) {
    Conn& c = conns[i];
    if (c.state == ConnState::kUpgrading) {
      c.in.append(data);
      auto head = CheckUpgradeResponse(c.in, c.key);
      if (!head.ok()) {
        Fail(i, head.status().message());
        return;
      }
      if (*head == 0) return;
      c.in.erase(0, *head);
      c.state = ConnState::kOpening;
      auto opening = c.publisher ? proto->PublisherOpening() : proto->SubscriberOpening();
      for (const auto& m : opening) SendFrame(i, m.opcode, m.payload);
      Flush(i);
      if (c.state == ConnState::kClosed) return;
      if (c.publisher || proto->ReadyAfterOpening()) MarkReady(i);
      if (c.in.empty()) return;
      std::string rest;
      rest.swap(c.in);
      ParseFrames(i, rest);
      return;
    }
    if (c.in.empty()) {
      ParseFrames(i, data);
    } else {
      c.in.append(data);
      std::string pending;
      pending.swap(c.in);
      ParseFrames(i, pending);
    }
  }

  // Parses every complete frame of `data`; keeps the incomplete tail in conn.in.
  void ParseFrames(size_t i, std::string_view data) {
    Conn& c = conns[i];
    FrameReader::Message msg{};
    std::string error;
    for (;;) {
      size_t consumed = 0;
      auto outcome = c.reader.Next(data, &consumed, &msg, &error);
      data.remove_prefix(consumed);
      if (outcome == FrameReader::Outcome::kNeedMore) break;
      if (outcome == FrameReader::Outcome::kError) {
        Fail(i, "protocol error: " + error);
        return;
      }
      OnMessage(i, msg);
      if (c.state == ConnState::kClosed) return;
    }
    if (!data.empty()) c.in.assign(data);
  }

  void OnMessage(size_t i, const FrameReader::Message& msg) {
    Conn& c = conns[i];
    switch (msg.opcode) {
      case kOpPing:
        SendFrame(i, kOpPong, msg.payload);
        Flush(i);
        return;
      case kOpPong:
        return;
      case kOpClose: {
        int code = msg.payload.size() >= 2 ? (static_cast<unsigned char>(msg.payload[0]) << 8 |
                                              static_cast<unsigned char>(msg.payload[1]))
                                           : 1005;
        std::string why = "closed by the server: " + std::to_string(code);
        if (msg.payload.size() > 2) {
          why += ' ';
          why += msg.payload.substr(2, 100);
        }
        SendFrame(i, kOpClose, msg.payload.substr(0, std::min<size_t>(2, msg.payload.size())));
        Flush(i);
        Fail(i, why);
        return;
      }
      default:
        break;
    }
    parsed.clear();
    proto->Classify(msg.opcode, msg.payload, &parsed);
    if (c.publisher) {  // peers may echo to the publisher: only replies (pongs) matter
      for (const Protocol::Parsed& p : parsed) {
        if (p.verdict == Protocol::Verdict::kReply) SendFrame(i, kOpText, p.text);
      }
      Flush(i);
      return;
    }
    for (const Protocol::Parsed& p : parsed) {
      switch (p.verdict) {
        case Protocol::Verdict::kReply:
          SendFrame(i, kOpText, p.text);
          Flush(i);
          if (c.state == ConnState::kClosed) return;
          break;
        case Protocol::Verdict::kIgnore:
          break;
        case Protocol::Verdict::kReady:
          if (c.state == ConnState::kOpening) MarkReady(i);
          break;
        case Protocol::Verdict::kWarning:
          Bump(&report.warnings, p.text);
          break;
        case Protocol::Verdict::kFatal:
          Fail(i, p.text);
          return;
        case Protocol::Verdict::kEvent:
          OnReceipt(c, p);
          break;
      }
    }
  }

  void OnReceipt(Conn& c, const Protocol::Parsed& p) {
    if (c.state != ConnState::kReady || !c.counted_ready || p.stamp.topic >= c.tracks.size()) {
      return;  // an event before publishing started (e.g. a replay): not measured
    }
    Track& t = c.tracks[p.stamp.topic];
    int64_t now = MonoNs();
    if (p.seq != 0) {
      if (t.last_seq != 0 && p.seq > t.last_seq + 1) report.seq_gaps += p.seq - t.last_seq - 1;
      if (p.seq > t.last_seq) t.last_seq = p.seq;
    }
    if (p.stamp.n < t.next) {
      ++report.duplicates;
      return;
    }
    accounted += p.stamp.n - t.next + 1;
    t.next = p.stamp.n + 1;
    ++t.received;
    ++report.received;
    last_receipt_ns = now;
    last_progress_ns = now;
    report.latency_ns.Record(static_cast<uint64_t>(std::max<int64_t>(0, now - p.stamp.sent_ns)));
  }

  // --- Publishing ---

  void RecomputeMean() {
    double sum = 0;
    for (uint32_t r : receivers) sum += r;
    receivers_mean = receivers.empty() ? 0 : sum / receivers.size();
  }

  void PublishOne() {
    const uint32_t k = static_cast<uint32_t>(report.published % published.size());
    const uint64_t n = static_cast<uint64_t>(published[k]++);
    const int64_t now = MonoNs();
    if (report.published == 0) first_sent_ns = now;
    last_sent_ns = now;
    ++report.published;
    expected_live += receivers[k];
    std::string data = FormatStampedData(report.run_id, k, n, now, config.payload);
    if (proto->publisher_transport() == Protocol::PublisherTransport::kIngestLines) {
      proto->AppendPublish(&ingest_out.data, k, data);
    } else {
      std::string payload;
      proto->AppendPublish(&payload, k, data);
      SendFrame(publisher_index, proto->publish_opcode(), payload);
    }
  }

  void FlushPublisher() {
    if (proto->publisher_transport() == Protocol::PublisherTransport::kIngestLines) {
      FlushIngest();
    } else {
      Flush(publisher_index);
    }
  }

  bool PublishingComplete(int64_t now) const {
    if (config.count > 0) return report.published >= config.count;
    return now >= pub_deadline_ns;
  }

  void PublishDue(int64_t now) {
    int64_t budget = config.count > 0 ? config.count - report.published : INT64_MAX;
    if (config.rate > 0) {
      // Open loop: event j is due at pub_start + j / rate.
      auto due = static_cast<int64_t>(std::floor((now - pub_start_ns) * 1e-9 * config.rate)) + 1;
      int64_t n = std::min(due - report.published, budget);
      for (int64_t j = 0; j < n && now < pub_deadline_ns; ++j) PublishOne();
    } else {
      double limit = static_cast<double>(config.window) * std::max(1.0, receivers_mean);
      int64_t sent = 0;
      while (sent < budget && static_cast<double>(expected_live - accounted) < limit) {
        PublishOne();
        ++sent;
      }
      if (sent > 0) last_progress_ns = std::max(last_progress_ns, now);
      if (sent == 0 && now - last_progress_ns > int64_t{config.stall_ms} * 1000000) {
        ++report.stalls;  // deliveries lost in flight: stop waiting for them
        accounted = expected_live;
        last_progress_ns = now;
      }
    }
    FlushPublisher();
  }

  void StartPublishing() {
    ready_at_publish = 0;
    for (size_t i = 0; i < static_cast<size_t>(config.subscribers); ++i) {
      Conn& c = conns[i];
      if (c.state != ConnState::kReady || c.stalled) continue;
      c.counted_ready = true;
      ++ready_at_publish;
    }
    for (size_t k = 0; k < receivers.size(); ++k) {
      receivers[k] = receives[k] ? static_cast<uint32_t>(ready_at_publish) : 0;
    }
    RecomputeMean();
    if (config.server_pid > 0) {
      if (auto s = SampleProcess(config.server_pid); s.ok()) report.server_pub_start = *s;
    }
    client_cpu_start = SelfCpuMicros();
    pub_start_ns = MonoNs();
    last_progress_ns = pub_start_ns;
    pub_deadline_ns =
        config.count > 0 ? INT64_MAX : pub_start_ns + static_cast<int64_t>(config.duration_s * 1e9);
    if (config.rate > 0) {
      // Wake up every 1/rate, but not more often than every 500 us (several events per wake-up
      // at high rates).
      int64_t period = std::max<int64_t>(500000, static_cast<int64_t>(1e9 / config.rate));
      struct itimerspec its {};
      its.it_interval.tv_sec = period / 1000000000;
      its.it_interval.tv_nsec = period % 1000000000;
      its.it_value.tv_nsec = 1;
      timerfd_settime(timer_fd, 0, &its, nullptr);
    }
    phase = Phase::kPublishing;
    PublishDue(pub_start_ns);
  }

  void StopTimer() {
    struct itimerspec its {};
    timerfd_settime(timer_fd, 0, &its, nullptr);
  }

  // --- The loop ---

  void Advance() {
    const int64_t now = MonoNs();
    switch (phase) {
      case Phase::kPublisherConnect:
        if (!publisher_ready) {
          if (now > connect_deadline_ns) Fatal("the publisher could not connect in time");
          return;
        }
        if (config.server_pid > 0) {
          auto s = SampleProcess(config.server_pid);
          if (s.ok()) {
            report.server_base = *s;
            report.server_sampled = true;
          }
        }
        phase = Phase::kConnecting;
        connect_begin_ns = MonoNs();
        connect_deadline_ns =
            connect_begin_ns + static_cast<int64_t>(config.connect_timeout_s) * 1000000000;
        [[fallthrough]];
      case Phase::kConnecting:
        while (started < config.subscribers && in_progress < config.connect_concurrency) {
          StartConnect(static_cast<size_t>(started++), /*publisher=*/false);
        }
        if (done_connecting < config.subscribers) {
          if (now <= connect_deadline_ns) return;
          for (size_t i = 0; i < static_cast<size_t>(config.subscribers); ++i) {
            ConnState s = conns[i].state;
            if (s != ConnState::kReady && s != ConnState::kClosed && s != ConnState::kIdle) {
              Fail(i, "not ready within --connect-timeout-s");
            }
          }
          report.failed += config.subscribers - started;  // never started
          done_connecting = config.subscribers;
        }
        report.connected = ready;
        report.connect_total_ms = ready > 0 ? (last_ready_ns - connect_begin_ns) / 1e6 : 0;
        settle_deadline_ns = MonoNs() + static_cast<int64_t>(config.settle_ms) * 1000000;
        phase = Phase::kSettling;
        return;
      case Phase::kSettling:
        if (now < settle_deadline_ns) return;
        if (config.server_pid > 0) {
          if (auto s = SampleProcess(config.server_pid); s.ok()) report.server_connected = *s;
        }
        if (config.count <= 0 && config.duration_s <= 0) {
          report.server_end = report.server_connected;
          phase = Phase::kDone;
          return;
        }
        if (ready == 0) {
          Fatal("no subscriber is ready: nothing to measure");
          return;
        }
        StartPublishing();
        if (receivers_mean == 0) Fatal("the subscription pattern matches none of the topics");
        return;
      case Phase::kPublishing:
        if (config.rate <= 0) PublishDue(now);
        if (!PublishingComplete(now)) return;
        StopTimer();
        pub_end_ns = now;
        last_progress_ns = now;
        phase = Phase::kDraining;
        [[fallthrough]];
      case Phase::kDraining:
        if (accounted < expected_live &&
            now - last_progress_ns < int64_t{config.drain_timeout_ms} * 1000000) {
          return;
        }
        Finish();
        return;
      case Phase::kDone:
        return;
    }
  }

  void Finish() {
    phase = Phase::kDone;
    if (config.server_pid > 0) {
      if (auto s = SampleProcess(config.server_pid); s.ok()) report.server_end = *s;
    }
    report.client_cpu_us = SelfCpuMicros() - client_cpu_start;
    report.client_wall_s = (MonoNs() - pub_start_ns) / 1e9;
  }

  void Summarise() {
    report.publish_s = report.published > 1 ? (last_sent_ns - first_sent_ns) / 1e9 : 0;
    report.delivery_s = report.received > 0 ? (last_receipt_ns - first_sent_ns) / 1e9 : 0;
    uint64_t per_subscriber = 0;
    for (size_t k = 0; k < published.size(); ++k) {
      if (receives[k]) per_subscriber += static_cast<uint64_t>(published[k]);
    }
    report.expected = per_subscriber * static_cast<uint64_t>(ready_at_publish);
    report.lost = report.expected > report.received ? report.expected - report.received : 0;
    for (size_t i = 0; i < static_cast<size_t>(config.subscribers); ++i) {
      const Conn& c = conns[i];
      if (c.tracks.empty() || report.published == 0 || c.stalled) continue;
      uint64_t got = 0;
      for (const Track& t : c.tracks) got += t.received;
      if (got >= per_subscriber) continue;
      ++report.subscribers_with_loss;
      report.max_loss_per_subscriber =
          std::max(report.max_loss_per_subscriber, per_subscriber - got);
    }
    report.client_cpu_total_us = SelfCpuMicros();
  }

  void OnTimer() {
    uint64_t expirations;
    while (::read(timer_fd, &expirations, sizeof(expirations)) > 0) {
    }
    if (phase == Phase::kPublishing) PublishDue(MonoNs());
  }

  Result<BenchReport> Run() {
    EW_TRY(Setup());
    connect_deadline_ns = MonoNs() + static_cast<int64_t>(config.connect_timeout_s) * 1000000000;
    if (proto->publisher_transport() == Protocol::PublisherTransport::kIngestLines) {
      EW_TRY(ConnectIngest());
    } else {
      EW_TRY(Resolve(config.pub, &pub_addr, &pub_addr_len));
      publisher_index = conns.size() - 1;
      StartConnect(publisher_index, /*publisher=*/true);
      if (!report.fatal.empty()) return Unavailable(report.fatal);
    }
    std::vector<struct epoll_event> events(1024);
    while (phase != Phase::kDone) {
      Advance();
      if (phase == Phase::kDone) break;
      int timeout_ms = phase == Phase::kPublishing && config.rate <= 0 ? 5 : 20;
      int n = epoll_wait(epoll_fd, events.data(), static_cast<int>(events.size()), timeout_ms);
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoToStatus(errno, "epoll_wait");
      }
      for (int e = 0; e < n && phase != Phase::kDone; ++e) {
        uint64_t tag = events[e].data.u64;
        if (tag == kTagTimer) {
          OnTimer();
        } else if (tag == kTagSignal) {
          report.interrupted = true;
          if (phase == Phase::kPublishing || phase == Phase::kDraining) {
            Finish();
          } else {
            phase = Phase::kDone;
          }
        } else if (tag == kTagIngest) {
          OnIngestEvent(events[e].events);
        } else if (tag < conns.size()) {
          OnConnEvent(static_cast<size_t>(tag), events[e].events);
        }
      }
      if (phase == Phase::kPublishing && config.rate <= 0) PublishDue(MonoNs());
    }
    if (!publisher_ready && !report.fatal.empty()) return Unavailable(report.fatal);
    Summarise();
    return std::move(report);
  }
};

LoadGenerator::LoadGenerator(BenchConfig config)
    : impl_(std::make_unique<Impl>(std::move(config))) {
  impl_->report.config = impl_->config;
}
LoadGenerator::~LoadGenerator() = default;

Result<BenchReport> LoadGenerator::Run() {
  auto r = impl_->Run();
  if (r.ok()) r->config = impl_->config;
  return r;
}

}  // namespace edgewatch::cli::bench
