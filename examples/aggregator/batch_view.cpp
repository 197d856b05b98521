#include "aggregator/batch_view.hpp"

#include "aggregator/wire_scan.hpp"

namespace logferry::aggregator {
namespace {

constexpr uint32_t kBatchEntries = 4;

}  // namespace

bool decode_batch(std::string_view bytes, BatchView& out) {
  out.entries.clear();
  out.head_bytes.clear();
  WireScanner s(bytes);
  WireField f;
  for (size_t pos = 0; s.next(f); pos = s.position()) {
    if (f.number == kBatchEntries && f.wire_type == kLengthDelimited) {
      EntryView& e = out.entries.emplace_back();
      e.bytes = f.bytes;
      if (!validate_entry(f.bytes, s.child_depth(), e.key)) return false;
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
  size_t total = 0;
  for (const auto& e : batch.entries()) total += e.ByteSizeLong();
  out.owned.clear();
  out.owned.reserve(total);  // no reallocation below: the views stay valid
  for (const auto& e : batch.entries()) {
    const size_t start = out.owned.size();
    e.AppendToString(&out.owned);
    out.entries.push_back(EntryView{std::string_view(out.owned).substr(start), EntryKey{e.source_index(), e.offset()}});
  }
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
