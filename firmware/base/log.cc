#include "edgewatch/base/log.h"

#include <libwebsockets.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "edgewatch/base/json_writer.h"

namespace edgewatch::log {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::kInfo)};
std::atomic<int> g_format{static_cast<int>(Format::kText)};

void WriteLine(const char* data, size_t len) {
  while (len > 0) {
    ssize_t n = ::write(STDERR_FILENO, data, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    data += n;
    len -= static_cast<size_t>(n);
  }
}

void LwsEmit(int lws_level, const char* line) {
  Level level = Level::kDebug;
  if (lws_level & LLL_ERR) {
    level = Level::kError;
  } else if (lws_level & LLL_WARN) {
    level = Level::kWarn;
  } else if (lws_level & (LLL_NOTICE | LLL_USER)) {
    level = Level::kInfo;
  }
  if (!Enabled(level)) return;
  // lws lines carry their own timestamp prefix and trailing newline: strip both.
  const char* p = line;
  if (p[0] == '[') {
    const char* close = std::strchr(p, ']');
    if (close != nullptr) p = close + 1;
  }
  while (*p == ' ') ++p;
  size_t n = std::strlen(p);
  while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r')) --n;
  Logf(level, "lws", "%.*s", static_cast<int>(n), p);
}

}  // namespace

void SetLevel(Level level) {
  g_level.store(static_cast<int>(level));
}
Level GetLevel() {
  return static_cast<Level>(g_level.load());
}
void SetFormat(Format format) {
  g_format.store(static_cast<int>(format));
}
bool Enabled(Level level) {
  return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed);
}

bool ParseLevel(std::string_view text, Level* out) {
  if (text == "debug") {
    *out = Level::kDebug;
  } else if (text == "info") {
    *out = Level::kInfo;
  } else if (text == "warn" || text == "warning") {
    *out = Level::kWarn;
  } else if (text == "error") {
    *out = Level::kError;
  } else {
    return false;
  }
  return true;
}

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "info";
}

void Logf(Level level, const char* subsystem, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  VLogf(level, subsystem, fmt, ap);
  va_end(ap);
}

void VLogf(Level level, const char* subsystem, const char* fmt, va_list ap) {
  if (!Enabled(level)) return;
  char msg[2048];
  int n = std::vsnprintf(msg, sizeof(msg), fmt, ap);
  if (n < 0) return;
  size_t msg_len = static_cast<size_t>(n) < sizeof(msg) ? static_cast<size_t>(n) : sizeof(msg) - 1;

  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  tm tm_utc{};
  gmtime_r(&ts.tv_sec, &tm_utc);
  char when[96];
  std::snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm_utc.tm_year + 1900,
                tm_utc.tm_mon + 1, tm_utc.tm_mday, tm_utc.tm_hour, tm_utc.tm_min, tm_utc.tm_sec,
                ts.tv_nsec / 1000000);

  if (static_cast<Format>(g_format.load()) == Format::kJson) {
    JsonWriter w;
    w.BeginObject();
    w.Key("ts").String(when);
    w.Key("level").String(LevelName(level));
    w.Key("subsystem").String(subsystem);
    w.Key("msg").String(std::string_view(msg, msg_len));
    w.EndObject();
    std::string line = w.Take();
    line.push_back('\n');
    WriteLine(line.data(), line.size());
    return;
  }
  char line[2304];
  int len = std::snprintf(line, sizeof(line), "%s %-5s %-8s %.*s\n", when, LevelName(level).data(),
                          subsystem, static_cast<int>(msg_len), msg);
  if (len < 0) return;
  size_t out =
      static_cast<size_t>(len) < sizeof(line) ? static_cast<size_t>(len) : sizeof(line) - 1;
  WriteLine(line, out);
}

void InstallLwsLogger(Level level) {
  int mask = LLL_ERR | LLL_WARN;
  if (level <= Level::kInfo) mask |= LLL_NOTICE | LLL_USER;
  lws_set_log_level(mask, LwsEmit);
}

}  // namespace edgewatch::log
