#pragma once
// Grafana Loki push bodies: a sealed v1::Batch becomes a PushRequest, snappy
// block-compressed. Entries are grouped into streams by a small label set
// (LOGFERRY_LOKI_LABELS, default namespace, pod, container, filename) so that
// label cardinality stays low; within a stream, entries are in timestamp order
// (time_unix_nano, else the observed time; stable). The line is the body (JSON
// when it is not a string); severity, trace and span ids and attributes go
// into structured metadata (LOGFERRY_LOKI_STRUCTURED_METADATA=true) or are
// appended to the line as logfmt (false); with auto (the default), structured
// metadata until Loki answers 400 saying it is not allowed, then logfmt.
// Timestamps are the entries' own (docs/ordering.md): a re-sent batch carries
// the same ones, and Loki drops exact duplicates (stream, timestamp, line).
#include <string>
#include <string_view>
#include <vector>

#include "logferry/v1/logferry.pb.h"
#include "loki/push.pb.h"
#include "sidecar/core/output_options.hpp"
#include "sidecar/forward/http_sink.hpp"

namespace logferry {

// One stream label: its Loki name and where its value comes from.
struct LokiLabelSource {
  enum class Kind { resource, filename, service_name };
  std::string name;          // a valid Prometheus label name, e.g. "namespace"
  Kind kind = Kind::resource;
  std::string resource_key;  // for Kind::resource, e.g. "k8s.namespace.name"
};

// Maps LOGFERRY_LOKI_LABELS items ("namespace", "filename", "team",
// "app=app.kubernetes.io/name") to label sources.
std::vector<LokiLabelSource> loki_label_sources(const std::vector<std::string>& items);

// Renders a label set as {a="b",c="d"} (sorted by name, values escaped).
std::string render_loki_labels(std::vector<std::pair<std::string, std::string>> labels);

// Appends a value as text: strings as they are, anything else as JSON.
void append_value_text(std::string& out, const v1::AnyValue& value);

// True when a Loki error answer says structured metadata is not allowed.
bool refuses_structured_metadata(unsigned status, std::string_view body);

// Fills `out` from a batch.
void batch_to_loki(const v1::Batch& batch, const std::vector<LokiLabelSource>& labels, std::string_view service_name,
                   bool structured_metadata, logproto::PushRequest& out);

class LokiEncoder final : public HttpEncoder {
 public:
  explicit LokiEncoder(const OutputOptions& options);
  std::string_view default_path() const override { return "/loki/api/v1/push"; }
  bool encode(std::string_view batch_payload, HttpBody& out) override;
  Labels headers() const override;
  // auto: Loki's 400 "... includes structured metadata, but this feature is
  // disallowed ..." switches this encoder to logfmt.
  bool fall_back(unsigned status, std::string_view body) override;
  bool structured_metadata() const { return structured_metadata_; }

 private:
  const OutputOptions& options_;
  std::vector<LokiLabelSource> labels_;
  bool structured_metadata_;
};

}  // namespace logferry
