#include "sidecar/client/record_batcher.hpp"

#include <algorithm>
#include <type_traits>

namespace logferry {

namespace asio = boost::asio;

namespace {
// Rough per-entry protobuf overhead (tags, lengths, timestamps) for the size estimate.
constexpr uint64_t kEntryOverhead = 40;
// While batches await acks (or the buffer is full), progress is checked this often.
constexpr std::chrono::milliseconds kProgressPoll{10};

std::string_view severity_text(Severity s) {
  switch (s) {
    case Severity::trace: return "TRACE";
    case Severity::debug: return "DEBUG";
    case Severity::info: return "INFO";
    case Severity::warn: return "WARN";
    case Severity::error: return "ERROR";
    case Severity::fatal: return "FATAL";
  }
  return "";
}

// Sets `out` from the attribute's value; returns the value's size for the batch estimate.
size_t set_value(const AttributeValue& value, v1::AnyValue& out) {
  return std::visit(
      [&out](const auto& v) -> size_t {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) {
          out.set_string_value(v);
          return v.size();
        } else if constexpr (std::is_same_v<T, bool>) {
          out.set_bool_value(v);
          return 1;
        } else if constexpr (std::is_same_v<T, double>) {
          out.set_double_value(v);
          return 8;
        } else {
          out.set_int_value(v);
          return 8;
        }
      },
      value);
}
}  // namespace

RecordBatcher::RecordBatcher(asio::any_io_executor ex, const BatchPolicy& policy, Labels resource,
                             Forwarder& forwarder, RecordQueue& queue, OriginPtr origin,
                             std::function<void(uint64_t)> progress)
    : policy_(policy),
      forwarder_(forwarder),
      queue_(queue),
      origin_(std::move(origin)),
      progress_(std::move(progress)),
      resource_(std::move(resource)),
      wake_(ex) {
  start_batch();
}

void RecordBatcher::start_batch() {
  arena_.Reset();
  batch_ = google::protobuf::Arena::CreateMessage<v1::Batch>(&arena_);
  batch_bytes_ = 0;
}

void RecordBatcher::add(const Record& record) {
  if (batch_->entries_size() == 0) {
    batch_started_ = std::chrono::steady_clock::now();
    auto* src = batch_->add_sources();
    src->set_id(origin_->id);
    src->set_path(origin_->path);
  }
  v1::Entry* entry = batch_->add_entries();
  entry->set_time_unix_nano(record.time_unix_nano);
  entry->set_observed_time_unix_nano(record.time_unix_nano);
  entry->set_severity_number(static_cast<int32_t>(record.severity));
  entry->set_severity_text(std::string(severity_text(record.severity)));
  entry->mutable_body()->set_string_value(record.body);
  size_t bytes = record.body.size();
  for (const auto& attribute : record.attributes) {
    auto* kv = entry->add_attributes();
    kv->set_key(attribute.key);
    bytes += attribute.key.size() + set_value(attribute.value, *kv->mutable_value());
  }
  entry->set_source_index(0);
  entry->set_offset(record.offset);
  batch_end_ = record.offset + 1;
  batch_bytes_ += bytes + kEntryOverhead;
  if (batch_->entries_size() >= static_cast<int>(policy_.max_entries) || batch_bytes_ >= policy_.max_bytes)
    seal();
}

void RecordBatcher::seal() {
  if (batch_->entries_size() == 0) return;
  auto sealed = std::make_shared<SealedBatch>();
  batch_->mutable_sources(0)->set_end_offset(batch_end_);
  origin_->read_offset = batch_end_;
  sealed->commits.emplace_back(origin_, batch_end_);
  forwarder_.push(*batch_, resource_, std::move(sealed));
  start_batch();
}

bool RecordBatcher::pump() {
  while (!forwarder_.full()) {
    taken_.clear();
    const size_t max = std::max<size_t>(1, static_cast<size_t>(policy_.max_entries));
    if (queue_.take(taken_, max) == 0) return true;
    for (const auto& record : taken_) add(record);
  }
  return false;
}

void RecordBatcher::request_flush() {
  flush_requested_ = true;
  wake_.notify();
}

void RecordBatcher::stop() {
  stopping_ = true;
  wake_.notify();
}

void RecordBatcher::publish_progress() {
  if (origin_->acked_offset == published_) return;
  published_ = origin_->acked_offset;
  progress_(published_);
}

asio::awaitable<void> RecordBatcher::run() {
  while (!stopping_) {
    const bool emptied = pump();
    const auto now = std::chrono::steady_clock::now();
    if (batch_->entries_size() > 0 &&
        ((flush_requested_ && emptied) || now >= batch_started_ + policy_.timeout)) {
      seal();
    }
    if (emptied) flush_requested_ = false;
    publish_progress();
    std::chrono::steady_clock::duration wait = std::chrono::seconds(1);
    if (batch_->entries_size() > 0) wait = std::min(wait, batch_started_ + policy_.timeout - now);
    if (!emptied || origin_->acked_offset < origin_->read_offset) wait = std::min<std::chrono::steady_clock::duration>(wait, kProgressPoll);
    if (wait > std::chrono::steady_clock::duration::zero()) co_await wake_.wait_for(wait);
  }
}

}  // namespace logferry
