// JsonWriter: appends compact JSON to a std::string without building a tree.
//
// Used on hot paths (event frames are serialised once per event) and for HTTP bodies. The caller
// is responsible for well-formed nesting; commas between members/elements are inserted
// automatically. Not thread-safe; one writer per thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace edgewatch {

class JsonWriter {
 public:
  JsonWriter() = default;
  // Starts with `reserve_prefix` bytes of zeroed headroom (for LWS_PRE); Take() includes them.
  explicit JsonWriter(size_t reserve_prefix) : out_(reserve_prefix, '\0') {}

  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  // Emits `"key":` (escaped) inside an object.
  JsonWriter& Key(std::string_view key);
  JsonWriter& String(std::string_view value);
  JsonWriter& Int(int64_t value);
  JsonWriter& Uint(uint64_t value);
  // Non-finite values are written as null (JSON has no NaN).
  JsonWriter& Double(double value);
  JsonWriter& Bool(bool value);
  JsonWriter& Null();
  // Appends already-serialised JSON (an object, array or scalar) as one value.
  JsonWriter& Raw(std::string_view json);

  const std::string& str() const { return out_; }
  std::string Take() { return std::move(out_); }
  size_t size() const { return out_.size(); }

  // Appends `s` escaped as a JSON string (with quotes) to `out`.
  static void AppendEscaped(std::string& out, std::string_view s);

 private:
  void Separate();

  std::string out_;
  // true right after '{', '[' or a key: the next value needs no comma.
  bool first_ = true;
};

}  // namespace edgewatch
