#include "sidecar/parse/registry.hpp"

#include <fnmatch.h>

#include <array>

#include "sidecar/config/config.hpp"
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

// What a factory needs besides the Config.
struct ParserContext {
  const Config& config;
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
  auto re = compile_regex(c.config.regex, error);
  if (!re) re = compile_regex("(?s).*", error);  // unreachable: validated at start-up
  return c.with_multiline(std::make_unique<RegexParser>(std::move(re), c.fields));
}

std::unique_ptr<Parser> make_container(const ParserContext& c, ContainerParser::Format format) {
  const size_t max_bytes = c.config.max_line_bytes > 0 ? c.config.max_line_bytes : 256 * 1024;
  return std::make_unique<ContainerParser>(format, c.with_multiline(std::make_unique<AutoParser>(c.fields)),
                                           max_bytes);
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

std::unique_ptr<Parser> ParserContext::with_multiline(std::unique_ptr<Parser> inner) const {
  MultilineRule rule;
  std::string error;
  if (!config.multiline_start.empty()) {
    rule.start = compile_regex(config.multiline_start, error);
  } else if (auto preset = multiline_preset(config.multiline)) {
    rule = std::move(*preset);
  }
  if (!rule.start && !rule.continuation) return inner;
  return std::make_unique<MultilineParser>(std::move(inner), std::move(rule), config.multiline_max_lines,
                                           config.multiline_max_bytes, multiline_records);
}

FieldNames field_names(const Config& config) {
  FieldNames names;
  if (!config.message_fields.empty()) names.message = config.message_fields;
  if (!config.time_fields.empty()) names.time = config.time_fields;
  if (!config.level_fields.empty()) names.level = config.level_fields;
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

std::string_view parser_name_for(const Config& config, std::string_view path) {
  const std::string p(path);
  for (const auto& [glob, name] : config.parser_overrides) {
    if (::fnmatch(glob.c_str(), p.c_str(), 0) == 0) return name;
  }
  return config.parser;
}

std::unique_ptr<Parser> make_parser_for(const Config& config, std::string_view path,
                                        uint64_t* multiline_records) {
  const std::string_view name = parser_name_for(config, path);
  const ParserContext context{config, field_names(config), multiline_records};
  std::unique_ptr<Parser> chain;
  for (const auto& spec : kParsers)
    if (spec.name == name) chain = spec.make(context);
  if (!chain) chain = context.with_multiline(std::make_unique<PlainParser>());  // unreachable: validated
  if (config.drop.empty() && config.min_severity == 0) return chain;
  std::string error;
  auto drop = config.drop.empty() ? nullptr : compile_regex(config.drop, error);
  return std::make_unique<FilterParser>(std::move(chain), std::move(drop), config.min_severity);
}

std::chrono::milliseconds multiline_flush_timeout(const Config& config) { return config.multiline_timeout; }

std::vector<EnvError> check_parse_config(const Config& config) {
  std::vector<EnvError> errors;
  auto check_pattern = [&](std::string_view variable, const std::string& pattern) {
    std::string why;
    if (!pattern.empty() && !compile_regex(pattern, why))
      errors.push_back({std::string(variable),
                        env_error_text(variable, pattern, "not a valid RE2 regular expression: " + why)});
  };
  check_pattern("LOGFERRY_REGEX", config.regex);
  check_pattern("LOGFERRY_MULTILINE_START", config.multiline_start);
  check_pattern("LOGFERRY_DROP", config.drop);
  bool uses_regex = config.parser == "regex";
  for (const auto& [glob, name] : config.parser_overrides) uses_regex = uses_regex || name == "regex";
  if (uses_regex && config.regex.empty()) {
    errors.push_back({"LOGFERRY_REGEX", env_error_text("LOGFERRY_REGEX", "",
                                                       "required by the regex parser: a pattern with named groups "
                                                       "such as ^(?P<level>\\w+) (?P<msg>.*)$")});
  }
  if (!config.multiline.empty() && !config.multiline_start.empty()) {
    errors.push_back({"LOGFERRY_MULTILINE_START",
                      env_error_text("LOGFERRY_MULTILINE_START", config.multiline_start,
                                     "set either LOGFERRY_MULTILINE (a preset) or LOGFERRY_MULTILINE_START, not both")});
  }
  return errors;
}

ParserCatalog parser_catalog() {
  return ParserCatalog{.is_name = is_parser_name, .names_text = parser_names_text, .check = check_parse_config};
}

}  // namespace logferry
