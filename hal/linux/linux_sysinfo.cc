#include "edgewatch/hal/linux_sysinfo.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "internal/fs.h"

namespace edgewatch::hal {

namespace {

std::string_view NextToken(std::string_view& s) {
  size_t start = s.find_first_not_of(" \t");
  if (start == std::string_view::npos) {
    s = {};
    return {};
  }
  size_t end = s.find_first_of(" \t\n", start);
  if (end == std::string_view::npos) end = s.size();
  std::string_view token = s.substr(start, end - start);
  s.remove_prefix(end);
  return token;
}

bool ParseU64(std::string_view s, uint64_t* out) {
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

bool ParseI64(std::string_view s, int64_t* out) {
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

// /proc/stat's aggregate "cpu" line: user nice system idle iowait irq softirq steal [guest ...].
// Guest time is already counted in user/nice, so only the first eight fields are summed.
Status ParseCpuTimes(std::string_view stat, const std::string& path, uint64_t* busy,
                     uint64_t* total) {
  std::string_view line = stat.substr(0, stat.find('\n'));
  if (NextToken(line) != "cpu") return Internal(path + ": no aggregate \"cpu\" line first");
  uint64_t fields[8] = {};
  int n = 0;
  for (; n < 8; ++n) {
    std::string_view tok = NextToken(line);
    if (tok.empty()) break;
    if (!ParseU64(tok, &fields[n])) return Internal(path + ": bad cpu counter");
  }
  if (n < 4) return Internal(path + ": too few cpu counters");
  uint64_t sum = 0;
  for (uint64_t f : fields) sum += f;
  uint64_t idle = fields[3] + fields[4];  // idle + iowait
  *total = sum;
  *busy = sum - idle;
  return OkStatus();
}

// "MemTotal:       16318480 kB" -> bytes, for each key asked for.
Status ParseMeminfo(std::string_view text, const std::string& path, SysSample* out) {
  uint64_t total_kb = 0, avail_kb = 0, free_kb = 0, buffers_kb = 0, cached_kb = 0;
  bool have_total = false, have_avail = false;
  while (!text.empty()) {
    size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view key = line.substr(0, colon);
    std::string_view rest = line.substr(colon + 1);
    uint64_t value = 0;
    if (!ParseU64(NextToken(rest), &value)) continue;
    if (key == "MemTotal") {
      total_kb = value;
      have_total = true;
    } else if (key == "MemAvailable") {
      avail_kb = value;
      have_avail = true;
    } else if (key == "MemFree") {
      free_kb = value;
    } else if (key == "Buffers") {
      buffers_kb = value;
    } else if (key == "Cached") {
      cached_kb = value;
    }
  }
  if (!have_total || total_kb == 0) return Internal(path + ": no MemTotal");
  // Kernels before 3.14 have no MemAvailable: approximate it.
  if (!have_avail) avail_kb = free_kb + buffers_kb + cached_kb;
  avail_kb = std::min(avail_kb, total_kb);
  out->mem_total_bytes = total_kb * 1024;
  out->mem_used_bytes = (total_kb - avail_kb) * 1024;
  return OkStatus();
}

std::string TrimLine(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\0')) s.pop_back();
  return s;
}

// Zones are read in numeric order so that duplicate types get stable keys.
void ReadThermalZones(const std::string& dir, std::map<std::string, double>* out) {
  namespace fs = std::filesystem;
  std::vector<std::pair<int, std::string>> zones;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    constexpr std::string_view kPrefix = "thermal_zone";
    if (name.compare(0, kPrefix.size(), kPrefix) != 0) continue;
    int64_t n = 0;
    if (!ParseI64(std::string_view(name).substr(kPrefix.size()), &n)) continue;
    zones.emplace_back(static_cast<int>(n), it->path().string());
  }
  std::sort(zones.begin(), zones.end());
  for (const auto& [n, path] : zones) {
    auto type = internal::ReadSmallFile(path + "/type", 256);
    auto temp = internal::ReadSmallFile(path + "/temp", 256);
    // Some zones fail to read (ENODATA, EIO) while their sensor is off: leave them out.
    if (!type.ok() || !temp.ok()) continue;
    int64_t millideg = 0;
    if (!ParseI64(TrimLine(std::move(*temp)), &millideg)) continue;
    std::string key = TrimLine(std::move(*type));
    if (key.empty()) key = "thermal_zone" + std::to_string(n);
    if (out->count(key) != 0) {
      key.push_back('#');
      key.append(std::to_string(n));
    }
    (*out)[key] = static_cast<double>(millideg) / 1000.0;
  }
}

}  // namespace

LinuxSysInfo::LinuxSysInfo(std::string root) : root_(std::move(root)) {}

Result<SysSample> LinuxSysInfo::DoSample() {
  SysSample sample;

  const std::string stat_path = root_ + "/proc/stat";
  EW_ASSIGN_OR_RETURN(std::string stat, internal::ReadSmallFile(stat_path, 1 << 20));
  uint64_t busy = 0, total = 0;
  EW_TRY(ParseCpuTimes(stat, stat_path, &busy, &total));
  // Counters only grow; if they did not (a fake tree rewritten in tests, a wrapped counter),
  // report 0 rather than nonsense.
  if (total > prev_total_ && busy >= prev_busy_) {
    sample.cpu_percent =
        100.0 * static_cast<double>(busy - prev_busy_) / static_cast<double>(total - prev_total_);
    sample.cpu_percent = std::clamp(sample.cpu_percent, 0.0, 100.0);
  }
  prev_busy_ = busy;
  prev_total_ = total;

  const std::string meminfo_path = root_ + "/proc/meminfo";
  EW_ASSIGN_OR_RETURN(std::string meminfo, internal::ReadSmallFile(meminfo_path));
  EW_TRY(ParseMeminfo(meminfo, meminfo_path, &sample));

  const std::string uptime_path = root_ + "/proc/uptime";
  EW_ASSIGN_OR_RETURN(std::string uptime, internal::ReadSmallFile(uptime_path, 256));
  std::string_view rest = uptime;
  std::string_view first = NextToken(rest);
  // from_chars, not strtod: independent of the locale's decimal point.
  auto [ptr, ec] = std::from_chars(first.data(), first.data() + first.size(), sample.uptime_s);
  if (first.empty() || ec != std::errc() || ptr != first.data() + first.size()) {
    return Internal(uptime_path + ": bad uptime");
  }

  ReadThermalZones(root_ + "/sys/class/thermal", &sample.temperatures_c);
  return sample;
}

}  // namespace edgewatch::hal
