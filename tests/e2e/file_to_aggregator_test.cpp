// The foundation's promise, end to end with the real binaries: lines written to
// files while the sidecar runs arrive at the aggregator exactly once, in order
// per file, and a restarted sidecar resumes from its checkpoint.
#include <map>
#include <regex>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "support/log_lines.hpp"
#include "support/logferry_processes.hpp"
#include "support/store_reader.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

using namespace logferry::test;
namespace fs = std::filesystem;

namespace {

uint64_t acked_at_exit(const std::string& stderr_text) {
  std::smatch m;
  static const std::regex re("\"msg\":\"drained: every line acknowledged\",\"entries_acked\":\"(\\d+)\"");
  if (!std::regex_search(stderr_text, m, re)) return UINT64_MAX;
  return std::stoull(m[1].str());
}

}  // namespace

TEST_CASE("200,000 lines in two files arrive exactly once, in order, and a restart resumes", "[e2e][foundation]") {
  TempDir tmp("logferry-e2e");
  const fs::path logs = tmp / "logs";
  fs::create_directories(logs);
  Aggregator aggregator(tmp / "store");

  Written written;
  const fs::path a = logs / "a.log";
  const fs::path b = logs / "b.log";
  // Some lines exist before the sidecar starts, the rest are written while it runs.
  append_lines(a, written[a.string()], 10'000, "a");

  Sidecar sidecar({{"LOGFERRY_FILES", (logs / "*.log").string()},
                   {"LOGFERRY_OUTPUT", aggregator.output()},
                   {"LOGFERRY_CHECKPOINT_DIR", (tmp / "state").string()},
                   {"POD_NAME", "web-0"},
                   {"POD_NAMESPACE", "shop"}});
  sidecar.start();
  for (int round = 0; round < 20; ++round) {
    append_lines(a, written[a.string()], 4'500, "a");
    append_lines(b, written[b.string()], 5'000, "b");
  }
  REQUIRE(written[a.string()].size() + written[b.string()].size() == 200'000);

  REQUIRE(wait_until([&] { return count_stored(tmp / "store") >= 200'000; }, 120s, 100ms));
  auto check = check_delivery(read_store(tmp / "store"), written);
  CHECK(check.stored == 200'000);
  CHECK(check.missing == 0);
  CHECK(check.duplicates == 0);
  CHECK(check.unexpected == 0);
  CHECK(check.out_of_order == 0);
  // The resource labels decide the store's directory.
  CHECK(fs::exists(tmp / "store" / "shop" / "web-0"));

  // Drain and stop: everything was acknowledged, checkpoints saved.
  CHECK(sidecar.stop() == 0);

  // More lines while it is down, then a restart: only the new lines are sent.
  append_lines(a, written[a.string()], 1'000, "a");
  append_lines(b, written[b.string()], 500, "b");
  Sidecar again({{"LOGFERRY_FILES", (logs / "*.log").string()},
                 {"LOGFERRY_OUTPUT", aggregator.output()},
                 {"LOGFERRY_CHECKPOINT_DIR", (tmp / "state").string()},
                 {"POD_NAME", "web-0"},
                 {"POD_NAMESPACE", "shop"}});
  again.start();
  REQUIRE(wait_until([&] { return count_stored(tmp / "store") >= 201'500; }, 60s, 100ms));
  CHECK(again.stop() == 0);
  // The second run acknowledged exactly the 1,500 new lines: nothing acked was re-sent.
  CHECK(acked_at_exit(again.process().stderr_text()) == 1'500);
  check = check_delivery(read_store(tmp / "store"), written);
  CHECK(check.stored == 201'500);
  CHECK(check.missing == 0);
  CHECK(check.duplicates == 0);
  CHECK(check.out_of_order == 0);
  CHECK(aggregator.stop() == 0);
}
