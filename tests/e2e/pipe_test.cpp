// The named-pipe source end to end with the real binaries: several writer
// processes, the aggregator down for a while and then up. Within the spill
// limit nothing is lost; beyond it the overflow policy decides, and every line
// is either stored exactly once or counted as dropped. An idle pipe costs no CPU.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

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

bool is_named_pipe(const fs::path& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISFIFO(st.st_mode);
}

// utime + stime of a process, in clock ticks.
uint64_t cpu_ticks(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/stat", pid));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream rest(text.substr(text.rfind(')') + 2));
  std::string field;
  uint64_t utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return utime + stime;
}

std::string writer_line(int writer, int i) { return fmt::format("writer {} line {:06} {}", writer, i, std::string(40, 'w')); }

// `writers` shell processes, each writing `lines` whole lines (one write() per
// line, below PIPE_BUF) into the pipe; remembers what they write.
std::vector<std::unique_ptr<ChildProcess>> start_writers(const fs::path& pipe, int writers, int lines,
                                                         std::vector<std::string>& written) {
  std::vector<std::unique_ptr<ChildProcess>> procs;
  for (int w = 0; w < writers; ++w) {
    const std::string script = fmt::format(
        "i=0; while [ $i -lt {} ]; do printf 'writer {} line %06d {}\\n' $i; i=$((i+1)); done > '{}'", lines, w,
        std::string(40, 'w'), pipe.string());
    auto p = std::make_unique<ChildProcess>();
    p->start({"/bin/sh", "-c", script}, basic_environment());
    procs.push_back(std::move(p));
    for (int i = 0; i < lines; ++i) written.push_back(writer_line(w, i));
  }
  return procs;
}

bool all_exited(std::vector<std::unique_ptr<ChildProcess>>& procs) {
  for (auto& p : procs)
    if (p->running()) return false;
  return true;
}

size_t spill_files(const fs::path& dir) {
  size_t n = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) n += e.path().extension() == ".seg";
  return n;
}

// Each writer's lines are stored in the order it wrote them.
size_t writer_order_violations(const std::vector<StoredEntry>& stored) {
  std::map<std::string, std::string> last;  // writer -> last line number seen
  size_t bad = 0;
  static const std::regex re("^writer (\\d+) line (\\d{6})");
  for (const auto& e : stored) {
    std::smatch m;
    if (!std::regex_search(e.body, m, re)) continue;
    auto& prev = last[m[1].str()];
    if (!prev.empty() && m[2].str() <= prev) ++bad;
    prev = m[2].str();
  }
  return bad;
}

ProcessEnv sidecar_env(const TempDir& tmp, uint16_t out_port, uint16_t http_port) {
  return {{"LOGFERRY_PIPE", (tmp / "app.pipe").string()},
          {"LOGFERRY_OUTPUT", fmt::format("tcp://127.0.0.1:{}", out_port)},
          {"LOGFERRY_CHECKPOINT_DIR", (tmp / "state").string()},
          {"LOGFERRY_SPILL_DIR", (tmp / "spill").string()},
          {"LOGFERRY_BATCH_MAX_BYTES", "64KiB"},
          {"LOGFERRY_BUFFER_MAX_BYTES", "128KiB"},
          {"LOGFERRY_BACKOFF_INITIAL", "100ms"},
          {"LOGFERRY_BACKOFF_MAX", "300ms"},
          {"LOGFERRY_HTTP_ADDR", fmt::format("127.0.0.1:{}", http_port)},
          {"LOGFERRY_SHUTDOWN_TIMEOUT", "10s"},
          {"POD_NAME", "pipe-0"},
          {"POD_NAMESPACE", "e2e"}};
}

}  // namespace

