#include "sidecar/parse/k8s_audit_parser.hpp"

#include <array>
#include <utility>

#include "sidecar/parse/entry_writer.hpp"
#include "sidecar/parse/time_parse.hpp"

namespace logferry {
namespace {

namespace dom = simdjson::dom;

// JSON pointer -> attribute, for string fields.
constexpr std::array<std::pair<std::string_view, std::string_view>, 12> kStringFields{{
    {"/auditID", "k8s.audit.id"},
    {"/stage", "k8s.audit.stage"},
    {"/verb", "k8s.audit.verb"},
    {"/level", "k8s.audit.level"},
    {"/requestURI", "k8s.audit.requestURI"},
    {"/user/username", "k8s.audit.user.username"},
    {"/objectRef/resource", "k8s.audit.objectRef.resource"},
    {"/objectRef/subresource", "k8s.audit.objectRef.subresource"},
    {"/objectRef/namespace", "k8s.audit.objectRef.namespace"},
    {"/objectRef/name", "k8s.audit.objectRef.name"},
    {"/objectRef/apiGroup", "k8s.audit.objectRef.apiGroup"},
    {"/userAgent", "user_agent.original"},
}};

}  // namespace

ParseResult K8sAuditParser::parse(std::string_view line, v1::Entry& entry) {
  const EntryMark mark(entry);
  dom::object event;
  if (auto err = reader_.parse_object(line, event)) {
    set_parse_error(entry, mark, line, json_error_reason(err));
    return ParseResult::parse_error;
  }
  std::string_view id;
  if (event.at_pointer("/auditID").get_string().get(id) != simdjson::SUCCESS) {
    set_parse_error(entry, mark, line, "not a Kubernetes audit event: no auditID");
    return ParseResult::parse_error;
  }
  set_string(*entry.mutable_body(), line);
  for (const auto& [pointer, attribute] : kStringFields) {
    std::string_view s;
    if (event.at_pointer(pointer).get_string().get(s) == simdjson::SUCCESS) add_string_attribute(entry, attribute, s);
  }
  int64_t code = 0;
  if (event.at_pointer("/responseStatus/code").get_int64().get(code) == simdjson::SUCCESS)
    add_int_attribute(entry, "http.response.status_code", code);
  std::string_view ip;
  if (event.at_pointer("/sourceIPs/0").get_string().get(ip) == simdjson::SUCCESS)
    add_string_attribute(entry, "client.address", ip);
  for (const std::string_view pointer : {"/stageTimestamp", "/requestReceivedTimestamp"}) {
    std::string_view s;
    if (event.at_pointer(pointer).get_string().get(s) != simdjson::SUCCESS) continue;
    if (const auto t = parse_rfc3339(s)) {
      entry.set_time_unix_nano(*t);
      break;
    }
  }
  return ParseResult::parsed;
}

}  // namespace logferry
