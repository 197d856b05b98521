#include "aggregator/batch_view.hpp"

#include <fmt/format.h>

#include <limits>

#include "aggregator/entry_json.hpp"
#include "aggregator/wire_scan.hpp"
#include "sidecar/core/json_escape.hpp"

namespace logferry::aggregator {
namespace {

constexpr uint32_t kBatchEntries = 4;
// Buffers above this capacity are released after their batch.
constexpr size_t kKeepBytes = 4u << 20;
// The bytes of a stored line besides its rendered parts: keys, quotes, braces, the offset's digits.
constexpr uint64_t kLineOverhead = 96;

std::string check_labels(const google::protobuf::RepeatedPtrField<v1::KeyValue>& labels, const BatchLimits& limits,
                         std::string_view whose) {
  if (static_cast<uint64_t>(labels.size()) > limits.max_labels) {
    return fmt::format("{} has {} resource labels, over the limit of {} (LOGFERRY_AGGREGATOR_MAX_LABELS)", whose,
                       labels.size(), limits.max_labels);
  }
  for (const auto& kv : labels) {
    if (kv.ByteSizeLong() > limits.max_label_bytes) {
      return fmt::format("{} has a resource label of {} bytes, over the limit of {} (LOGFERRY_AGGREGATOR_MAX_LABEL_BYTES)",
                         whose, kv.ByteSizeLong(), limits.max_label_bytes);
    }
  }
  return {};
}

}  // namespace

bool decode_batch(std::string_view bytes, BatchView& out, bool render, const BatchLimits* limits) {
  out.entries.clear();
  out.rendered.clear();
  out.head_bytes.clear();
  out.over_limit.clear();
  const uint64_t max_entries = limits ? limits->max_entries : UINT64_MAX;
  const uint64_t max_rendered = limits ? limits->max_rendered_bytes : UINT64_MAX;
  WireScanner s(bytes);
  WireField f;
  for (size_t pos = 0; s.next(f); pos = s.position()) {
    if (f.number == kBatchEntries && f.wire_type == kLengthDelimited) {
      if (out.entries.size() >= max_entries) {
        out.over_limit = fmt::format("more than {} entries (LOGFERRY_AGGREGATOR_MAX_BATCH_ENTRIES)", max_entries);
        return false;
      }
      if (out.rendered.size() > max_rendered) {
        out.over_limit = fmt::format("the entries render to more than {} bytes (LOGFERRY_AGGREGATOR_MAX_BATCH_RENDERED_BYTES)",
                                     max_rendered);
        return false;
      }
      EntryView& e = out.entries.emplace_back();
      e.bytes = f.bytes;
      if (!render) {
        if (!validate_entry(f.bytes, s.child_depth(), e.key)) return false;
        continue;
      }
      e.head_begin = out.rendered.size();
      if (!render_entry(out.rendered, e.tail_begin, f.bytes, s.child_depth(), e.key, out.json)) return false;
      e.tail_end = out.rendered.size();
    } else {
      // Everything else, unknown fields included, is parsed by protobuf itself
      // in its original order: the same result as parsing it among the entries.
      out.head_bytes.append(bytes.substr(pos, s.position() - pos));
    }
  }
  if (!s.ok()) return false;
  return out.head.ParseFromArray(out.head_bytes.data(), static_cast<int>(out.head_bytes.size()));
}

void view_batch(const v1::Batch& batch, BatchView& out) {
  out.head.Clear();
  out.head.set_sequence(batch.sequence());
  *out.head.mutable_resource() = batch.resource();
  *out.head.mutable_sources() = batch.sources();
  out.entries.clear();
  out.rendered.clear();
  size_t total = 0;
  for (const auto& e : batch.entries()) total += e.ByteSizeLong();
  out.owned.clear();
  out.owned.reserve(total);  // no reallocation below: the views stay valid
  for (const auto& e : batch.entries()) {
    const size_t start = out.owned.size();
    e.AppendToString(&out.owned);
    EntryView& view = out.entries.emplace_back();
    view.bytes = std::string_view(out.owned).substr(start);
    view.head_begin = out.rendered.size();
    // A message protobuf built is valid, except that it may hold invalid UTF-8
    // (rendered with replacement characters, as the tree renderer does) or nest deeper.
    out.json.check_utf8 = false;
    render_entry(out.rendered, view.tail_begin, view.bytes, std::numeric_limits<int>::max(), view.key, out.json);
    out.json.check_utf8 = true;
    view.key = EntryKey{e.source_index(), e.offset()};
    view.tail_end = out.rendered.size();
  }
}

void append_line(std::string& out, const BatchView& batch, const EntryView& entry, const LineFrame& frame) {
  const std::string_view rendered(batch.rendered);
  append_line(out, frame, entry.key.offset, rendered.substr(entry.head_begin, entry.tail_begin - entry.head_begin),
              rendered.substr(entry.tail_begin, entry.tail_end - entry.tail_begin));
}

void shrink_batch_view(BatchView& view) {
  if (view.rendered.capacity() > kKeepBytes) std::string().swap(view.rendered);
  if (view.owned.capacity() > kKeepBytes) std::string().swap(view.owned);
  if (view.head_bytes.capacity() > kKeepBytes) std::string().swap(view.head_bytes);
  if (view.entries.capacity() * sizeof(EntryView) > kKeepBytes) std::vector<EntryView>().swap(view.entries);
}

std::string check_source_indexes(const BatchView& batch) {
  const auto sources = static_cast<uint32_t>(batch.head.sources_size());
  for (const auto& e : batch.entries) {
    if (e.key.source_index >= sources) {
      return "entry source_index " + std::to_string(e.key.source_index) + " out of range";
    }
  }
  return {};
}

std::string validate_batch(const BatchView& batch, const BatchLimits& limits) {
  if (auto why = check_source_indexes(batch); !why.empty()) return why;
  return check_limits(batch, limits);
}

std::string check_limits(const BatchView& batch, const BatchLimits& limits) {
  const v1::Batch& head = batch.head;
  const auto sources = static_cast<uint32_t>(head.sources_size());
  if (batch.entries.size() > limits.max_entries || sources > limits.max_entries) {
    return fmt::format("more than {} entries or sources (LOGFERRY_AGGREGATOR_MAX_BATCH_ENTRIES)", limits.max_entries);
  }
  if (auto why = check_labels(head.resource(), limits, "the batch"); !why.empty()) return why;
  // What each source's lines repeat: its id, path and resource, rendered as the store renders them.
  std::string json;  // bounded by the label and path limits checked first
  append_key_values_json(json, head.resource());
  const uint64_t batch_resource = json.size();
  std::vector<uint64_t> per_line(sources, 0);
  for (uint32_t i = 0; i < sources; ++i) {
    const auto& src = head.sources(static_cast<int>(i));
    if (src.path().size() > limits.max_path_bytes || src.id().size() > limits.max_path_bytes) {
      return fmt::format("source {} has a path or id over the limit of {} bytes (LOGFERRY_AGGREGATOR_MAX_PATH_BYTES)",
                         i, limits.max_path_bytes);
    }
    if (auto why = check_labels(src.resource(), limits, fmt::format("source {}", i)); !why.empty()) return why;
    json.clear();
    append_json_string(json, src.id());
    append_json_string(json, src.path());
    if (src.resource_size() > 0) append_key_values_json(json, src.resource());
    per_line[i] = kLineOverhead + batch_resource + json.size();
  }
  uint64_t total = 0;
  for (const auto& e : batch.entries) {
    total += per_line[e.key.source_index] + (e.tail_end - e.head_begin);
    if (total > limits.max_rendered_bytes) {
      return fmt::format("the batch's lines would take more than {} bytes once stored, each repeating its source's "
                         "path and resource (LOGFERRY_AGGREGATOR_MAX_BATCH_RENDERED_BYTES)",
                         limits.max_rendered_bytes);
    }
  }
  return {};
}

}  // namespace logferry::aggregator
