// edgewatch publish: write events to the gateway's ingest socket (newline-delimited JSON) and
// report the lines it rejects. Plain POSIX sockets and one poll(2) loop: stdin is read, lines
// are sent and replies are read concurrently, so neither side can block the other.
//
// End of stream (see README.md, "Ingest end-of-stream contract"): after the last line the CLI
// half-closes the socket (SHUT_WR) and reads replies until the gateway closes its side, which it
// does once it has answered every line. That EOF, not a timer, tells the CLI it has every reply.
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "commands.h"
#include "edgewatch/base/clock.h"
#include "edgewatch/base/json.h"
#include "edgewatch/base/json_writer.h"
#include "edgewatch/base/paths.h"
#include "flags.h"

namespace edgewatch::cli {
namespace {

constexpr size_t kMaxBuffered = 1 << 20;  // stop reading stdin while this much is unsent
constexpr size_t kMaxReply = 1 << 20;
const JsonLimits kLocalLimits{.max_bytes = size_t{1} << 30, .max_depth = 100000};

enum class Mode {
  kArgument,   // TOPIC 'JSON': one event
  kDataLines,  // TOPIC: each stdin line is a data object
  kFullLines,  // no TOPIC: each stdin line is {"topic":..,"data":..}, sent verbatim
};

class Publisher {
 public:
  Publisher(Mode mode, std::string topic, std::string ingest_path, int64_t timeout_s)
      : mode_(mode),
        topic_(std::move(topic)),
        path_(std::move(ingest_path)),
        timeout_us_(timeout_s * 1000000) {}

  int Run(const std::string& argument_json) {
    if (!Connect()) return kExitFailure;
    if (mode_ == Mode::kArgument) {
      AddInputLine(argument_json);
      stdin_eof_ = true;
    }
    int rc = Loop();
    close(fd_);
    return rc;
  }

  // Validates and encodes one input line; queues it for sending. `text` has no '\n'.
  void AddInputLine(std::string_view text) {
    ++input_lines_;
    while (!text.empty() && (text.back() == '\r' || text.back() == ' ' || text.back() == '\t')) {
      text.remove_suffix(1);
    }
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    if (text.empty()) {
      --input_lines_;  // blank lines are skipped, not sent
      return;
    }
    std::string line;
    if (mode_ == Mode::kFullLines) {
      line.assign(text);  // the gateway is the judge of full lines
    } else {
      auto parsed = ParseJson(text, kLocalLimits);
      if (!parsed.ok()) {
        ++local_rejected_;
        std::fprintf(stderr, "edgewatch publish: %s: data is not valid JSON (%s); not sent\n",
                     Where(input_lines_).c_str(), parsed.status().message().c_str());
        return;
      }
      JsonWriter w;
      w.BeginObject().Key("topic").String(topic_).Key("data").Raw(text).EndObject();
      line = w.Take();
    }
    line.push_back('\n');
    out_ += line;
    sent_to_input_.push_back(input_lines_);
  }

 private:
  std::string Where(int64_t input_line) const {
    return mode_ == Mode::kArgument ? std::string("JSON argument")
                                    : "stdin line " + std::to_string(input_line);
  }

  bool Connect() {
    struct sockaddr_un addr = {};
    addr.sun_family = AF_UNIX;
    if (path_.size() >= sizeof(addr.sun_path)) {
      std::fprintf(stderr, "edgewatch publish: ingest path too long: %s\n", path_.c_str());
      return false;
    }
    std::memcpy(addr.sun_path, path_.data(), path_.size());
    fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0 || connect(fd_, reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr)) != 0) {
      std::fprintf(stderr,
                   "edgewatch publish: cannot connect to the ingest socket %s: %s\n"
                   "(is edgewatchd running? pass --ingest PATH if it listens elsewhere)\n",
                   path_.c_str(), std::strerror(errno));
      if (fd_ >= 0) close(fd_);
      fd_ = -1;
      return false;
    }
    return true;
  }

