#include "edgewatch/base/json.h"

#include <cmath>
#include <cstring>

namespace edgewatch {

bool IsValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const unsigned char* end = p + s.size();
  while (p < end) {
    unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int n;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (end - p <= n) return false;
    for (int i = 1; i <= n; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000)) return false;
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    p += n + 1;
  }
  return true;
}

int JsonNestingDepth(std::string_view text, int limit) {
  int depth = 0;
  int max_depth = 0;
  bool in_string = false;
  bool escape = false;
  for (char c : text) {
    if (in_string) {
      if (escape) {
        escape = false;
      } else if (c == '\\') {
        escape = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > max_depth) {
        max_depth = depth;
        if (max_depth > limit) return max_depth;
      }
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return max_depth;
}

Result<JsonPtr> ParseJson(std::string_view text, const JsonLimits& limits) {
  if (text.size() > limits.max_bytes) return InvalidArgument("message too large");
  if (!IsValidUtf8(text)) return InvalidArgument("invalid UTF-8");
  if (JsonNestingDepth(text, limits.max_depth) > limits.max_depth) {
    return InvalidArgument("JSON nested too deeply");
  }
  const char* end = nullptr;
  JsonPtr root(cJSON_ParseWithLengthOpts(text.data(), text.size(), &end, 0));
  if (!root) return InvalidArgument("malformed JSON");
  // Only whitespace may follow the document.
  const char* stop = text.data() + text.size();
  for (const char* p = end; p != nullptr && p < stop; ++p) {
    if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n' && *p != '\0') {
      return InvalidArgument("trailing characters after JSON");
    }
  }
  return root;
}

std::string PrintJson(const cJSON* node) {
  char* s = cJSON_PrintUnformatted(node);
  if (s == nullptr) return "null";
  std::string out(s);
  cJSON_free(s);
  return out;
}

std::optional<std::string_view> GetString(const cJSON* obj, const char* key) {
  const cJSON* item = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (!cJSON_IsString(item) || item->valuestring == nullptr) return std::nullopt;
  return std::string_view(item->valuestring);
}

std::optional<double> GetNumber(const cJSON* obj, const char* key) {
  const cJSON* item = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (!cJSON_IsNumber(item)) return std::nullopt;
  return item->valuedouble;
}

std::optional<int64_t> GetInt(const cJSON* obj, const char* key) {
  auto d = GetNumber(obj, key);
  if (!d || std::floor(*d) != *d || std::fabs(*d) > 9.007199254740992e15) return std::nullopt;
  return static_cast<int64_t>(*d);
}

std::optional<bool> GetBool(const cJSON* obj, const char* key) {
  const cJSON* item = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (!cJSON_IsBool(item)) return std::nullopt;
  return cJSON_IsTrue(item) != 0;
}

}  // namespace edgewatch
