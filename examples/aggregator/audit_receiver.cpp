#include "aggregator/audit_receiver.hpp"

#include <chrono>

#include <fmt/format.h>

#include "sidecar/core/logger.hpp"

namespace logferry::aggregator {
namespace {

void add_label(v1::Batch& batch, std::string_view key, std::string_view value) {
  auto* kv = batch.add_resource();
  kv->set_key(std::string(key));
  kv->mutable_value()->set_string_value(std::string(value));
}

uint64_t now_unix_nano() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

}  // namespace

AuditReceiver::AuditReceiver(SegmentStore* store, AggregatorMetrics& metrics, std::string data_dir)
    : store_(store), metrics_(metrics), data_dir_(std::move(data_dir)) {}

void AuditReceiver::open() {
  if (store_ == nullptr) return;
  if (const auto high = store_->highest_offset_at(kAuditDirKey, kAuditSourceId)) {
    // Never wrap: offset 0 would make every later event a duplicate of the stored ones.
    next_offset_ = *high == UINT64_MAX ? UINT64_MAX : *high + 1;
    if (*high == UINT64_MAX) log_error("audit offsets exhausted: new audit events cannot be stored", {});
  }
  const auto dir = std::filesystem::path(data_dir_) / std::string(kAuditDirKey);
  const size_t keys = dedupe_.recover(dir);
  if (keys != 0) log_info("audit dedupe window recovered", {{"events", keys}, {"next_offset", next_offset_}});
}

boost::asio::awaitable<AuditAnswer> AuditReceiver::receive(std::string_view body) {
  AuditAnswer answer;
  if (auto why = decoder_.decode(body, events_); !why.empty()) {
    bump(metrics_.audit_requests_malformed);
    answer.status = 400;
    answer.text = "not an audit.k8s.io/v1 EventList: " + why;
    co_return answer;
  }
  if (store_ == nullptr) {  // discard mode
    answer.stored = static_cast<uint32_t>(events_.size());
    bump(metrics_.audit_events_stored, answer.stored);
    bump(metrics_.entries_stored, answer.stored);
    answer.text = fmt::format("stored {} events", answer.stored);
    co_return answer;
  }
  if (store_->failed()) {
    answer.status = 503;
    answer.text = "the store failed; nothing is stored";
    co_return answer;
  }
  if (next_offset_ > UINT64_MAX - events_.size()) {
    answer.status = 500;
    answer.text = "audit offsets exhausted; nothing is stored";
    co_return answer;
  }
  batch_.Clear();
  add_label(batch_, "k8s.namespace.name", kAuditNamespace);
  add_label(batch_, "k8s.pod.name", kAuditPod);
  add_label(batch_, "service.name", "kube-apiserver");
  auto* source = batch_.add_sources();
  source->set_id(std::string(kAuditSourceId));
  source->set_path("audit webhook");
  fresh_.clear();
  const uint64_t observed = now_unix_nano();
  uint64_t offset = next_offset_;
  for (auto& event : events_) {
    // A key stored before, or repeated within this list, is a duplicate.
    if (dedupe_.contains(event.key) || !fresh_.insert(event.key).second) {
      ++answer.duplicates;
      continue;
    }
    v1::Entry* entry = batch_.add_entries();
    entry->Swap(&event.entry);
    entry->set_source_index(0);
    entry->set_offset(offset++);
    entry->set_observed_time_unix_nano(observed);
  }
  source->set_end_offset(offset - 1);
  const AppendResult written = store_->append(batch_, kAuditDirKey);
  if (written.ec) {
    answer.status = 500;
    answer.text = "storing the events failed: " + written.ec.message();
    co_return answer;
  }
  next_offset_ = offset;
  // Known from now on: a retry arriving while this write syncs waits for the same sync.
  for (const std::string_view key : fresh_) dedupe_.insert(std::string(key));
  answer.stored = written.stored;
  answer.duplicates += written.duplicates;
  bump(metrics_.audit_events_stored, answer.stored);
  bump(metrics_.audit_events_duplicate, answer.duplicates);
  while (!store_->durable(written.ticket)) {
    if (store_->failed()) {
      answer.status = 503;
      answer.text = "the store failed to sync; the events may not be stored";
      co_return answer;
    }
    co_await store_->durable_event().wait();
  }
  answer.text = fmt::format("stored {} events, {} duplicates", answer.stored, answer.duplicates);
  co_return answer;
}

}  // namespace logferry::aggregator
