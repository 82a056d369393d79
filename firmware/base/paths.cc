#include "edgewatch/base/paths.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

namespace edgewatch {

namespace {
constexpr char kRunDir[] = "/run/edgewatch";
}  // namespace

RuntimeEnv CurrentRuntimeEnv() {
  RuntimeEnv env;
  if (const char* v = std::getenv("RUNTIME_DIRECTORY")) env.runtime_directory = v;
  struct stat st;
  env.run_dir_writable =
      stat(kRunDir, &st) == 0 && S_ISDIR(st.st_mode) && access(kRunDir, W_OK | X_OK) == 0;
  env.uid = getuid();
  return env;
}

std::string DefaultRuntimeDir(const RuntimeEnv& env) {
  if (env.runtime_directory && !env.runtime_directory->empty()) {
    const std::string& dirs = *env.runtime_directory;
    std::string first = dirs.substr(0, dirs.find(':'));
    if (!first.empty()) return first;
  }
  if (env.run_dir_writable) return kRunDir;
  return "/tmp/edgewatch-" + std::to_string(env.uid);
}

std::string DefaultRuntimeDir() {
  return DefaultRuntimeDir(CurrentRuntimeEnv());
}

std::string DefaultIngestPath(const RuntimeEnv& env) {
  return DefaultRuntimeDir(env) + "/ingest.sock";
}

std::string DefaultIngestPath() {
  return DefaultIngestPath(CurrentRuntimeEnv());
}

}  // namespace edgewatch
