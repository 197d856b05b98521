#pragma once
// Decodes the body the Kubernetes API server's audit webhook backend posts: an
// audit.k8s.io/v1 EventList (JSON). Every item becomes an entry through the
// sidecar's own `k8s-audit` parser, so the webhook and the file backend produce
// the same attributes. A list is taken whole or refused whole.
#include <string>
#include <string_view>
#include <vector>

#include "logferry/v1/logferry.pb.h"
#include "sidecar/parse/json_reader.hpp"
#include "sidecar/parse/k8s_audit_parser.hpp"

namespace logferry::aggregator {

// One decoded audit event.
struct AuditEvent {
  v1::Entry entry;  // body: the event as minified JSON; attributes and time from K8sAuditParser
  std::string key;  // the idempotency key: auditID, '\n', stage
};

class AuditEventListDecoder {
 public:
  // Replaces `events` with one event per item, in order. Returns "" on success,
  // otherwise why the body is not an EventList (then `events` is empty): not
  // JSON, kind is not EventList, apiVersion is not audit.k8s.io/v1, items is
  // not an array, or an item is not an object with string auditID and stage.
  std::string decode(std::string_view body, std::vector<AuditEvent>& events);

 private:
  JsonReader reader_;
  K8sAuditParser parser_;
};

}  // namespace logferry::aggregator
