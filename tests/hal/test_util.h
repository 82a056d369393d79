// Helpers shared by the HAL tests: a self-removing temp directory and file writing.
#pragma once

#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace edgewatch::hal::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with its contents on destruction.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string templ = std::string(base && *base ? base : "/tmp") + "/edgewatch-hal-XXXXXX";
    char* made = ::mkdtemp(templ.data());
    path_ = made ? made : "";
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }

  // Writes `content` to `relative` (creating parent directories); returns the full path.
  std::string Write(const std::string& relative, std::string_view content) const {
    std::filesystem::path p = std::filesystem::path(path_) / relative;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    return p.string();
  }

 private:
  std::string path_;
};

// The source tree's boards/ directory (ctest sets EDGEWATCH_SOURCE_DIR); "" when unset.
inline std::string BoardsDir() {
  const char* src = std::getenv("EDGEWATCH_SOURCE_DIR");
  return src && *src ? std::string(src) + "/boards" : std::string();
}

}  // namespace edgewatch::hal::testing
