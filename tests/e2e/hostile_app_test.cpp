// The app container is not trusted (docs/security.md, "The app container"):
// it writes into the directory the sidecar reads and may plant links, FIFOs
// and odd file names there. Whatever it does, the sidecar forwards the app's
// lines and nothing else, and keeps answering its health checks.
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "support/http_client.hpp"
#include "support/logferry_processes.hpp"
#include "support/store_reader.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

using namespace logferry::test;
namespace fs = std::filesystem;

namespace {

void append(const fs::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::app | std::ios::binary);
  out << text << std::flush;
}

bool healthy(uint16_t port) {
  auto r = http_get("127.0.0.1", port, "/healthz", 1s);
  return r && r->status == 200;
}

}  // namespace

TEST_CASE("hostile app: planted symlinks ship nothing and the app's lines still arrive", "[e2e][hostile]") {
  TempDir tmp("logferry-hostile");
  const fs::path logs = tmp / "logs";
  fs::create_directories(logs);
  // The sidecar's own secret, as a mounted token would be.
  const auto secret = tmp.write_file("secret/token", "TOPSECRET-token-value\n");
  fs::create_symlink(secret, logs / "token.log");
  fs::create_symlink("/proc/self/environ", logs / "environ.log");
  append(logs / "app.log", "app line 1\napp line 2\n");

  Aggregator aggregator(tmp / "store");
  const uint16_t http = free_port();
  Sidecar sidecar({{"LOGFERRY_FILES", (logs / "*.log").string()},
                   {"LOGFERRY_OUTPUT", aggregator.output()},
                   {"LOGFERRY_CHECKPOINT_DIR", (tmp / "state").string()},
                   {"LOGFERRY_POLL_INTERVAL", "200ms"},
                   {"LOGFERRY_BATCH_TIMEOUT", "50ms"},
                   {"LOGFERRY_HTTP_ADDR", fmt::format("127.0.0.1:{}", http)},
                   {"SIDECAR_SECRET", "TOPSECRET-env-value"}});
  sidecar.start();
  REQUIRE(wait_until([&] { return count_stored(tmp / "store") >= 2; }, 30s, 50ms));
  // A link planted while it runs is skipped too.
  fs::create_symlink(secret, logs / "later.log");
  append(logs / "app.log", "app line 3\n");
  REQUIRE(wait_until([&] { return count_stored(tmp / "store") >= 3; }, 30s, 50ms));
  REQUIRE(wait_until([&] { return metrics_sample(http, "logferry_skipped_files_total{reason=\"symlink\"}") == 3; }, 10s,
                     50ms));
  CHECK(sidecar.stop() == 0);

  const auto stored = read_store(tmp / "store");
  REQUIRE(stored.size() == 3);
  for (const auto& e : stored) {
    CHECK(e.source_path == (logs / "app.log").string());
    CHECK(e.body.find("TOPSECRET") == std::string::npos);
  }
  CHECK(sidecar.process().stderr_text().find("\"reason\":\"symlink\"") != std::string::npos);
  CHECK(aggregator.stop() == 0);
}

TEST_CASE("hostile app: with LOGFERRY_FOLLOW_SYMLINKS=true a link is read", "[e2e][hostile]") {
  TempDir tmp("logferry-hostile");
  const fs::path logs = tmp / "logs";
  const auto target = tmp.write_file("elsewhere/real.log", "through the link\n");
  fs::create_directories(logs);
  fs::create_symlink(target, logs / "linked.log");
  Aggregator aggregator(tmp / "store");
  Sidecar sidecar({{"LOGFERRY_FILES", (logs / "*.log").string()},
                   {"LOGFERRY_OUTPUT", aggregator.output()},
                   {"LOGFERRY_CHECKPOINT_DIR", (tmp / "state").string()},
                   {"LOGFERRY_FOLLOW_SYMLINKS", "true"},
                   {"LOGFERRY_BATCH_TIMEOUT", "50ms"}});
  sidecar.start();
  REQUIRE(wait_until([&] { return count_stored(tmp / "store") >= 1; }, 30s, 50ms));
  CHECK(read_store(tmp / "store").at(0).body == "through the link");
  CHECK(sidecar.stop() == 0);
}

