#include "aggregator/audit_dedupe.hpp"

#include <algorithm>
#include <fstream>
#include <vector>

#include "sidecar/parse/json_reader.hpp"

namespace logferry::aggregator {
namespace fs = std::filesystem;

void AuditDedupe::insert(std::string key) {
  if (capacity_ == 0) return;
  auto [it, added] = keys_.insert(std::move(key));
  if (!added) return;
  order_.push_back(*it);  // node-based set: the string never moves
  while (order_.size() > capacity_) {
    keys_.erase(keys_.find(order_.front()));
    order_.pop_front();
  }
}

size_t AuditDedupe::recover(const fs::path& dir) {
  std::vector<fs::path> segments;
  std::error_code ec;
  for (const auto& f : fs::directory_iterator(dir, ec)) {
    const std::string name = f.path().filename().string();
    if (name.starts_with("segment-") && name.ends_with(".ndjson")) segments.push_back(f.path());
  }
  // Newest first (zero-padded names sort by index), until the window is full.
  std::sort(segments.begin(), segments.end(), std::greater<>());
  std::vector<std::vector<std::string>> per_segment;
  size_t found = 0;
  JsonReader reader;
  for (const auto& path : segments) {
    if (found >= capacity_) break;
    std::ifstream in(path, std::ios::binary);
    auto& keys = per_segment.emplace_back();
    std::string line;
    while (std::getline(in, line)) {
      simdjson::dom::object object;
      if (reader.parse_object(line, object)) continue;
      std::string_view id, stage;
      if (object.at_pointer("/attributes/k8s.audit.id").get_string().get(id) != simdjson::SUCCESS ||
          object.at_pointer("/attributes/k8s.audit.stage").get_string().get(stage) != simdjson::SUCCESS)
        continue;
      std::string key(id);
      key.push_back('\n');
      key.append(stage);
      keys.push_back(std::move(key));
    }
    found += keys.size();
  }
  // Oldest first, so the newest keys are the ones the window keeps.
  for (auto s = per_segment.rbegin(); s != per_segment.rend(); ++s)
    for (auto& key : *s) insert(std::move(key));
  return found;
}

}  // namespace logferry::aggregator
