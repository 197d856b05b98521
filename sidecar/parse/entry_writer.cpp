#include "sidecar/parse/entry_writer.hpp"

#include <charconv>
#include <cstdlib>
#include <cstring>
#include <unordered_map>
#include <vector>

#include "sidecar/core/json_escape.hpp"

namespace logferry {

void assign_utf8(std::string* out, std::string_view text) {
  if (is_valid_utf8(text)) {
    out->assign(text.data(), text.size());
    return;
  }
  out->clear();
  append_utf8_repaired(*out, text);
}

v1::KeyValue& add_attribute(v1::Entry& entry, std::string_view key) {
  v1::KeyValue* kv = entry.add_attributes();
  assign_utf8(kv->mutable_key(), key);
  return *kv;
}

void add_string_attribute(v1::Entry& entry, std::string_view key, std::string_view value) {
  set_string(*add_attribute(entry, key).mutable_value(), value);
}

void add_int_attribute(v1::Entry& entry, std::string_view key, int64_t value) {
  add_attribute(entry, key).mutable_value()->set_int_value(value);
}

void add_bool_attribute(v1::Entry& entry, std::string_view key, bool value) {
  add_attribute(entry, key).mutable_value()->set_bool_value(value);
}

bool parse_int64(std::string_view text, int64_t& out) {
  if (text.empty()) return false;
  const size_t digits = text[0] == '-' ? 1 : 0;
  if (text.size() == digits || text == "-0") return false;
  if (text[digits] == '0' && text.size() > digits + 1) return false;  // no leading zeros
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

void set_inferred(v1::AnyValue& value, std::string_view text) {
  int64_t i = 0;
  if (parse_int64(text, i)) {
    value.set_int_value(i);
    return;
  }
  if (text == "true" || text == "false") {
    value.set_bool_value(text == "true");
    return;
  }
  // A JSON-style decimal with a fraction or exponent becomes a double.
  if (!text.empty() && text.size() < 64 && (text[0] == '-' || (text[0] >= '0' && text[0] <= '9')) &&
      text.find_first_of(".eE") != std::string_view::npos &&
      text.find_first_not_of("0123456789+-.eE") == std::string_view::npos) {
    double d = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
    if (ec == std::errc() && end == text.data() + text.size()) {
      value.set_double_value(d);
      return;
    }
  }
  set_string(value, text);
}

void keep_last_of_duplicates(v1::Entry& entry, int from) {
  auto& attrs = *entry.mutable_attributes();
  const int n = attrs.size();
  if (n - from < 2) return;
  if (n - from <= 32) {
    // Small: most lines have no duplicate, which the traits prove.
    KeyTraitSet traits;
    bool clash = false;
    for (int i = from; i < n && !clash; ++i) clash = traits.add(attrs[i].key());
    bool any = false;
    for (int i = from; i < n && clash && !any; ++i)
      for (int j = i + 1; j < n && !any; ++j) any = attrs[i].key() == attrs[j].key();
    if (!any) return;
  }
  std::vector<bool> dead(static_cast<size_t>(n), false);
  bool any = false;
  if (n - from <= 32) {
    for (int i = from; i < n; ++i)
      for (int j = i + 1; j < n && !dead[static_cast<size_t>(i)]; ++j)
        if (attrs[i].key() == attrs[j].key()) dead[static_cast<size_t>(i)] = any = true;
  } else {
    std::unordered_map<std::string_view, int> last;
    last.reserve(static_cast<size_t>(n - from));
    for (int i = from; i < n; ++i) {
      auto [it, fresh] = last.try_emplace(attrs[i].key(), i);
      if (!fresh) dead[static_cast<size_t>(it->second)] = any = true, it->second = i;
    }
  }
  if (!any) return;
  int out = from;
  for (int i = from; i < n; ++i) {
    if (dead[static_cast<size_t>(i)]) continue;
    if (out != i) attrs.SwapElements(out, i);
    ++out;
  }
  while (attrs.size() > out) attrs.RemoveLast();
}

EntryMark::EntryMark(const v1::Entry& entry)
    : attributes_(entry.attributes_size()),
      time_(entry.time_unix_nano()),
      severity_number_(entry.severity_number()),
      had_body_(entry.has_body()),
      had_severity_text_(!entry.severity_text().empty()),
      had_trace_(!entry.trace_id().empty() || !entry.span_id().empty()) {}

void EntryMark::restore(v1::Entry& entry) const {
  while (entry.attributes_size() > attributes_) entry.mutable_attributes()->RemoveLast();
  entry.set_time_unix_nano(time_);
  entry.set_severity_number(severity_number_);
  if (!had_body_) entry.clear_body();
  if (!had_severity_text_) entry.clear_severity_text();
  if (!had_trace_) {
    entry.clear_trace_id();
    entry.clear_span_id();
    entry.clear_flags();
  }
}

void set_parse_error(v1::Entry& entry, const EntryMark& mark, std::string_view line, std::string_view reason) {
  mark.restore(entry);
  set_string(*entry.mutable_body(), line);
  add_string_attribute(entry, "log.parse_error", reason);
}

void append_entry(WireBuffer& out, const v1::Entry& entry) {
  const size_t n = entry.ByteSizeLong();
  entry.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(out.grow(n)));
}

ParseResult parse_to_wire(Parser& parser, std::string_view line, v1::Entry& scratch, WireBuffer& out) {
  if (parser.encode(line, out)) return ParseResult::parsed;
  scratch.Clear();
  const ParseResult r = parser.parse(line, scratch);
  if (r != ParseResult::pending && r != ParseResult::dropped) append_entry(out, scratch);
  return r;
}

}  // namespace logferry
