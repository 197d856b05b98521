#include "sidecar/kube/owner_resolver.hpp"

#include <fmt/format.h>

namespace logferry {

namespace asio = boost::asio;

namespace {

// The owner kinds whose own controller names the workload, with their API path and the expected parent.
struct ParentLookup {
  std::string_view kind;
  std::string_view collection;  // API path prefix before the namespace
  std::string_view resource;
  std::string_view parent_kind;
};
constexpr ParentLookup kLookups[] = {
    {"ReplicaSet", "/apis/apps/v1/namespaces/", "replicasets", "Deployment"},
    {"Job", "/apis/batch/v1/namespaces/", "jobs", "CronJob"},
};

const ParentLookup* lookup_of(std::string_view kind) {
  for (const auto& l : kLookups)
    if (l.kind == kind) return &l;
  return nullptr;
}

}  // namespace

std::string_view workload_key(std::string_view owner_kind) {
  if (owner_kind == "ReplicaSet") return "k8s.replicaset.name";
  if (owner_kind == "Deployment") return "k8s.deployment.name";
  if (owner_kind == "Job") return "k8s.job.name";
  if (owner_kind == "CronJob") return "k8s.cronjob.name";
  if (owner_kind == "StatefulSet") return "k8s.statefulset.name";
  if (owner_kind == "DaemonSet") return "k8s.daemonset.name";
  return {};
}

OwnerResolver::OwnerResolver(ObjectFetcher fetch, KubeMetrics& metrics, size_t max_entries,
                             std::chrono::milliseconds retry_failed)
    : fetch_(std::move(fetch)), metrics_(metrics), max_entries_(std::max<size_t>(max_entries, 1)), retry_failed_(retry_failed) {}

asio::awaitable<void> OwnerResolver::resolve(PodInfo& pod) {
  pod.workload.clear();
  if (!pod.owner) co_return;
  const auto key = workload_key(pod.owner->kind);
  if (key.empty()) co_return;
  pod.workload.emplace_back(std::string(key), pod.owner->name);
  const ParentLookup* lookup = lookup_of(pod.owner->kind);
  if (lookup == nullptr) co_return;
  const auto parent = co_await parent_of(pod.ns, *pod.owner);
  if (parent && parent->kind == lookup->parent_kind)
    pod.workload.emplace_back(std::string(workload_key(parent->kind)), parent->name);
}

asio::awaitable<std::optional<PodInfo::Owner>> OwnerResolver::parent_of(const std::string& ns, const PodInfo::Owner& owner) {
  const std::string key = fmt::format("{}/{}/{}", owner.kind, ns, owner.name);
  const auto now = std::chrono::steady_clock::now();
  if (auto it = cache_.find(key); it != cache_.end() && now < it->second.retry_at) co_return it->second.parent;

  const ParentLookup& lookup = *lookup_of(owner.kind);
  const std::string path =
      fmt::format("{}{}/{}/{}", lookup.collection, percent_encode(ns), lookup.resource, percent_encode(owner.name));
  ++metrics_.owner_lookups;
  auto res = co_await fetch_(path);
  Entry entry{std::nullopt, std::chrono::steady_clock::time_point::max()};
  if (res && res->status == 200) {
    entry.parent = parse_controller_owner(res->body);
  } else {
    ++metrics_.owner_lookup_errors;
    entry.retry_at = now + retry_failed_;
  }
  // Bounded: a full cache starts over (lookups are cheap and owners few per node).
  if (cache_.size() >= max_entries_ && !cache_.contains(key)) cache_.clear();
  cache_[key] = entry;
  co_return entry.parent;
}

}  // namespace logferry
