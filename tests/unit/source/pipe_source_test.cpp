#include "sidecar/source/pipe_source.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "support/temp_dir.hpp"

using namespace logferry;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// Records what a source hands over; full() is switched by the test.
class TestIntake final : public Intake {
 public:
  explicit TestIntake(asio::any_io_executor ex) : room_(ex) {}
  asio::awaitable<void> wait_for_room() override {
    while (full_) co_await room_.wait();
  }
  bool full() const override { return full_; }
  void accept(const OriginPtr& origin, const RawLine& line) override {
    lines.push_back({origin->id, std::string(line.text), line.offset, line.end_offset});
  }
  void retire(const OriginPtr& origin) override { retired.push_back(origin->id); }
  void set_full(bool full) {
    full_ = full;
    if (!full) room_.notify();
  }

  struct Line {
    std::string id, text;
    uint64_t offset, end;
  };
  std::vector<Line> lines;
  std::vector<std::string> retired;

 private:
  Event room_;
  bool full_ = false;
};

struct Fixture {
  test::TempDir tmp{"logferry-pipe"};
  struct Options {
    PipeSourceOptions pipe;
    ReadOptions read;
  } config;
  PipelineMetrics metrics;
  boost::asio::io_context io;
  TestIntake intake{io.get_executor()};
  std::unique_ptr<PipeSource> source;
  bool done = false;

  Fixture() {
    config.pipe.path = (tmp / "app.pipe").string();
    config.pipe.file_mode = 0622;
    config.read.max_line_bytes = 1024;
    config.read.partial_flush = 100ms;
    config.read.read_budget_bytes = 1 << 20;
    config.pipe.spill_dir = (tmp / "spill").string();
    config.pipe.spill_max_bytes = 1 << 20;
    config.pipe.overflow = PipeOverflow::block;
  }

  void start() {
    source = std::make_unique<PipeSource>(io.get_executor(), config.pipe, config.read, metrics);
    boost::asio::co_spawn(io, source->run(intake), [this](std::exception_ptr) { done = true; });
  }

  // Runs the event loop until `pred` holds or `timeout` passed.
  bool run_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!pred()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      if (io.stopped()) io.restart();
      io.run_for(10ms);
    }
    return true;
  }

  // Writes `data` as one writer process would: open, write, close.
  void write(std::string_view data) {
    const int fd = ::open(config.pipe.path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    REQUIRE(fd >= 0);
    while (!data.empty()) {
      const ssize_t n = ::write(fd, data.data(), data.size());
      if (n < 0 && errno == EAGAIN) {
        io.run_for(5ms);  // let the source drain the pipe
        continue;
      }
      REQUIRE(n > 0);
      data.remove_prefix(static_cast<size_t>(n));
    }
    ::close(fd);
  }

  // `count` numbered lines "tag NNNNNN xxx...".
  static std::string lines(std::string_view tag, size_t from, size_t count, size_t width = 40) {
    std::string out;
    for (size_t i = from; i < from + count; ++i) out += fmt::format("{} {:06} {}\n", tag, i, std::string(width, 'x'));
    return out;
  }

  size_t segment_files() const {
    size_t n = 0;
    if (fs::exists(config.pipe.spill_dir))
      for (const auto& e : fs::directory_iterator(config.pipe.spill_dir)) n += e.path().extension() == ".seg";
    return n;
  }
};

// Offsets strictly follow each other within one origin (no gaps, no overlap).
bool contiguous(const std::vector<TestIntake::Line>& lines) {
  for (size_t i = 1; i < lines.size(); ++i) {
    if (lines[i].id == lines[i - 1].id && lines[i].offset != lines[i - 1].end) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("pipe: the FIFO is created with the configured mode, umask or not", "[pipe]") {
  test::TempDir tmp;
  const auto path = (tmp / "app.pipe").string();
  const mode_t old = ::umask(077);
  ensure_fifo(path, 0622);
  ::umask(old);
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK(S_ISFIFO(st.st_mode));
  CHECK((st.st_mode & 07777) == 0622);
  // An existing FIFO is used as it is.
  ::chmod(path.c_str(), 0600);
  ensure_fifo(path, 0660);
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0600);

  const auto file = tmp.write_file("plain.log", "x\n").string();
  try {
    ensure_fifo(file, 0622);
    FAIL("expected an error");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()) == "LOGFERRY_PIPE: " + file + " exists and is not a named pipe");
  }
}

