#include "bench/proc_stats.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "edgewatch/base/clock.h"

namespace edgewatch::cli::bench {
namespace {

Result<std::string> ReadSmallFile(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "re");
  if (f == nullptr) return ErrnoToStatus(errno, path);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
  std::fclose(f);
  return out;
}

int64_t StatusField(const std::string& status, const char* name) {
  size_t at = status.find(name);
  if (at == std::string::npos) return 0;
  return std::strtoll(status.c_str() + at + std::strlen(name), nullptr, 10);
}

}  // namespace

Result<ProcSample> SampleProcess(pid_t pid) {
  ProcSample s;
  std::string base = "/proc/" + std::to_string(pid);
  EW_ASSIGN_OR_RETURN(std::string stat, ReadSmallFile(base + "/stat"));
  // The command name (field 2) is in parentheses and may contain spaces: fields are counted from
  // the last ')'. utime and stime are fields 14 and 15, num_threads is field 20.
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return Internal("unexpected format of " + base + "/stat");
  const char* p = stat.c_str() + close + 2;  // field 3
  int64_t fields[18] = {};
  for (int i = 3; i <= 20; ++i) {
    char* end = nullptr;
    fields[i - 3] = std::strtoll(p, &end, 10);
    if (end == p) {
      if (i == 3)
        ++end;  // field 3 is a letter (state)
      else
        return Internal("unexpected format of " + base + "/stat");
    }
    p = end;
    while (*p == ' ') ++p;
  }
  static const int64_t ticks = sysconf(_SC_CLK_TCK);
  s.cpu_us = (fields[14 - 3] + fields[15 - 3]) * 1000000 / ticks;
  s.threads = fields[20 - 3];
  EW_ASSIGN_OR_RETURN(std::string status, ReadSmallFile(base + "/status"));
  s.rss_kib = StatusField(status, "VmRSS:");
  s.hwm_kib = StatusField(status, "VmHWM:");
  s.mono_us = MonotonicMicros();
  return s;
}

int64_t SelfCpuMicros() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000LL + ru.ru_utime.tv_usec +
         ru.ru_stime.tv_usec;
}

}  // namespace edgewatch::cli::bench
