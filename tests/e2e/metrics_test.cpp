// The sidecar's /metrics after a known workload: two files (one with Java
// stack traces grouped by LOGFERRY_MULTILINE=java, one of single lines) sent
// to the real aggregator. Once everything is acknowledged, every counter the
// workload determines has its exact value, and the body parses as the
// Prometheus text format.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "support/http_client.hpp"
#include "support/logferry_processes.hpp"
#include "support/store_reader.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

using namespace logferry::test;

namespace {

// Samples of a Prometheus text body by "name{labels}"; `malformed` collects
// lines that are neither comments nor samples.
std::map<std::string, double> parse_samples(const std::string& body, std::vector<std::string>& malformed) {
  static const std::regex sample(R"(^([a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})?) (-?[0-9.e+]+)$)");
  static const std::regex comment(R"(^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$)");
  std::map<std::string, double> out;
  std::istringstream in(body);
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_match(line, m, sample)) {
      out[m[1].str()] = std::stod(m[3].str());
    } else if (!std::regex_match(line, comment)) {
      malformed.push_back(line);
    }
  }
  return out;
}

}  // namespace

TEST_CASE("sidecar /metrics after a known workload: exact values, multiline records counted", "[e2e][metrics]") {
  TempDir dir("logferry-e2e-metrics");
  // 14 lines making 6 records; 3 of them joined from several lines (the
  // 7-line one is cut at LOGFERRY_MULTILINE_MAX_LINES=4 into 4 + 3).
  const std::vector<std::string> java_lines{
      "2024-01-02 10:00:00 INFO starting",
      "2024-01-02 10:00:01 ERROR request failed",
      "java.lang.IllegalStateException: boom",
      "\tat com.example.App.handle(App.java:42)",
      "\tat com.example.App.main(App.java:10)",
      "2024-01-02 10:00:02 INFO recovered",
      "2024-01-02 10:00:03 ERROR again",
      "\tat com.example.A.a(A.java:1)",
      "\tat com.example.A.b(A.java:2)",
      "\tat com.example.A.c(A.java:3)",
      "\tat com.example.A.d(A.java:4)",
      "\tat com.example.A.e(A.java:5)",
      "\tat com.example.A.f(A.java:6)",
      "2024-01-02 10:00:04 INFO done",
  };
  const std::vector<std::string> plain_lines{"other one", "other two"};
  std::string java_text, plain_text;
  for (const auto& l : java_lines) java_text += l + "\n";
  for (const auto& l : plain_lines) plain_text += l + "\n";
  dir.write_file("logs/java.log", java_text);
  dir.write_file("logs/plain.log", plain_text);

  Aggregator aggregator(dir / "store");
  const uint16_t http = free_port();
  Sidecar sidecar({{"LOGFERRY_FILES", (dir / "logs/*.log").string()},
                   {"LOGFERRY_OUTPUT", aggregator.output()},
                   {"LOGFERRY_CHECKPOINT_DIR", (dir / "state").string()},
                   {"LOGFERRY_MULTILINE", "java"},
                   {"LOGFERRY_MULTILINE_MAX_LINES", "4"},
                   {"LOGFERRY_MULTILINE_TIMEOUT", "200ms"},
                   {"LOGFERRY_HTTP_ADDR", fmt::format("127.0.0.1:{}", http)}});
  sidecar.start();

  const size_t kEntries = 8;  // 6 records + 2 single lines
  REQUIRE(wait_until([&] { return count_stored(dir / "store") >= kEntries; }, 30s, 50ms));
  std::map<std::string, double> s;
  std::vector<std::string> malformed;
  // Acks, checkpoint lag and gauges settle shortly after the store has the entries.
  const bool settled = wait_until(
      [&] {
        auto r = http_get("127.0.0.1", http, "/metrics", 2s);
        if (!r || r->status != 200) return false;
        malformed.clear();
        s = parse_samples(r->body, malformed);
        return s["logferry_entries_acked_total"] == kEntries && s["logferry_checkpoint_lag_bytes"] == 0 &&
               s["logferry_buffer_bytes"] == 0;
      },
      15s, 100ms);
  INFO(sidecar.process().stderr_text());
  REQUIRE(settled);
  CHECK(malformed.empty());

  const std::string java = (dir / "logs/java.log").string();
  const std::string plain = (dir / "logs/plain.log").string();
  CHECK(s["logferry_source_lines_total{source=\"" + java + "\"}"] == 14);
  CHECK(s["logferry_source_bytes_total{source=\"" + java + "\"}"] == static_cast<double>(java_text.size()));
  CHECK(s["logferry_source_lines_total{source=\"" + plain + "\"}"] == 2);
  CHECK(s["logferry_source_bytes_total{source=\"" + plain + "\"}"] == static_cast<double>(plain_text.size()));
  CHECK(s["logferry_lines_read_total"] == 16);
  CHECK(s["logferry_bytes_read_total"] == static_cast<double>(java_text.size() + plain_text.size()));
  CHECK(s["logferry_multiline_records_total"] == 3);
  CHECK(s["logferry_parse_errors_total"] == 0);
  CHECK(s["logferry_lines_truncated_total"] == 0);
  CHECK(s["logferry_files_discovered_total"] == 2);
  CHECK(s["logferry_files_watched"] == 2);
  CHECK(s["logferry_rotations_total"] == 0);
  CHECK(s["logferry_truncations_total"] == 0);
  CHECK(s["logferry_read_errors_total"] == 0);
  CHECK(s["logferry_entries_sent_total"] == kEntries);
  CHECK(s["logferry_entries_acked_total"] == kEntries);
  CHECK(s["logferry_batches_sent_total"] == s["logferry_batches_acked_total"]);
  CHECK(s["logferry_batches_retried_total"] == 0);
  CHECK(s["logferry_batches_rejected_total"] == 0);
  CHECK(s["logferry_output_connected"] == 1);
  CHECK(s["logferry_connect_failures_total"] == 0);
  CHECK(s["logferry_checkpoint_errors_total"] == 0);
  CHECK(s["logferry_sources_open"] == 1);
  CHECK(s["logferry_build_info{version=\"" LOGFERRY_VERSION "\"}"] == 1);

  // What arrived: the records as grouped.
  std::vector<std::string> bodies;
  for (const auto& e : read_store(dir / "store")) bodies.push_back(e.body);
  CHECK(std::count(bodies.begin(), bodies.end(), java_lines[1] + "\n" + java_lines[2] + "\n" + java_lines[3] + "\n" +
                                                     java_lines[4]) == 1);
  CHECK(std::count(bodies.begin(), bodies.end(), java_lines[10] + "\n" + java_lines[11] + "\n" + java_lines[12]) ==
        1);
  CHECK(bodies.size() == kEntries);

  CHECK(sidecar.stop() == 0);
  CHECK(aggregator.stop() == 0);
}
