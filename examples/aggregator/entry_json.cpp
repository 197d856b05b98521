#include "aggregator/entry_json.hpp"

#include <charconv>
#include <cmath>
#include <cstring>
#include <iterator>

#include <fmt/format.h>

#include "sidecar/core/json_escape.hpp"

namespace logferry::aggregator {
namespace {

constexpr std::string_view kKeyPrefix = "{\"source_id\":";
constexpr std::string_view kOffsetField = ",\"offset\":";

}  // namespace

void append_hex(std::string& out, std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  const size_t start = out.size();
  out.resize(start + bytes.size() * 2);
  char* p = out.data() + start;
  for (const char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    *p++ = kHex[c >> 4];
    *p++ = kHex[c & 0xF];
  }
}

void append_base64(std::string& out, std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const auto* in = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t n = bytes.size();
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    const uint32_t v = (uint32_t{in[i]} << 16) | (uint32_t{in[i + 1]} << 8) | in[i + 2];
    const char quad[4] = {kAlphabet[v >> 18], kAlphabet[(v >> 12) & 63], kAlphabet[(v >> 6) & 63], kAlphabet[v & 63]};
    out.append(quad, 4);
  }
  if (i + 1 == n) {
    const uint32_t v = uint32_t{in[i]} << 16;
    const char quad[4] = {kAlphabet[v >> 18], kAlphabet[(v >> 12) & 63], '=', '='};
    out.append(quad, 4);
  } else if (i + 2 == n) {
    const uint32_t v = (uint32_t{in[i]} << 16) | (uint32_t{in[i + 1]} << 8);
    const char quad[4] = {kAlphabet[v >> 18], kAlphabet[(v >> 12) & 63], kAlphabet[(v >> 6) & 63], '='};
    out.append(quad, 4);
  }
}

void append_uint(std::string& out, uint64_t n) {
  static constexpr char kPairs[] =
      "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
      "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
      "8081828384858687888990919293949596979899";
  char buf[24];
  char* const end = buf + sizeof buf;
  char* p = end;
  // Timestamps have 19 digits: eight at a time in 32-bit arithmetic, two per step.
  while (n >= 100000000) {
    auto chunk = static_cast<uint32_t>(n % 100000000);
    n /= 100000000;
    for (int i = 0; i < 4; ++i, chunk /= 100) std::memcpy(p -= 2, kPairs + 2 * (chunk % 100), 2);
  }
  auto rest = static_cast<uint32_t>(n);
  for (; rest >= 100; rest /= 100) std::memcpy(p -= 2, kPairs + 2 * (rest % 100), 2);
  if (rest >= 10) std::memcpy(p -= 2, kPairs + 2 * rest, 2);
  else *--p = static_cast<char>('0' + rest);
  out.append(p, static_cast<size_t>(end - p));
}

void append_int(std::string& out, int64_t n) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, static_cast<size_t>(r.ptr - buf));
}

void append_any_value_json(std::string& out, const v1::AnyValue& value) {
  switch (value.value_case()) {
    case v1::AnyValue::kStringValue: append_json_string(out, value.string_value()); break;
    case v1::AnyValue::kBoolValue: out.append(value.bool_value() ? "true" : "false"); break;
    case v1::AnyValue::kIntValue: append_int(out, value.int_value()); break;
    case v1::AnyValue::kDoubleValue: {
      const double d = value.double_value();
      if (std::isnan(d)) out.append("\"NaN\"");
      else if (std::isinf(d)) out.append(d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
      else fmt::format_to(std::back_inserter(out), "{}", d);
      break;
    }
    case v1::AnyValue::kArrayValue: {
      out.push_back('[');
      bool first = true;
      for (const auto& v : value.array_value().values()) {
        if (!first) out.push_back(',');
        first = false;
        append_any_value_json(out, v);
      }
      out.push_back(']');
      break;
    }
    case v1::AnyValue::kKvlistValue: append_key_values_json(out, value.kvlist_value().values()); break;
    case v1::AnyValue::kBytesValue:
      out.push_back('"');
      append_base64(out, value.bytes_value());
      out.push_back('"');
      break;
    case v1::AnyValue::VALUE_NOT_SET: out.append("null"); break;
  }
}

void append_key_values_json(std::string& out, const google::protobuf::RepeatedPtrField<v1::KeyValue>& kvs) {
  out.push_back('{');
  bool first = true;
  for (const auto& kv : kvs) {
    if (!first) out.push_back(',');
    first = false;
    append_json_string(out, kv.key());
    out.push_back(':');
    append_any_value_json(out, kv.value());
  }
  out.push_back('}');
}

bool parse_line_key(std::string_view line, LineKey& key) {
  if (!line.starts_with(kKeyPrefix)) return false;
  size_t i = kKeyPrefix.size();
  if (i >= line.size() || line[i] != '"') return false;
  const size_t id_start = i++;
  // Find the closing quote of the JSON string, skipping escapes.
  while (i < line.size() && line[i] != '"') i += line[i] == '\\' ? 2 : 1;
  if (i >= line.size()) return false;
  key.source_id_json = line.substr(id_start, i + 1 - id_start);
  line.remove_prefix(i + 1);
  if (!line.starts_with(kOffsetField)) return false;
  line.remove_prefix(kOffsetField.size());
  const auto r = std::from_chars(line.data(), line.data() + line.size(), key.offset);
  return r.ec == std::errc() && r.ptr != line.data();
}

}  // namespace logferry::aggregator
