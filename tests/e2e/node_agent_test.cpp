// The node agent (LOGFERRY_MODE=node) against a fake kubelet layout:
// <tmp>/pods/<ns>_<pod>_<uid>/<container>/0.log written in CRI format, with
// <tmp>/containers/<pod>_<ns>_<container>-<id>.log symlinks to them. The test
// rotates the way the kubelet does (0.log renamed to 0.log.<timestamp>, a new
// 0.log, the older rotated file gzipped, older .gz deleted), deletes one Pod's
// files, kills the agent with SIGKILL (a rotation happens while it is down) and
// restarts it; then every line must be stored exactly once, under its Pod's
// directory, with its namespace/pod/container/container id labels, and the
// deleted Pod's checkpoint records must be gone.
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <memory>
#include <ranges>
#include <set>
#include <thread>
#include <utility>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "sidecar/checkpoint/file_checkpoint_store.hpp"
#include "sidecar/forward/otlp_encoder.hpp"
#include "support/logferry_processes.hpp"
#include "support/store_reader.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

using namespace logferry::test;
namespace fs = std::filesystem;

namespace {

struct Labels {
  std::string ns, pod, container, id;
  bool operator==(const Labels&) const = default;
};

// One container of the fake node: its kubelet directory and symlink.
class FakeContainer {
 public:
  FakeContainer(const fs::path& root, std::string ns, std::string pod, std::string container, int n)
      : labels_{std::move(ns), std::move(pod), std::move(container), fmt::format("{:064x}", 0xc0ffee00u + n)} {
    pod_dir_ = root / "pods" / fmt::format("{}_{}_{:08x}-0000-4000-8000-{:012x}", labels_.ns, labels_.pod, n, n);
    dir_ = pod_dir_ / labels_.container;
    fs::create_directories(dir_);
    write_file(dir_ / "0.log", "");
    link_ = root / "containers" / fmt::format("{}_{}_{}-{}.log", labels_.pod, labels_.ns, labels_.container, labels_.id);
    fs::create_symlink(dir_ / "0.log", link_);
  }

  // Appends `count` CRI lines; returns their bodies.
  void write(int count) {
    std::string chunk;
    for (int i = 0; i < count; ++i) {
      std::string body = fmt::format("{}/{}/{} line {:05}", labels_.ns, labels_.pod, labels_.container, next_++);
      chunk += fmt::format("2026-01-02T15:04:05.{:09}Z stdout F {}\n", next_, body);
      bodies.push_back(std::move(body));
    }
    std::ofstream out(dir_ / "0.log", std::ios::app | std::ios::binary);
    out << chunk;
  }

  // The kubelet's rotation: rename to 0.log.<timestamp>, create a new 0.log,
  // gzip every rotated file but the newest (unless `compress` is false), and
  // keep one .gz at most.
  void rotate(bool compress) {
    const std::string stamp = fmt::format("20260102-1504{:02}", rotations_++);
    fs::rename(dir_ / "0.log", dir_ / ("0.log." + stamp));
    write_file(dir_ / "0.log", "");
    std::vector<fs::path> rotated, gzipped;
    for (const auto& f : fs::directory_iterator(dir_)) {
      const std::string name = f.path().filename().string();
      if (name.ends_with(".gz")) gzipped.push_back(f.path());
      else if (name.starts_with("0.log.")) rotated.push_back(f.path());
    }
    std::sort(rotated.begin(), rotated.end());
    std::sort(gzipped.begin(), gzipped.end());
    if (!compress) return;
    for (size_t i = 0; i + 1 < rotated.size(); ++i) {
      std::string gz;
      REQUIRE(logferry::gzip_compress(read_file(rotated[i]), gz));
      write_file(rotated[i].string() + ".gz", gz);
      fs::remove(rotated[i]);
      gzipped.push_back(rotated[i].string() + ".gz");
    }
    std::sort(gzipped.begin(), gzipped.end());
    for (size_t i = 0; i + 1 < gzipped.size(); ++i) fs::remove(gzipped[i]);
  }

