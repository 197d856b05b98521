// The sidecar straight to an in-test Loki (LokiFake, which stores by Loki's
// rules: equal timestamps come back ordered by line, exact duplicates are
// dropped, structured metadata may be disallowed): lines of one source come
// back from a forward query in the order they were written, with and without
// their own second-resolution timestamps; a batch re-sent after its answer was
// lost (a connection cut by a FaultProxy) is stored once; with
// LOGFERRY_LOKI_STRUCTURED_METADATA=auto (the default) a Loki that refuses
// structured metadata gets every line once, in logfmt form.
#include <atomic>
#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "delivery_lines_test.hpp"
#include "support/fault_proxy.hpp"
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"
#include "support/loki_fake.hpp"

using namespace logferry::test;
namespace fs = std::filesystem;

namespace {

// A content that sorts unlike the file order, so Loki's tie order (by line) would show.
std::string scrambled(size_t i) { return fmt::format("{:08x}", static_cast<uint32_t>(i * 2654435761u)); }

// Line i of a file: "<scrambled> <tag> seq 00042".
std::string body(size_t i, const std::string& tag) { return fmt::format("{} {} seq {:05}", scrambled(i), tag, i); }

// The sequence numbers of a stream's entries, in forward-query order.
std::vector<size_t> sequence(const std::vector<LokiEntry>& entries) {
  std::vector<size_t> out;
  for (const auto& e : entries) {
    const size_t at = e.line.find(" seq ");
    out.push_back(at == std::string::npos ? SIZE_MAX : std::stoul(e.line.substr(at + 5, 5)));
  }
  return out;
}

std::vector<size_t> iota(size_t n) {
  std::vector<size_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = i;
  return v;
}

void write_file(const fs::path& path, const std::vector<std::string>& lines) {
  std::ofstream out(path, std::ios::binary | std::ios::app);
  for (const auto& l : lines) out << l << '\n';
}

// JSON lines stamped at second resolution, 10 lines per second.
std::vector<std::string> json_lines(size_t n, const std::string& extra = "") {
  std::vector<std::string> out;
  for (size_t i = 0; i < n; ++i) {
    out.push_back(fmt::format(R"({{"time":"2026-01-01T{:02}:{:02}:{:02}Z",{}"msg":"{}"}})", i / 36'000,
                              (i / 600) % 60, (i / 10) % 60, extra.empty() ? "" : extra + ",", body(i, "json")));
  }
  return out;
}

ProcessEnv loki_sidecar(const TempDir& tmp, const std::string& output) {
  ProcessEnv env = sidecar_env(tmp.path(), output);
  env["LOGFERRY_LOKI_LABELS"] = "pod,filename";
  env["LOGFERRY_PARSER"] = "auto";  // JSON lines parsed (their time, level, fields), plain ones kept
  env["LOGFERRY_SHUTDOWN_TIMEOUT"] = "5s";
  return env;
}

}  // namespace

