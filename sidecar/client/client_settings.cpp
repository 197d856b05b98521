#include "sidecar/client/client_settings.hpp"

#include <array>
#include <filesystem>
#include <stdexcept>
#include <string_view>

#include "sidecar/parse/registry.hpp"

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

// Source and checkpoint settings mean nothing to a client.
constexpr std::array<std::string_view, 9> kIgnored{
    "LOGFERRY_FILES", "LOGFERRY_EXCLUDE", "LOGFERRY_PIPE", "LOGFERRY_PIPE_MODE", "LOGFERRY_STDIN",
    "LOGFERRY_SPILL_DIR", "LOGFERRY_CHECKPOINT_DIR", "LOGFERRY_MODE", "LOGFERRY_READ_FROM"};

bool ignored(std::string_view name) {
  for (const auto i : kIgnored)
    if (i == name) return true;
  return false;
}

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
  Environment sidecar_env;
  for (const auto& [name, value] : cc.settings) {
    if (name.starts_with(kClientPrefix)) client_env.emplace(name, value);
    else if (!ignored(name)) sidecar_env.emplace(name, value);
  }
  if (!cc.output.empty()) sidecar_env["LOGFERRY_OUTPUT"] = cc.output;
  // load_config wants a source and a writable checkpoint directory; a client
  // reads no source and keeps no checkpoints, so give it harmless ones.
  sidecar_env["LOGFERRY_STDIN"] = "true";
  sidecar_env["LOGFERRY_CHECKPOINT_DIR"] = std::filesystem::temp_directory_path().string();

  std::vector<EnvError> errors = apply_environment<ClientSettings>(kClientTable, client_env, s, kClientPrefix);
  ConfigResult loaded = load_config(sidecar_env, parser_catalog());
  for (auto& e : loaded.errors) errors.push_back(std::move(e));
  if (s.queue_max_entries == 0) errors.push_back({"queue_max_entries", "queue_max_entries: must be at least 1"});
  if (s.source_name.empty()) errors.push_back({"source_name", "source_name: must not be empty"});
  if (!errors.empty()) {
    std::string text;
    for (const auto& e : errors) text += (text.empty() ? "" : "\n") + e.message;
    throw std::invalid_argument(text);
  }
  s.config = std::move(loaded.config);
  return s;
}

}  // namespace logferry
