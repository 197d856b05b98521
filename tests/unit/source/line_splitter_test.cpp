#include "sidecar/source/line_splitter.hpp"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

using namespace logferry;

namespace {

struct Line {
  std::string text;
  uint64_t offset = 0;
  uint64_t end = 0;
  bool truncated = false;
  bool operator==(const Line&) const = default;
};

// Records every emitted line (copying the text, which is valid only during the call).
struct Recorder {
  std::vector<Line> lines;
  LineSplitter::Emit emit() {
    return [this](const RawLine& l) { lines.push_back({std::string(l.text), l.offset, l.end_offset, l.truncated}); };
  }
};

}  // namespace

TEST_CASE("LineSplitter: whole lines in one chunk carry their offsets", "[source][line_splitter]") {
  LineSplitter s(1024);
  Recorder r;
  s.consume("a\nbb\n\nccc\n", r.emit());
  CHECK(r.lines == std::vector<Line>{{"a", 0, 2}, {"bb", 2, 5}, {"", 5, 6}, {"ccc", 6, 10}});
  CHECK(s.offset() == 10);
  CHECK(s.line_start() == 10);
  CHECK_FALSE(s.has_partial());
}

TEST_CASE("LineSplitter: a line split over chunks is emitted once, whole", "[source][line_splitter]") {
  LineSplitter s(1024);
  Recorder r;
  s.consume("hel", r.emit());
  CHECK(r.lines.empty());
  CHECK(s.has_partial());
  CHECK(s.line_start() == 0);
  CHECK(s.offset() == 3);
  s.consume("lo wo", r.emit());
  CHECK(r.lines.empty());
  s.consume("rld\nnext", r.emit());
  CHECK(r.lines == std::vector<Line>{{"hello world", 0, 12}});
  CHECK(s.has_partial());
  CHECK(s.line_start() == 12);
  CHECK(s.offset() == 16);
}

TEST_CASE("LineSplitter: one byte at a time gives the same lines", "[source][line_splitter]") {
  const std::string data = "first\nsecond line\n\nlast\n";
  LineSplitter whole(1024);
  Recorder a;
  whole.consume(data, a.emit());
  LineSplitter bytes(1024);
  Recorder b;
  for (const char ch : data) bytes.consume(std::string_view(&ch, 1), b.emit());
  CHECK(a.lines == b.lines);
  CHECK(bytes.offset() == data.size());
}

TEST_CASE("LineSplitter: flush emits a held partial line up to offset()", "[source][line_splitter]") {
  LineSplitter s(1024, 100);  // the stream starts at offset 100 (a resumed file)
  Recorder r;
  s.consume("done\ntail", r.emit());
  REQUIRE(r.lines.size() == 1);
  CHECK(r.lines[0] == Line{"done", 100, 105});
  CHECK(s.flush(r.emit()));
  REQUIRE(r.lines.size() == 2);
  CHECK(r.lines[1] == Line{"tail", 105, 109});
  CHECK_FALSE(s.has_partial());
  CHECK(s.line_start() == 109);
  CHECK_FALSE(s.flush(r.emit()));  // nothing held any more
  // Bytes after a flush start a new line.
  s.consume("more\n", r.emit());
  REQUIRE(r.lines.size() == 3);
  CHECK(r.lines[2] == Line{"more", 109, 114});
}

TEST_CASE("LineSplitter: an over-long line inside one chunk is cut and marked", "[source][line_splitter]") {
  LineSplitter s(4);
  Recorder r;
  s.consume("abcdefgh\nok\n", r.emit());
  CHECK(r.lines == std::vector<Line>{{"abcd", 0, 9, true}, {"ok", 9, 12}});
  // Exactly the limit is not over-long.
  s.consume("wxyz\n", r.emit());
  REQUIRE(r.lines.size() == 3);
  CHECK(r.lines[2] == Line{"wxyz", 12, 17});
}

TEST_CASE("LineSplitter: an over-long line across chunks: head forwarded, rest skipped", "[source][line_splitter]") {
  LineSplitter s(4);
  Recorder r;
  s.consume("ab", r.emit());
  CHECK(r.lines.empty());
  s.consume("cdefg", r.emit());  // passes the limit without a newline: the head goes now
  REQUIRE(r.lines.size() == 1);
  CHECK(r.lines[0] == Line{"abcd", 0, 7, true});
  CHECK_FALSE(s.has_partial());
  s.consume("hijk", r.emit());  // still the same line: skipped
  CHECK(r.lines.size() == 1);
  CHECK(s.line_start() == 7);  // everything before the skipped rest was forwarded
  CHECK(s.offset() == 11);
  s.consume("lm\nnext\n", r.emit());  // its end: skipping stops after the newline
  REQUIRE(r.lines.size() == 2);
  CHECK(r.lines[1] == Line{"next", 14, 19});
  CHECK(s.line_start() == 19);
  CHECK(s.offset() == 19);
}

TEST_CASE("LineSplitter: reset forgets held bytes and continues at the new offset", "[source][line_splitter]") {
  LineSplitter s(1024, 50);
  Recorder r;
  s.consume("held", r.emit());
  REQUIRE(s.has_partial());
  s.reset(0);  // e.g. the file was truncated
  CHECK_FALSE(s.has_partial());
  CHECK(s.offset() == 0);
  CHECK(s.line_start() == 0);
  s.consume("fresh\n", r.emit());
  CHECK(r.lines == std::vector<Line>{{"fresh", 0, 6}});
}

TEST_CASE("LineSplitter: bytes that are not text pass unchanged", "[source][line_splitter]") {
  LineSplitter s(1024);
  Recorder r;
  const std::string odd("\x00\xff\r\x7f", 4);
  s.consume(odd + "\n", r.emit());
  REQUIRE(r.lines.size() == 1);
  CHECK(r.lines[0].text == odd);
}
