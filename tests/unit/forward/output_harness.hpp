#pragma once
// Drives the real Forwarder with a real HTTP sink against a TestReceiver.
#include <memory>
#include <string>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "logferry/v1/logferry.pb.h"
#include "sidecar/config/config.hpp"
#include "sidecar/forward/forwarder.hpp"
#include "sidecar/forward/sink_factory.hpp"
#include "support/test_receiver.hpp"

namespace logferry::test {

using namespace std::chrono_literals;

struct OutputHarness {
  boost::asio::io_context io;
  Config config;
  PipelineMetrics metrics;
  std::unique_ptr<Sink> sink;
  std::unique_ptr<Forwarder> forwarder;
  OriginPtr origin = std::make_shared<Origin>();

  // `output` e.g. "otlp+http://127.0.0.1:PORT"; `tweak` adjusts the config first.
  template <class F>
  OutputHarness(const std::string& output, F tweak) {
    config.output.outputs = *parse_outputs(output);
    config.output.max_in_flight = 8;
    config.output.buffer_max_bytes = 64 << 20;
    config.output.backoff_initial = 5ms;
    config.output.backoff_max = 20ms;
    config.output.ack_timeout = 10s;
    config.output.connect_timeout = 2s;
    config.output.loki_labels = {"namespace", "pod", "container", "filename"};
    tweak(config);
    sink = make_sink(io.get_executor(), config.output, metrics);
    forwarder = std::make_unique<Forwarder>(io.get_executor(), *sink, config.output, metrics);
    boost::asio::co_spawn(io, forwarder->run(), boost::asio::detached);
  }
  explicit OutputHarness(const std::string& output) : OutputHarness(output, [](Config&) {}) {}
  ~OutputHarness() {
    forwarder->stop();
    io.run_for(50ms);
  }

  // Queues `batch` (its sequence is set here) committing `end` for the origin.
  void push(v1::Batch batch, uint64_t end) {
    auto b = std::make_shared<SealedBatch>();
    b->sequence = forwarder->next_sequence();
    batch.set_sequence(b->sequence);
    b->entries = static_cast<uint32_t>(batch.entries_size());
    batch.SerializeToString(&b->payload);
    b->commits.emplace_back(origin, end);
    forwarder->push(std::move(b));
  }
  // Runs the loop until `done` or a time bound.
  template <class F>
  bool run_until(F done, std::chrono::milliseconds bound = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + bound;
    while (!done() && std::chrono::steady_clock::now() < deadline) io.run_for(5ms);
    return done();
  }
  // Runs the loop for `d` (to show that nothing more happens).
  void run_for(std::chrono::milliseconds d) {
    const auto deadline = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < deadline) io.run_for(5ms);
  }
};

// A batch of `n` plain entries "<tag> i" from one source /var/log/app/<file>.
inline v1::Batch plain_batch(const std::string& tag, int n, const std::string& file = "app.log") {
  v1::Batch b;
  auto* kv = b.add_resource();
  kv->set_key("k8s.pod.name");
  kv->mutable_value()->set_string_value("web-0");
  kv = b.add_resource();
  kv->set_key("k8s.namespace.name");
  kv->mutable_value()->set_string_value("shop");
  auto* src = b.add_sources();
  src->set_id("file:1:2:abc");
  src->set_path("/var/log/app/" + file);
  for (int i = 0; i < n; ++i) {
    auto* e = b.add_entries();
    e->set_time_unix_nano(1'700'000'000'000'000'000ull + static_cast<uint64_t>(i));
    e->set_observed_time_unix_nano(1'700'000'001'000'000'000ull);
    e->mutable_body()->set_string_value(tag + " " + std::to_string(i));
    e->set_offset(static_cast<uint64_t>(i) * 10);
  }
  return b;
}

}  // namespace logferry::test
