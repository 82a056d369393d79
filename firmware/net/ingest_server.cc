#include "ingest_server.h"

#include <fcntl.h>
#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "edgewatch/base/clock.h"
#include "edgewatch/base/log.h"
#include "edgewatch/fw/gateway.h"
#include "edgewatch/fw/ingest_codec.h"

namespace edgewatch::fw {

lws* AdoptRawFd(lws_vhost* vhost, int fd, RawHandler* handler) {
  lws_adopt_desc_t desc{};
  desc.vh = vhost;
  desc.type = LWS_ADOPT_RAW_FILE_DESC;
  desc.fd.filefd = fd;
  desc.vh_prot_name = "edgewatch-raw";
  desc.opaque = handler;
  return lws_adopt_descriptor_vhost_via_info(&desc);
}

// One producer connection.
class IngestConnection final : public RawHandler, public CommandSink {
 public:
  IngestConnection(IngestServer& server, int fd, uint64_t id)
      : server_(server), fd_(fd), id_(id), splitter_(server.gateway().config().max_ingest_line) {}

  void set_wsi(lws* wsi) { wsi_ = wsi; }
  uint64_t producer_id() const override { return id_; }
  bool SendLine(std::string_view line) override {
    if (out_.size() > kMaxPendingReplies || wsi_ == nullptr) return false;
    out_ += line;
    lws_callback_on_writable(wsi_);
    return true;
  }

  int OnReadable(lws* wsi) override {
    Gateway& gw = server_.gateway();
    // One read per wake-up: bounded work, so a busy producer cannot starve the loop or fill the
    // clients' queues faster than their writeable callbacks drain them.
    ssize_t n;
    do {
      n = ::read(fd_, server_.read_buffer(), IngestServer::kReadBufferSize);
    } while (n < 0 && errno == EINTR);
    if (n > 0) {
      splitter_.Feed(
          std::string_view(server_.read_buffer(), static_cast<size_t>(n)),
          [&](std::string_view line, uint64_t no) { HandleLine(gw, line, no); },
          [&](uint64_t no) {
            Reject("line_too_long",
                   "line longer than " + std::to_string(gw.config().max_ingest_line) + " bytes",
                   no);
          });
    } else if (n == 0) {
      eof_ = true;
    } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
      return -1;
    }
    if (!out_.empty()) lws_callback_on_writable(wsi);
    return eof_ && out_.empty() ? -1 : 0;
  }

  int OnWriteable(lws* wsi) override {
    while (!out_.empty()) {
      ssize_t n = ::send(fd_, out_.data(), out_.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        out_.erase(0, static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      return -1;  // the producer went away
    }
    if (!out_.empty()) {
      lws_callback_on_writable(wsi);
      return 0;
    }
    return eof_ ? -1 : 0;
  }

  void OnClosed(lws*) override {
    if (splitter_.pending() > 0) {
      EW_INFO("ingest", "producer %llu disconnected mid-line (%zu bytes discarded)",
              static_cast<unsigned long long>(id_), splitter_.pending());
    } else {
      EW_INFO("ingest", "producer %llu disconnected after %llu lines",
              static_cast<unsigned long long>(id_),
              static_cast<unsigned long long>(splitter_.lines()));
    }
    server_.commands().ProducerGone(this);
    server_.Forget(this);
    delete this;
  }

 private:
  static constexpr size_t kMaxPendingReplies = 256 * 1024;

  void HandleLine(Gateway& gw, std::string_view line, uint64_t no) {
    ++gw.mutable_stats().ingest_lines;
    if (line.empty()) return;  // blank lines are ignored
    auto parsed = ParseProducerLine(line, gw.config().max_ingest_line);
    if (auto* err = std::get_if<IngestError>(&parsed)) {
      Reject(err->code, err->message, no);
      return;
    }
    if (auto* reg = std::get_if<IngestRegister>(&parsed)) {
      if (auto err = server_.commands().Register(this, *reg)) {
        Reject(err->code, err->message, no);
      } else if (out_.size() <= kMaxPendingReplies) {
        out_ += RegisteredLine(*reg);
      }
      return;
    }
    if (auto* res = std::get_if<IngestResult>(&parsed)) {
      if (auto err = server_.commands().OnResult(this, *res)) Reject(err->code, err->message, no);
      return;
    }
    auto& msg = std::get<IngestMessage>(parsed);
    gw.NoteIngest(msg.ts_ms);
    Status s = gw.Submit(msg.topic, msg.data, msg.ts_ms.value_or(UnixMillis()));
    if (!s.ok()) {
      const char* code = s.code() == StatusCode::kResourceExhausted ? "too_many_topics"
                         : s.code() == StatusCode::kInvalidArgument ? "invalid_data"
                                                                    : "rejected";
      Reject(code, s.message(), no);
    }
  }

  void Reject(std::string_view code, std::string_view message, uint64_t no) {
    ++server_.gateway().mutable_stats().ingest_rejected;
    EW_DEBUG("ingest", "producer %llu line %llu rejected: %.*s",
             static_cast<unsigned long long>(id_), static_cast<unsigned long long>(no),
             static_cast<int>(code.size()), code.data());
    // A producer that never reads its replies must not grow our memory: past the bound,
    // further replies are dropped (the lines are still rejected and counted).
    if (out_.size() > kMaxPendingReplies) return;
    out_ += IngestErrorLine(code, message, no);
  }

  IngestServer& server_;
  int fd_;
  uint64_t id_;
  LineSplitter splitter_;
  std::string out_;
  lws* wsi_ = nullptr;
  bool eof_ = false;
};

IngestServer::IngestServer(Gateway& gw)
    : gw_(gw), commands_(gw), read_buf_(new char[kReadBufferSize]) {
  gw_.RegisterOp("command",
                 [this](const ClientOp& op, OpContext& ctx) { commands_.HandleOp(op, ctx); });
}

IngestServer::~IngestServer() {
  // Connections are closed (and delete themselves) when the lws context is destroyed, which
  // happens before the server is destroyed.
  if (!path_.empty()) ::unlink(path_.c_str());
}

namespace {

Status MakeParents(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) return OkStatus();
  std::string dir = path.substr(0, slash);
  std::string partial;
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = dir.find('/', pos + 1);
    partial = dir.substr(0, pos);
    if (partial.empty()) continue;
    mode_t mode = partial.rfind("/tmp/", 0) == 0 ? 0700 : 0755;
    if (::mkdir(partial.c_str(), mode) != 0 && errno != EEXIST) {
      return ErrnoToStatus(errno, "create directory " + partial);
    }
  }
  return OkStatus();
}

// The id of the group called `name` (getgrnam_r). NotFound when there is none.
Result<gid_t> LookupGroup(const std::string& name) {
  long hint = ::sysconf(_SC_GETGR_R_SIZE_MAX);
  std::vector<char> buf(hint > 0 ? static_cast<size_t>(hint) : 16384);
  for (;;) {
    struct group gr {};
    struct group* found = nullptr;
    int rc = ::getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &found);
    if (rc == ERANGE && buf.size() < (1u << 20)) {
      buf.resize(buf.size() * 2);
      continue;
    }
    if (rc != 0) return ErrnoToStatus(rc, "look up group '" + name + "'");
    if (found == nullptr) return NotFound("ingest group '" + name + "' does not exist");
    return found->gr_gid;
  }
}

}  // namespace

