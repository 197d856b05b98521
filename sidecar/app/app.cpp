#include "sidecar/app/app.hpp"

#include <csignal>
#include <memory>
#include <stdexcept>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "sidecar/app/metrics.hpp"
#include "sidecar/app/status_endpoint.hpp"
#include "sidecar/checkpoint/file_checkpoint_store.hpp"
#include "sidecar/core/event.hpp"
#include "sidecar/core/wakeup.hpp"
#include "sidecar/core/logger.hpp"
#include "sidecar/forward/batcher.hpp"
#include "sidecar/kube/kube_metrics.hpp"
#include "sidecar/kube/kube_options.hpp"
#include "sidecar/kube/pod_cache.hpp"
#include "sidecar/kube/pod_metadata_source.hpp"
#include "sidecar/kube/pod_watcher.hpp"
#include "sidecar/parse/parse_stage.hpp"
#include "sidecar/parse/registry.hpp"
#include "sidecar/forward/forwarder.hpp"
#include "sidecar/forward/sink_factory.hpp"
#include "sidecar/source/file_source.hpp"
#include "sidecar/source/pipe_source.hpp"
#include "sidecar/source/pod_metadata_files.hpp"
#include "sidecar/source/stdin_source.hpp"

namespace logferry {

namespace asio = boost::asio;

namespace {

// Node mode's API server, resolved: nullopt when off (or auto outside a Pod).
std::optional<KubeOptions> kube_options(const Config& config) {
  if (config.files.mode != Mode::node || config.kube_api == "off") return std::nullopt;
  KubeOptions options = config.kube;
  if (config.kube_api == "auto") {
    const auto in_cluster = in_cluster_options(::getenv);
    if (!in_cluster) return std::nullopt;
    options.api_url = in_cluster->api_url;
  } else {
    options.api_url = config.kube_api;
  }
  return options;
}

class App {
 public:
  App(asio::io_context& io, const Config& config, std::vector<CheckpointRecord> checkpoints)
      : io_(io),
        config_(config),
        store_(config.checkpoint_dir),
        sink_(make_sink(io.get_executor(), config.output, metrics_)),
        forwarder_(io.get_executor(), *sink_, config.output, metrics_),
        parse_(config.parse, &metrics_.multiline_records),
        batcher_(io.get_executor(), config.batch, parse_, config.identity.resource_labels(), forwarder_, metrics_),
        pod_files_(io.get_executor(), config.identity.pod_labels_file, config.identity.pod_annotations_file,
                   metrics_),
        sources_done_(io.get_executor()),
        checkpoint_wake_(io.get_executor()) {
    forwarder_.on_commit([this](uint64_t bytes) { committed(bytes); });
    if (!config.files.globs.empty()) {
      auto fs = std::make_unique<FileSource>(io.get_executor(), config.files, config.read, metrics_,
                                             std::move(checkpoints),
                                             // New identities reach the OS before their lines can be
                                             // acknowledged; the fsync follows within the checkpoint
                                             // interval (a file truncated again and again must not
                                             // cost an fsync each time).
                                             [this] { save_checkpoints(Durability::process_crash); });
      file_source_ = fs.get();
      sources_.push_back(std::move(fs));
    }
    if (!config.pipe.path.empty())
      sources_.push_back(std::make_unique<PipeSource>(io.get_executor(), config.pipe, config.read, metrics_));
    if (config.read_stdin) sources_.push_back(std::make_unique<StdinSource>(io.get_executor(), config.read, metrics_));
    if (auto kube = kube_options(config)) {
      pod_cache_ = std::make_unique<PodCache>(kube->deleted_ttl);
      pod_watcher_ = std::make_unique<PodWatcher>(io.get_executor(), *kube, *pod_cache_, kube_metrics_);
      pod_metadata_ = std::make_unique<PodMetadataSource>(*pod_cache_, is_parser_name);
      batcher_.set_metadata(pod_metadata_.get());
      metrics_.kube = &kube_metrics_;
      metrics_.kube_pods = [cache = pod_cache_.get()] { return static_cast<uint64_t>(cache->size()); };
      log_info("Pod metadata from the API server", {{"api", kube->api_url}, {"node", kube->node_name}});
    }
    http_ = start_http_server(io.get_executor(), config, metrics_, [this]() -> std::string {
      return draining_ ? "shutting down" : "";
    });
  }

