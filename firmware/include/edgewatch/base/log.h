// Logging: one line per event on stderr (journald-friendly), with level and subsystem.
//
// Thread-safe: each line is formatted into a local buffer and written with one write(2).
// Callers must never pass a token, secret or full query string (see docs/operations.md).
#pragma once

#include <cstdarg>
#include <string_view>

namespace edgewatch::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };
enum class Format { kText, kJson };

// Process-wide settings; any thread.
void SetLevel(Level level);
Level GetLevel();
void SetFormat(Format format);
// Parses "debug|info|warn|error"; returns false on anything else.
bool ParseLevel(std::string_view text, Level* out);
std::string_view LevelName(Level level);

bool Enabled(Level level);
// printf-style; `subsystem` is a short static name such as "net" or "ingest".
void Logf(Level level, const char* subsystem, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));
void VLogf(Level level, const char* subsystem, const char* fmt, va_list ap);

// Routes libwebsockets' own log lines through the same formatter (subsystem "lws").
void InstallLwsLogger(Level level);

}  // namespace edgewatch::log

#define EW_LOG(level, subsystem, ...)                                                            \
  do {                                                                                           \
    if (::edgewatch::log::Enabled(level)) ::edgewatch::log::Logf(level, subsystem, __VA_ARGS__); \
  } while (0)
#define EW_DEBUG(sub, ...) EW_LOG(::edgewatch::log::Level::kDebug, sub, __VA_ARGS__)
#define EW_INFO(sub, ...) EW_LOG(::edgewatch::log::Level::kInfo, sub, __VA_ARGS__)
#define EW_WARN(sub, ...) EW_LOG(::edgewatch::log::Level::kWarn, sub, __VA_ARGS__)
#define EW_ERROR(sub, ...) EW_LOG(::edgewatch::log::Level::kError, sub, __VA_ARGS__)
