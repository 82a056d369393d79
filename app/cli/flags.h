// FlagParser: the per-command option parser of the edgewatch CLI. Long options only
// (`--name value` or `--name=value`), `-h`/`--help`, `--` ends options; everything else is a
// positional argument, in order. Single-threaded.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace edgewatch::cli {

class FlagParser {
 public:
  // `command`: e.g. "tail"; `positional`: usage text for positionals, e.g. "PATTERN...";
  // `description`: one paragraph shown by --help.
  FlagParser(std::string command, std::string positional, std::string description);

  // Registers an option. `out` keeps its value when the option is absent (so it holds the
  // default); the pointers must outlive Parse().
  void String(std::string name, std::string* out, std::string value_name, std::string help);
  // Integers must lie in [min, max].
  void Int(std::string name, int64_t* out, std::string value_name, std::string help,
           int64_t min = 0, int64_t max = INT64_MAX);
  void Bool(std::string name, bool* out, std::string help);

  enum class Outcome { kOk, kHelp, kError };
  // Parses `args` (the words after the command name). kHelp when --help/-h is present;
  // kError with `*error` set for an unknown option, a missing or bad value.
  Outcome Parse(const std::vector<std::string>& args, std::vector<std::string>* positionals,
                std::string* error);

  // "usage: edgewatch tail [options] PATTERN...\n\n<description>\n\noptions:\n  --url URL ..."
  std::string Help() const;

  // Parse() for a command's main: on kHelp prints Help() to stdout and returns 0; on kError
  // prints "edgewatch <command>: <error>" and a hint to stderr and returns 2; nullopt on kOk.
  std::optional<int> ParseOrExit(const std::vector<std::string>& args,
                                 std::vector<std::string>* positionals);

 private:
  enum class Kind { kString, kInt, kBool };
  struct Flag {
    std::string name;
    Kind kind;
    void* out;
    std::string value_name;
    std::string help;
    int64_t min = 0, max = 0;
  };
  const Flag* Find(const std::string& name) const;

  std::string command_, positional_, description_;
  std::vector<Flag> flags_;
};

// Exit codes shared by every command.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // runtime failure: connect, protocol, rejected input
inline constexpr int kExitUsage = 2;    // bad command line

}  // namespace edgewatch::cli
