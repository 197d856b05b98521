#include "sidecar/kube/pod_cache.hpp"

#include <unordered_set>

namespace logferry {

PodCache::PodCache(std::chrono::milliseconds deleted_ttl) : deleted_ttl_(deleted_ttl) {}

std::shared_ptr<const PodInfo> PodCache::find(std::string_view ns, std::string_view name, std::string_view uid) const {
  std::lock_guard lock(mutex_);
  std::string key(uid);
  if (key.empty()) {
    const auto it = by_name_.find(std::pair<std::string, std::string>(ns, name));
    if (it == by_name_.end()) return nullptr;
    key = it->second;
  }
  const auto it = by_uid_.find(key);
  if (it == by_uid_.end() || it->second.pod->ns != ns || it->second.pod->name != name) return nullptr;
  return it->second.pod;
}

uint64_t PodCache::version() const {
  std::lock_guard lock(mutex_);
  return version_;
}

size_t PodCache::size() const {
  std::lock_guard lock(mutex_);
  return by_uid_.size();
}

void PodCache::put_locked(PodInfo pod, Clock::time_point now) {
  auto& entry = by_uid_[pod.uid];
  if (entry.pod && *entry.pod == pod) return;
  // The name goes to the newest live Pod; a deleted one takes it only from nobody or another deleted one.
  auto [name, inserted] = by_name_.try_emplace({pod.ns, pod.name}, pod.uid);
  if (!inserted && name->second != pod.uid) {
    const auto holder = by_uid_.find(name->second);
    if (!pod.deleted || holder == by_uid_.end() || !holder->second.pod || holder->second.pod->deleted) name->second = pod.uid;
  }
  entry.deleted_at = pod.deleted ? now : Clock::time_point{};
  entry.pod = std::make_shared<const PodInfo>(std::move(pod));
  ++version_;
}

void PodCache::upsert(PodInfo pod, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  pod.deleted = false;
  put_locked(std::move(pod), now);
  prune_locked(now);
}

void PodCache::remove(PodInfo pod, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  if (const auto it = by_uid_.find(pod.uid); it != by_uid_.end() && it->second.pod->deleted) return;  // already
  pod.deleted = true;
  put_locked(std::move(pod), now);
  prune_locked(now);
}

void PodCache::replace_all(std::vector<PodInfo> pods, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  std::unordered_set<std::string> listed;
  for (auto& pod : pods) {
    listed.insert(pod.uid);
    pod.deleted = false;
    put_locked(std::move(pod), now);
  }
  for (auto& [uid, entry] : by_uid_) {
    if (listed.contains(uid) || entry.pod->deleted) continue;
    auto gone = std::make_shared<PodInfo>(*entry.pod);
    gone->deleted = true;
    entry.pod = std::move(gone);
    entry.deleted_at = now;
    ++version_;
  }
  prune_locked(now);
}

size_t PodCache::prune(Clock::time_point now) {
  std::lock_guard lock(mutex_);
  return prune_locked(now);
}

size_t PodCache::prune_locked(Clock::time_point now) {
  size_t dropped = 0;
  for (auto it = by_uid_.begin(); it != by_uid_.end();) {
    const Entry& e = it->second;
    if (!e.pod->deleted || now - e.deleted_at < deleted_ttl_) {
      ++it;
      continue;
    }
    const auto name = by_name_.find({e.pod->ns, e.pod->name});
    if (name != by_name_.end() && name->second == it->first) by_name_.erase(name);
    it = by_uid_.erase(it);
    ++dropped;
  }
  if (dropped > 0) ++version_;
  return dropped;
}

}  // namespace logferry

