#include "edgewatch/hal/digital.h"

namespace edgewatch::hal {

Result<Edge> DigitalIn::ReadEdge() {
  if (!filter_.report_activate && !filter_.report_deactivate) {
    return FailedPrecondition("line has no edge detection (board file: \"edge\": \"none\")");
  }
  for (;;) {
    // Unavailable here means "nothing more pending" and is passed on as such.
    EW_ASSIGN_OR_RETURN(Edge edge, DoReadEdge());
    if (have_last_ && filter_.debounce_ns > 0) {
      int64_t since = edge.timestamp_ns - last_accepted_ns_;
      // A negative difference (a clock step on old kernels' realtime stamps) is not a bounce.
      if (since >= 0 && since < filter_.debounce_ns) {
        ++bounces_;
        continue;
      }
    }
    have_last_ = true;
    last_accepted_ns_ = edge.timestamp_ns;
    bool wanted =
        edge.level == Level::kActive ? filter_.report_activate : filter_.report_deactivate;
    if (wanted) return edge;
  }
}

}  // namespace edgewatch::hal
