#pragma once
// The bench the forward stage's unit tests share: one loop, a configuration,
// pipeline metrics and a FakeSink, and the Forwarder under test writing to it
// (the batcher's tests put a Batcher in front of it).
#include <memory>

#include <boost/asio/io_context.hpp>

#include "sidecar/config/config.hpp"
#include "sidecar/forward/forwarder.hpp"
#include "unit/forward/fake_sink.hpp"

namespace logferry::test {

struct ForwarderBench {
  boost::asio::io_context io;
  Config config;
  PipelineMetrics metrics;
  FakeSink sink{io.get_executor()};
  std::unique_ptr<Forwarder> forwarder;

  // Creates the forwarder from `config` as set so far.
  void make_forwarder() { forwarder = std::make_unique<Forwarder>(io.get_executor(), sink, config.output, metrics); }
};

}  // namespace logferry::test
