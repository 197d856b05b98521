#pragma once
// OTLP/HTTP bodies: a sealed v1::Batch becomes one ExportLogsServiceRequest
// with one ResourceLogs (the batch's resource labels, which already use the
// semantic-convention keys k8s.pod.name, k8s.namespace.name, k8s.node.name,
// k8s.container.name, plus service.name and LOGFERRY_LABELS; with per-source
// labels, as a node agent sends, one ResourceLogs per distinct effective
// resource, i.e. per Pod container), one ScopeLogs
// (scope "logferry" and its version) and a LogRecord per entry. An Entry uses
// LogRecord's field numbers, so the conversion is a field-by-field copy; the
// source's path becomes the attribute log.file.path. logferry's idempotency
// key (source id, offset) becomes the attribute log.record.uid (OpenTelemetry's
// record id: equal ids are duplicates), the same on every re-send, so
// backends and Collector processors can drop re-sent records.
#include <string>
#include <string_view>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "logferry/v1/logferry.pb.h"
#include "sidecar/core/output_options.hpp"
#include "sidecar/forward/http_sink.hpp"

namespace logferry {

namespace otlp {
namespace common = opentelemetry::proto::common::v1;
namespace logs = opentelemetry::proto::logs::v1;
namespace collector = opentelemetry::proto::collector::logs::v1;
}  // namespace otlp

// The log.record.uid of the entry at `offset` of the source `source_id`: a
// UUID (RFC 9562 version 5, name-based) such as
// "8f14e45f-ceea-5167-a5a3-6cbd2b0c1a4e"; deterministic.
std::string log_record_uid(std::string_view source_id, uint64_t offset);

// Copies a logferry value into its OTLP twin (recursively for arrays and maps).
void copy_any_value(const v1::AnyValue& from, otlp::common::AnyValue& to);

// Fills `out` from a batch; `service_name` ("" = keep the labels' service.name,
// else the container name) is set as the resource's service.name.
void batch_to_otlp(const v1::Batch& batch, std::string_view service_name, otlp::collector::ExportLogsServiceRequest& out);

// gzip-compresses `in` (RFC 1952) into `out`; false on a zlib failure.
bool gzip_compress(std::string_view in, std::string& out);

class OtlpEncoder final : public HttpEncoder {
 public:
  explicit OtlpEncoder(const OutputOptions& options) : options_(options) {}
  std::string_view default_path() const override { return "/v1/logs"; }
  bool encode(std::string_view batch_payload, HttpBody& out) override;
  uint64_t partially_rejected(std::string_view body, std::string& error) const override;

 private:
  const OutputOptions& options_;
};

}  // namespace logferry
