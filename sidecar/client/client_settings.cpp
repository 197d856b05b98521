#include "sidecar/client/client_settings.hpp"

#include <array>
#include <stdexcept>
#include <string_view>


namespace logferry {
namespace {

using ClientVar = EnvVar<ClientSettings>;

constexpr std::string_view kClientPrefix = "LOGFERRY_CLIENT_";

// The client's own variables; unset ones keep the ClientConfig's values.
const std::array kClientTable{
    ClientVar{"LOGFERRY_CLIENT_QUEUE_ENTRIES", "",
              [](ClientSettings& s, std::string_view v) {
                auto n = parse_uint(v, 1, 100'000'000);
                if (!n) return std::string("expected a whole number from 1 to 100000000");
                s.queue_max_entries = static_cast<size_t>(*n);
                return std::string();
              },
              "Entries waiting for the client's thread, at most; log() drops (and counts) beyond it."},
    ClientVar{"LOGFERRY_CLIENT_DRAIN_TIMEOUT", "",
              [](ClientSettings& s, std::string_view v) {
                auto d = parse_duration(v);
                if (!d) return std::string("expected a duration such as 250ms, 5s or 2m");
                s.drain_timeout = *d;
                return std::string();
              },
              "How long the client's destructor waits for queued entries to be acknowledged."},
    ClientVar{"LOGFERRY_CLIENT_NAME", "",
              [](ClientSettings& s, std::string_view v) {
                if (v.empty()) return std::string("expected a non-empty name");
                s.source_name = std::string(v);
                return std::string();
              },
              "Source path of the client's entries on the wire (e.g. the program's name)."},
};

}  // namespace

ClientConfig ClientConfig::from_environment() {
  ClientConfig c;
  for (const auto& [name, value] : process_environment()) {
    bool known = name.starts_with("LOGFERRY_");
    for (const auto& var : config_table()) known = known || var.name == name;
    if (known) c.settings[name] = value;
  }
  return c;
}

ClientSettings make_client_settings(const ClientConfig& cc) {
  ClientSettings s;
  s.queue_max_entries = cc.queue_max_entries;
  s.drain_timeout = cc.drain_timeout;
  s.source_name = cc.source_name;
  Environment client_env;
  Environment env;
  for (const auto& [name, value] : cc.settings) {
    if (name.starts_with(kClientPrefix)) client_env.emplace(name, value);
    else env.emplace(name, value);
  }
  if (!cc.output.empty()) env["LOGFERRY_OUTPUT"] = cc.output;

  // The parts of the sidecar's table a client uses: who it is, how it batches,
  // where it sends and how it logs. The sidecar's other variables (sources,
  // parsing, checkpoints) are known but mean nothing here.
  std::vector<EnvError> errors = apply_environment<ClientSettings>(kClientTable, client_env, s, kClientPrefix);
  IdentityOptions identity;
  const auto take = [&errors](std::vector<EnvError> more) {
    for (auto& e : more) errors.push_back(std::move(e));
  };
  take(apply_environment<IdentityOptions>(identity_table(), env, identity, {}));
  take(apply_environment<BatchPolicy>(batch_table(), env, s.batch, {}));
  take(apply_environment<OutputOptions>(output_table(), env, s.output, {}));
  take(apply_environment<LogOptions>(log_table(), env, s.log, {}));
  take(unknown_variable_errors<Config>(config_table(), env, "LOGFERRY_"));
  std::vector<EnvError> checks = check_output_options(s.output, &s.batch);
  if (auto e = missing_output(s.output)) checks.insert(checks.begin(), std::move(*e));
  for (auto& e : checks) {
    bool reported = false;
    for (const auto& seen : errors) reported = reported || seen.variable == e.variable;
    if (!reported) errors.push_back(std::move(e));
  }
  if (s.queue_max_entries == 0) errors.push_back({"queue_max_entries", "queue_max_entries: must be at least 1"});
  if (s.source_name.empty()) errors.push_back({"source_name", "source_name: must not be empty"});
  if (!errors.empty()) {
    std::string text;
    for (const auto& e : errors) text += (text.empty() ? "" : "\n") + e.message;
    throw std::invalid_argument(text);
  }
  repair_utf8(identity, s.output);
  s.resource = identity.resource_labels();
  return s;
}

}  // namespace logferry