Status IngestServer::Listen(const std::string& path, int mode, const std::string& group) {
  sockaddr_un addr{};
  if (path.size() >= sizeof(addr.sun_path)) {
    return InvalidArgument("ingest socket path is too long: " + path);
  }
  if (mode < 0 || mode > 0777) return InvalidArgument("ingest socket mode must be within 0..0777");
  gid_t gid = static_cast<gid_t>(-1);  // chown's "leave the group as it is"
  if (!group.empty()) {
    EW_ASSIGN_OR_RETURN(gid, LookupGroup(group));
  }
  EW_TRY(MakeParents(path));
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);

  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return AlreadyExists("ingest path exists and is not a socket: " + path);
    }
    int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool live =
        probe >= 0 && ::connect(probe, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    if (probe >= 0) ::close(probe);
    if (live) return AlreadyExists("another gateway is listening on " + path);
    ::unlink(path.c_str());
  }

  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return ErrnoToStatus(errno, "ingest socket");
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    Status s = ErrnoToStatus(errno, "bind " + path);
    ::close(fd);
    return s;
  }
  // Owner and mode are set before listen(): until then a connect() is refused.
  if (!group.empty() && ::chown(path.c_str(), static_cast<uid_t>(-1), gid) != 0) {
    int err = errno;
    Status s = ErrnoToStatus(err, "give ingest socket " + path + " to group '" + group + "'");
    ::close(fd);
    ::unlink(path.c_str());
    if (err == EPERM) {
      return PermissionDenied(s.message() + " (edgewatchd must run as root or as a member of '" +
                              group + "')");
    }
    return s;
  }
  if (::chmod(path.c_str(), static_cast<mode_t>(mode)) != 0 || ::listen(fd, 128) != 0) {
    Status s = ErrnoToStatus(errno, "listen " + path);
    ::close(fd);
    ::unlink(path.c_str());
    return s;
  }
  path_ = path;
  listen_fd_ = fd;
  listen_wsi_ = AdoptRawFd(gw_.vhost(), fd, this);
  if (listen_wsi_ == nullptr) {
    listen_fd_ = -1;
    return Internal("could not adopt the ingest socket into the event loop");
  }
  return OkStatus();
}

void IngestServer::StopListening() {
  commands_.Shutdown();
  if (listen_wsi_ != nullptr) {
    lws_set_timeout(listen_wsi_, PENDING_TIMEOUT_KILLED_BY_PARENT, LWS_TO_KILL_ASYNC);
  }
}

int IngestServer::OnReadable(lws*) {
  for (;;) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        EW_WARN("ingest", "accept failed: %s", std::strerror(errno));
      }
      return 0;
    }
    if (gw_.stopping() ||
        conns_.size() >= static_cast<size_t>(gw_.config().max_ingest_connections)) {
      std::string line = IngestErrorLine(
          gw_.stopping() ? "shutting_down" : "too_many_producers",
          gw_.stopping() ? "the gateway is shutting down" : "too many producer connections", 0);
      ssize_t ignored = ::send(fd, line.data(), line.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      (void)ignored;
      ::close(fd);
      continue;
    }
    uint64_t id = ++gw_.mutable_stats().ingest_connections;
    auto* conn = new IngestConnection(*this, fd, id);
    conns_.insert(conn);
    lws* wsi = AdoptRawFd(gw_.vhost(), fd, conn);
    if (wsi == nullptr) {
      // lws closed the fd; the connection never received callbacks.
      conns_.erase(conn);
      delete conn;
      continue;
    }
    conn->set_wsi(wsi);
    EW_INFO("ingest", "producer %llu connected", static_cast<unsigned long long>(id));
  }
}

void IngestServer::OnClosed(lws*) {
  listen_wsi_ = nullptr;
  listen_fd_ = -1;
}

void IngestServer::Forget(IngestConnection* c) {
  conns_.erase(c);
}

}  // namespace edgewatch::fw
