#include "sidecar/source/file_watcher.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include <catch2/catch.hpp>

#include "support/temp_dir.hpp"

using namespace logferry;

namespace {

// Collects what a source hands over.
class RecordingIntake final : public Intake {
 public:
  boost::asio::awaitable<void> wait_for_room() override { co_return; }
  bool full() const override { return false; }
  void accept(const OriginPtr&, const RawLine& line) override { lines.push_back({std::string(line.text), line.offset, line.end_offset, line.truncated}); }
  void retire(const OriginPtr&) override {}
  struct Line {
    std::string text;
    uint64_t offset, end;
    bool truncated;
    bool operator==(const Line&) const = default;
  };
  std::vector<Line> lines;
};

void append(const std::filesystem::path& p, std::string_view s) {
  std::ofstream out(p, std::ios::app | std::ios::binary);
  out << s;
}

struct Fixture {
  test::TempDir tmp;
  std::filesystem::path file = tmp / "app.log";
  PipelineMetrics metrics;
  RecordingIntake intake;
  std::vector<char> buffer = std::vector<char>(16);  // tiny: lines span reads

  std::unique_ptr<FileWatcher> open(WatcherLimits limits = {}) {
    append(file, "");
    UniqueFd fd(::open(file.c_str(), O_RDONLY));
    auto origin = std::make_shared<Origin>();
    origin->id = "test";
    origin->path = file.string();
    return std::make_unique<FileWatcher>(origin, std::move(fd), 0, 0, 0, limits);
  }
};

}  // namespace

TEST_CASE("lines are split across reads with exact offsets", "[source]") {
  Fixture f;
  auto w = f.open();
  append(f.file, "first line\nsecond, a longer line\n\nfourth");
  CHECK(w->read_some(f.buffer, 1 << 20, f.intake, f.metrics) == FileWatcher::Status::data);
  using L = RecordingIntake::Line;
  CHECK(f.intake.lines == std::vector<L>{{"first line", 0, 11, false},
                                         {"second, a longer line", 11, 33, false},
                                         {"", 33, 34, false}});
  // The unterminated "fourth" is held until its newline arrives...
  append(f.file, " and more\n");
  CHECK(w->read_some(f.buffer, 1 << 20, f.intake, f.metrics) == FileWatcher::Status::data);
  REQUIRE(f.intake.lines.size() == 4);
  CHECK(f.intake.lines[3] == L{"fourth and more", 34, 50, false});
  CHECK(w->read_some(f.buffer, 1 << 20, f.intake, f.metrics) == FileWatcher::Status::idle);
  CHECK(f.metrics.lines_read == 4);
  CHECK(f.metrics.bytes_read == 50);
}

TEST_CASE("a final line without newline is forwarded after the partial flush", "[source]") {
  Fixture f;
  auto w = f.open(WatcherLimits{1024, std::chrono::milliseconds(0)});
  append(f.file, "done\nno newline at the end");
  w->read_some(f.buffer, 1 << 20, f.intake, f.metrics);
  REQUIRE(f.intake.lines.size() == 1);
  CHECK(w->flush_partial(f.intake, f.metrics, false));
  REQUIRE(f.intake.lines.size() == 2);
  CHECK(f.intake.lines[1].text == "no newline at the end");
  CHECK(f.intake.lines[1].end == 26);
  CHECK(f.metrics.partial_lines_flushed == 1);
  CHECK_FALSE(w->flush_partial(f.intake, f.metrics, true));  // nothing held any more
}

TEST_CASE("over-long lines are cut, marked and counted, and reading goes on", "[source]") {
  Fixture f;
  auto w = f.open(WatcherLimits{64, std::chrono::milliseconds(5000)});
  const std::string big(10 * 1024 * 1024, 'z');  // a 10 MiB line
  append(f.file, "before\n" + big + "\nafter\n");
  f.buffer.resize(64 * 1024);
  while (w->read_some(f.buffer, 1 << 20, f.intake, f.metrics) != FileWatcher::Status::idle) {
  }
  REQUIRE(f.intake.lines.size() == 3);
  CHECK(f.intake.lines[0].text == "before");
  CHECK(f.intake.lines[1].text == std::string(64, 'z'));
  CHECK(f.intake.lines[1].truncated);
  CHECK(f.intake.lines[2].text == "after");
  CHECK(f.intake.lines[2].offset == 7 + big.size() + 1);
  CHECK(f.metrics.lines_truncated == 1);
}