  void start() {
    auto ex = io_.get_executor();
    metrics_.start_time_unix = static_cast<uint64_t>(std::time(nullptr));
    asio::co_spawn(ex, forwarder_.run(), asio::detached);
    asio::co_spawn(ex, batcher_.run(), asio::detached);
    asio::co_spawn(ex, checkpoint_loop(), asio::detached);
    if (pod_files_.enabled()) {
      update_resource();
      asio::co_spawn(ex, pod_files_.run(config_.files.poll_interval, [this] { update_resource(); }), asio::detached);
    }
    if (pod_watcher_) {
      watcher_running_ = true;
      asio::co_spawn(ex, pod_watcher_->run(), [this](std::exception_ptr) {
        watcher_running_ = false;
        if (stopped_) io_.stop();  // finish() waited for it
      });
      asio::co_spawn(ex, start_sources_when_synced(), asio::detached);
    } else {
      start_sources();
    }
    asio::co_spawn(ex, lifecycle(), asio::detached);
  }

  // Node mode with the API server: the first Pod list, or config_.kube_wait,
  // whichever comes first; the lines of Pods not known by then go out with
  // their file-name labels (counted).
  asio::awaitable<void> start_sources_when_synced() {
    asio::steady_timer timer(io_);
    const auto deadline = std::chrono::steady_clock::now() + config_.kube_wait;
    while (!pod_watcher_->synced() && !draining_ && std::chrono::steady_clock::now() < deadline) {
      timer.expires_after(std::chrono::milliseconds(20));
      co_await timer.async_wait(asio::use_awaitable);
    }
    if (!pod_watcher_->synced()) {
      log_warn("reading before the first Pod list; lines of unknown Pods are sent without Pod metadata",
               {{"waited", format_duration(config_.kube_wait)}});
    }
    if (draining_) co_return;  // stopped before reading: the files keep their lines for the next start
    start_sources();
  }

  void start_sources() {
    auto ex = io_.get_executor();
    for (auto& s : sources_) {
      ++running_sources_;
      asio::co_spawn(ex, s->run(batcher_), [this](std::exception_ptr e) {
        if (e) {
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& failure) {
            log_error("source failed", {{"error", failure.what()}});
          }
        }
        if (!e && !draining_) input_ended_ = true;  // stdin at EOF: the app's output is complete
        --running_sources_;
        sources_done_.notify();
      });
    }
  }

  int exit_code() const { return exit_code_; }

 private:
  // Saves the records when they changed: node_crash also fsyncs them.
  void save_checkpoints(Durability durability = Durability::node_crash) {
    if (!file_source_) return;
    auto records = file_source_->checkpoints();
    metrics_.checkpoint_lag_bytes = file_source_->unacked_bytes();
    if (records == last_saved_ && (durability == Durability::process_crash || synced_)) {
      unsaved_bytes_ = 0;
      return;
    }
    if (auto ec = store_.save(records, durability)) {
      ++metrics_.checkpoint_errors;
      log_limited(LogLevel::error, "cannot save checkpoints", {{"path", store_.path()}, {"error", ec.message()}});
      return;
    }
    ++metrics_.checkpoint_saves;
    synced_ = durability == Durability::node_crash;
    if (!synced_) checkpoint_wake_.notify();  // the fsync follows within the interval
    unsaved_bytes_ = 0;
    last_save_ = std::chrono::steady_clock::now();
    last_saved_ = std::move(records);
  }

  // An acknowledgement committed `bytes`: the file is written (and fsynced)
  // once per LOGFERRY_CHECKPOINT_INTERVAL at the latest, and sooner, without
  // the fsync, when kEagerBytes were committed since the last write (at
  // high rates, so a killed logferry re-sends a bounded amount).
  void committed(uint64_t bytes) {
    const uint64_t before = unsaved_bytes_;
    unsaved_bytes_ += bytes;
    if (before == 0 || (before < kEagerBytes && unsaved_bytes_ >= kEagerBytes) ||
        config_.checkpoint_interval.count() == 0) {
      checkpoint_wake_.notify();
    }
  }

  // Writes the checkpoint file at most once per interval while acknowledgements
  // come in at low rates, and at most every kMinSpacing at high ones; with
  // nothing acknowledged it sleeps (no wake-ups of its own).
  asio::awaitable<void> checkpoint_loop() {
    auto last_sync = std::chrono::steady_clock::now();
    while (!stopped_) {
      auto deadline = std::chrono::steady_clock::time_point::max();
      const bool changed = unsaved_bytes_ > 0 || !synced_;
      if (changed) deadline = last_sync + config_.checkpoint_interval;
      if (unsaved_bytes_ >= kEagerBytes) deadline = std::min(deadline, last_save_ + kMinSpacing);
      co_await checkpoint_wake_.wait_until(deadline);
      if (stopped_) break;
      const auto now = std::chrono::steady_clock::now();
      if ((unsaved_bytes_ > 0 || !synced_) && now >= last_sync + config_.checkpoint_interval) {
        save_checkpoints(Durability::node_crash);
        last_sync = now;
      } else if (unsaved_bytes_ >= kEagerBytes && now >= last_save_ + kMinSpacing) {
        save_checkpoints(Durability::process_crash);
      }
    }
  }

