#include "sidecar/parse/registry.hpp"

#include <fnmatch.h>

#include <array>

#include "sidecar/parse/access_log_parser.hpp"
#include "sidecar/parse/auto_parser.hpp"
#include "sidecar/parse/container_parser.hpp"
#include "sidecar/parse/filter_parser.hpp"
#include "sidecar/parse/json_parser.hpp"
#include "sidecar/parse/k8s_audit_parser.hpp"
#include "sidecar/parse/klog_parser.hpp"
#include "sidecar/parse/logfmt_parser.hpp"
#include "sidecar/parse/multiline_parser.hpp"
#include "sidecar/parse/plain_parser.hpp"
#include "sidecar/parse/regex_parser.hpp"
#include "sidecar/parse/syslog_parser.hpp"

namespace logferry {
namespace {

// What a factory needs besides the options.
struct ParserContext {
  const ParseOptions& options;
  FieldNames fields;
  uint64_t* multiline_records;  // may be null
  // Wraps a message parser in the multiline stage when one is configured.
  std::unique_ptr<Parser> with_multiline(std::unique_ptr<Parser> inner) const;
};

struct ParserSpec {
  std::string_view name;
  std::unique_ptr<Parser> (*make)(const ParserContext& context);
};

std::unique_ptr<Parser> make_regex(const ParserContext& c) {
  std::string error;
  auto re = compile_regex(c.options.regex, error);
  if (!re) re = compile_regex("(?s).*", error);  // unreachable: validated at start-up
  return c.with_multiline(std::make_unique<RegexParser>(std::move(re), c.fields));
}

std::unique_ptr<Parser> make_message_parser(const ParserContext& c, std::string_view name);

std::unique_ptr<Parser> make_container(const ParserContext& c, ContainerParser::Format format) {
  const size_t max_bytes = c.options.max_line_bytes > 0 ? c.options.max_line_bytes : 256 * 1024;
  auto inner = make_message_parser(c, c.options.container_message_parser);
  if (!inner) inner = c.with_multiline(std::make_unique<AutoParser>(c.fields));
  return std::make_unique<ContainerParser>(format, std::move(inner), max_bytes);
}

// THE table of parsers. Add a parser here (and only here).
const std::array kParsers{
    ParserSpec{"plain", [](const ParserContext& c) { return c.with_multiline(std::make_unique<PlainParser>()); }},
    ParserSpec{"json", [](const ParserContext& c) { return c.with_multiline(std::make_unique<JsonParser>(c.fields)); }},
    ParserSpec{"logfmt",
               [](const ParserContext& c) { return c.with_multiline(std::make_unique<LogfmtParser>(c.fields)); }},
    ParserSpec{"regex", make_regex},
    ParserSpec{"cri", [](const ParserContext& c) { return make_container(c, ContainerParser::Format::cri); }},
    ParserSpec{"docker", [](const ParserContext& c) { return make_container(c, ContainerParser::Format::docker); }},
    ParserSpec{"nginx",
               [](const ParserContext& c) { return c.with_multiline(std::make_unique<AccessLogParser>("nginx")); }},
    ParserSpec{"apache",
               [](const ParserContext& c) { return c.with_multiline(std::make_unique<AccessLogParser>("apache")); }},
    ParserSpec{"syslog", [](const ParserContext& c) { return c.with_multiline(std::make_unique<SyslogParser>()); }},
    ParserSpec{"klog", [](const ParserContext& c) { return c.with_multiline(std::make_unique<KlogParser>(c.fields)); }},
    ParserSpec{"k8s-audit",
               [](const ParserContext& c) { return c.with_multiline(std::make_unique<K8sAuditParser>()); }},
    ParserSpec{"auto", [](const ParserContext& c) { return c.with_multiline(std::make_unique<AutoParser>(c.fields)); }},
};

// A message parser (not cri/docker) by name, with its multiline stage; nullptr for other names.
std::unique_ptr<Parser> make_message_parser(const ParserContext& c, std::string_view name) {
  if (name == "cri" || name == "docker") return nullptr;
  for (const auto& spec : kParsers)
    if (spec.name == name) return spec.make(c);
  return nullptr;
}

std::unique_ptr<Parser> ParserContext::with_multiline(std::unique_ptr<Parser> inner) const {
  MultilineRule rule;
  std::string error;
  if (!options.multiline_start.empty()) {
    rule.start = compile_regex(options.multiline_start, error);
  } else if (auto preset = multiline_preset(options.multiline)) {
    rule = std::move(*preset);
  }
  if (!rule.start && !rule.continuation) return inner;
  return std::make_unique<MultilineParser>(std::move(inner), std::move(rule), options.multiline_max_lines,
                                           options.multiline_max_bytes, multiline_records);
}

FieldNames field_names(const ParseOptions& options) {
  FieldNames names;
  if (!options.message_fields.empty()) names.message = options.message_fields;
  if (!options.time_fields.empty()) names.time = options.time_fields;
  if (!options.level_fields.empty()) names.level = options.level_fields;
  return names;
}

}  // namespace

std::vector<std::string_view> parser_names() {
  std::vector<std::string_view> names;
  for (const auto& spec : kParsers) names.push_back(spec.name);
  return names;
}

std::string parser_names_text() {
  std::string out;
  for (const auto& spec : kParsers) {
    if (!out.empty()) out += ", ";
    out += spec.name;
  }
  return out;
}

bool is_parser_name(std::string_view name) {
  for (const auto& spec : kParsers)
    if (spec.name == name) return true;
  return false;
}

std::string_view parser_name_for(const ParseOptions& options, std::string_view path) {
  const std::string p(path);
  for (const auto& [glob, name] : options.parser_overrides) {
    if (::fnmatch(glob.c_str(), p.c_str(), 0) == 0) return name;
  }
  return options.parser;
}

std::unique_ptr<Parser> make_parser_for(const ParseOptions& options, std::string_view path,
                                        uint64_t* multiline_records) {
  const std::string_view name = parser_name_for(options, path);
  const ParserContext context{options, field_names(options), multiline_records};
  std::unique_ptr<Parser> chain;
  for (const auto& spec : kParsers)
    if (spec.name == name) chain = spec.make(context);
  if (!chain) chain = context.with_multiline(std::make_unique<PlainParser>());  // unreachable: validated
  if (options.drop.empty() && options.min_severity == 0) return chain;
  std::string error;
  auto drop = options.drop.empty() ? nullptr : compile_regex(options.drop, error);
  return std::make_unique<FilterParser>(std::move(chain), std::move(drop), options.min_severity);
}

std::vector<EnvError> check_parse_config(const ParseOptions& options) {
  std::vector<EnvError> errors;
  auto check_pattern = [&](std::string_view variable, const std::string& pattern) {
    std::string why;
    if (!pattern.empty() && !compile_regex(pattern, why))
      errors.push_back({std::string(variable),
                        env_error_text(variable, pattern, "not a valid RE2 regular expression: " + why)});
  };
  check_pattern("LOGFERRY_REGEX", options.regex);
  check_pattern("LOGFERRY_MULTILINE_START", options.multiline_start);
  check_pattern("LOGFERRY_DROP", options.drop);
  bool uses_regex = options.parser == "regex";
  for (const auto& [glob, name] : options.parser_overrides) uses_regex = uses_regex || name == "regex";
  if (uses_regex && options.regex.empty()) {
    errors.push_back({"LOGFERRY_REGEX", env_error_text("LOGFERRY_REGEX", "",
                                                       "required by the regex parser: a pattern with named groups "
                                                       "such as ^(?P<level>\\w+) (?P<msg>.*)$")});
  }
  if (!options.multiline.empty() && !options.multiline_start.empty()) {
    errors.push_back({"LOGFERRY_MULTILINE_START",
                      env_error_text("LOGFERRY_MULTILINE_START", options.multiline_start,
                                     "set either LOGFERRY_MULTILINE (a preset) or LOGFERRY_MULTILINE_START, not both")});
  }
  return errors;
}

ParserCatalog parser_catalog() {
  return ParserCatalog{.is_name = is_parser_name, .names_text = parser_names_text, .check = check_parse_config};
}

}  // namespace logferry
