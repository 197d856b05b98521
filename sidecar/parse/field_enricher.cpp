#include "sidecar/parse/field_enricher.hpp"

#include <array>
#include <cstring>

#include "sidecar/core/code_points.hpp"
#include "sidecar/parse/entry_writer.hpp"
#include "sidecar/parse/severity.hpp"
#include "sidecar/parse/time_parse.hpp"

namespace logferry {

bool hex_to_id(std::string_view hex, size_t bytes, std::string& out) {
  if (hex.size() != bytes * 2) return false;
  out.resize(bytes);
  bool nonzero = false;
  for (size_t i = 0; i < bytes; ++i) {
    const int hi = hex_digit_value(hex[2 * i]);
    const int lo = hex_digit_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<char>((hi << 4) | lo);
    nonzero = nonzero || out[i] != 0;
  }
  return nonzero;
}

bool apply_traceparent(std::string_view t, v1::Entry& entry) {
  // version(2)-trace(32)-span(16)-flags(2)
  if (t.size() < 55 || t[2] != '-' || t[35] != '-' || t[52] != '-') return false;
  if (t.substr(0, 2) == "ff" || hex_digit_value(t[0]) < 0 || hex_digit_value(t[1]) < 0) return false;
  if (t.substr(0, 2) == "00" && t.size() != 55) return false;
  std::string trace, span;
  const int f1 = hex_digit_value(t[53]);
  const int f2 = hex_digit_value(t[54]);
  if (!hex_to_id(t.substr(3, 32), 16, trace) || !hex_to_id(t.substr(36, 16), 8, span) || f1 < 0 || f2 < 0)
    return false;
  entry.set_trace_id(std::move(trace));
  entry.set_span_id(std::move(span));
  entry.set_flags(static_cast<uint32_t>((f1 << 4) | f2));
  return true;
}

FieldEnricher::FieldEnricher(const FieldNames& names) {
  for (const auto& n : names.message) known_.push_back({n, FieldRole::message});
  for (const auto& n : names.time) known_.push_back({n, FieldRole::time});
  for (const auto& n : names.level) known_.push_back({n, FieldRole::level});
  for (const char* n : {"trace_id", "traceId", "trace.id", "traceid"}) known_.push_back({n, FieldRole::trace_id});
  for (const char* n : {"span_id", "spanId", "span.id", "spanid"}) known_.push_back({n, FieldRole::span_id});
  known_.push_back({"traceparent", FieldRole::traceparent});
  for (const char* n : {"trace_flags", "traceFlags"}) known_.push_back({n, FieldRole::trace_flags});
  for (const auto& k : known_) {
    max_key_ = std::max(max_key_, k.name.size());
    if (!k.name.empty()) first_chars_.set(static_cast<unsigned char>(k.name[0]));
  }
  // Indexes of the names of each length, in table order (the first match wins).
  by_length_.resize(max_key_ + 1);
  for (size_t i = 0; i < known_.size(); ++i) by_length_[known_[i].name.size()].push_back(i);
}

FieldRole FieldEnricher::classify(std::string_view key) const {
  if (key.empty() || key.size() > max_key_ || !first_chars_.test(static_cast<unsigned char>(key[0])))
    return FieldRole::other;
  for (const size_t i : by_length_[key.size()]) {
    const std::string& name = known_[i].name;  // same length: the last byte rules most out before memcmp
    if (name.back() == key.back() && std::memcmp(name.data(), key.data(), key.size()) == 0) return known_[i].role;
  }
  return FieldRole::other;
}

ScalarValue ScalarValue::of(const v1::AnyValue& value) {
  ScalarValue v;
  if (value.has_string_value()) v.kind = Kind::string, v.text = value.string_value();
  else if (value.has_int_value()) v.kind = Kind::integer, v.integer = value.int_value();
  else if (value.has_double_value()) v.kind = Kind::real, v.real = value.double_value();
  return v;
}

bool FieldEnricher::absorb(FieldRole role, v1::AnyValue& value, v1::Entry& entry) const {
  if (role != FieldRole::message) return absorb_scalar(role, ScalarValue::of(value), entry);
  if (entry.has_body()) return false;  // the first message field wins
  entry.mutable_body()->Swap(&value);
  return true;
}

bool FieldEnricher::absorb_scalar(FieldRole role, const ScalarValue& value, v1::Entry& entry) const {
  using Kind = ScalarValue::Kind;
  switch (role) {
    case FieldRole::other:
    case FieldRole::message:
      return false;
    case FieldRole::time: {
      std::optional<uint64_t> t;
      if (value.kind == Kind::string) t = parse_timestamp_text(value.text);
      else if (value.kind == Kind::integer) t = epoch_to_unix_nano(value.integer);
      else if (value.kind == Kind::real) t = epoch_to_unix_nano(value.real);
      if (!t) return false;
      entry.set_time_unix_nano(*t);
      return true;
    }
    case FieldRole::level: {
      if (value.kind == Kind::string) {
        if (value.text.empty() || value.text.size() > 32) return false;
        entry.set_severity_number(severity_from_text(value.text));
        entry.mutable_severity_text()->assign(value.text.data(), value.text.size());
        return true;
      }
      if (value.kind == Kind::integer) {
        const int32_t n = severity_from_number(value.integer);
        if (n == 0) return false;
        entry.set_severity_number(n);
        entry.set_severity_text(std::to_string(value.integer));
        return true;
      }
      return false;
    }
    case FieldRole::trace_id:
    case FieldRole::span_id: {
      if (value.kind != Kind::string) return false;
      const bool is_trace = role == FieldRole::trace_id;
      std::string* id = is_trace ? entry.mutable_trace_id() : entry.mutable_span_id();
      if (hex_to_id(value.text, is_trace ? 16 : 8, *id)) return true;
      id->clear();
      return false;
    }
    case FieldRole::traceparent:
      return value.kind == Kind::string && apply_traceparent(value.text, entry);
    case FieldRole::trace_flags:
      if (value.kind == Kind::integer && value.integer >= 0 && value.integer <= 255) {
        entry.set_flags(static_cast<uint32_t>(value.integer));
        return true;
      }
      if (value.kind == Kind::string && value.text.size() == 2) {
        const int hi = hex_digit_value(value.text[0]);
        const int lo = hex_digit_value(value.text[1]);
        if (hi < 0 || lo < 0) return false;
        entry.set_flags(static_cast<uint32_t>((hi << 4) | lo));
        return true;
      }
      return false;
  }
  return false;
}

void FieldEnricher::add_text_field(std::string_view key, std::string_view value, Infer infer,
                                   v1::Entry& entry) const {
  v1::KeyValue& kv = add_attribute(entry, key);
  v1::AnyValue& v = *kv.mutable_value();
  if (infer == Infer::yes) set_inferred(v, value);
  else set_string(v, value);
  const FieldRole role = classify(key);
  if (role == FieldRole::other) return;
  // Message fields keep text as written, not inferred numbers.
  if (role == FieldRole::message && infer == Infer::yes && !v.has_string_value()) set_string(v, value);
  if (absorb(role, v, entry)) entry.mutable_attributes()->RemoveLast();
}

}  // namespace logferry
