#include "edgewatch/fw/topic.h"

#include <string>

#include "edgewatch/base/json.h"

namespace edgewatch::fw {
namespace {

// Splits off the next segment of `s` at '/'; `s` becomes the rest (without the '/').
// `more` reports whether a '/' was found (so an empty remainder is still a segment).
std::string_view NextSegment(std::string_view& s, bool& more) {
  size_t slash = s.find('/');
  std::string_view seg = s.substr(0, slash);
  if (slash == std::string_view::npos) {
    s = {};
    more = false;
  } else {
    s.remove_prefix(slash + 1);
    more = true;
  }
  return seg;
}

Status CheckCommon(std::string_view s, const char* what) {
  if (s.empty()) return InvalidArgument(std::string(what) + " is empty");
  if (s.size() > kMaxTopicBytes)
    return InvalidArgument(std::string(what) + " is longer than 256 bytes");
  if (s.find('\0') != std::string_view::npos)
    return InvalidArgument(std::string(what) + " contains NUL");
  if (!IsValidUtf8(s)) return InvalidArgument(std::string(what) + " is not valid UTF-8");
  return OkStatus();
}

}  // namespace

Status ValidateTopicName(std::string_view topic) {
  EW_TRY(CheckCommon(topic, "topic"));
  if (topic.find_first_of("+#") != std::string_view::npos) {
    return InvalidArgument("topic must not contain '+' or '#'");
  }
  return OkStatus();
}

Status ValidatePattern(std::string_view pattern) {
  EW_TRY(CheckCommon(pattern, "pattern"));
  std::string_view rest = pattern;
  bool more = true;
  while (more) {
    std::string_view seg = NextSegment(rest, more);
    if (seg == "#") {
      if (more) return InvalidArgument("'#' must be the last segment");
    } else if (seg == "+") {
      // ok
    } else if (seg.find_first_of("+#") != std::string_view::npos) {
      return InvalidArgument("'+' and '#' must occupy a whole segment");
    }
  }
  return OkStatus();
}

bool TopicMatches(std::string_view pattern, std::string_view topic) {
  std::string_view p = pattern;
  std::string_view t = topic;
  bool p_more = true;
  bool t_more = true;
  while (p_more) {
    std::string_view pseg = NextSegment(p, p_more);
    if (pseg == "#") return true;  // matches the remainder, including none
    if (!t_more) return false;     // pattern has more segments than the topic
    std::string_view tseg = NextSegment(t, t_more);
    if (pseg != "+" && pseg != tseg) return false;
  }
  return !t_more;
}

bool PatternCovers(std::string_view outer, std::string_view inner) {
  std::string_view o = outer;
  std::string_view i = inner;
  bool o_more = true;
  bool i_more = true;
  while (o_more) {
    std::string_view oseg = NextSegment(o, o_more);
    if (oseg == "#") return true;
    if (!i_more) return false;
    std::string_view iseg = NextSegment(i, i_more);
    if (iseg == "#") return false;  // inner matches deeper topics than outer allows
    if (oseg == "+") continue;      // any single inner segment (literal or '+') fits
    if (iseg == "+" || iseg != oseg) return false;
  }
  return !i_more;
}

std::string_view FirstSegment(std::string_view topic) {
  return topic.substr(0, topic.find('/'));
}

}  // namespace edgewatch::fw