TEST_CASE("pipe: writers come and go without ending the stream", "[pipe]") {
  Fixture f;
  f.start();
  const auto pipe_id = f.source->origin()->id;
  CHECK(pipe_id.starts_with("pipe:" + f.config.pipe.path + ":"));
  f.write("first\nsecond\n");  // the writer closed: no end-of-file for us
  REQUIRE(f.run_until([&] { return f.intake.lines.size() == 2; }));
  CHECK_FALSE(f.run_until([&] { return f.done; }, 200ms));
  f.write("third\n");
  f.write("fourth\n");
  REQUIRE(f.run_until([&] { return f.intake.lines.size() == 4; }));
  CHECK(f.intake.lines[0].text == "first");
  CHECK(f.intake.lines[3].text == "fourth");
  CHECK(f.intake.lines[3].offset == 19);
  CHECK(f.intake.lines[3].end == 26);
  CHECK(contiguous(f.intake.lines));
  CHECK(f.metrics.lines_read == 4);
  CHECK_FALSE(f.done);

  // An unterminated last line is forwarded after LOGFERRY_PARTIAL_FLUSH.
  f.write("no newline");
  REQUIRE(f.run_until([&] { return f.intake.lines.size() == 5; }, 2s));
  CHECK(f.intake.lines[4].text == "no newline");
  CHECK(f.metrics.partial_lines_flushed == 1);

  f.source->drain();
  REQUIRE(f.run_until([&] { return f.done; }));
  CHECK(f.intake.retired == std::vector<std::string>{pipe_id});
}

TEST_CASE("pipe: a full pipeline spills to disk, replayed in order before newer lines", "[pipe]") {
  Fixture f;
  f.start();
  f.intake.set_full(true);
  f.write(Fixture::lines("early", 0, 100));
  REQUIRE(f.run_until([&] { return f.metrics.lines_read == 100; }));
  CHECK(f.intake.lines.empty());
  CHECK(f.metrics.spill_bytes > 100 * 40);
  CHECK(f.segment_files() >= 1);

  f.intake.set_full(false);
  f.write(Fixture::lines("late", 0, 10));
  REQUIRE(f.run_until([&] { return f.intake.lines.size() == 110; }));
  CHECK(f.intake.lines[0].text.starts_with("early 000000"));
  CHECK(f.intake.lines[99].text.starts_with("early 000099"));
  CHECK(f.intake.lines[100].text.starts_with("late 000000"));
  CHECK(contiguous(f.intake.lines));
  CHECK(f.metrics.dropped_lines["pipe_overflow"] == 0);

  // Acknowledged: the segments go away.
  f.source->origin()->acked_offset = f.source->origin()->read_offset;
  REQUIRE(f.run_until([&] { return f.segment_files() == 0; }, 3s));
  CHECK(f.metrics.spill_bytes == 0);
  f.source->drain();
  REQUIRE(f.run_until([&] { return f.done; }));
}

TEST_CASE("pipe: a restart replays the spill of the earlier run first, then retires it", "[pipe]") {
  Fixture f;
  std::string old_id;
  {
    Fixture first;
    first.config.pipe.spill_dir = f.config.pipe.spill_dir;
    first.config.pipe.path = (f.tmp / "app.pipe").string();
    first.start();
    old_id = first.source->origin()->id;
    first.intake.set_full(true);
    first.write(Fixture::lines("before", 0, 20));
    REQUIRE(first.run_until([&] { return first.metrics.lines_read == 20; }));
    CHECK(first.intake.lines.empty());
  }  // the sidecar "died" with the lines spilled
  f.start();
  f.write("after\n");
  REQUIRE(f.run_until([&] { return f.intake.lines.size() == 21; }));
  CHECK(f.intake.lines[0].id == old_id);
  CHECK(f.intake.lines[0].text.starts_with("before 000000"));
  CHECK(f.intake.lines[0].offset == 0);
  CHECK(f.intake.lines[19].text.starts_with("before 000019"));
  CHECK(f.intake.lines[20].id == f.source->origin()->id);
  CHECK(f.intake.lines[20].text == "after");
  CHECK(f.intake.retired == std::vector<std::string>{old_id});
}