  void HandleReply(std::string_view reply) {
    auto parsed = ParseJson(reply, kLocalLimits);
    if (!parsed.ok() || GetString(parsed->get(), "error") == std::nullopt) {
      std::fprintf(stderr, "edgewatch publish: unexpected reply from the gateway: %.*s\n",
                   static_cast<int>(reply.size()), reply.data());
      ++unexpected_replies_;
      return;
    }
    ++rejected_;
    std::optional<int64_t> line = GetInt(parsed->get(), "line");
    std::string where = "a line";
    if (line && *line >= 1 && static_cast<size_t>(*line) <= sent_to_input_.size()) {
      where = Where(sent_to_input_[static_cast<size_t>(*line - 1)]);
    }
    std::fprintf(stderr, "edgewatch publish: %s rejected: %.*s\n", where.c_str(),
                 static_cast<int>(reply.size()), reply.data());
  }

  // Splits complete lines off the front of `buf`.
  template <typename F>
  static void SplitLines(std::string* buf, F&& on_line) {
    size_t start = 0, nl;
    while ((nl = buf->find('\n', start)) != std::string::npos) {
      on_line(std::string_view(*buf).substr(start, nl - start));
      start = nl + 1;
    }
    buf->erase(0, start);
  }

  int Fail(const std::string& message) {
    std::fprintf(stderr, "edgewatch publish: %s\n", message.c_str());
    return kExitFailure;
  }

  int Loop() {
    int64_t drain_deadline_us = 0;
    for (;;) {
      if (stdin_eof_ && out_.empty() && !shut_) {
        shutdown(fd_, SHUT_WR);
        shut_ = true;
        drain_deadline_us = MonotonicMicros() + timeout_us_;
      }
      struct pollfd p[2];
      nfds_t n = 0;
      int stdin_idx = -1;
      p[n++] = {fd_, static_cast<short>(POLLIN | (out_.empty() ? 0 : POLLOUT)), 0};
      if (!stdin_eof_ && out_.size() < kMaxBuffered) {
        stdin_idx = static_cast<int>(n);
        p[n++] = {STDIN_FILENO, POLLIN, 0};
      }
      int wait_ms = -1;  // before SHUT_WR we wait on our own input (a pipeline may be slow)
      if (shut_) {
        int64_t left = drain_deadline_us - MonotonicMicros();
        if (left <= 0) {
          return Fail("no end-of-stream from the gateway within " +
                      std::to_string(timeout_us_ / 1000000) +
                      " s after the last line (replies may be missing)");
        }
        wait_ms = static_cast<int>((left + 999) / 1000);
      }
      int rc = poll(p, n, wait_ms);
      if (rc < 0 && errno == EINTR) continue;
      if (rc < 0) return Fail(std::string("poll: ") + std::strerror(errno));
      if (rc == 0) continue;

      if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
        char buf[16384];
        ssize_t r = recv(fd_, buf, sizeof(buf), MSG_DONTWAIT);
        if (r > 0) {
          replies_.append(buf, static_cast<size_t>(r));
          SplitLines(&replies_, [this](std::string_view l) { HandleReply(l); });
          if (replies_.size() > kMaxReply) return Fail("reply line over 1 MiB from the gateway");
        } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
          if (!replies_.empty()) HandleReply(replies_);
          return Finish(/*gateway_eof=*/r == 0);
        }
      }
      if (!out_.empty() && (p[0].revents & POLLOUT)) {
        ssize_t w = send(fd_, out_.data(), out_.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w > 0) {
          out_.erase(0, static_cast<size_t>(w));
        } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
          // Read what the gateway said before it went away, then report.
          return Fail(std::string("the gateway closed the ingest connection while we were "
                                  "sending: ") +
                      std::strerror(errno));
        }
      }
      if (stdin_idx >= 0 && p[stdin_idx].revents) {
        char buf[65536];
        ssize_t r = read(STDIN_FILENO, buf, sizeof(buf));
        if (r > 0) {
          stdin_buf_.append(buf, static_cast<size_t>(r));
          SplitLines(&stdin_buf_, [this](std::string_view l) { AddInputLine(l); });
        } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
          if (r < 0)
            std::fprintf(stderr, "edgewatch publish: reading stdin: %s\n", strerror(errno));
          if (!stdin_buf_.empty()) AddInputLine(stdin_buf_);  // last line without '\n'
          stdin_buf_.clear();
          stdin_eof_ = true;
        }
      }
    }
  }

  int Finish(bool gateway_eof) {
    if (!shut_ || !out_.empty()) {
      Fail(gateway_eof ? "the gateway closed the ingest connection before all lines were sent"
                       : std::string("ingest connection error: ") + std::strerror(errno));
      return kExitFailure;
    }
    if (!gateway_eof) return Fail(std::string("ingest connection error: ") + std::strerror(errno));
    int64_t bad = rejected_ + local_rejected_;
    if (bad > 0) {
      std::fprintf(stderr, "edgewatch publish: %lld of %lld lines rejected\n",
                   static_cast<long long>(bad), static_cast<long long>(input_lines_));
      return kExitFailure;
    }
    return unexpected_replies_ > 0 ? kExitFailure : kExitOk;
  }

  const Mode mode_;
  const std::string topic_;
  const std::string path_;
  const int64_t timeout_us_;
  int fd_ = -1;
  std::string out_;        // encoded lines not yet sent
  std::string stdin_buf_;  // partial stdin line
  std::string replies_;    // partial reply line
  bool stdin_eof_ = false;
  bool shut_ = false;
  int64_t input_lines_ = 0;             // non-blank input lines seen
  std::vector<int64_t> sent_to_input_;  // [i] = input line number of the (i+1)-th line sent
  int64_t rejected_ = 0, local_rejected_ = 0, unexpected_replies_ = 0;
};

}  // namespace

