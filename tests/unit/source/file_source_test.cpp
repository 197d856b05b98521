#include "sidecar/source/file_source.hpp"

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "sidecar/app/prometheus.hpp"
#include "sidecar/config/config.hpp"
#include "support/temp_dir.hpp"

using namespace logferry;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// What the source hands lines to: records them and acknowledges each at once
// (as if delivered), so released files can be forgotten.
class FakeIntake final : public Intake {
 public:
  struct Line {
    std::string origin_id;
    std::string path;
    std::string text;
    uint64_t offset = 0;
    uint64_t end = 0;
    bool truncated = false;
  };
  boost::asio::awaitable<void> wait_for_room() override { co_return; }
  bool full() const override { return false; }
  void accept(const OriginPtr& origin, const RawLine& line) override {
    lines.push_back({origin->id, origin->path, std::string(line.text), line.offset, line.end_offset, line.truncated});
    origins.push_back(origin);
    if (ack) origin->acked_offset = line.end_offset;
  }
  void retire(const OriginPtr& origin) override { retired.push_back(origin->id); }

  std::vector<std::string> texts() const {
    std::vector<std::string> out;
    for (const auto& l : lines) out.push_back(l.text);
    return out;
  }
  std::vector<Line> lines;
  std::vector<std::string> retired;
  std::vector<OriginPtr> origins;  // of every accepted line
  bool ack = true;                 // acknowledge each line as it is accepted
};

void append(const fs::path& p, std::string_view s) {
  std::ofstream out(p, std::ios::app | std::ios::binary);
  out << s;
}

// A FileSource over a temp dir with polling only and a clock moved by hand:
// rescans, rotate waits and partial flushes happen when the test says so.
struct Fixture {
  test::TempDir tmp;
  fs::path file = tmp / "app.log";
  boost::asio::io_context io{1};
  Metrics metrics;
  FakeIntake intake;
  std::chrono::steady_clock::time_point clock = std::chrono::steady_clock::time_point{} + 1h;
  Config config;
  std::unique_ptr<FileSource> source;
  bool done = false;  // run() returned

  Fixture() {
    config.files.globs = {(tmp / "*.log").string()};
    config.files.inotify = false;
    config.files.poll_interval = 20ms;  // also the loop's real idle wait
    config.read.partial_flush = 5s;
    config.files.rotate_wait = 10s;
    config.files.read_from = ReadFrom::head;
    config.read.max_line_bytes = 256 * 1024;
    config.read.read_budget_bytes = 1024 * 1024;
    config.files.max_open_files = 512;
    config.files.drain_quiet = 1s;
  }
  ~Fixture() {
    if (!source) return;
    source->drain();
    clock += config.files.drain_quiet;
    run_until([&] { return done; });
  }
  void start() {
    source = std::make_unique<FileSource>(io.get_executor(), config.files, config.read, metrics, std::vector<CheckpointRecord>{}, nullptr,
                                          [this] { return clock; });
    boost::asio::co_spawn(io, source->run(intake), [this](std::exception_ptr) { done = true; });
  }
  // Runs the event loop until `pred` holds, at most 5 s of real time.
  template <class Pred>
  bool run_until(Pred pred) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!pred()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      if (io.stopped()) io.restart();
      io.run_for(5ms);
    }
    return true;
  }
  // Moves the clock and lets the source see it (a rescan is due after poll_interval).
  void advance(std::chrono::milliseconds d) {
    clock += d;
    if (io.stopped()) io.restart();
    io.run_for(50ms);
  }
  size_t line_count() const { return intake.lines.size(); }
  // Node mode over a kubelet-like tree under tmp: pods/ns_pod_uid/c/0.log holding
  // `text`, linked from containers/; returns the log directory.
  fs::path node_layout(std::string_view text) {
    const fs::path dir = tmp / "pods" / "ns_pod_uid" / "c";
    const fs::path links = tmp / "containers";
    fs::create_directories(dir);
    fs::create_directories(links);
    append(dir / "0.log", text);
    fs::create_symlink(dir / "0.log", links / fmt::format("pod_ns_c-{:064x}.log", 1));
    config.files.mode = Mode::node;
    config.files.globs = {(links / "*.log").string()};
    config.files.pods_root = (tmp / "pods").string();
    return dir;
  }
};

}  // namespace