TEST_CASE("pipe: without spill, drop_newest drops and counts; block stops reading", "[pipe]") {
  SECTION("drop_newest") {
    Fixture f;
    f.config.pipe.spill_max_bytes = 0;
    f.config.pipe.overflow = PipeOverflow::drop_newest;
    f.start();
    f.intake.set_full(true);
    f.write(Fixture::lines("lost", 0, 5));
    REQUIRE(f.run_until([&] { return f.metrics.dropped_lines["pipe_overflow"] == 5; }));
    f.intake.set_full(false);
    f.write("kept\n");
    REQUIRE(f.run_until([&] { return f.intake.lines.size() == 1; }));
    CHECK(f.intake.lines[0].text == "kept");
    CHECK(f.intake.lines[0].offset == 5 * 53);
    CHECK(f.segment_files() == 0);
  }
  SECTION("block") {
    Fixture f;
    f.config.pipe.spill_max_bytes = 0;
    f.start();
    f.intake.set_full(true);
    f.write(Fixture::lines("wait", 0, 3));
    CHECK_FALSE(f.run_until([&] { return f.metrics.lines_read > 0; }, 300ms));  // left in the pipe
    f.intake.set_full(false);
    REQUIRE(f.run_until([&] { return f.intake.lines.size() == 3; }));
    CHECK(f.metrics.dropped_lines["pipe_overflow"] == 0);
  }
}

TEST_CASE("pipe: drop_oldest keeps the newest lines within the spill limit", "[pipe]") {
  Fixture f;
  f.config.pipe.spill_max_bytes = 64 * 1024;
  f.config.pipe.overflow = PipeOverflow::drop_oldest;
  f.start();
  f.intake.set_full(true);
  for (size_t chunk = 0; chunk < 40; ++chunk) {
    f.write(Fixture::lines("n", chunk * 100, 100));  // 40 x 5.4 KB
    f.io.run_for(5ms);
  }
  REQUIRE(f.run_until([&] { return f.metrics.lines_read == 4000; }));
  const uint64_t dropped = f.metrics.dropped_lines["pipe_overflow"];
  CHECK(dropped > 0);
  CHECK(f.metrics.spill_bytes <= f.config.pipe.spill_max_bytes);
  f.intake.set_full(false);
  REQUIRE(f.run_until([&] { return f.intake.lines.size() == 4000 - dropped; }));
  CHECK(f.intake.lines.back().text.starts_with("n 003999"));  // the newest survived
  for (size_t i = 1; i < f.intake.lines.size(); ++i) REQUIRE(f.intake.lines[i].offset > f.intake.lines[i - 1].offset);
}

TEST_CASE("pipe: a symlink at the pipe's path is refused and its target's mode untouched", "[pipe][security]") {
  test::TempDir tmp;
  const auto victim = tmp.write_file("victim.key", "key\n");
  ::chmod(victim.c_str(), 0600);
  const auto path = (tmp / "app.pipe").string();
  std::filesystem::create_symlink(victim, path);
  try {
    ensure_fifo(path, 0622);
    FAIL("expected an error");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()) == "LOGFERRY_PIPE: " + path + " is a symbolic link; refusing it");
  }
  struct stat st {};
  REQUIRE(::stat(victim.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0600);
  // Also a link to a FIFO: never followed.
  const auto fifo = (tmp / "real.pipe").string();
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  std::filesystem::remove(path);
  std::filesystem::create_symlink(fifo, path);
  CHECK_THROWS_AS(ensure_fifo(path, 0622), std::runtime_error);
}