TEST_CASE("hostile app: a file swapped with a FIFO again and again never blocks the sidecar", "[e2e][hostile]") {
  TempDir tmp("logferry-hostile");
  const fs::path logs = tmp / "logs";
  fs::create_directories(logs);
  append(logs / "app.log", "before\n");
  Aggregator aggregator(tmp / "store");
  const uint16_t http = free_port();
  Sidecar sidecar({{"LOGFERRY_FILES", (logs / "*.log").string()},
                   {"LOGFERRY_OUTPUT", aggregator.output()},
                   {"LOGFERRY_CHECKPOINT_DIR", (tmp / "state").string()},
                   {"LOGFERRY_POLL_INTERVAL", "50ms"},
                   {"LOGFERRY_BATCH_TIMEOUT", "50ms"},
                   {"LOGFERRY_HTTP_ADDR", fmt::format("127.0.0.1:{}", http)}});
  sidecar.start();
  REQUIRE(wait_until([&] { return count_stored(tmp / "store") >= 1; }, 30s, 50ms));
  REQUIRE(healthy(http));

  // x.log alternates between a regular file and a FIFO without a writer (an
  // open that may block would wait forever), each swap an atomic rename.
  const fs::path x = logs / "x.log";
  const auto swap_until = std::chrono::steady_clock::now() + 4s;
  for (int i = 0; std::chrono::steady_clock::now() < swap_until; ++i) {
    const fs::path staged = tmp / "staged";
    if (i % 2 == 0) {
      std::ofstream(staged) << "swap " << i << "\n";
    } else {
      REQUIRE(::mkfifo(staged.c_str(), 0600) == 0);
    }
    fs::rename(staged, x);
    std::this_thread::sleep_for(std::chrono::microseconds(200));
    sidecar.process().stderr_text();  // drain its log: a full stderr pipe would block it, not the FIFO
  }
  // Leave a FIFO in place: it stays skipped.
  fs::remove(x);
  REQUIRE(::mkfifo(x.c_str(), 0600) == 0);

  CHECK(wait_until(
      [&] {
        sidecar.process().stderr_text();
        return healthy(http);
      },
      5s, 50ms));
  append(logs / "app.log", "after\n");
  bool after = false;
  wait_until(
      [&] {
        sidecar.process().stderr_text();
        for (const auto& e : read_store(tmp / "store")) after = after || e.body == "after";
        return after;
      },
      30s, 100ms);
  INFO(sidecar.process().stderr_text());
  CHECK(after);
  CHECK(healthy(http));
  CHECK(metrics_sample(http, "logferry_skipped_files_total{reason=\"not_regular\"}") >= 1);
  CHECK(sidecar.stop() == 0);
}

TEST_CASE("hostile app: a file name that is not UTF-8 does not stop the other files", "[e2e][hostile]") {
  TempDir tmp("logferry-hostile");
  const fs::path logs = tmp / "logs";
  fs::create_directories(logs);
  const std::string odd = (logs / "caf\xE9.log").string();
  append(odd, "from the odd name\n");
  append(logs / "good.log", "from the good name\n");
  Aggregator aggregator(tmp / "store");
  Sidecar sidecar({{"LOGFERRY_FILES", (logs / "*.log").string()},
                   {"LOGFERRY_OUTPUT", aggregator.output()},
                   {"LOGFERRY_CHECKPOINT_DIR", (tmp / "state").string()},
                   {"LOGFERRY_BATCH_TIMEOUT", "50ms"},
                   {"POD_NAME", "web\xFF-0"},
                   {"LOGFERRY_LABELS", "team=caf\xE9"}});
  sidecar.start();
  const bool both = wait_until([&] { return count_stored(tmp / "store") >= 2; }, 30s, 50ms);
  INFO(sidecar.process().stderr_text());
  REQUIRE(both);
  CHECK(sidecar.stop() == 0);
  std::map<std::string, std::string> by_body;
  for (const auto& e : read_store(tmp / "store")) by_body[e.body] = e.source_path;
  CHECK(by_body["from the good name"] == (logs / "good.log").string());
  CHECK(by_body["from the odd name"] == (logs / "caf\xEF\xBF\xBD.log").string());
  CHECK(aggregator.stop() == 0);
}

TEST_CASE("hostile node: a container log link leading outside the pods root is not read", "[e2e][hostile]") {
  TempDir tmp("logferry-hostile");
  const fs::path containers = tmp / "containers";
  fs::create_directories(containers);
  const std::string id(64, 'a');
  const auto inside = tmp.write_file("pods/shop_web-0_uid/app/0.log", "2026-01-02T15:04:05.000000000Z stdout F inside\n");
  const auto outside = tmp.write_file("etc/secret.log", "2026-01-02T15:04:05.000000000Z stdout F TOPSECRET\n");
  fs::create_symlink(inside, containers / ("web-0_shop_app-" + id + ".log"));
  fs::create_symlink(outside, containers / ("evil-0_shop_app-" + id + ".log"));
  Aggregator aggregator(tmp / "store");
  const uint16_t http = free_port();
  Sidecar agent({{"LOGFERRY_MODE", "node"},
                 {"LOGFERRY_FILES", (containers / "*.log").string()},
                 {"LOGFERRY_PODS_ROOT", (tmp / "pods").string()},
                 {"LOGFERRY_OUTPUT", aggregator.output()},
                 {"LOGFERRY_CHECKPOINT_DIR", (tmp / "state").string()},
                 {"LOGFERRY_BATCH_TIMEOUT", "50ms"},
                 {"LOGFERRY_HTTP_ADDR", fmt::format("127.0.0.1:{}", http)}});
  agent.start();
  REQUIRE(wait_until([&] { return count_stored(tmp / "store") >= 1; }, 30s, 50ms));
  CHECK(wait_until(
      [&] { return metrics_sample(http, "logferry_skipped_files_total{reason=\"symlink_outside_root\"}") == 1; }, 10s, 50ms));
  CHECK(agent.stop() == 0);
  const auto stored = read_store(tmp / "store");
  REQUIRE(stored.size() == 1);
  CHECK(stored[0].body == "inside");
}
