// Output of `edgewatch bench`: a JSON document (--json; the format is described in
// app/cli/README.md and read by bench/run.sh) and a human summary.
#pragma once

#include <string>

#include "bench/load_generator.h"

namespace edgewatch::cli::bench {

// `target`: the URL the subscribers used; `publisher`: "ingest:<path>" or the publisher's URL.
std::string ReportJson(const BenchReport& r, const std::string& target,
                       const std::string& publisher);
std::string ReportText(const BenchReport& r, const std::string& target,
                       const std::string& publisher);

}  // namespace edgewatch::cli::bench
