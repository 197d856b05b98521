#include "sidecar/forward/otlp_encoder.hpp"

#include <zlib.h>

#include <algorithm>
#include <vector>

#include <boost/uuid/name_generator_sha1.hpp>
#include <boost/uuid/uuid_io.hpp>
#include <google/protobuf/arena.h>

namespace logferry {

namespace {

constexpr std::string_view kScopeName = "logferry";

void copy_key_values(const google::protobuf::RepeatedPtrField<v1::KeyValue>& from,
                     google::protobuf::RepeatedPtrField<otlp::common::KeyValue>& to) {
  to.Reserve(to.size() + from.size());
  for (const auto& kv : from) {
    auto* out = to.Add();
    out->set_key(kv.key());
    if (kv.has_value()) copy_any_value(kv.value(), *out->mutable_value());
  }
}

void set_string_attribute(google::protobuf::RepeatedPtrField<otlp::common::KeyValue>& attrs, std::string_view key,
                          std::string_view value) {
  for (auto& kv : attrs) {
    if (kv.key() == key) {
      kv.mutable_value()->set_string_value(std::string(value));
      return;
    }
  }
  auto* kv = attrs.Add();
  kv->set_key(std::string(key));
  kv->mutable_value()->set_string_value(std::string(value));
}

const otlp::common::KeyValue* find_attribute(const google::protobuf::RepeatedPtrField<otlp::common::KeyValue>& attrs,
                                             std::string_view key) {
  for (const auto& kv : attrs)
    if (kv.key() == key) return &kv;
  return nullptr;
}

}  // namespace

std::string log_record_uid(std::string_view source_id, uint64_t offset) {
  // A name-based UUID (version 5, SHA-1) in logferry's own namespace; the
  // name is the source id followed by the offset as 8 little-endian bytes.
  static const boost::uuids::uuid kNamespace =
      boost::uuids::name_generator_sha1(boost::uuids::ns::oid())("logferry log.record.uid");
  std::string name(source_id);
  for (int i = 0; i < 8; ++i) name.push_back(static_cast<char>((offset >> (8 * i)) & 0xff));
  return boost::uuids::to_string(boost::uuids::name_generator_sha1(kNamespace)(name.data(), name.size()));
}

void copy_any_value(const v1::AnyValue& from, otlp::common::AnyValue& to) {
  switch (from.value_case()) {
    case v1::AnyValue::kStringValue: to.set_string_value(from.string_value()); break;
    case v1::AnyValue::kBoolValue: to.set_bool_value(from.bool_value()); break;
    case v1::AnyValue::kIntValue: to.set_int_value(from.int_value()); break;
    case v1::AnyValue::kDoubleValue: to.set_double_value(from.double_value()); break;
    case v1::AnyValue::kBytesValue: to.set_bytes_value(from.bytes_value()); break;
    case v1::AnyValue::kArrayValue: {
      auto* out = to.mutable_array_value()->mutable_values();
      for (const auto& v : from.array_value().values()) copy_any_value(v, *out->Add());
      break;
    }
    case v1::AnyValue::kKvlistValue:
      copy_key_values(from.kvlist_value().values(), *to.mutable_kvlist_value()->mutable_values());
      break;
    case v1::AnyValue::VALUE_NOT_SET: break;
  }
}

namespace {

// The resource of one group of sources: the batch's labels, then the sources'
// own ones (a key present in both takes the source's value).
void fill_resource(const v1::Batch& batch, const v1::Source* source, std::string_view service_name,
                   google::protobuf::RepeatedPtrField<otlp::common::KeyValue>& resource) {
  copy_key_values(batch.resource(), resource);
  if (source != nullptr) {
    for (const auto& kv : source->resource()) {
      if (!kv.has_value()) continue;
      otlp::common::AnyValue value;
      copy_any_value(kv.value(), value);
      bool replaced = false;
      for (auto& existing : resource) {
        if (existing.key() != kv.key()) continue;
        *existing.mutable_value() = value;
        replaced = true;
      }
      if (!replaced) {
        auto* out = resource.Add();
        out->set_key(kv.key());
        *out->mutable_value() = std::move(value);
      }
    }
  }
  if (!service_name.empty()) {
    set_string_attribute(resource, "service.name", service_name);
  } else if (find_attribute(resource, "service.name") == nullptr) {
    if (const auto* container = find_attribute(resource, "k8s.container.name")) {
      set_string_attribute(resource, "service.name", container->value().string_value());
    }
  }
}

void add_record(const v1::Batch& batch, const v1::Entry& e, google::protobuf::RepeatedPtrField<otlp::logs::LogRecord>& records) {
  auto* r = records.Add();
  r->set_time_unix_nano(e.time_unix_nano());
  r->set_observed_time_unix_nano(e.observed_time_unix_nano());
  r->set_severity_number(static_cast<otlp::logs::SeverityNumber>(e.severity_number()));
  r->set_severity_text(e.severity_text());
  if (e.has_body()) copy_any_value(e.body(), *r->mutable_body());
  copy_key_values(e.attributes(), *r->mutable_attributes());
  if (e.source_index() < static_cast<uint32_t>(batch.sources_size())) {
    const auto& path = batch.sources(static_cast<int>(e.source_index())).path();
    if (!path.empty() && find_attribute(r->attributes(), "log.file.path") == nullptr) {
      auto* kv = r->add_attributes();
      kv->set_key("log.file.path");
      kv->mutable_value()->set_string_value(path);
    }
    if (find_attribute(r->attributes(), "log.record.uid") == nullptr) {
      auto* kv = r->add_attributes();
      kv->set_key("log.record.uid");
      kv->mutable_value()->set_string_value(
          log_record_uid(batch.sources(static_cast<int>(e.source_index())).id(), e.offset()));
    }
  }
  r->set_flags(e.flags());
  r->set_trace_id(e.trace_id());
  r->set_span_id(e.span_id());
}

google::protobuf::RepeatedPtrField<otlp::logs::LogRecord>& add_resource_logs(
    const v1::Batch& batch, const v1::Source* source, std::string_view service_name,
    otlp::collector::ExportLogsServiceRequest& out) {
  auto* rl = out.add_resource_logs();
  fill_resource(batch, source, service_name, *rl->mutable_resource()->mutable_attributes());
  auto* sl = rl->add_scope_logs();
  sl->mutable_scope()->set_name(std::string(kScopeName));
  sl->mutable_scope()->set_version(LOGFERRY_VERSION);
  return *sl->mutable_log_records();
}

}  // namespace

void batch_to_otlp(const v1::Batch& batch, std::string_view service_name, otlp::collector::ExportLogsServiceRequest& out) {
  bool per_source = false;
  for (const auto& src : batch.sources()) per_source = per_source || src.resource_size() > 0;
  if (!per_source) {
    // Every entry shares the batch's resource: one ResourceLogs.
    auto& records = add_resource_logs(batch, nullptr, service_name, out);
    records.Reserve(batch.entries_size());
    for (const auto& e : batch.entries()) add_record(batch, e, records);
    return;
  }
  // One ResourceLogs per distinct effective resource (sources of one Pod's
  // container may appear several times in a batch, e.g. across a rotation).
  std::vector<int> group_of(static_cast<size_t>(batch.sources_size()), -1);
  std::vector<std::string> group_keys;
  std::vector<google::protobuf::RepeatedPtrField<otlp::logs::LogRecord>*> groups;
  for (int i = 0; i < batch.sources_size(); ++i) {
    std::string key;
    for (const auto& kv : batch.sources(i).resource()) {
      const std::string bytes = kv.SerializeAsString();
      key += std::to_string(bytes.size()) + ':' + bytes;
    }
    auto it = std::find(group_keys.begin(), group_keys.end(), key);
    if (it == group_keys.end()) {
      group_keys.push_back(std::move(key));
      groups.push_back(&add_resource_logs(batch, &batch.sources(i), service_name, out));
      it = group_keys.end() - 1;
    }
    group_of[static_cast<size_t>(i)] = static_cast<int>(it - group_keys.begin());
  }
  for (const auto& e : batch.entries()) {
    if (e.source_index() >= group_of.size()) continue;  // validated batches never have this
    add_record(batch, e, *groups[static_cast<size_t>(group_of[e.source_index()])]);
  }
}

bool gzip_compress(std::string_view in, std::string& out) {
  z_stream zs{};
  // windowBits 15 + 16: a gzip header and trailer instead of zlib's.
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return false;
  out.resize(deflateBound(&zs, static_cast<uLong>(in.size())) + 32);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return rc == Z_STREAM_END;
}

bool OtlpEncoder::encode(std::string_view batch_payload, HttpBody& out) {
  google::protobuf::Arena arena;
  auto* batch = google::protobuf::Arena::CreateMessage<v1::Batch>(&arena);
  if (!batch->ParseFromArray(batch_payload.data(), static_cast<int>(batch_payload.size()))) return false;
  auto* request = google::protobuf::Arena::CreateMessage<otlp::collector::ExportLogsServiceRequest>(&arena);
  batch_to_otlp(*batch, options_.service_name, *request);
  out.content_type = "application/x-protobuf";
  if (!options_.otlp_gzip) return request->SerializeToString(&out.data);
  std::string plain;
  if (!request->SerializeToString(&plain)) return false;
  out.content_encoding = "gzip";
  return gzip_compress(plain, out.data);
}

uint64_t OtlpEncoder::partially_rejected(std::string_view body, std::string& error) const {
  if (body.empty()) return 0;
  otlp::collector::ExportLogsServiceResponse response;
  if (!response.ParseFromArray(body.data(), static_cast<int>(body.size())) || !response.has_partial_success()) return 0;
  const int64_t n = response.partial_success().rejected_log_records();
  error = response.partial_success().error_message();
  return n > 0 ? static_cast<uint64_t>(n) : 0;
}

}  // namespace logferry
