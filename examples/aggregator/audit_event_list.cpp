#include "aggregator/audit_event_list.hpp"

#include <fmt/format.h>

namespace logferry::aggregator {

namespace dom = simdjson::dom;

std::string AuditEventListDecoder::decode(std::string_view body, std::vector<AuditEvent>& events) {
  events.clear();
  dom::object list;
  if (auto err = reader_.parse_object(body, list)) return "not a JSON object: " + json_error_reason(err);
  std::string_view kind, api_version;
  if (list["kind"].get_string().get(kind) != simdjson::SUCCESS || kind != "EventList")
    return "kind is not EventList";
  if (list["apiVersion"].get_string().get(api_version) != simdjson::SUCCESS || api_version != "audit.k8s.io/v1")
    return "apiVersion is not audit.k8s.io/v1";
  dom::array items;
  if (list["items"].get_array().get(items) != simdjson::SUCCESS) return "items is not an array";
  events.reserve(items.size());
  size_t index = 0;
  for (dom::element item : items) {
    dom::object event;
    std::string_view id, stage;
    if (item.get_object().get(event) != simdjson::SUCCESS || event["auditID"].get_string().get(id) != simdjson::SUCCESS ||
        event["stage"].get_string().get(stage) != simdjson::SUCCESS || id.empty() || stage.empty()) {
      events.clear();
      return fmt::format("items[{}] is not an audit event with auditID and stage", index);
    }
    AuditEvent& out = events.emplace_back();
    out.key.reserve(id.size() + 1 + stage.size());
    out.key.append(id).push_back('\n');
    out.key.append(stage);
    // The parser reads its own copy: the list's DOM stays valid (it has its own reader).
    const std::string json = simdjson::minify(item);
    if (parser_.parse(json, out.entry) != ParseResult::parsed) {
      events.clear();
      return fmt::format("items[{}] is not an audit event", index);
    }
    ++index;
  }
  return {};
}

}  // namespace logferry::aggregator
