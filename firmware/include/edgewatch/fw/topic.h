// Topic names and subscription patterns (MQTT-style).
//
// A topic name is 1..256 bytes of UTF-8 made of '/'-separated segments; segments may be empty
// ("a//b"), and '+', '#' and NUL are not allowed in names. A pattern is a topic name in which a
// whole segment may be '+' (exactly one segment, possibly empty) and the last segment may be '#'
// (any remainder, including none: "a/#" matches "a", "a/b" and "a/b/c"; "#" matches everything).
// Pure functions; any thread.
#pragma once

#include <string_view>

#include "edgewatch/base/status.h"

namespace edgewatch::fw {

inline constexpr size_t kMaxTopicBytes = 256;

// OK, or InvalidArgument naming what is wrong.
Status ValidateTopicName(std::string_view topic);
Status ValidatePattern(std::string_view pattern);

// True when `pattern` (assumed valid) matches the concrete `topic`.
bool TopicMatches(std::string_view pattern, std::string_view topic);

// True when every topic that `inner` can match is also matched by `outer` (both valid patterns).
// Used for authorisation: a subscription must lie inside a read scope.
bool PatternCovers(std::string_view outer, std::string_view inner);

// The first segment of a topic ("pipeline/cam1/frame" -> "pipeline").
std::string_view FirstSegment(std::string_view topic);

}  // namespace edgewatch::fw
