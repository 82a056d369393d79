// edgewatch: the command-line client of edgewatchd. `edgewatch <command> [options]`; the commands
// are listed in commands.h.
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "commands.h"
#include "flags.h"

#ifndef EDGEWATCH_VERSION
#define EDGEWATCH_VERSION "0.0.0"
#endif

namespace edgewatch::cli {
namespace {

struct Command {
  const char* name;
  int (*run)(const std::vector<std::string>& args);
  const char* summary;
};

constexpr Command kCommands[] = {
#define EDGEWATCH_CLI_ENTRY(name, fn, summary) {name, fn, summary},
    EDGEWATCH_CLI_COMMANDS(EDGEWATCH_CLI_ENTRY)
#undef EDGEWATCH_CLI_ENTRY
};

const Command* FindCommand(std::string_view name) {
  for (const Command& c : kCommands) {
    if (name == c.name) return &c;
  }
  return nullptr;
}

void PrintUsage(FILE* out) {
  std::fprintf(out,
               "usage: edgewatch <command> [options] [args]\n"
               "\n"
               "Command-line client of the edgewatchd telemetry gateway.\n"
               "\n"
               "commands:\n");
  for (const Command& c : kCommands) std::fprintf(out, "  %-10s %s\n", c.name, c.summary);
  std::fprintf(out,
               "  %-10s %s\n"
               "\n"
               "'edgewatch <command> --help' describes a command's options.\n"
               "Exit status: 0 success, 1 failure (connection, protocol, rejected input),\n"
               "2 bad command line.\n",
               "help", "show this help, or 'help COMMAND' for a command's help");
}

int Main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    PrintUsage(stderr);
    return kExitUsage;
  }
  const std::string& name = args[0];
  if (name == "help" || name == "--help" || name == "-h") {
    if (args.size() >= 2) {
      const Command* c = FindCommand(args[1]);
      if (c == nullptr) {
        std::fprintf(stderr, "edgewatch: unknown command '%s'\n", args[1].c_str());
        return kExitUsage;
      }
      return c->run({"--help"});
    }
    PrintUsage(stdout);
    return kExitOk;
  }
  if (name == "--version" || name == "version") {
    std::printf("edgewatch %s\n", EDGEWATCH_VERSION);
    return kExitOk;
  }
  const Command* c = FindCommand(name);
  if (c == nullptr) {
    std::fprintf(stderr, "edgewatch: unknown command '%s' (see 'edgewatch help')\n", name.c_str());
    return kExitUsage;
  }
  args.erase(args.begin());
  return c->run(args);
}

}  // namespace
}  // namespace edgewatch::cli

int main(int argc, char** argv) {
  return edgewatch::cli::Main(argc, argv);
}