TEST_CASE("FileSource: existing lines are read from the head with their offsets", "[source][file_source]") {
  Fixture f;
  append(f.file, "one\ntwo\n");
  f.start();
  REQUIRE(f.run_until([&] { return f.line_count() == 2; }));
  CHECK(f.intake.texts() == std::vector<std::string>{"one", "two"});
  CHECK(f.intake.lines[1].offset == 4);
  CHECK(f.intake.lines[1].end == 8);
  CHECK(f.metrics.files_watched == 1);
  append(f.file, "three\n");
  REQUIRE(f.run_until([&] { return f.line_count() == 3; }));
  CHECK(f.intake.lines[2].offset == 8);
}

TEST_CASE("FileSource: read_from=tail skips what a new file held at start-up", "[source][file_source]") {
  Fixture f;
  f.config.files.read_from = ReadFrom::tail;
  append(f.file, "old\n");
  f.start();
  f.advance(0ms);
  append(f.file, "new\n");
  REQUIRE(f.run_until([&] { return f.line_count() == 1; }));
  CHECK(f.intake.lines[0].text == "new");
  CHECK(f.intake.lines[0].offset == 4);
}

TEST_CASE("FileSource: rename+create rotation reads the old file to its end, then the new one",
          "[source][file_source]") {
  Fixture f;
  append(f.file, "a\n");
  f.start();
  REQUIRE(f.run_until([&] { return f.line_count() == 1; }));
  const std::string old_id = f.intake.lines[0].origin_id;
  fs::rename(f.file, f.tmp / "app.log.1");
  append(f.tmp / "app.log.1", "b\n");  // the writer still has the old file open
  append(f.file, "c\n");
  f.advance(f.config.files.poll_interval);  // the rescan sees the path lead to another file
  REQUIRE(f.run_until([&] { return f.line_count() == 3; }));
  CHECK(f.metrics.rotations == 1);
  // Both files are read; the old one under its identity, the new one under another.
  std::vector<std::string> old_lines, new_lines;
  for (const auto& l : f.intake.lines) (l.origin_id == old_id ? old_lines : new_lines).push_back(l.text);
  CHECK(old_lines == std::vector<std::string>{"a", "b"});
  CHECK(new_lines == std::vector<std::string>{"c"});
  // The rotated file stays open until it was quiet for LOGFERRY_ROTATE_WAIT.
  f.advance(f.config.files.rotate_wait - 1s);
  CHECK(f.intake.retired.empty());
  CHECK(f.metrics.files_watched == 2);
  f.advance(2s);
  REQUIRE(f.run_until([&] { return f.intake.retired.size() == 1; }));
  CHECK(f.intake.retired[0] == old_id);
  CHECK(f.metrics.files_watched == 1);
  // The path is still read (the new file): its series stays.
  CHECK(f.metrics.per_source.contains(f.file.string()));
}

TEST_CASE("FileSource: copytruncate restarts at offset 0 under a new identity", "[source][file_source]") {
  Fixture f;
  append(f.file, "one\ntwo\n");
  f.start();
  REQUIRE(f.run_until([&] { return f.line_count() == 2; }));
  const std::string old_id = f.intake.lines[0].origin_id;
  fs::resize_file(f.file, 0);
  append(f.file, "x\n");
  REQUIRE(f.run_until([&] { return f.line_count() == 3; }));
  CHECK(f.metrics.truncations == 1);
  CHECK(f.intake.lines[2].text == "x");
  CHECK(f.intake.lines[2].offset == 0);
  CHECK(f.intake.lines[2].origin_id != old_id);
  REQUIRE(f.intake.retired.size() == 1);
  CHECK(f.intake.retired[0] == old_id);
}

TEST_CASE("FileSource: a truncation found while the head check is due restarts the file once",
          "[source][file_source]") {
  Fixture f;
  append(f.file, "one\ntwo\n");
  f.start();
  REQUIRE(f.run_until([&] { return f.line_count() == 2; }));
  fs::resize_file(f.file, 0);
  append(f.file, "x\n");
  f.clock += f.config.files.poll_interval;  // the same pass also checks heads and rescans
  REQUIRE(f.run_until([&] { return f.line_count() == 3; }));
  f.advance(0ms);
  CHECK(f.metrics.truncations == 1);
  CHECK(f.intake.retired.size() == 1);
  CHECK(f.intake.texts() == std::vector<std::string>{"one", "two", "x"});
}

