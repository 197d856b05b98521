#include "support/otlp_logs_receiver.hpp"

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"

namespace logferry::test {

OtlpLogsReceiver::OtlpLogsReceiver() {
  receiver_.set_default([this](const ReceivedRequest& r) {
    if (down_) return ScriptedReply{503, {}, "down"};
    opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest req;
    if (r.target != "/v1/logs" || !req.ParseFromString(r.decoded)) return ScriptedReply{400, {}, "undecodable"};
    std::lock_guard lock(mutex_);
    for (const auto& rl : req.resource_logs()) {
      Record record;
      for (const auto& kv : rl.resource().attributes()) {
        if (kv.key() == "k8s.pod.name") pods_.insert(kv.value().string_value());
        record.resource[kv.key()] = kv.value().string_value();
      }
      for (const auto& sl : rl.scope_logs()) {
        for (const auto& rec : sl.log_records()) {
          bodies_.push_back(rec.body().string_value());
          record.body = rec.body().string_value();
          records_.push_back(record);
        }
      }
    }
    return ScriptedReply{};
  });
}

std::vector<std::string> OtlpLogsReceiver::bodies() const {
  std::lock_guard lock(mutex_);
  return bodies_;
}

size_t OtlpLogsReceiver::count() const {
  std::lock_guard lock(mutex_);
  return bodies_.size();
}

size_t OtlpLogsReceiver::distinct() const {
  std::lock_guard lock(mutex_);
  return std::set<std::string>(bodies_.begin(), bodies_.end()).size();
}

std::vector<OtlpLogsReceiver::Record> OtlpLogsReceiver::records() const {
  std::lock_guard lock(mutex_);
  return records_;
}

std::set<std::string> OtlpLogsReceiver::pods() const {
  std::lock_guard lock(mutex_);
  return pods_;
}

}  // namespace logferry::test
