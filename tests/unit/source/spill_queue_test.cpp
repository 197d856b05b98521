#include "sidecar/source/spill_queue.hpp"

#include <filesystem>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "support/temp_dir.hpp"

using namespace logferry;
namespace fs = std::filesystem;

namespace {

OriginPtr make_origin(std::string id) {
  auto o = std::make_shared<Origin>();
  o->id = std::move(id);
  o->path = "/run/app.pipe";
  return o;
}

// Pushes `count` lines of `origin` continuing at `offset`; returns the texts.
std::vector<std::string> push_lines(SpillQueue& q, const OriginPtr& origin, uint64_t& offset, size_t count,
                                    size_t width = 100) {
  std::vector<std::string> texts;
  for (size_t i = 0; i < count; ++i) {
    std::string text = fmt::format("line {:06} {}", offset, std::string(width, 'p'));
    REQUIRE(q.push(origin, RawLine{text, offset, offset + text.size() + 1, false}) == SpillQueue::Push::stored);
    offset += text.size() + 1;
    texts.push_back(std::move(text));
  }
  return texts;
}

size_t segment_files(const fs::path& dir) {
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir)) n += e.path().extension() == ".seg";
  return n;
}

}  // namespace

TEST_CASE("spill: lines come back in order with their offsets and flags", "[pipe][spill]") {
  test::TempDir tmp;
  SpillQueue q((tmp / "spill").string(), 1 << 20);
  auto origin = make_origin("pipe:/run/app.pipe:1");
  CHECK_FALSE(q.has_pending());
  REQUIRE(q.push(origin, RawLine{"first", 0, 6, false}) == SpillQueue::Push::stored);
  REQUIRE(q.push(origin, RawLine{"cut head", 6, 5000, true}) == SpillQueue::Push::stored);
  REQUIRE(q.push(origin, RawLine{"", 5000, 5001, false}) == SpillQueue::Push::stored);
  REQUIRE(q.push(origin, RawLine{"partial", 5001, 5008, false}) == SpillQueue::Push::stored);
  CHECK(q.pending_lines() == 4);
  CHECK(q.pending_origin() == origin);

  std::vector<std::tuple<std::string, uint64_t, uint64_t, bool>> got;
  while (auto r = q.next()) {
    CHECK(r->origin == origin);
    got.emplace_back(std::string(r->line.text), r->line.offset, r->line.end_offset, r->line.truncated);
  }
  CHECK(got == std::vector<std::tuple<std::string, uint64_t, uint64_t, bool>>{
                   {"first", 0, 6, false}, {"cut head", 6, 5000, true}, {"", 5000, 5001, false}, {"partial", 5001, 5008, false}});
  CHECK_FALSE(q.has_pending());
  CHECK(q.pending_origin() == nullptr);
}

TEST_CASE("spill: the size bound is kept unless told to exceed it", "[pipe][spill]") {
  test::TempDir tmp;
  const uint64_t max = 64 * 1024;
  SpillQueue q((tmp / "spill").string(), max);
  auto origin = make_origin("pipe:p:2");
  uint64_t offset = 0;
  std::string text(1000, 'x');
  size_t stored = 0;
  while (q.push(origin, RawLine{text, offset, offset + 1001, false}) == SpillQueue::Push::stored) {
    offset += 1001;
    ++stored;
    REQUIRE(stored < 1000);
  }
  CHECK(q.bytes() <= max);
  CHECK(q.bytes() > max - 2000);
  CHECK(q.pending_lines() == stored);
  CHECK(q.push(origin, RawLine{text, offset, offset + 1001, false}, SpillQueue::Bound::exceed) ==
        SpillQueue::Push::stored);
  CHECK(q.bytes() > max);
  q.flush();
  uint64_t on_disk = 0;
  for (const auto& e : fs::directory_iterator(tmp / "spill")) on_disk += fs::file_size(e.path());
  CHECK(on_disk == q.bytes());
}

TEST_CASE("spill: segments are deleted only once replayed and acknowledged", "[pipe][spill]") {
  test::TempDir tmp;
  const fs::path dir = tmp / "spill";
  SpillQueue q(dir.string(), 64 * 1024);  // segments of 16 KiB
  auto origin = make_origin("pipe:p:3");
  uint64_t offset = 0;
  push_lines(q, origin, offset, 400);  // ~45 KiB: three segments
  q.flush();
  const size_t segments = segment_files(dir);
  REQUIRE(segments >= 3);
  CHECK(q.segments() == segments);

  // Not replayed: acknowledgements do not remove anything.
  origin->acked_offset = offset;
  q.release_acked();
  CHECK(segment_files(dir) == segments);

  origin->acked_offset = 0;
  uint64_t first_segment_end = 0;
  for (int i = 0; i < 200; ++i) {
    auto r = q.next();
    REQUIRE(r);
    first_segment_end = r->line.end_offset;
  }
  q.release_acked();
  CHECK(segment_files(dir) == segments);  // replayed but not acknowledged
  origin->acked_offset = first_segment_end;  // half of the lines
  q.release_acked();
  CHECK(segment_files(dir) < segments);
  CHECK(segment_files(dir) >= 1);
  while (q.next()) {
  }
  origin->acked_offset = offset;
  q.release_acked();
  CHECK(segment_files(dir) == 0);
  CHECK(q.bytes() == 0);
}

