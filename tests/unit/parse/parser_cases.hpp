#pragma once
// One table-driven helper for every parser: a case is a parser name, a line,
// the expected ParseResult and expected fields of the entry, each rendered as
// text (see render_value). Shared by the parser, multiline and filter tests.
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "sidecar/config/config.hpp"
#include "sidecar/core/json_escape.hpp"
#include "sidecar/parse/registry.hpp"

namespace logferry::test {

// An expected field: "body", "severity_number", "severity_text", "time",
// "trace_id", "span_id", "flags", or "attr:<key>". The value "<absent>" means
// the field must not be there, "*" that it must be there (any value).
using Expect = std::vector<std::pair<std::string, std::string>>;

struct ParserCase {
  std::string name;     // what the case shows
  std::string parser;   // registry name
  std::string line;
  ParseResult result;
  Expect expect;
  Environment env = {};  // extra variables (LOGFERRY_REGEX, ...)
};

// AnyValue as text: s:text, i:42, d:1.5, b:true, x:<hex>, [a,b], {k=v,...}, null.
inline std::string render_value(const v1::AnyValue& v) {
  switch (v.value_case()) {
    case v1::AnyValue::kStringValue: return "s:" + v.string_value();
    case v1::AnyValue::kIntValue: return fmt::format("i:{}", v.int_value());
    case v1::AnyValue::kDoubleValue: return fmt::format("d:{}", v.double_value());
    case v1::AnyValue::kBoolValue: return v.bool_value() ? "b:true" : "b:false";
    case v1::AnyValue::kBytesValue: {
      std::string out = "x:";
      for (const unsigned char c : v.bytes_value()) out += fmt::format("{:02x}", c);
      return out;
    }
    case v1::AnyValue::kArrayValue: {
      std::string out = "[";
      for (int i = 0; i < v.array_value().values_size(); ++i)
        out += (i ? "," : "") + render_value(v.array_value().values(i));
      return out + "]";
    }
    case v1::AnyValue::kKvlistValue: {
      std::string out = "{";
      for (int i = 0; i < v.kvlist_value().values_size(); ++i) {
        const auto& kv = v.kvlist_value().values(i);
        out += (i ? "," : "") + kv.key() + "=" + render_value(kv.value());
      }
      return out + "}";
    }
    case v1::AnyValue::VALUE_NOT_SET: return "null";
  }
  return "?";
}

inline std::string hex(const std::string& bytes) {
  std::string out;
  for (const unsigned char c : bytes) out += fmt::format("{:02x}", c);
  return out;
}

// Every field of the entry as name -> rendered text (absent fields left out).
inline std::map<std::string, std::string> render_entry(const v1::Entry& e) {
  std::map<std::string, std::string> out;
  if (e.has_body()) out["body"] = render_value(e.body());
  if (e.severity_number() != 0) out["severity_number"] = std::to_string(e.severity_number());
  if (!e.severity_text().empty()) out["severity_text"] = e.severity_text();
  if (e.time_unix_nano() != 0) out["time"] = std::to_string(e.time_unix_nano());
  if (!e.trace_id().empty()) out["trace_id"] = hex(e.trace_id());
  if (!e.span_id().empty()) out["span_id"] = hex(e.span_id());
  if (e.flags() != 0) out["flags"] = std::to_string(e.flags());
  for (const auto& kv : e.attributes()) {
    auto [it, fresh] = out.try_emplace("attr:" + kv.key(), render_value(kv.value()));
    if (!fresh) it->second += " | " + render_value(kv.value());  // duplicates show up
  }
  return out;
}

// True when every string in the value is valid UTF-8 (proto3 requires it).
inline bool all_utf8(const v1::AnyValue& v) {
  if (v.has_string_value()) return is_valid_utf8(v.string_value());
  if (v.has_array_value())
    for (const auto& x : v.array_value().values())
      if (!all_utf8(x)) return false;
  if (v.has_kvlist_value())
    for (const auto& kv : v.kvlist_value().values())
      if (!is_valid_utf8(kv.key()) || !all_utf8(kv.value())) return false;
  return true;
}

inline bool entry_is_valid(const v1::Entry& e) {
  if (!all_utf8(e.body()) || !is_valid_utf8(e.severity_text())) return false;
  for (const auto& kv : e.attributes())
    if (!is_valid_utf8(kv.key()) || !all_utf8(kv.value())) return false;
  std::string wire;
  if (!e.SerializeToString(&wire)) return false;
  v1::Entry back;
  return back.ParseFromString(wire);
}

// A validated Config from the required variables plus `extra`.
inline Config make_config(const Environment& extra = {}) {
  static const std::string dir = (std::filesystem::temp_directory_path() / "logferry-parse-test").string();
  Environment env{{"LOGFERRY_OUTPUT", "tcp://127.0.0.1:1"},
                  {"LOGFERRY_FILES", "/var/log/app/*.log"},
                  {"LOGFERRY_CHECKPOINT_DIR", dir}};
  for (const auto& [k, v] : extra) env[k] = v;
  ConfigResult r = load_config(env, parser_catalog());
  for (const auto& e : r.errors) FAIL_CHECK(e.message);
  return r.config;
}

inline const char* result_name(ParseResult r) {
  switch (r) {
    case ParseResult::parsed: return "parsed";
    case ParseResult::parse_error: return "parse_error";
    case ParseResult::pending: return "pending";
    case ParseResult::parsed_holding_line: return "parsed_holding_line";
    case ParseResult::dropped: return "dropped";
  }
  return "?";
}

// Checks rendered fields against expectations.
inline void check_fields(const v1::Entry& entry, const Expect& expect) {
  const auto fields = render_entry(entry);
  for (const auto& [name, want] : expect) {
    INFO("field " << name);
    const auto it = fields.find(name);
    if (want == "<absent>") {
      CHECK(it == fields.end());
    } else if (it == fields.end()) {
      FAIL_CHECK("missing; entry: " << entry.ShortDebugString());
    } else if (want != "*") {
      CHECK(it->second == want);
    }
  }
}

// Runs one case on a fresh chain from the registry.
inline void run_case(const ParserCase& c) {
  INFO("case: " << c.name << " [" << c.parser << "] line: " << c.line);
  Environment env = c.env;
  env["LOGFERRY_PARSER"] = c.parser;
  const Config config = make_config(env);
  const auto parser = make_parser_for(config.parse, "/var/log/app/x.log");
  REQUIRE(parser);
  v1::Entry entry;
  const ParseResult r = parser->parse(c.line, entry);
  CHECK(std::string(result_name(r)) == std::string(result_name(c.result)));
  CHECK(entry_is_valid(entry));
  if (r == ParseResult::parse_error) {
    CHECK(render_entry(entry).count("attr:log.parse_error") == 1);
    CHECK(entry.body().has_string_value());
  }
  check_fields(entry, c.expect);
  // The fast path on a fresh chain: encode() declines and writes nothing, or
  // writes bytes that decode to the very entry parse() filled.
  const auto fast = make_parser_for(config.parse, "/var/log/app/x.log");
  const std::string_view before = "before";
  WireBuffer wire;
  wire.append(before);
  if (fast->encode(c.line, wire)) {
    CHECK(r == ParseResult::parsed);
    CHECK(wire.view().substr(0, before.size()) == before);
    v1::Entry decoded;
    REQUIRE(decoded.ParseFromArray(wire.data() + before.size(), static_cast<int>(wire.size() - before.size())));
    CHECK(decoded.SerializeAsString() == entry.SerializeAsString());
  } else {
    CHECK(wire.view() == before);
  }
}

}  // namespace logferry::test
