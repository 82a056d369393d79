// The edgewatch CLI's subcommands.
//
// To add a command: write <name>.cc defining `int Run<Name>(const std::vector<std::string>& args)`
// (args are the words after the command name; parse them with FlagParser so --help works), add
// one X(...) line below, and list the file in CMakeLists.txt. main.cc builds the dispatch table
// and `edgewatch help` from this list.
#pragma once

#include <string>
#include <vector>

// X(name, function, one-line summary)
#define EDGEWATCH_CLI_COMMANDS(X)                                                              \
  X("tail", RunTail, "print events on topics matching PATTERNs as JSON lines (WebSocket)")     \
  X("publish", RunPublish, "publish events through the gateway's ingest socket")               \
  X("topics", RunTopics, "list known topics with their last seq and event time (HTTP)")        \
  X("token", RunToken, "mint an access token signed with the gateway's secret")                \
  X("bench", RunBench, "load generator: N subscribers, one publisher, latency/CPU/RSS report") \
  X("gpio", RunGpio, "show the GPIO lines by role, their levels and recent changes (HTTP)")    \
  X("command", RunCommand,                                                                     \
    "send an operator command to a pipeline and print its result (WebSocket)")                 \
  X("pair", RunPair, "mint a phone's token; print its dashboard URLs and a QR code to scan")

namespace edgewatch::cli {

#define EDGEWATCH_CLI_DECLARE(name, fn, summary) int fn(const std::vector<std::string>& args);
EDGEWATCH_CLI_COMMANDS(EDGEWATCH_CLI_DECLARE)
#undef EDGEWATCH_CLI_DECLARE

}  // namespace edgewatch::cli
