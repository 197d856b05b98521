#pragma once
// A received logferry.v1.Batch without a message per entry: the few fields
// shared by all entries (sequence, resource, sources) parsed into a Batch of
// their own, and each entry kept as a view of its wire bytes plus the two
// fields the store needs first. Decoding accepts exactly what
// Batch::ParseFromArray accepts.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "aggregator/batch_limits.hpp"
#include "aggregator/entry_wire.hpp"
#include "logferry/v1/logferry.pb.h"

namespace logferry::aggregator {

struct EntryView {
  std::string_view bytes;  // the serialized Entry
  EntryKey key;            // its source_index and offset
  // Its rendered parts in BatchView::rendered (see render_entry), when rendered.
  size_t head_begin = 0;
  size_t tail_begin = 0;
  size_t tail_end = 0;
};

struct BatchView {
  v1::Batch head;                  // sequence, resource and sources; no entries
  std::vector<EntryView> entries;  // views into the decoded bytes (or into `owned`)
  std::string rendered;            // the entries' rendered parts
  std::string owned;               // entry bytes when built from a parsed Batch
  std::string head_bytes;          // scratch: the non-entry fields, for parsing `head`
  WireJson json;                   // scratch for rendering
  std::string over_limit;          // why decode_batch stopped at a limit ("" otherwise)
};

// Reads a serialized Batch into `out` (its views point into `bytes`), with
// each entry's line parts rendered when `render` is set; false where
// ParseFromArray would fail, and also (with out.over_limit saying why) as soon
// as the entries exceed limits->max_entries or render to more than
// limits->max_rendered_bytes.
bool decode_batch(std::string_view bytes, BatchView& out, bool render, const BatchLimits* limits = nullptr);

// Releases the buffers an unusually large batch grew.
void shrink_batch_view(BatchView& view);

// Fills `out` from a parsed Batch, lines rendered (for low volumes: audit events, tests).
void view_batch(const v1::Batch& batch, BatchView& out);

// Appends the line of a rendered entry of `batch`.
void append_line(std::string& out, const BatchView& batch, const EntryView& entry, const LineFrame& frame);

// Returns "" when every entry names one of the batch's sources, else which does not.
std::string check_source_indexes(const BatchView& batch);
// Returns "" when the batch is within `limits` (entries, labels, paths, bytes
// once stored), else the limit it is over, by its variable's name. Needs
// check_source_indexes() to have passed.
std::string check_limits(const BatchView& batch, const BatchLimits& limits);

// Both checks: "" when the batch's contents can be stored within `limits`, else
// why not (the batch is then acknowledged as REJECTED).
std::string validate_batch(const BatchView& batch, const BatchLimits& limits = {});

}  // namespace logferry::aggregator
