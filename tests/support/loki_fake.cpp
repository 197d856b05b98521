#include "support/loki_fake.hpp"

#include <fmt/format.h>

#include "loki/push.pb.h"

namespace logferry::test {

LokiFake::LokiFake(LokiFakeOptions options) : options_(std::move(options)) {
  receiver_.set_default([this](const ReceivedRequest& r) { return on_push(r); });
}

ScriptedReply LokiFake::on_push(const ReceivedRequest& r) {
  logproto::PushRequest req;
  size_t n = 0;
  std::string refusal;
  {
    std::lock_guard lock(mutex_);
    if (r.target != "/loki/api/v1/push" || !req.ParseFromString(r.decoded)) {
      ++undecodable_;
      return {400, {}, "error at storing: cannot parse push request"};
    }
    n = ++pushes_;
    for (const auto& s : req.streams()) {
      auto& stream = streams_[s.labels()];
      for (const auto& e : s.entries()) {
        if (!options_.allow_structured_metadata && e.structuredmetadata_size() > 0) {
          ++refused_;
          // Loki's validation message (pkg/validation), answered with 400.
          refusal = fmt::format(
              "stream '{}' includes structured metadata, but this feature is disallowed. Please see "
              "`limits_config.allow_structured_metadata` or contact your Loki administrator to enable it.",
              s.labels());
          continue;
        }
        const uint64_t ts = static_cast<uint64_t>(e.timestamp().seconds()) * 1'000'000'000u +
                            static_cast<uint64_t>(e.timestamp().nanos());
        std::vector<std::pair<std::string, std::string>> md;
        for (const auto& m : e.structuredmetadata()) md.emplace_back(m.name(), m.value());
        if (!stream.emplace(std::make_pair(ts, e.line()), std::move(md)).second) ++duplicates_;
      }
    }
  }
  if (options_.after_store) options_.after_store(n);
  if (!refusal.empty()) return {400, {}, refusal + "\n"};
  return {204, {}, ""};
}

std::vector<LokiEntry> LokiFake::query_forward() const { return query_forward(""); }

std::vector<LokiEntry> LokiFake::query_forward(const std::string& label) const {
  std::lock_guard lock(mutex_);
  std::vector<LokiEntry> out;
  for (const auto& [labels, entries] : streams_) {
    if (!label.empty() && labels.find(label) == std::string::npos) continue;
    for (const auto& [key, md] : entries) out.push_back(LokiEntry{labels, key.first, key.second, md});
  }
  return out;
}

size_t LokiFake::pushes() const {
  std::lock_guard lock(mutex_);
  return pushes_;
}

size_t LokiFake::stored() const {
  std::lock_guard lock(mutex_);
  size_t n = 0;
  for (const auto& [labels, entries] : streams_) n += entries.size();
  return n;
}

size_t LokiFake::duplicates_dropped() const {
  std::lock_guard lock(mutex_);
  return duplicates_;
}

size_t LokiFake::refused_structured_metadata() const {
  std::lock_guard lock(mutex_);
  return refused_;
}

size_t LokiFake::undecodable() const {
  std::lock_guard lock(mutex_);
  return undecodable_;
}

}  // namespace logferry::test
