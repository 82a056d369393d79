#include "edgewatch/base/json_writer.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace edgewatch {

void JsonWriter::Separate() {
  if (!first_) out_.push_back(',');
  first_ = false;
}

JsonWriter& JsonWriter::BeginObject() {
  Separate();
  out_.push_back('{');
  first_ = true;
  return *this;
}
JsonWriter& JsonWriter::EndObject() {
  out_.push_back('}');
  first_ = false;
  return *this;
}
JsonWriter& JsonWriter::BeginArray() {
  Separate();
  out_.push_back('[');
  first_ = true;
  return *this;
}
JsonWriter& JsonWriter::EndArray() {
  out_.push_back(']');
  first_ = false;
  return *this;
}
JsonWriter& JsonWriter::Key(std::string_view key) {
  Separate();
  AppendEscaped(out_, key);
  out_.push_back(':');
  first_ = true;
  return *this;
}
JsonWriter& JsonWriter::String(std::string_view value) {
  Separate();
  AppendEscaped(out_, value);
  return *this;
}
JsonWriter& JsonWriter::Int(int64_t value) {
  Separate();
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), value);
  out_.append(buf, r.ptr);
  return *this;
}
JsonWriter& JsonWriter::Uint(uint64_t value) {
  Separate();
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), value);
  out_.append(buf, r.ptr);
  return *this;
}
JsonWriter& JsonWriter::Double(double value) {
  Separate();
  if (!std::isfinite(value)) {
    out_ += "null";
    return *this;
  }
  // Integral values print without a fraction; others with up to 15 significant digits
  // (shortest round-trip would need GCC 11's floating to_chars, which is fine but %.15g
  // keeps output stable across GCC 11/12).
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    first_ = true;  // Separate() already ran.
    return Int(static_cast<int64_t>(value));
  }
  char buf[32];
  int n = std::snprintf(buf, sizeof(buf), "%.15g", value);
  out_.append(buf, static_cast<size_t>(n));
  return *this;
}
JsonWriter& JsonWriter::Bool(bool value) {
  Separate();
  out_ += value ? "true" : "false";
  return *this;
}
JsonWriter& JsonWriter::Null() {
  Separate();
  out_ += "null";
  return *this;
}
JsonWriter& JsonWriter::Raw(std::string_view json) {
  Separate();
  out_.append(json);
  return *this;
}

void JsonWriter::AppendEscaped(std::string& out, std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xf]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
}

}  // namespace edgewatch