TEST_CASE("an over-long line inside one buffer is cut too", "[source]") {
  Fixture f;
  auto w = f.open(WatcherLimits{8, std::chrono::milliseconds(5000)});
  append(f.file, "0123456789abcdef\nok\n");
  f.buffer.resize(4096);
  w->read_some(f.buffer, 1 << 20, f.intake, f.metrics);
  REQUIRE(f.intake.lines.size() == 2);
  CHECK(f.intake.lines[0].text == "01234567");
  CHECK(f.intake.lines[0].truncated);
  CHECK(f.intake.lines[0].end == 17);
  CHECK(f.intake.lines[1].text == "ok");
}

TEST_CASE("binary bytes and invalid UTF-8 pass through the splitter unchanged", "[source]") {
  Fixture f;
  auto w = f.open();
  const std::string odd("\x00\xff\xfe bin\r", 8);
  append(f.file, odd + "\n");
  w->read_some(f.buffer, 1 << 20, f.intake, f.metrics);
  REQUIRE(f.intake.lines.size() == 1);
  CHECK(f.intake.lines[0].text == odd);
}

TEST_CASE("truncation in place is detected", "[source]") {
  Fixture f;
  auto w = f.open();
  append(f.file, "one\ntwo\n");
  w->read_some(f.buffer, 1 << 20, f.intake, f.metrics);
  CHECK_FALSE(w->replaced_in_place());
  std::filesystem::resize_file(f.file, 0);
  CHECK(w->replaced_in_place());
  auto fresh = std::make_shared<Origin>();
  fresh->id = "test-2";
  w->restart(fresh);
  append(f.file, "three\n");
  w->read_some(f.buffer, 1 << 20, f.intake, f.metrics);
  REQUIRE(f.intake.lines.size() == 3);
  CHECK(f.intake.lines[2].text == "three");
  CHECK(f.intake.lines[2].offset == 0);
}

TEST_CASE("a head rewritten at the same size right after a check is found, mtime set back or not", "[source]") {
  Fixture f;
  auto w = f.open();
  append(f.file, "one\ntwo\n");
  w->read_some(f.buffer, 1 << 20, f.intake, f.metrics);
  CHECK_FALSE(w->replaced_in_place());
  CHECK_FALSE(w->replaced_in_place());
  append(f.file, "three\n");
  CHECK_FALSE(w->replaced_in_place());
  // The first byte rewritten in place at the same size, within the timestamps'
  // granularity of the last check, and the mtime set back: a file changed this
  // recently is never taken as unchanged from its stat, so the head is read.
  struct stat before {};
  REQUIRE(::stat(f.file.c_str(), &before) == 0);
  {
    const UniqueFd fd(::open(f.file.c_str(), O_WRONLY));
    REQUIRE(::pwrite(fd.get(), "X", 1, 0) == 1);
  }
  const timespec times[2] = {before.st_atim, before.st_mtim};
  REQUIRE(::utimensat(AT_FDCWD, f.file.c_str(), times, 0) == 0);
  CHECK(w->replaced_in_place());
}

TEST_CASE("the byte budget bounds one pass", "[source]") {
  Fixture f;
  auto w = f.open();
  std::string data;
  for (int i = 0; i < 100; ++i) data += "0123456789\n";
  append(f.file, data);
  CHECK(w->read_some(f.buffer, 32, f.intake, f.metrics) == FileWatcher::Status::more);
  CHECK(f.metrics.bytes_read == 32);
  CHECK(w->offset() == 32);
  // The rest, in one call: it reads until a read comes back short, then says so.
  CHECK(w->read_some(f.buffer, 1 << 20, f.intake, f.metrics) == FileWatcher::Status::data);
  CHECK(w->offset() == data.size());
  CHECK(w->read_some(f.buffer, 1 << 20, f.intake, f.metrics) == FileWatcher::Status::idle);
}