TEST_CASE("pipe: four writers while the aggregator is down: nothing lost within the spill limit", "[e2e][pipe]") {
  TempDir tmp("logferry-e2e-pipe");
  const uint16_t port = free_port();
  const uint16_t http = free_port();
  ProcessEnv env = sidecar_env(tmp, port, http);
  env["LOGFERRY_SPILL_MAX_BYTES"] = "64MiB";
  Sidecar sidecar(env);
  sidecar.start();
  REQUIRE(wait_until([&] { return is_named_pipe(tmp / "app.pipe"); }, 15s));
  REQUIRE(wait_until([&] { return metrics_sample(http, "logferry_spill_bytes") >= 0; }, 15s));

  // No writer: the sidecar sleeps (a busy loop would burn ~200 ticks in 2 s).
  const pid_t pid = sidecar.process().pid();
  const uint64_t before = cpu_ticks(pid);
  std::this_thread::sleep_for(2s);
  const uint64_t idle = cpu_ticks(pid) - before;
  INFO("CPU ticks while idle: " << idle);
  CHECK(idle <= 10);

  // The aggregator is down: the sidecar keeps draining the pipe into its spill.
  std::map<std::string, std::vector<std::string>> written;
  auto& lines = written[(tmp / "app.pipe").string()];
  auto writers = start_writers(tmp / "app.pipe", 4, 10'000, lines);
  REQUIRE(wait_until([&] { return all_exited(writers); }, 90s, 50ms));
  REQUIRE(wait_until([&] { return metrics_sample(http, "logferry_lines_read_total") == 40'000; }, 30s, 100ms));
  CHECK(spill_files(tmp / "spill") >= 1);
  CHECK(metrics_sample(http, "logferry_spill_bytes") > 1'000'000);

  Aggregator aggregator(tmp / "store", {}, port);
  REQUIRE(wait_until([&] { return count_stored(tmp / "store") >= 40'000; }, 120s, 100ms));
  const auto stored = read_store(tmp / "store");
  const auto check = check_delivery(stored, written);
  CHECK(check.stored == 40'000);
  CHECK(check.missing == 0);
  CHECK(check.duplicates == 0);
  CHECK(check.unexpected == 0);
  CHECK(check.out_of_order == 0);
  CHECK(writer_order_violations(stored) == 0);
  CHECK(metrics_sample(http, "logferry_dropped_lines_total{reason=\"pipe_overflow\"}") <= 0);
  // Acknowledged segments are deleted.
  CHECK(wait_until([&] { return spill_files(tmp / "spill") == 0; }, 10s, 100ms));

  CHECK(sidecar.stop() == 0);
  CHECK(aggregator.stop() == 0);
}

TEST_CASE("pipe: beyond the spill limit the overflow policy drops, and counts every line", "[e2e][pipe]") {
  const std::string policy = GENERATE(std::string("drop_newest"), std::string("drop_oldest"));
  INFO("policy " << policy);
  TempDir tmp("logferry-e2e-pipe");
  const uint16_t port = free_port();
  const uint16_t http = free_port();
  ProcessEnv env = sidecar_env(tmp, port, http);
  env["LOGFERRY_SPILL_MAX_BYTES"] = "256KiB";
  env["LOGFERRY_PIPE_OVERFLOW"] = policy;
  Sidecar sidecar(env);
  sidecar.start();
  REQUIRE(wait_until([&] { return is_named_pipe(tmp / "app.pipe"); }, 15s));

  std::map<std::string, std::vector<std::string>> written;
  auto& lines = written[(tmp / "app.pipe").string()];
  auto writers = start_writers(tmp / "app.pipe", 4, 10'000, lines);
  // The writers never block: the sidecar drops instead.
  REQUIRE(wait_until([&] { return all_exited(writers); }, 90s, 50ms));
  REQUIRE(wait_until([&] { return metrics_sample(http, "logferry_lines_read_total") == 40'000; }, 30s, 100ms));
  const int64_t dropped = metrics_sample(http, "logferry_dropped_lines_total{reason=\"pipe_overflow\"}");
  CHECK(dropped > 20'000);  // ~2.6 MB written, well beyond 128 KiB of memory and 256 KiB of spill
  CHECK(metrics_sample(http, "logferry_spill_bytes") <= 256 * 1024);
  CHECK(sidecar.process().stderr_text().find(policy == "drop_newest" ? "pipe overflow: dropping lines"
                                                                     : "spill full: dropping its oldest segment") !=
        std::string::npos);

  Aggregator aggregator(tmp / "store", {}, port);
  const size_t expect = 40'000 - static_cast<size_t>(dropped);
  REQUIRE(wait_until([&] { return count_stored(tmp / "store") >= expect; }, 120s, 100ms));
  std::this_thread::sleep_for(1s);  // nothing more arrives
  const auto stored = read_store(tmp / "store");
  const auto check = check_delivery(stored, written);
  CHECK(check.stored == expect);
  CHECK(check.missing == static_cast<size_t>(dropped));
  CHECK(check.duplicates == 0);
  CHECK(check.unexpected == 0);
  CHECK(check.out_of_order == 0);
  CHECK(writer_order_violations(stored) == 0);
  // Which lines survive tells the policies apart. Nothing frees room while the
  // aggregator is down, so drop_newest keeps a prefix of every writer's lines
  // (the pipe's oldest), while drop_oldest keeps the newest spilled segment:
  // the last line read, the last of some writer.
  std::map<std::string, std::vector<int>> kept;  // writer -> line numbers stored
  static const std::regex re("^writer (\\d+) line (\\d{6})");
  for (const auto& e : stored) {
    std::smatch m;
    if (std::regex_search(e.body, m, re)) kept[m[1].str()].push_back(std::stoi(m[2].str()));
  }
  // Under load one writer may fill memory and spill before another starts, so
  // not every writer need have lines kept; each policy's shape still shows.
  REQUIRE_FALSE(kept.empty());
  size_t prefixes = 0, last_lines_kept = 0;
  for (auto& [writer, numbers] : kept) {
    std::sort(numbers.begin(), numbers.end());
    prefixes += numbers.front() == 0 && numbers.back() == static_cast<int>(numbers.size()) - 1;
    last_lines_kept += numbers.back() == 9'999;
  }
  if (policy == "drop_newest") {
    CHECK(prefixes == kept.size());
    CHECK(last_lines_kept == 0);
  } else {
    CHECK(prefixes < kept.size());
    CHECK(last_lines_kept >= 1);
  }

  CHECK(sidecar.stop() == 0);
  CHECK(aggregator.stop() == 0);
}

TEST_CASE("pipe: with block, writers wait while memory and spill are full, then nothing is lost", "[e2e][pipe]") {
  TempDir tmp("logferry-e2e-pipe");
  const uint16_t port = free_port();
  const uint16_t http = free_port();
  ProcessEnv env = sidecar_env(tmp, port, http);
  env["LOGFERRY_SPILL_MAX_BYTES"] = "256KiB";
  env["LOGFERRY_PIPE_OVERFLOW"] = "block";
  Sidecar sidecar(env);
  sidecar.start();
  REQUIRE(wait_until([&] { return is_named_pipe(tmp / "app.pipe"); }, 15s));

  std::map<std::string, std::vector<std::string>> written;
  auto& lines = written[(tmp / "app.pipe").string()];
  auto writers = start_writers(tmp / "app.pipe", 4, 10'000, lines);
  std::this_thread::sleep_for(3s);
  CHECK_FALSE(all_exited(writers));  // blocked in write()
  CHECK(metrics_sample(http, "logferry_lines_read_total") < 40'000);

  Aggregator aggregator(tmp / "store", {}, port);
  REQUIRE(wait_until([&] { return all_exited(writers); }, 90s, 50ms));
  REQUIRE(wait_until([&] { return count_stored(tmp / "store") >= 40'000; }, 120s, 100ms));
  const auto stored = read_store(tmp / "store");
  const auto check = check_delivery(stored, written);
  CHECK(check.stored == 40'000);
  CHECK(check.missing == 0);
  CHECK(check.duplicates == 0);
  CHECK(writer_order_violations(stored) == 0);
  CHECK(metrics_sample(http, "logferry_dropped_lines_total{reason=\"pipe_overflow\"}") <= 0);
  CHECK(sidecar.stop() == 0);
  CHECK(aggregator.stop() == 0);
}
