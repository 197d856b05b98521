// The per-line cost of node mode's Pod metadata (issue 17): the batcher's
// intake of CRI lines from 330 files (110 Pods x 3 containers, read in runs of
// 64 lines per file as a read pass hands them over), once without and once
// with a MetadataSource answering a dozen labels per Pod. The lookup happens
// once per batch of a file (and again only when the cache changed), so the
// difference per line should be small. Not a test (not run by ctest): run
// logferry_enrich_bench [lines] on an idle machine; tests/bench/run.sh does.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <fmt/format.h>

#include "sidecar/core/errors.hpp"
#include "sidecar/core/event.hpp"
#include "sidecar/core/origin_metadata.hpp"
#include "sidecar/forward/batcher.hpp"
#include "sidecar/forward/forwarder.hpp"
#include "sidecar/forward/sink.hpp"
#include "sidecar/parse/parse_stage.hpp"

using namespace logferry;
namespace asio = boost::asio;

namespace {

// Accepts every batch as soon as it is written.
class DiscardSink final : public Sink {
 public:
  explicit DiscardSink(asio::any_io_executor ex) : ex_(ex) {}
  asio::awaitable<boost::system::result<std::unique_ptr<SinkSession>>> open() override {
    co_return std::unique_ptr<SinkSession>(std::make_unique<Session>(ex_));
  }
  size_t max_in_flight() const override { return 64; }
  std::string describe() const override { return "discard://"; }

 private:
  class Session final : public SinkSession {
   public:
    explicit Session(asio::any_io_executor ex) : written_(ex) {}
    asio::awaitable<boost::system::error_code> write(const SealedBatch& b) override {
      sequences_.push_back(b.sequence);
      written_.notify();
      co_return boost::system::error_code{};
    }
    asio::awaitable<boost::system::result<DeliveryReport>> read_report() override {
      while (sequences_.empty()) {
        if (closed_) co_return make_error_code(Errc::closed);
        co_await written_.wait();
      }
      DeliveryReport r;
      r.sequence = sequences_.front();
      sequences_.pop_front();
      co_return r;
    }
    void close() override {
      closed_ = true;
      written_.notify();
    }

   private:
    std::deque<uint64_t> sequences_;
    Event written_;
    bool closed_ = false;
  };
  asio::any_io_executor ex_;
};

// A Pod's metadata as the kube layer gives it: uid, labels, annotations, workload.
class StaticMetadata final : public MetadataSource {
 public:
  uint64_t version() const override { return 1; }
  OriginMetadata lookup(const Origin& origin) const override {
    ++lookups;
    OriginMetadata m;
    m.known = true;
    m.resource = {{"k8s.pod.uid", "0b7f6c1e-1111-4222-8333-" + origin.id.substr(0, 12)},
                  {"k8s.pod.label.app", "web"},
                  {"k8s.pod.label.app.kubernetes.io/part-of", "shop"},
                  {"k8s.pod.label.pod-template-hash", "5d8c9"},
                  {"k8s.pod.label.version", "v1.2.3"},
                  {"k8s.pod.annotation.team.example/owner", "payments"},
                  {"k8s.replicaset.name", "web-5d8c9"},
                  {"k8s.deployment.name", "web"}};
    return m;
  }
  mutable uint64_t lookups = 0;
};

// Nanoseconds per line of the intake (parse + batch + seal + the forwarder's
// bookkeeping), `metadata` or not.
double run(size_t lines, const MetadataSource* metadata) {
  asio::io_context io(1);
  PipelineMetrics metrics;
  OutputOptions output;
  output.buffer_max_bytes = 64 << 20;
  output.max_in_flight = 64;
  ParseOptions parse;
  parse.parser = "cri";
  BatchPolicy batch;
  DiscardSink sink(io.get_executor());
  Forwarder forwarder(io.get_executor(), sink, output, metrics);
  const ParseStage stage(parse, &metrics.multiline_records);
  Batcher batcher(io.get_executor(), batch, stage, {{"k8s.node.name", "node-1"}}, forwarder, metrics);
  batcher.set_metadata(metadata);
  asio::co_spawn(io, forwarder.run(), asio::detached);

  std::vector<OriginPtr> origins;
  for (int i = 0; i < 330; ++i) {
    auto o = std::make_shared<Origin>();
    o->id = fmt::format("{:016x}-file", i);
    o->path = fmt::format("/var/log/containers/app-{:03}_team-{}_c{}-{:064x}.log", i / 3, i % 7, i % 3, i);
    o->resource = {{"k8s.pod.name", fmt::format("app-{:03}", i / 3)},
                   {"k8s.namespace.name", fmt::format("team-{}", i % 7)},
                   {"k8s.container.name", fmt::format("c{}", i % 3)}};
    origins.push_back(std::move(o));
  }
  const std::string line = R"(2024-01-02T15:04:05.123456789Z stdout F {"level":"info","msg":"request handled","status":200})";
  const auto start = std::chrono::steady_clock::now();
  size_t done = 0;
  for (size_t o = 0; done < lines; o = (o + 1) % origins.size()) {
    for (int i = 0; i < 64 && done < lines; ++i, ++done) {
      RawLine raw;
      raw.text = line;
      raw.offset = origins[o]->read_offset;
      raw.end_offset = raw.offset + line.size() + 1;
      origins[o]->read_offset = raw.end_offset;
      batcher.accept(origins[o], raw);
    }
    io.poll();
  }
  batcher.flush_all();
  io.poll();
  const auto ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
  forwarder.stop();
  io.poll();
  return ns / static_cast<double>(lines);
}

}  // namespace

int main(int argc, char** argv) {
  const size_t lines = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 2'000'000;
  const double without = run(lines, nullptr);
  StaticMetadata metadata;
  const double with = run(lines, &metadata);
  fmt::print("enrichment: without {:.1f} ns/line, with {:.1f} ns/line, +{:.1f} ns/line, {} lookups for {} lines\n",
             without, with, with - without, metadata.lookups, lines);
  return 0;
}