int RunPublish(const std::vector<std::string>& args) {
  std::string ingest;
  int64_t timeout_s = 10;
  FlagParser flags(
      "publish", "[TOPIC ['JSON']]",
      "Publishes events through the gateway's ingest socket, exactly as any producer would.\n"
      "  edgewatch publish TOPIC 'JSON'   one event: JSON is the data object\n"
      "  edgewatch publish TOPIC          each stdin line is a data object for TOPIC\n"
      "  edgewatch publish                each stdin line is {\"topic\":..,\"data\":..}\n"
      "Blank lines are skipped. Lines the gateway rejects are printed on stderr with the\n"
      "gateway's reply ({\"error\":..,\"message\":..,\"line\":..}) and the input line they came\n"
      "from. Exits 0 when every line was accepted, 1 when any was rejected or the gateway\n"
      "could not be reached, 2 on a bad command line.");
  flags.String("ingest", &ingest, "PATH",
               "ingest socket (default: $RUNTIME_DIRECTORY/ingest.sock, else "
               "/run/edgewatch/ingest.sock when writable, else /tmp/edgewatch-$UID/ingest.sock)");
  flags.Int("timeout-s", &timeout_s, "S",
            "after the last line, wait at most S seconds for the gateway's answers (default 10)", 1,
            86400);
  std::vector<std::string> pos;
  if (auto rc = flags.ParseOrExit(args, &pos)) return *rc;
  if (pos.size() > 2) {
    std::fprintf(stderr,
                 "edgewatch publish: too many arguments (quote the JSON: "
                 "edgewatch publish TOPIC '{\"k\":1}')\n");
    return kExitUsage;
  }
  if (ingest.empty()) ingest = DefaultIngestPath();
  Mode mode = pos.empty() ? Mode::kFullLines : pos.size() == 1 ? Mode::kDataLines : Mode::kArgument;
  if (mode == Mode::kArgument) {
    auto parsed = ParseJson(pos[1], kLocalLimits);
    if (!parsed.ok()) {
      std::fprintf(stderr, "edgewatch publish: JSON argument is not valid JSON: %s\n",
                   parsed.status().message().c_str());
      return kExitUsage;
    }
  }
  if (mode != Mode::kArgument && isatty(STDIN_FILENO)) {
    std::fprintf(stderr, "edgewatch publish: reading lines from the terminal (Ctrl-D ends)\n");
  }
  Publisher publisher(mode, mode == Mode::kFullLines ? "" : pos[0], ingest, timeout_s);
  // JSON on one line: newlines between tokens are plain whitespace in JSON.
  std::string argument;
  if (mode == Mode::kArgument) {
    for (char c : pos[1]) argument.push_back(c == '\n' || c == '\r' ? ' ' : c);
  }
  return publisher.Run(argument);
}

}  // namespace edgewatch::cli
