#include "sidecar/kube/pod_watcher.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include "sidecar/core/logger.hpp"

namespace logferry {

namespace asio = boost::asio;
using std::chrono::milliseconds;

namespace {
// A watch that ends this soon without a single event is treated like a failure
// (waits a backoff), so a server that closes at once is not hammered.
constexpr milliseconds kShortestQuietWatch{1000};
}  // namespace

PodWatcher::PodWatcher(asio::any_io_executor ex, KubeOptions options, PodCache& cache, KubeMetrics& metrics)
    : ex_(ex),
      options_(std::move(options)),
      cache_(cache),
      metrics_(metrics),
      client_(ex, options_, metrics),
      owners_([this](std::string path) { return client_.get(std::move(path), options_.max_event_bytes); }, metrics,
              options_.owner_cache_entries, options_.backoff_max),
      backoff_(options_.backoff_initial, options_.backoff_max),
      sleep_(ex) {}

void PodWatcher::stop() {
  asio::dispatch(ex_, [this] {
    stopped_ = true;
    client_.close();
    sleep_.cancel();
  });
}

std::string PodWatcher::pods_target() const {
  return "/api/v1/pods?fieldSelector=" + percent_encode("spec.nodeName=" + options_.node_name);
}

asio::awaitable<void> PodWatcher::run() {
  bool need_list = true;
  while (!stopped_) {
    if (need_list) {
      if (co_await list()) {
        need_list = false;
        backoff_.reset();
        continue;
      }
    } else {
      const WatchEnd end = co_await watch();
      if (end == WatchEnd::ended) continue;
      if (end == WatchEnd::gone) {
        ++metrics_.relists;
        need_list = true;
        continue;
      }
    }
    if (stopped_) break;
    sleep_.expires_after(backoff_.next());
    co_await sleep_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

asio::awaitable<bool> PodWatcher::list() {
  auto res = co_await client_.get(pods_target(), options_.max_list_bytes);
  if (stopped_) co_return false;
  std::optional<PodList> pods;
  if (!res) {
    log_limited(LogLevel::warn, "Kubernetes: listing Pods failed", {{"error", res.error().message()}});
  } else if (res->status != 200) {
    log_limited(LogLevel::warn, "Kubernetes: listing Pods failed", {{"status", res->status}});
  } else if (pods = parse_pod_list(res->body, options_); !pods) {
    log_limited(LogLevel::warn, "Kubernetes: the Pod list is not valid JSON", {{"bytes", res->body.size()}});
  }
  if (!pods) {
    ++metrics_.api_errors;
    co_return false;
  }
  for (auto& pod : pods->items) co_await owners_.resolve(pod);
  if (stopped_) co_return false;
  cache_.replace_all(std::move(pods->items));
  resource_version_ = std::move(pods->resource_version);
  ++metrics_.lists;
  synced_ = true;
  co_return true;
}

asio::awaitable<PodWatcher::WatchEnd> PodWatcher::watch() {
  const auto target = fmt::format("{}&watch=true&allowWatchBookmarks=true&resourceVersion={}&timeoutSeconds={}",
                                  pods_target(), percent_encode(resource_version_), options_.watch_timeout.count());
  const auto started = std::chrono::steady_clock::now();
  // The server ends the watch after timeoutSeconds; a silence longer than that means a dead connection.
  auto stream = co_await client_.stream(target, options_.watch_timeout + options_.request_timeout);
  if (stopped_) co_return WatchEnd::failed;
  if (!stream || (*stream)->status() != 200) {
    if (stream && (*stream)->status() == 410) co_return WatchEnd::gone;
    ++metrics_.api_errors;
    if (!stream) {
      log_limited(LogLevel::warn, "Kubernetes: watching Pods failed", {{"error", stream.error().message()}});
    } else {
      log_limited(LogLevel::warn, "Kubernetes: watching Pods failed", {{"status", (*stream)->status()}});
    }
    co_return WatchEnd::failed;
  }
  ++metrics_.watches;
  backoff_.reset();
  for (uint64_t events = 0;; ++events) {
    auto line = co_await (*stream)->next_line();
    if (stopped_) co_return WatchEnd::failed;
    if (!line) {
      ++metrics_.api_errors;
      log_limited(LogLevel::warn, "Kubernetes: the Pod watch broke", {{"error", line.error().message()}});
      co_return WatchEnd::failed;
    }
    if (!*line) {
      const bool early = events == 0 && std::chrono::steady_clock::now() - started < kShortestQuietWatch;
      co_return early ? WatchEnd::ended_early : WatchEnd::ended;
    }
    int code = 0;
    if (!co_await apply(**line, code)) {
      if (code == 410) co_return WatchEnd::gone;
      ++metrics_.api_errors;
      log_limited(LogLevel::warn, "Kubernetes: the Pod watch ended with an error", {{"code", code}});
      co_return WatchEnd::failed;
    }
  }
}

asio::awaitable<bool> PodWatcher::apply(std::string_view line, int& code) {
  auto ev = parse_watch_event(line, options_);
  if (!ev) {
    // One change is lost; the next relist (410 or restart) repairs it.
    ++metrics_.api_errors;
    log_limited(LogLevel::warn, "Kubernetes: a watch event is not a valid Pod event", {{"bytes", line.size()}});
    co_return true;
  }
  if (ev->type == WatchEvent::Type::error) {
    code = ev->code;
    co_return false;
  }
  if (ev->pod && ev->type != WatchEvent::Type::deleted) co_await owners_.resolve(*ev->pod);
  if (stopped_) co_return true;
  if (ev->type == WatchEvent::Type::added || ev->type == WatchEvent::Type::modified) {
    cache_.upsert(std::move(*ev->pod));
  } else if (ev->type == WatchEvent::Type::deleted) {
    // The final object: keep the workload keys the cache already has for it.
    if (auto known = cache_.find(ev->pod->ns, ev->pod->name, ev->pod->uid)) ev->pod->workload = known->workload;
    cache_.remove(std::move(*ev->pod));
  }
  if (!ev->resource_version.empty()) resource_version_ = std::move(ev->resource_version);
  ++metrics_.watch_events;
  co_return true;
}

}  // namespace logferry