TEST_CASE("a file truncated and written again past the offset is noticed by the byte before it", "[source]") {
  // copytruncate between two wake-ups: the file is shorter for a moment, but
  // by the next read it is longer than the offset again. The byte before the
  // offset is no longer the newline read last; nothing of the new content is
  // read from the middle.
  Fixture f;
  auto w = f.open();
  append(f.file, "one\ntwo\n");
  REQUIRE(w->read_some(f.buffer, 1 << 20, f.intake, f.metrics) == FileWatcher::Status::data);
  std::filesystem::resize_file(f.file, 0);
  append(f.file, "a much longer first line\nand more\n");
  CHECK(w->read_some(f.buffer, 1 << 20, f.intake, f.metrics) == FileWatcher::Status::replaced);
  CHECK(f.intake.lines.size() == 2);
  CHECK(w->offset() == 8);
  // Shorter than the offset: replaced as well.
  std::filesystem::resize_file(f.file, 3);
  CHECK(w->read_some(f.buffer, 1 << 20, f.intake, f.metrics) == FileWatcher::Status::replaced);
}

TEST_CASE("without an fstat, a file one byte shorter, empty or rewritten to the same length is noticed",
          "[source]") {
  // read_some reads from the byte before its offset: nothing there means the
  // file is shorter (even by one byte, even empty), another byte means it was
  // rewritten; the same byte and nothing after it is a quiet file.
  Fixture f;
  auto w = f.open();
  append(f.file, "one\ntwo\n");
  REQUIRE(w->read_some(f.buffer, 1 << 20, f.intake, f.metrics) == FileWatcher::Status::data);
  CHECK(w->read_some(f.buffer, 1 << 20, f.intake, f.metrics) == FileWatcher::Status::idle);
  std::filesystem::resize_file(f.file, 7);
  CHECK(w->read_some(f.buffer, 1 << 20, f.intake, f.metrics) == FileWatcher::Status::replaced);
  std::filesystem::resize_file(f.file, 0);
  CHECK(w->read_some(f.buffer, 1 << 20, f.intake, f.metrics) == FileWatcher::Status::replaced);
  append(f.file, "one\ntwoX");  // the same length as what was read, another last byte
  CHECK(w->read_some(f.buffer, 1 << 20, f.intake, f.metrics) == FileWatcher::Status::replaced);
  CHECK(f.intake.lines.size() == 2);
  CHECK(w->offset() == 8);
}

TEST_CASE("a rewritten file whose byte before the offset is a newline again is still noticed", "[source]") {
  // copytruncate, then the app wrote past our offset, and the new content has
  // a newline where the old one had: the bytes before it tell them apart.
  Fixture f;
  auto w = f.open();
  append(f.file, "one\ntwo\n");
  REQUIRE(w->read_some(f.buffer, 1 << 20, f.intake, f.metrics) == FileWatcher::Status::data);
  std::filesystem::resize_file(f.file, 0);
  append(f.file, "abcdefg\nmore lines\n");
  CHECK(w->read_some(f.buffer, 1 << 20, f.intake, f.metrics) == FileWatcher::Status::replaced);
  CHECK(f.intake.lines.size() == 2);
}

TEST_CASE("a read that fills the buffer says more may follow; a short one ends the pass", "[source]") {
  Fixture f;
  auto w = f.open();
  const std::string line(63, 'x');
  std::string data;
  for (int i = 0; i < 4; ++i) data += line + "\n";  // 256 bytes
  append(f.file, data);
  std::vector<char> small(128);
  CHECK(w->read_some(small, 128, f.intake, f.metrics) == FileWatcher::Status::more);
  CHECK(w->offset() == 128);
  // Full reads go on (each after the first without bytes before it) until a short one.
  CHECK(w->read_some(small, 1 << 20, f.intake, f.metrics) == FileWatcher::Status::data);
  CHECK(w->offset() == 256);
  CHECK(w->read_some(small, 1 << 20, f.intake, f.metrics) == FileWatcher::Status::idle);
  CHECK(f.intake.lines.size() == 4);
}

TEST_CASE("the head fingerprint grows with the first reads of a short file", "[source]") {
  // A file opened while shorter than kHeadBytes: the head recorded in
  // checkpoints grows from the bytes read, and matches the file's first bytes.
  Fixture f;
  auto w = f.open();
  CHECK(w->head_length() == 0);
  append(f.file, "first\n");
  w->read_some(f.buffer, 1 << 20, f.intake, f.metrics);
  CHECK(w->head_length() == 6);
  CHECK(w->head_fingerprint() == head_hash("first\n"));
  const std::string more(400, 'x');
  append(f.file, more + "\n");
  w->read_some(f.buffer, 1 << 20, f.intake, f.metrics);
  CHECK(w->head_length() == kHeadBytes);
  CHECK(w->head_fingerprint() == head_hash(("first\n" + more).substr(0, kHeadBytes)));
}
