#pragma once
// One table of environment variables per program: {name, default, parser,
// description}. The same table parses the environment, fills in defaults,
// renders --help and --check-config, and suggests the right name for a
// misspelt one. Parsing reports every problem at once.
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "sidecar/config/value_parsers.hpp"

namespace logferry {

// yes: never shown. url: shown with credentials and query strings replaced by
// "***" (see redact_urls).
enum class Secret { no, yes, url };

// How a variable's value may be shown in errors and --check-config.
inline std::string shown_value(Secret secret, std::string_view value) {
  if (secret == Secret::yes) return "<redacted>";
  if (secret == Secret::url) return redact_urls(value);
  return std::string(value);
}

template <class Config>
struct EnvVar {
  std::string_view name;
  // The value used when the variable is unset; "" means "not set".
  std::string_view default_value;
  // Parses a value into the config; returns "" when accepted, otherwise what is
  // allowed (e.g. "expected a size such as 64KiB").
  std::string (*apply)(Config& config, std::string_view value);
  std::string_view description;
  Secret secret = Secret::no;
};

// The environment as a name -> value map (tests pass their own).
using Environment = std::map<std::string, std::string, std::less<>>;

// Reads the process environment.
Environment process_environment();

struct EnvError {
  std::string variable;
  std::string message;  // the whole line, starting with the variable's name
};

// Formats the standard error text: NAME="value": what is allowed.
inline std::string env_error_text(std::string_view name, std::string_view value, std::string_view allowed) {
  return fmt::format("{}=\"{}\": {}", name, value, allowed);
}

// Variables with `prefix` that `table` does not know (except those starting
// with one of `foreign`): one error each, with a "did you mean" hint. An
// empty `prefix` checks none.
template <class Config>
std::vector<EnvError> unknown_variable_errors(std::span<const EnvVar<Config>> table, const Environment& env,
                                              std::string_view prefix, std::span<const std::string_view> foreign = {}) {
  std::vector<EnvError> errors;
  if (prefix.empty()) return errors;
  for (const auto& [name, value] : env) {
    if (!name.starts_with(prefix)) continue;
    bool known = false;
    for (const auto& var : table) known = known || var.name == name;
    for (const auto f : foreign) known = known || name.starts_with(f);
    if (known) continue;
    std::string_view best;
    size_t best_distance = 4;  // only suggest close names
    for (const auto& var : table) {
      const size_t d = edit_distance(name, var.name);
      if (d < best_distance) best_distance = d, best = var.name;
    }
    std::string msg = fmt::format("{}: unknown variable", name);
    if (!best.empty()) msg += fmt::format("; did you mean {}?", best);
    errors.push_back({name, std::move(msg)});
  }
  return errors;
}

// Applies every table entry to `config`: the environment's value, else the default.
// Unknown variables with `prefix` (except those starting with one of `foreign`)
// are errors with a "did you mean" hint; an empty `prefix` checks none (a part
// of a program's table, applied to an environment that holds the rest).
template <class Config>
std::vector<EnvError> apply_environment(std::span<const EnvVar<Config>> table, const Environment& env,
                                        Config& config, std::string_view prefix,
                                        std::span<const std::string_view> foreign = {}) {
  std::vector<EnvError> errors;
  for (const auto& var : table) {
    const auto it = env.find(var.name);
    const bool set = it != env.end();
    const std::string_view value = set ? std::string_view(it->second) : var.default_value;
    if (!set && value.empty()) continue;
    std::string allowed = var.apply(config, value);
    if (!allowed.empty()) {
      const std::string shown = shown_value(var.secret, value);
      errors.push_back({std::string(var.name), env_error_text(var.name, shown, allowed)});
    }
  }
  for (auto& e : unknown_variable_errors(table, env, prefix, foreign)) errors.push_back(std::move(e));
  return errors;
}

// Renders --help: one block per variable with its default and meaning.
template <class Config>
std::string render_help(std::span<const EnvVar<Config>> table) {
  std::string out;
  for (const auto& var : table) {
    out += fmt::format("  {}\n", var.name);
    out += fmt::format("      {}\n", var.description);
    if (var.secret == Secret::yes) out += "      (secret: never printed)\n";
    else if (!var.default_value.empty()) out += fmt::format("      default: {}\n", var.default_value);
  }
  return out;
}

// A default that depends on another variable (e.g. LOGFERRY_MODE=node reads
// the kubelet's logs): shown by render_effective() instead of the table's.
struct ImpliedDefault {
  std::string variable;
  std::string value;
  std::string because;  // e.g. "LOGFERRY_MODE=node"
};

// Renders the effective settings (NAME=value lines), secrets redacted: the
// environment's value, else an implied default, else the table's default.
template <class Config>
std::string render_effective(std::span<const EnvVar<Config>> table, const Environment& env,
                             std::span<const ImpliedDefault> implied = {}) {
  std::string out;
  for (const auto& var : table) {
    const auto it = env.find(var.name);
    const bool set = it != env.end();
    const ImpliedDefault* mode = nullptr;
    for (const auto& d : implied)
      if (d.variable == var.name) mode = &d;
    std::string_view value = set    ? std::string_view(it->second)
                             : mode ? std::string_view(mode->value)
                                    : var.default_value;
    std::string shown;
    if (var.secret != Secret::no && !value.empty()) value = shown = shown_value(var.secret, value);
    const std::string note = set            ? ""
                             : mode         ? fmt::format("  (default with {})", mode->because)
                             : value.empty() ? "  (unset)"
                                             : "  (default)";
    out += fmt::format("{}={}{}\n", var.name, value, note);
  }
  return out;
}

}  // namespace logferry