TEST_CASE("Loki order: 3,000 untimestamped and 3,000 second-resolution lines come back in file order",
          "[e2e][loki][order]") {
  TempDir tmp("logferry-loki-order");
  fs::create_directories(tmp / "logs");
  LokiFake loki;
  std::vector<std::string> plain;
  for (size_t i = 0; i < 3'000; ++i) plain.push_back(body(i, "plain"));
  write_file(tmp / "logs" / "plain.log", plain);
  write_file(tmp / "logs" / "json.log", json_lines(3'000));
  Sidecar sidecar(loki_sidecar(tmp, fmt::format("loki+http://127.0.0.1:{}", loki.port())));
  sidecar.start();
  REQUIRE(wait_until([&] { return loki.stored() >= 6'000; }, 60s, 50ms));
  CHECK(sidecar.stop() == 0);
  CHECK(loki.stored() == 6'000);
  CHECK(loki.undecodable() == 0);
  const auto p = loki.query_forward("filename=\"plain.log\"");
  const auto j = loki.query_forward("filename=\"json.log\"");
  CHECK(sequence(p) == iota(3'000));
  CHECK(sequence(j) == iota(3'000));
  // Second-resolution stamps stay in their second: the tie order is in the nanoseconds.
  REQUIRE(j.size() == 3'000);
  const uint64_t midnight = 1'767'225'600ull * 1'000'000'000;
  for (size_t i = 0; i < j.size(); i += 97) {
    CHECK(j[i].timestamp / 1'000'000'000 == midnight / 1'000'000'000 + i / 10);
    CHECK(j[i].timestamp % 1'000'000'000 == i % 10);
  }
}

TEST_CASE("Loki idempotency: a batch re-sent after its answer was lost is stored once", "[e2e][loki][order]") {
  TempDir tmp("logferry-loki-resend");
  fs::create_directories(tmp / "logs");
  std::atomic<FaultProxy*> proxy{nullptr};
  LokiFakeOptions options;
  options.after_store = [&](size_t n) {
    // The second push is stored, then its connection is cut before the answer.
    if (n != 2 || proxy.load() == nullptr) return;
    const uint64_t cuts = proxy.load()->stats().cuts;
    proxy.load()->cut_all();
    wait_until([&] { return proxy.load()->stats().cuts > cuts; }, 5s, 1ms);
  };
  LokiFake loki(options);
  FaultProxy fp(loki.port(), ProxyFraming::none);
  proxy = &fp;
  std::vector<std::string> plain;
  for (size_t i = 0; i < 3'000; ++i) plain.push_back(body(i, "plain"));
  write_file(tmp / "logs" / "plain.log", plain);
  ProcessEnv env = loki_sidecar(tmp, fmt::format("loki+http://127.0.0.1:{}", fp.port()));
  env["LOGFERRY_BATCH_MAX_ENTRIES"] = "500";
  Sidecar sidecar(env);
  sidecar.start();
  REQUIRE(wait_until([&] { return loki.stored() >= 3'000 && loki.duplicates_dropped() > 0; }, 60s, 50ms));
  CHECK(sidecar.stop() == 0);
  proxy = nullptr;
  CHECK(fp.stats().cuts >= 1);
  CHECK(loki.pushes() > 6);              // the second batch went twice
  CHECK(loki.duplicates_dropped() > 0);  // its second copy: the same stream, timestamps and lines
  CHECK(loki.stored() == 3'000);
  CHECK(sequence(loki.query_forward()) == iota(3'000));
}

TEST_CASE("Loki auto: a Loki refusing structured metadata gets every line once, in logfmt", "[e2e][loki]") {
  TempDir tmp("logferry-loki-auto");
  fs::create_directories(tmp / "logs");
  LokiFakeOptions options;
  options.allow_structured_metadata = false;
  LokiFake loki(options);
  write_file(tmp / "logs" / "app.log", json_lines(1'000, R"("level":"warn","user":"ann")"));
  ProcessEnv env = loki_sidecar(tmp, fmt::format("loki+http://127.0.0.1:{}", loki.port()));
  const uint16_t http = free_port();
  env["LOGFERRY_HTTP_ADDR"] = fmt::format("127.0.0.1:{}", http);
  Sidecar sidecar(env);  // LOGFERRY_LOKI_STRUCTURED_METADATA unset: auto
  sidecar.start();
  REQUIRE(wait_until([&] { return loki.stored() >= 1'000; }, 60s, 50ms));
  CHECK(metrics_sample(http, "logferry_output_fallbacks_total") == 1);
  CHECK(metrics_sample(http, "logferry_batches_rejected_total") == 0);
  CHECK(sidecar.stop() == 0);
  const auto stored = loki.query_forward();
  REQUIRE(stored.size() == 1'000);
  CHECK(sequence(stored) == iota(1'000));
  for (size_t i = 0; i < stored.size(); ++i) {
    CHECK(stored[i].line == body(i, "json") + " level=warn user=ann");
    CHECK(stored[i].metadata.empty());
  }
  CHECK(loki.refused_structured_metadata() > 0);
  const std::string& err = sidecar.process().stderr_text();
  const std::string note = "Loki does not allow structured metadata";
  const size_t first = err.find(note);
  CHECK(first != std::string::npos);
  CHECK(err.find(note, first + 1) == std::string::npos);  // logged once
}