  // The configured resource labels, then the Pod's labels and annotations files.
  void update_resource() {
    Labels resource = config_.identity.resource_labels();
    for (auto& kv : pod_files_.resource()) resource.push_back(std::move(kv));
    batcher_.set_resource(std::move(resource));
  }

  asio::awaitable<void> lifecycle() {
    using namespace asio::experimental::awaitable_operators;
    asio::signal_set signals(io_, SIGTERM, SIGINT);
    // A signal, or a source ending on its own (stdin at EOF), starts the drain.
    auto input_ended = [this]() -> asio::awaitable<void> {
      while (!input_ended_) co_await sources_done_.wait();
    };
    auto first = co_await (signals.async_wait(asio::as_tuple(asio::use_awaitable)) || input_ended());
    if (first.index() == 0) {
      auto [ec, sig] = std::get<0>(first);
      if (ec) co_return;
      log_info("signal received: draining", {{"signal", sig}, {"timeout", format_duration(config_.shutdown_timeout)}});
    } else {
      log_info("input ended: draining", {{"timeout", format_duration(config_.shutdown_timeout)}});
    }
    draining_ = true;
    const auto deadline = std::chrono::steady_clock::now() + config_.shutdown_timeout;
    // A second signal ends the drain at once.
    signals.async_wait([this](const boost::system::error_code& e, int) {
      if (e) return;
      log_warn("second signal: exiting now");
      finish(false);
    });
    for (auto& s : sources_) s->drain();
    while (running_sources_ > 0 && !stopped_) {
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) break;
      co_await sources_done_.wait_for(deadline - now);
    }
    if (stopped_) co_return;
    batcher_.flush_all();
    log_info("sources drained: waiting for acknowledgements", {{"batches", forwarder_.queued_batches()}});
    const bool all_acked = co_await forwarder_.drain(deadline);
    if (stopped_) co_return;
    if (!all_acked) {
      log_error("shutdown timeout: exiting with unacknowledged batches; they will be re-read after a restart",
                {{"batches", forwarder_.queued_batches()}});
    }
    finish(all_acked);
  }

  void finish(bool clean) {
    if (stopped_) return;
    stopped_ = true;
    pod_files_.stop();
    if (pod_watcher_) pod_watcher_->stop();
    save_checkpoints();
    exit_code_ = clean ? 0 : 1;
    if (clean) log_info("drained: every line acknowledged", {{"entries_acked", metrics_.entries_acked}});
    // The watcher's requests were cut by stop(): its run() returns within a
    // turn or two, and its frame must not outlive it.
    if (!watcher_running_) io_.stop();
  }

  asio::io_context& io_;
  const Config& config_;
  Metrics metrics_;
  FileCheckpointStore store_;
  std::unique_ptr<Sink> sink_;  // chosen by the output's scheme
  Forwarder forwarder_;
  ParseStage parse_;
  Batcher batcher_;
  PodMetadataFiles pod_files_;
  KubeMetrics kube_metrics_;
  std::unique_ptr<PodCache> pod_cache_;  // node mode with the API server
  std::unique_ptr<PodWatcher> pod_watcher_;
  std::unique_ptr<PodMetadataSource> pod_metadata_;
  bool watcher_running_ = false;
  std::vector<std::unique_ptr<Source>> sources_;
  FileSource* file_source_ = nullptr;
  std::unique_ptr<HttpServer> http_;
  static constexpr uint64_t kEagerBytes = 1 << 20;
  static constexpr auto kMinSpacing = std::chrono::milliseconds(100);
  std::vector<CheckpointRecord> last_saved_;
  bool synced_ = true;
  uint64_t unsaved_bytes_ = 0;  // committed by acknowledgements since the last save
  std::chrono::steady_clock::time_point last_save_;
  int running_sources_ = 0;
  Event sources_done_;
  Wakeup checkpoint_wake_;
  bool draining_ = false;
  bool input_ended_ = false;
  bool stopped_ = false;
  int exit_code_ = 1;
};

}  // namespace

int run_app(const Config& config) {
  configure_logging(config.log.level, config.log.format, "logferry");
  std::signal(SIGPIPE, SIG_IGN);
  asio::io_context io(1);
  FileCheckpointStore store(config.checkpoint_dir);
  auto records = store.load();
  if (!records) {
    log_error("cannot read checkpoints", {{"path", store.path()}, {"error", records.error().message()}});
    return 2;
  }
  std::unique_ptr<App> app;
  try {
    app = std::make_unique<App>(io, config, std::move(*records));
  } catch (const std::exception& e) {
    log_error("start-up failed", {{"error", e.what()}});
    return 2;
  }
  app->start();
  log_info("started", {{"version", LOGFERRY_VERSION}, {"files", config.files.globs.size()}});
  io.run();
  return app->exit_code();
}

}  // namespace logferry
