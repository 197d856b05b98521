#pragma once
// `k8s-audit`: one Kubernetes audit event (audit.k8s.io/v1 Event, JSON) per
// line. The body is the whole event as written; selected fields become
// attributes: k8s.audit.id (auditID), k8s.audit.stage, k8s.audit.verb,
// k8s.audit.level, k8s.audit.user.username, k8s.audit.requestURI,
// k8s.audit.objectRef.{resource,subresource,namespace,name,apiGroup},
// http.response.status_code (responseStatus.code, int), client.address
// (sourceIPs[0]), user_agent.original. The time is stageTimestamp (else
// requestReceivedTimestamp). A JSON object without auditID is a parse error.
#include "sidecar/parse/json_reader.hpp"
#include "sidecar/parse/parser.hpp"

namespace logferry {

class K8sAuditParser final : public Parser {
 public:
  ParseResult parse(std::string_view line, v1::Entry& entry) override;
  std::string_view name() const override { return "k8s-audit"; }

 private:
  JsonReader reader_;
};

}  // namespace logferry
