#include "sidecar/source/downward_api_map.hpp"

#include <optional>
#include <string>

#include <catch2/catch.hpp>

using namespace logferry;

TEST_CASE("Go-quoted values are unquoted as strconv.Unquote does", "[source][downward]") {
  struct Case {
    std::string quoted;
    std::optional<std::string> value;
  };
  const Case cases[] = {
      {R"("web")", "web"},
      {R"("")", ""},
      {R"("say \"hi\"")", R"(say "hi")"},
      {R"("C:\\dir")", R"(C:\dir)"},
      {R"("a\nb\tc\rd")", "a\nb\tc\rd"},
      {R"("\a\b\f\v")", "\a\b\f\v"},
      {R"("\x00\x7f")", std::string("\0\x7f", 2)},
      {R"("caf\u00e9")", "caf\xC3\xA9"},
      {R"("\U0001F600")", "\xF0\x9F\x98\x80"},
      {R"("\101")", "A"},
      {"\"caf\xC3\xA9\"", "caf\xC3\xA9"},  // printable UTF-8 stays as is
      // Malformed.
      {R"(web)", std::nullopt},
      {R"("web)", std::nullopt},
      {R"(")", std::nullopt},
      {R"("a"b")", std::nullopt},
      {R"("\q")", std::nullopt},
      {R"("\x4")", std::nullopt},
      {R"("\xzz")", std::nullopt},
      {R"("\u12")", std::nullopt},
      {R"("\ud800")", std::nullopt},    // surrogate
      {R"("\U00110000")", std::nullopt},  // past U+10FFFF
      {R"("\400")", std::nullopt},      // octal above 255
      {R"("\")", std::nullopt},
      {"\"a\nb\"", std::nullopt},
  };
  for (const auto& c : cases) {
    INFO(c.quoted);
    CHECK(unquote_go_string(c.quoted) == c.value);
  }
}

TEST_CASE("the kubelet's labels file becomes key/value pairs", "[source][downward]") {
  // As the kubelet writes it: sorted keys, %q values, no final newline.
  const std::string text =
      "app=\"web\"\n"
      "app.kubernetes.io/version=\"1.2.3\"\n"
      "empty=\"\"\n"
      "note=\"line1\\nline2 \\\"quoted\\\" \\\\\"\n"
      "pod-template-hash=\"7d9f8b6c4\"";
  const auto m = parse_downward_api_map(text);
  CHECK(m.bad_lines == 0);
  const Labels expected{{"app", "web"},
                        {"app.kubernetes.io/version", "1.2.3"},
                        {"empty", ""},
                        {"note", "line1\nline2 \"quoted\" \\"},
                        {"pod-template-hash", "7d9f8b6c4"}};
  CHECK(m.pairs == expected);
}

TEST_CASE("bad lines of a labels file are counted and skipped", "[source][downward]") {
  struct Case {
    std::string text;
    Labels pairs;
    size_t bad_lines;
  };
  const Case cases[] = {
      {"", {}, 0},
      {"\n\n", {}, 0},
      {"a=\"1\"\n", {{"a", "1"}}, 0},
      {"a=\"1\"\r\nb=\"2\"", {{"a", "1"}, {"b", "2"}}, 0},
      {"no equals sign\na=\"1\"", {{"a", "1"}}, 1},
      {"=\"no key\"\na=\"1\"", {{"a", "1"}}, 1},
      {"a=unquoted\nb=\"2\"", {{"b", "2"}}, 1},
      {"a=\"\\q\"\nb=\"2\"\nc=\"open", {{"b", "2"}}, 2},
      // A value may contain '=': only the first one separates.
      {"a=\"x=y\"", {{"a", "x=y"}}, 0},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    const auto m = parse_downward_api_map(c.text);
    CHECK(m.pairs == c.pairs);
    CHECK(m.bad_lines == c.bad_lines);
  }
}

TEST_CASE("label text from the file is repaired to valid UTF-8", "[source][downward]") {
  // \xff decodes to a byte that is not UTF-8; a raw invalid byte in the key too.
  const auto m = parse_downward_api_map("k\xFF=\"v\\xff\"");
  REQUIRE(m.pairs.size() == 1);
  CHECK(m.pairs[0].first == "k\xEF\xBF\xBD");
  CHECK(m.pairs[0].second == "v\xEF\xBF\xBD");
}
