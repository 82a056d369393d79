// Well-known filesystem locations shared by edgewatchd and the edgewatch CLI, so that both sides
// find the ingest socket without configuration. Any thread; no side effects (nothing is created).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

namespace edgewatch {

// What the default-path rules look at, captured so the rules can be tested without touching the
// real environment.
struct RuntimeEnv {
  // $RUNTIME_DIRECTORY (set by systemd's RuntimeDirectory=); nullopt when unset.
  std::optional<std::string> runtime_directory;
  // Whether /run/edgewatch exists, is a directory, and is writable and searchable by this process.
  bool run_dir_writable = false;
  uid_t uid = 0;
};

// Reads the real environment: getenv("RUNTIME_DIRECTORY"), access("/run/edgewatch", W_OK|X_OK)
// on a directory, getuid().
RuntimeEnv CurrentRuntimeEnv();

// The directory holding runtime files (the ingest socket), first rule that applies:
//   1. $RUNTIME_DIRECTORY when set and non-empty (when systemd lists several, colon-separated,
//      the first one);
//   2. /run/edgewatch when it is a writable directory;
//   3. /tmp/edgewatch-<uid>.
// The caller that creates files there (edgewatchd) creates a missing rule-3 directory with mode
// 0700; readers (the CLI) never create anything.
std::string DefaultRuntimeDir(const RuntimeEnv& env);
std::string DefaultRuntimeDir();

// DefaultRuntimeDir() + "/ingest.sock": the default for edgewatchd --ingest and
// edgewatch publish --ingest.
std::string DefaultIngestPath(const RuntimeEnv& env);
std::string DefaultIngestPath();

}  // namespace edgewatch
