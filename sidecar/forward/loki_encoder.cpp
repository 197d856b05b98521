#include "sidecar/forward/loki_encoder.hpp"

#include <snappy.h>

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>
#include <google/protobuf/arena.h>

#include "sidecar/core/json_escape.hpp"
#include "sidecar/core/logger.hpp"

namespace logferry {

namespace {

const std::string* find_label(const google::protobuf::RepeatedPtrField<v1::KeyValue>& kvs, std::string_view key) {
  for (const auto& kv : kvs)
    if (kv.key() == key && kv.value().has_string_value()) return &kv.value().string_value();
  return nullptr;
}

// A label of the source's effective resource: its own labels override the batch's.
const std::string* find_resource(const v1::Batch& batch, const v1::Source& source, std::string_view key) {
  if (const auto* v = find_label(source.resource(), key)) return v;
  return find_label(batch.resource(), key);
}

void append_json_value(std::string& out, const v1::AnyValue& v) {
  switch (v.value_case()) {
    case v1::AnyValue::kStringValue: append_json_string(out, v.string_value()); break;
    case v1::AnyValue::kBoolValue: out += v.bool_value() ? "true" : "false"; break;
    case v1::AnyValue::kIntValue: out += fmt::format("{}", v.int_value()); break;
    case v1::AnyValue::kDoubleValue:
      if (std::isfinite(v.double_value())) out += fmt::format("{}", v.double_value());
      else append_json_string(out, fmt::format("{}", v.double_value()));
      break;
    case v1::AnyValue::kBytesValue: {
      std::string hex;
      for (const unsigned char c : v.bytes_value()) hex += fmt::format("{:02x}", c);
      append_json_string(out, hex);
      break;
    }
    case v1::AnyValue::kArrayValue: {
      out += '[';
      for (int i = 0; i < v.array_value().values_size(); ++i) {
        if (i) out += ',';
        append_json_value(out, v.array_value().values(i));
      }
      out += ']';
      break;
    }
    case v1::AnyValue::kKvlistValue: {
      out += '{';
      for (int i = 0; i < v.kvlist_value().values_size(); ++i) {
        if (i) out += ',';
        append_json_string(out, v.kvlist_value().values(i).key());
        out += ':';
        append_json_value(out, v.kvlist_value().values(i).value());
      }
      out += '}';
      break;
    }
    case v1::AnyValue::VALUE_NOT_SET: out += "null"; break;
  }
}

std::string hex(std::string_view bytes) {
  std::string out;
  for (const unsigned char c : bytes) out += fmt::format("{:02x}", c);
  return out;
}

// Appends ` key=value` in logfmt: values with spaces, quotes, '=' or nothing are quoted.
void append_logfmt(std::string& line, std::string_view key, std::string_view value) {
  line += ' ';
  line += key;
  line += '=';
  const bool quote = value.empty() || value.find_first_of(" =\"\t\n\r\\") != std::string_view::npos;
  if (!quote) {
    line += value;
    return;
  }
  line += '"';
  for (const char c : value) {
    if (c == '"' || c == '\\') line += '\\', line += c;
    else if (c == '\n') line += "\\n";
    else if (c == '\r') line += "\\r";
    else if (c == '\t') line += "\\t";
    else line += c;
  }
  line += '"';
}

std::string_view basename(std::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

uint64_t entry_time(const v1::Entry& e) { return e.time_unix_nano() ? e.time_unix_nano() : e.observed_time_unix_nano(); }

}  // namespace

std::vector<LokiLabelSource> loki_label_sources(const std::vector<std::string>& items) {
  static const std::map<std::string_view, std::string_view> kBuiltIn{{"namespace", "k8s.namespace.name"},
                                                                     {"pod", "k8s.pod.name"},
                                                                     {"container", "k8s.container.name"},
                                                                     {"node", "k8s.node.name"}};
  std::vector<LokiLabelSource> out;
  for (const auto& item : items) {
    LokiLabelSource s;
    const size_t eq = item.find('=');
    s.name = item.substr(0, eq);
    if (eq != std::string::npos) {
      s.resource_key = item.substr(eq + 1);
    } else if (s.name == "filename") {
      s.kind = LokiLabelSource::Kind::filename;
    } else if (s.name == "service_name") {
      s.kind = LokiLabelSource::Kind::service_name;
    } else if (auto it = kBuiltIn.find(s.name); it != kBuiltIn.end()) {
      s.resource_key = std::string(it->second);
    } else {
      s.resource_key = s.name;  // a LOGFERRY_LABELS key
    }
    out.push_back(std::move(s));
  }
  return out;
}

std::string render_loki_labels(std::vector<std::pair<std::string, std::string>> labels) {
  std::stable_sort(labels.begin(), labels.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string out = "{";
  for (const auto& [name, value] : labels) {
    if (out.size() > 1) out += ',';
    out += name;
    out += "=\"";
    for (const char c : value) {
      if (c == '"' || c == '\\') out += '\\', out += c;
      else if (c == '\n') out += "\\n";
      else out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

void append_value_text(std::string& out, const v1::AnyValue& value) {
  if (value.has_string_value()) out += value.string_value();
  else append_json_value(out, value);
}

void batch_to_loki(const v1::Batch& batch, const std::vector<LokiLabelSource>& labels, std::string_view service_name,
                   bool structured_metadata, logproto::PushRequest& out) {
  // The label set of each source (filename, and a node agent's pod labels, differ between them).
  std::vector<std::string> source_labels;
  for (const auto& src : batch.sources()) {
    std::string service(service_name);
    if (service.empty()) {
      if (const auto* s = find_resource(batch, src, "service.name")) service = *s;
      else if (const auto* c = find_resource(batch, src, "k8s.container.name")) service = *c;
    }
    std::vector<std::pair<std::string, std::string>> set;
    for (const auto& l : labels) {
      std::string value;
      if (l.kind == LokiLabelSource::Kind::filename) value = std::string(basename(src.path()));
      else if (l.kind == LokiLabelSource::Kind::service_name) value = service;
      else if (const auto* v = find_resource(batch, src, l.resource_key)) value = *v;
      if (!value.empty()) set.emplace_back(l.name, std::move(value));  // Loki drops empty labels anyway
    }
    if (set.empty()) set.emplace_back("job", "logferry");  // Loki refuses a stream without labels
    source_labels.push_back(render_loki_labels(std::move(set)));
  }
  std::map<std::string_view, std::vector<const v1::Entry*>> streams;
  for (const auto& e : batch.entries()) {
    if (e.source_index() >= source_labels.size()) continue;  // validated batches never have this
    streams[source_labels[e.source_index()]].push_back(&e);
  }
  for (auto& [label_text, entries] : streams) {
    std::stable_sort(entries.begin(), entries.end(),
                     [](const v1::Entry* a, const v1::Entry* b) { return entry_time(*a) < entry_time(*b); });
    auto* stream = out.add_streams();
    stream->set_labels(std::string(label_text));
    stream->mutable_entries()->Reserve(static_cast<int>(entries.size()));
    for (const v1::Entry* e : entries) {
      auto* le = stream->add_entries();
      const uint64_t t = entry_time(*e);
      le->mutable_timestamp()->set_seconds(static_cast<int64_t>(t / 1'000'000'000));
      le->mutable_timestamp()->set_nanos(static_cast<int32_t>(t % 1'000'000'000));
      std::string line;
      if (e->has_body()) append_value_text(line, e->body());
      auto add = [&](std::string_view key, std::string_view value) {
        if (structured_metadata) {
          auto* md = le->add_structuredmetadata();
          md->set_name(std::string(key));
          md->set_value(std::string(value));
        } else {
          append_logfmt(line, key, value);
        }
      };
      if (!e->severity_text().empty()) add("level", e->severity_text());
      if (!e->trace_id().empty()) add("trace_id", hex(e->trace_id()));
      if (!e->span_id().empty()) add("span_id", hex(e->span_id()));
      for (const auto& kv : e->attributes()) {
        std::string value;
        append_value_text(value, kv.value());
        add(kv.key(), value);
      }
      le->set_line(std::move(line));
    }
  }
}

bool refuses_structured_metadata(unsigned status, std::string_view body) {
  // Loki's validation error: "stream '{...}' includes structured metadata, but
  // this feature is disallowed. Please see `limits_config.allow_structured_metadata` ...".
  return status == 400 && body.find("structured metadata") != std::string_view::npos &&
         (body.find("disallowed") != std::string_view::npos ||
          body.find("allow_structured_metadata") != std::string_view::npos);
}

LokiEncoder::LokiEncoder(const OutputOptions& options)
    : options_(options),
      labels_(loki_label_sources(options.loki_labels)),
      structured_metadata_(options.loki_structured_metadata) {}

bool LokiEncoder::fall_back(unsigned status, std::string_view body) {
  if (!structured_metadata_ || !options_.loki_structured_metadata_fallback ||
      !refuses_structured_metadata(status, body)) {
    return false;
  }
  structured_metadata_ = false;
  log_warn("Loki does not allow structured metadata: level, trace ids and attributes are appended to the lines "
           "as logfmt from now on (LOGFERRY_LOKI_STRUCTURED_METADATA=auto); the refused batch is re-sent",
           {{"output", options_.outputs.empty() ? std::string() : options_.outputs.front().text}});
  return true;
}

bool LokiEncoder::encode(std::string_view batch_payload, HttpBody& out) {
  google::protobuf::Arena arena;
  auto* batch = google::protobuf::Arena::CreateMessage<v1::Batch>(&arena);
  if (!batch->ParseFromArray(batch_payload.data(), static_cast<int>(batch_payload.size()))) return false;
  auto* request = google::protobuf::Arena::CreateMessage<logproto::PushRequest>(&arena);
  batch_to_loki(*batch, labels_, options_.service_name, structured_metadata_, *request);
  std::string plain;
  if (!request->SerializeToString(&plain)) return false;
  out.data.clear();
  snappy::Compress(plain.data(), plain.size(), &out.data);
  out.content_type = "application/x-protobuf";  // snappy is implied by Loki's protobuf push
  out.content_encoding.clear();
  return true;
}

Labels LokiEncoder::headers() const {
  if (options_.loki_tenant.empty()) return {};
  return {{"X-Scope-OrgID", options_.loki_tenant}};
}

}  // namespace logferry
