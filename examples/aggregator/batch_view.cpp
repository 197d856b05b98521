#include "aggregator/batch_view.hpp"

#include <limits>

#include "aggregator/wire_scan.hpp"

namespace logferry::aggregator {
namespace {

constexpr uint32_t kBatchEntries = 4;

}  // namespace

bool decode_batch(std::string_view bytes, BatchView& out, bool render) {
  out.entries.clear();
  out.rendered.clear();
  out.head_bytes.clear();
  WireScanner s(bytes);
  WireField f;
  for (size_t pos = 0; s.next(f); pos = s.position()) {
    if (f.number == kBatchEntries && f.wire_type == kLengthDelimited) {
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

std::string validate_batch(const BatchView& batch) {
  const auto sources = static_cast<uint32_t>(batch.head.sources_size());
  for (const auto& e : batch.entries) {
    if (e.key.source_index >= sources) {
      return "entry source_index " + std::to_string(e.key.source_index) + " out of range";
    }
  }
  return {};
}

}  // namespace logferry::aggregator
