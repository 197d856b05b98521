// libFuzzer target: arbitrary request bodies through the audit webhook's
// EventList decoder (the JSON every audit POST carries, from anyone who can
// reach the listener). Checked: a list is taken whole or refused whole with a
// reason, and every event taken has its idempotency key (auditID, '\n', stage).
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "aggregator/audit_event_list.hpp"

using namespace logferry::aggregator;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static AuditEventListDecoder decoder;
  static std::vector<AuditEvent> events;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const std::string why = decoder.decode(body, events);
  if (!why.empty()) {
    if (!events.empty()) __builtin_trap();
    return 0;
  }
  for (const AuditEvent& e : events) {
    const size_t nl = e.key.find('\n');
    if (nl == std::string::npos || nl == 0 || nl + 1 == e.key.size()) __builtin_trap();
    if (!e.entry.has_body()) __builtin_trap();
  }
  return 0;
}