  // The Pod is deleted: the kubelet removes its directory and the symlink.
  void remove_pod() {
    fs::remove(link_);
    fs::remove_all(pod_dir_);
    deleted = true;
  }

  const Labels& labels() const { return labels_; }
  std::vector<std::string> bodies;
  bool deleted = false;

 private:
  Labels labels_;
  fs::path pod_dir_, dir_, link_;
  int next_ = 0;
  int rotations_ = 0;
};

struct Stored {
  std::string body, dir;  // dir: "<ns>/<pod>" of the segment
  Labels labels;
};

// The stored entries, each with its Pod's directory and labels.
std::vector<Stored> read_stored(const fs::path& store) {
  std::vector<Stored> out;
  for (auto& e : read_store(store, StoredFields::resource)) {
    auto resource = [&e](const std::string& key) {
      const auto it = e.resource.find(key);
      return it == e.resource.end() ? std::string() : it->second;
    };
    const fs::path pod_dir = fs::path(e.file).parent_path();
    out.push_back({std::move(e.body), pod_dir.parent_path().filename().string() + "/" + pod_dir.filename().string(),
                   Labels{resource("k8s.namespace.name"), resource("k8s.pod.name"), resource("k8s.container.name"),
                          resource("container.id")}});
  }
  return out;
}

size_t checkpoint_records_with(const fs::path& state, std::string_view needle) {
  logferry::FileCheckpointStore store(state.string());
  auto records = store.load();
  if (!records) return 0;
  return static_cast<size_t>(std::count_if(records->begin(), records->end(), [&](const auto& r) {
    return r.path.find(needle) != std::string::npos;
  }));
}

// The agent's environment for the fake node under `tmp`, forwarding to `aggregator`.
ProcessEnv node_agent_env(const TempDir& tmp, const Aggregator& aggregator) {
  return {{"LOGFERRY_MODE", "node"},
          {"LOGFERRY_FILES", (tmp / "containers").string() + "/*.log"},
          {"LOGFERRY_OUTPUT", aggregator.output()},
          {"LOGFERRY_CHECKPOINT_DIR", (tmp / "state").string()},
          {"LOGFERRY_PODS_ROOT", (tmp / "pods").string()},
          {"LOGFERRY_BATCH_TIMEOUT", "50ms"},
          {"NODE_NAME", "node-1"}};
}

// How often each of `bodies` was stored (`seen`: stored count per body).
struct Tally {
  size_t missing = 0, duplicates = 0;
  std::string first_problem;
};
template <class Bodies>
Tally tally(std::map<std::string, int>& seen, const Bodies& bodies) {
  Tally t;
  for (const auto& body : bodies) {
    const int n = seen[body];
    if (n == 0) ++t.missing;
    if (n > 1) ++t.duplicates;
    if (n != 1 && t.first_problem.empty()) t.first_problem = fmt::format("{} stored {} times", body, n);
  }
  return t;
}

void run_node_agent(bool inotify) {
  TempDir tmp("logferry-node");
  fs::create_directories(tmp / "containers");
  std::vector<FakeContainer> containers;
  containers.emplace_back(tmp.path(), "shop", "web-0", "app", 1);
  containers.emplace_back(tmp.path(), "shop", "web-0", "proxy", 2);
  containers.emplace_back(tmp.path(), "shop", "web-1", "app", 3);
  containers.emplace_back(tmp.path(), "kube-system", "dns-0", "coredns", 4);
  containers.emplace_back(tmp.path(), "kube-system", "job-0", "task", 5);  // its Pod is deleted
  FakeContainer& doomed = containers.back();
  // A file whose name is not the kubelet's: read, without pod labels.
  std::vector<std::string> odd_lines;
  {
    std::string text;
    for (int i = 0; i < 20; ++i) {
      odd_lines.push_back(fmt::format("odd file line {}", i));
      text += fmt::format("2026-01-02T15:04:05.000000000Z stderr F {}\n", odd_lines.back());
    }
    write_file(tmp / "containers" / "not-a-kubelet-name.log", text);
  }

  Aggregator aggregator(tmp / "store");
  ProcessEnv env = node_agent_env(tmp, aggregator);
  env["LOGFERRY_INOTIFY"] = inotify ? "true" : "false";
  env["LOGFERRY_POLL_INTERVAL"] = inotify ? "1s" : "200ms";
  env["LOGFERRY_ROTATE_WAIT"] = "1s";
  auto agent = std::make_unique<Sidecar>(env);
  agent->start();
  // The kubelet's rotations below start once the agent runs (a file rotated before
  // it ever started is history it never owned).
  REQUIRE(agent->process().wait_for_stderr("initial scan done", 30s));
  std::string first_agent_log;

  constexpr int kRounds = 24;
  for (int round = 0; round < kRounds; ++round) {
    for (auto& c : containers) {
      if (!c.deleted) c.write(40);
    }
    if (round % 4 == 3) {
      for (auto& c : containers) {
        if (!c.deleted) c.rotate(true);
      }
    }
    if (round == 8) {
      // Wait for the doomed Pod's lines, then delete its files.
      wait_until([&] { return count_stored(tmp / "store") >= 9u * 40u * containers.size(); }, 30s, 50ms);
      doomed.remove_pod();
    }
    if (round == 14) {
      // SIGKILL while lines are unread; the kubelet rotates while the agent is down.
      agent->kill9();
      first_agent_log = agent->process().stderr_text();
      for (auto& c : containers) {
        if (c.deleted) continue;
        c.write(40);
        c.rotate(false);
        c.write(10);
      }
      agent = std::make_unique<Sidecar>(env);
      agent->start();
      // One rotation while it was down, as the scenario says: the next one would
      // compress the file it has to resume (lines of a compressed file are not
      // read; see docs/node-agent.md). Two rotations while down: the test below.
      REQUIRE(agent->process().wait_for_stderr("initial scan done", 30s));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(60));
  }

  std::map<std::string, Labels> expected;
  for (const auto& c : containers)
    for (const auto& b : c.bodies) expected.emplace(b, c.labels());
  for (const auto& b : odd_lines) expected.emplace(b, Labels{});
  const size_t total = expected.size();
  INFO("lines written: " << total);
  CHECK(wait_until([&] { return count_stored(tmp / "store") >= total; }, 60s, 100ms));
  // The deleted Pod's file is finished, acknowledged, then forgotten.
  CHECK(wait_until([&] { return checkpoint_records_with(tmp / "state", "job-0_kube-system") == 0; }, 30s, 100ms));
  CHECK(checkpoint_records_with(tmp / "state", "web-0_shop_app") >= 1);
  // Drained and exited: nothing more can arrive, so anything extra shows now.
  CHECK(agent->stop() == 0);

  const auto stored = read_stored(tmp / "store");
  std::map<std::string, int> seen;
  size_t wrong_labels = 0, wrong_dir = 0, unexpected = 0;
  std::string first_problem;
  for (const auto& s : stored) {
    ++seen[s.body];
    const auto it = expected.find(s.body);
    if (it == expected.end()) {
      ++unexpected;
      if (first_problem.empty()) first_problem = "unexpected: " + s.body;
      continue;
    }
    const Labels& want = it->second;
    if (!(s.labels == want)) {
      ++wrong_labels;
      if (first_problem.empty()) first_problem = "labels of " + s.body + ": " + s.labels.ns + "/" + s.labels.pod;
    }
    const std::string want_dir = want.ns.empty() ? "_unknown/_unknown" : want.ns + "/" + want.pod;
    if (s.dir != want_dir) {
      ++wrong_dir;
      if (first_problem.empty()) first_problem = "dir of " + s.body + ": " + s.dir;
    }
  }
  const Tally counts = tally(seen, std::views::keys(expected));
  const size_t missing = counts.missing, duplicates = counts.duplicates;
  if (first_problem.empty()) first_problem = counts.first_problem;
  INFO("first problem: " << first_problem);
  if (!first_problem.empty()) {
    // The agents' own account of that Pod's files, to explain a loss.
    std::string account;
    const std::string second_agent_log = agent->process().stderr_text();
    for (const std::string* log : {&std::as_const(first_agent_log), &second_agent_log}) {
      account += log == &first_agent_log ? "-- before SIGKILL\n" : "-- after restart\n";
      size_t pos = 0;
      while (pos < log->size()) {
        const size_t end = std::min(log->find('\n', pos), log->size());
        const std::string_view line(log->data() + pos, end - pos);
        if (line.find("dns-0") != std::string_view::npos) account.append(line).push_back('\n');
        pos = end + 1;
      }
    }
    INFO("agent log lines of kube-system/dns-0:\n" << account);
    CHECK(first_problem.empty());
  }
  CHECK(stored.size() == total);
  CHECK(missing == 0);
  CHECK(duplicates == 0);
  CHECK(unexpected == 0);
  CHECK(wrong_labels == 0);
  CHECK(wrong_dir == 0);
  const std::string err = agent->process().stderr_text();
  CHECK(err.find("resuming a rotated file") != std::string::npos);
  CHECK(err.find("read without pod labels") != std::string::npos);
}

// Two rotations while the agent is down: the file it was reading is resumed, and
// the file created and rotated meanwhile (no checkpoint names it) is read whole.
void run_two_rotations_while_down() {
  TempDir tmp("logferry-node-down");
  fs::create_directories(tmp / "containers");
  FakeContainer c(tmp.path(), "shop", "api-0", "app", 7);
  Aggregator aggregator(tmp / "store");
  const ProcessEnv env = node_agent_env(tmp, aggregator);
  auto agent = std::make_unique<Sidecar>(env);
  agent->start();
  REQUIRE(agent->process().wait_for_stderr("initial scan done", 30s));
  c.write(50);
  REQUIRE(wait_until([&] { return count_stored(tmp / "store") >= 50u; }, 30s, 50ms));
  agent->kill9();
  c.write(30);        // unread tail of the file the agent was reading
  c.rotate(false);    // 0.log -> 0.log.<1>
  c.write(40);        // a file the agent never saw ...
  c.rotate(false);    // ... rotated too: 0.log -> 0.log.<2>
  c.write(20);        // the current 0.log
  agent = std::make_unique<Sidecar>(env);
  agent->start();
  const size_t total = c.bodies.size();
  CHECK(wait_until([&] { return count_stored(tmp / "store") >= total; }, 60s, 100ms));
  CHECK(agent->stop() == 0);
  const std::string err = agent->process().stderr_text();
  CHECK(err.find("reading a file rotated while logferry was down") != std::string::npos);
  std::map<std::string, int> seen;
  for (const auto& s : read_stored(tmp / "store")) ++seen[s.body];
  const Tally counts = tally(seen, c.bodies);
  INFO("lines written: " << total << "; first problem: " << counts.first_problem);
  CHECK(counts.missing == 0);
  CHECK(counts.duplicates == 0);
  CHECK(seen.size() == total);
}

}  // namespace

TEST_CASE("node agent: two kubelet rotations while down, every line once", "[e2e][node][serial]") {
  run_two_rotations_while_down();
}

TEST_CASE("node agent: kubelet layout, rotation, deleted Pod, SIGKILL: every line once with its labels",
          "[e2e][node][serial]") {
  run_node_agent(true);
}

TEST_CASE("node agent without inotify (polling): the same guarantees", "[e2e][node][serial]") { run_node_agent(false); }