TEST_CASE("FileSource: after copytruncate, lines not read before the truncate are read from the copy",
          "[source][file_source]") {
  Fixture f;
  append(f.file, "one\ntwo\n");
  f.start();
  REQUIRE(f.run_until([&] { return f.line_count() == 2; }));
  const std::string old_id = f.intake.lines[0].origin_id;
  // logrotate's copytruncate while the source is not running: "three" is
  // written, copied to app.log.1 (outside the glob) and truncated away.
  append(f.file, "three\nfour\n");
  fs::copy_file(f.file, f.tmp / "app.log.1");
  std::ofstream(f.tmp / "app.log.2") << "zero\none\ntwo\nthree\nfour\nfive\n";  // starts otherwise
  fs::resize_file(f.file, 0);
  append(f.file, "x\n");
  REQUIRE(f.run_until([&] { return f.line_count() == 5; }));
  CHECK(f.metrics.truncations == 1);
  CHECK(f.metrics.truncation_copies_read == 1);
  std::vector<std::string> old_lines, new_lines;
  for (const auto& l : f.intake.lines) (l.origin_id == old_id ? old_lines : new_lines).push_back(l.text);
  CHECK(old_lines == std::vector<std::string>{"one", "two", "three", "four"});
  CHECK(new_lines == std::vector<std::string>{"x"});
  // The copy is closed once quiet for LOGFERRY_ROTATE_WAIT; the path is read on.
  f.advance(f.config.files.rotate_wait + 1s);
  REQUIRE(f.run_until([&] { return f.intake.retired.size() == 1; }));
  CHECK(f.intake.retired[0] == old_id);
  append(f.file, "y\n");
  REQUIRE(f.run_until([&] { return f.line_count() == 6; }));
  CHECK(f.intake.lines[5].origin_id != old_id);
}

TEST_CASE("FileSource: a copy whose bytes before the read offset differ is not read", "[source][file_source]") {
  Fixture f;
  const std::string head(300, 'h');  // longer than the head the source compares
  append(f.file, head + "\none\ntwo\n");
  f.start();
  REQUIRE(f.run_until([&] { return f.line_count() == 3; }));
  // Same head, other bytes before the offset: the app cannot feed another file in.
  std::ofstream(f.tmp / "app.log.1") << head << "\none\ntwX\nsecret\n";
  fs::resize_file(f.file, 0);
  append(f.file, "x\n");
  REQUIRE(f.run_until([&] { return f.line_count() == 4; }));
  CHECK(f.metrics.truncations == 1);
  CHECK(f.metrics.truncation_copies_read == 0);
  CHECK(f.intake.texts() == std::vector<std::string>{head, "one", "two", "x"});
}

TEST_CASE("FileSource: node mode keeps watching a log directory while its link dangles in a rotation",
          "[source][file_source]") {
  // The kubelet renames 0.log, then creates a new one: a rescan in between
  // finds the link dangling. The directory must stay watched, or the new file
  // is seen only at the next poll interval, and missed if rotated before it.
  Fixture f;
  const fs::path dir = f.node_layout("a\n");
  f.config.files.inotify = true;
  f.config.files.poll_interval = 10min;  // no rescan by time: only inotify can tell
  f.start();
  REQUIRE(f.run_until([&] { return f.line_count() == 1; }));
  fs::rename(dir / "0.log", dir / "0.log.20260102-150400");
  f.advance(0ms);  // the rename's rescan runs while the link dangles
  append(dir / "0.log", "b\n");
  CHECK(f.run_until([&] { return f.line_count() == 2; }));
  CHECK(f.intake.texts() == std::vector<std::string>{"a", "b"});
}

TEST_CASE("FileSource: node mode reads a file the kubelet created and rotated away between two rescans",
          "[source][file_source]") {
  Fixture f;
  const fs::path dir = f.node_layout("a\n");
  f.config.files.inotify = false;  // polling: nothing is seen between two rescans
  f.start();
  REQUIRE(f.run_until([&] { return f.line_count() == 1; }));
  // Two rotations within one poll interval: the middle file is never the link's target at a rescan.
  fs::rename(dir / "0.log", dir / "0.log.20260102-150400");
  append(dir / "0.log", "b\n");
  fs::rename(dir / "0.log", dir / "0.log.20260102-150401");
  append(dir / "0.log", "c\n");
  f.advance(f.config.files.poll_interval);
  CHECK(f.run_until([&] { return f.line_count() == 3; }));
  auto texts = f.intake.texts();
  std::sort(texts.begin(), texts.end());
  CHECK(texts == std::vector<std::string>{"a", "b", "c"});
  // An older rotated file (compressed ones are never read) is not read again.
  f.advance(f.config.files.poll_interval);
  f.advance(f.config.files.rotate_wait);
  f.advance(f.config.files.poll_interval);
  CHECK(f.line_count() == 3);
}