TEST_CASE("spill: a restart replays what was left, under the old origin, in order", "[pipe][spill]") {
  test::TempDir tmp;
  const fs::path dir = tmp / "spill";
  auto origin = make_origin("pipe:/run/app.pipe:0123456789abcdef");
  uint64_t offset = 1000;  // earlier lines went straight to the output
  std::vector<std::string> texts;
  {
    SpillQueue q(dir.string(), 64 * 1024);
    texts = push_lines(q, origin, offset, 300);
    // The first 50 were replayed (sent) but not acknowledged before the "crash".
    for (int i = 0; i < 50; ++i) REQUIRE(q.next());
  }
  SpillQueue again(dir.string(), 64 * 1024);
  REQUIRE(again.has_pending());
  CHECK(again.pending_lines() == 300);  // nothing was acknowledged: all of it comes back
  auto old = again.pending_origin();
  REQUIRE(old);
  CHECK(old->id == origin->id);
  CHECK(old->path == origin->path);
  CHECK(old->read_offset == 1000);
  size_t i = 0;
  uint64_t expect = 1000;
  while (auto r = again.next()) {
    REQUIRE(i < texts.size());
    CHECK(r->origin == old);
    CHECK(r->line.text == texts[i]);
    CHECK(r->line.offset == expect);
    expect = r->line.end_offset;
    ++i;
  }
  CHECK(i == texts.size());

  // New lines of this run's stream go after the old ones.
  auto live = make_origin("pipe:/run/app.pipe:fedcba9876543210");
  uint64_t live_offset = 0;
  push_lines(again, live, live_offset, 3);
  CHECK(again.pending_origin() == live);
}

TEST_CASE("spill: a torn last record is skipped on restart", "[pipe][spill]") {
  test::TempDir tmp;
  const fs::path dir = tmp / "spill";
  auto origin = make_origin("pipe:p:4");
  uint64_t offset = 0;
  {
    SpillQueue q(dir.string(), 1 << 20);
    push_lines(q, origin, offset, 10);
  }
  REQUIRE(segment_files(dir) == 1);
  const fs::path seg = fs::directory_iterator(dir)->path();
  fs::resize_file(seg, fs::file_size(seg) - 30);  // the last record lost its tail
  test::write_file(dir / "notes.txt", "not ours");
  SpillQueue again(dir.string(), 1 << 20);
  CHECK(again.pending_lines() == 9);
  size_t n = 0;
  while (again.next()) ++n;
  CHECK(n == 9);
  CHECK(fs::exists(dir / "notes.txt"));
}

TEST_CASE("spill: drop_oldest discards the oldest segment not yet replayed", "[pipe][spill]") {
  test::TempDir tmp;
  SpillQueue q((tmp / "spill").string(), 64 * 1024);
  auto origin = make_origin("pipe:p:5");
  uint64_t offset = 0;
  push_lines(q, origin, offset, 400);
  q.flush();
  auto first = q.next();  // the first segment is being replayed: it stays
  REQUIRE(first);
  const uint64_t first_offset = first->line.offset;
  const uint64_t before = q.pending_lines();
  const uint64_t dropped = q.drop_oldest();
  CHECK(dropped > 0);
  CHECK(q.pending_lines() == before - dropped);
  // The rest of the first segment comes next, then a gap, then the later segments.
  uint64_t prev = first_offset;
  bool gap = false;
  uint64_t n = 0;
  uint64_t prev_end = first->line.end_offset;
  while (auto r = q.next()) {
    CHECK(r->line.offset > prev);
    if (r->line.offset != prev_end) gap = true;
    prev = r->line.offset;
    prev_end = r->line.end_offset;
    ++n;
  }
  CHECK(gap);
  CHECK(n == before - dropped);
  CHECK(q.drop_oldest() == 0);  // everything left was replayed
}

TEST_CASE("spill: a line's read time travels with it, also across a restart", "[pipe][spill][order]") {
  test::TempDir tmp;
  const fs::path dir = tmp / "spill";
  auto origin = make_origin("pipe:1");
  {
    SpillQueue q(dir.string(), 1 << 20);
    RawLine timed{"timed", 0, 6, false};
    timed.read_unix_nano = 1'700'000'000'000'000'042;
    REQUIRE(q.push(origin, timed) == SpillQueue::Push::stored);
    REQUIRE(q.push(origin, RawLine{"untimed", 6, 14, true}) == SpillQueue::Push::stored);
    q.seal();
  }
  SpillQueue q(dir.string(), 1 << 20);
  auto first = q.next();
  REQUIRE(first);
  CHECK(first->line.text == "timed");
  CHECK(first->line.read_unix_nano == 1'700'000'000'000'000'042);
  CHECK_FALSE(first->line.truncated);
  auto second = q.next();
  REQUIRE(second);
  CHECK(second->line.text == "untimed");
  CHECK(second->line.read_unix_nano == 0);
  CHECK(second->line.truncated);
  CHECK(second->line.offset == 6);
}