TEST_CASE("FileSource: a partial line waits for its newline, or for the partial flush timeout",
          "[source][file_source]") {
  Fixture f;
  append(f.file, "whole\npart");
  f.start();
  REQUIRE(f.run_until([&] { return f.line_count() == 1; }));
  f.advance(f.config.read.partial_flush - 1s);
  CHECK(f.line_count() == 1);  // still held
  append(f.file, "ial\n");     // its newline arrives: one line, not two
  REQUIRE(f.run_until([&] { return f.line_count() == 2; }));
  CHECK(f.intake.lines[1].text == "partial");
  CHECK(f.metrics.partial_lines_flushed == 0);

  append(f.file, "no newline");
  f.advance(1s);
  CHECK(f.line_count() == 2);
  f.advance(f.config.read.partial_flush);
  REQUIRE(f.run_until([&] { return f.line_count() == 3; }));
  CHECK(f.intake.lines[2].text == "no newline");
  CHECK(f.intake.lines[2].end == 24);
  CHECK(f.metrics.partial_lines_flushed == 1);
}

TEST_CASE("FileSource: lines beyond max_line_bytes are cut and marked", "[source][file_source]") {
  Fixture f;
  f.config.read.max_line_bytes = 8;
  append(f.file, "0123456789abcdef\nok\n");
  f.start();
  REQUIRE(f.run_until([&] { return f.line_count() == 2; }));
  CHECK(f.intake.lines[0].text == "01234567");
  CHECK(f.intake.lines[0].truncated);
  CHECK(f.intake.lines[0].end == 17);
  CHECK(f.intake.lines[1].text == "ok");
  CHECK_FALSE(f.intake.lines[1].truncated);
  CHECK(f.metrics.lines_truncated == 1);
}

TEST_CASE("FileSource: the read budget takes files in turns", "[source][file_source]") {
  Fixture f;
  f.config.read.read_budget_bytes = 4096;
  std::string data;
  for (int i = 0; i < 2000; ++i) data += fmt::format("{:09}\n", i);  // 20000 bytes per file
  append(f.tmp / "a.log", data);
  append(f.tmp / "b.log", data);
  f.start();
  REQUIRE(f.run_until([&] { return f.line_count() == 4000; }));
  // With one budget per file and pass, the second file's first line comes
  // before the first file's last line.
  const std::string first_path = f.intake.lines[0].path;
  size_t first_other = f.intake.lines.size(), last_first = 0;
  for (size_t i = 0; i < f.intake.lines.size(); ++i) {
    if (f.intake.lines[i].path == first_path) last_first = i;
    else first_other = std::min(first_other, i);
  }
  CHECK(first_other < last_first);
  CHECK(f.metrics.per_source.size() == 2);
}

TEST_CASE("FileSource: a released file's per-source series leaves /metrics", "[source][file_source][metrics]") {
  Fixture f;
  append(f.file, "one\n");
  f.start();
  REQUIRE(f.run_until([&] { return f.line_count() == 1; }));
  const std::string label = fmt::format("source=\"{}\"", f.file.string());
  CHECK(render_prometheus(f.metrics).find(label) != std::string::npos);
  fs::remove(f.file);                  // e.g. the Pod is gone
  f.advance(f.config.files.poll_interval);  // the rescan notices
  f.advance(f.config.files.rotate_wait);    // quiet long enough: released
  REQUIRE(f.run_until([&] { return f.intake.retired.size() == 1; }));
  CHECK(f.metrics.files_watched == 0);
  CHECK(render_prometheus(f.metrics).find(label) == std::string::npos);
}

TEST_CASE("FileSource: a released file keeps its series until its lines are acknowledged",
          "[source][file_source][metrics]") {
  Fixture f;
  f.intake.ack = false;
  append(f.file, "one\n");
  f.start();
  REQUIRE(f.run_until([&] { return f.line_count() == 1; }));
  fs::remove(f.file);
  f.advance(f.config.files.poll_interval);
  f.advance(f.config.files.rotate_wait);
  REQUIRE(f.run_until([&] { return f.intake.retired.size() == 1; }));
  CHECK(f.metrics.per_source.contains(f.file.string()));  // not acknowledged yet
  CHECK(f.source->unacked_bytes() == 4);
  // The acknowledgement arrives: the next check forgets the file and its series.
  for (const auto& o : f.intake.origins) o->acked_offset = o->read_offset;
  REQUIRE(f.run_until([&] { return !f.metrics.per_source.contains(f.file.string()); }));
  CHECK(f.source->checkpoints().empty());
}
