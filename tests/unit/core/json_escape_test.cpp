#include "sidecar/core/json_escape.hpp"

#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

using namespace logferry;

namespace {

// The byte-at-a-time definition append_json_string must match.
std::string reference_escape(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const size_t n = utf8_sequence_length(s, i);
      out.append(n == 0 ? std::string_view("\xEF\xBF\xBD") : s.substr(i, n));
      i += n == 0 ? 1 : n;
      continue;
    }
    if (c == '"') out += "\\\"";
    else if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else if (c == '\b') out += "\\b";
    else if (c == '\f') out += "\\f";
    else if (c < 0x20) out += std::string("\\u00") + kHex[c >> 4] + kHex[c & 0xF];
    else out.push_back(static_cast<char>(c));
    ++i;
  }
  return out + "\"";
}

std::string escaped(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

struct Special {
  std::string in;
  std::string out;
};

}  // namespace

TEST_CASE("json_escape: plain text is copied, quotes around it", "[json_escape]") {
  CHECK(escaped("") == "\"\"");
  CHECK(escaped("hello world, 0123456789 {}[]:/") == "\"hello world, 0123456789 {}[]:/\"");
  CHECK(escaped("a\x7F" "b") == "\"a\x7F" "b\"");  // DEL needs no escape in JSON
  std::string out = "x=";
  append_json_string(out, "y");
  CHECK(out == "x=\"y\"");
}

TEST_CASE("json_escape: every special byte at every position of 1..40 byte strings", "[json_escape]") {
  const std::vector<Special> specials = {
      {"\"", "\\\""},           {"\\", "\\\\"},           {"\n", "\\n"},
      {"\r", "\\r"},            {"\t", "\\t"},            {"\b", "\\b"},
      {"\f", "\\f"},            {std::string(1, '\0'), "\\u0000"},
      {"\x01", "\\u0001"},      {"\x1F", "\\u001f"},      {"\x7F", "\x7F"},
      {" ", " "},               {"\xC3\xA9", "\xC3\xA9"},  // é
      {"\xE2\x82\xAC", "\xE2\x82\xAC"},                    // €
      {"\xF0\x9F\x98\x80", "\xF0\x9F\x98\x80"},            // U+1F600
      {"\xFF", "\xEF\xBF\xBD"}, {"\xC0\xAF", "\xEF\xBF\xBD\xEF\xBF\xBD"},  // overlong
      {"\xED\xA0\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},           // surrogate
      {"\x80", "\xEF\xBF\xBD"},
  };
  for (const Special& sp : specials) {
    for (size_t len = 1; len <= 40; ++len) {
      for (size_t pos = 0; pos < len; ++pos) {
        std::string in(len, 'a');
        in.replace(pos, 1, sp.in);
        const std::string want = "\"" + std::string(pos, 'a') + sp.out + std::string(len - pos - 1, 'a') + "\"";
        INFO("special " << Catch::Detail::stringify(sp.in) << " length " << len << " position " << pos);
        REQUIRE(escaped(in) == want);
      }
    }
  }
}

TEST_CASE("json_escape: UTF-8 sequences across 8-byte boundaries, cut or whole", "[json_escape]") {
  const std::vector<std::string> sequences = {"\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80",
                                              "\xE2\x82", "\xF0\x9F\x98", "\xF4\x90\x80\x80"};
  for (const std::string& seq : sequences) {
    for (size_t pos = 0; pos <= 24; ++pos) {
      for (size_t after = 0; after <= 9; ++after) {
        const std::string in = std::string(pos, 'b') + seq + std::string(after, 'c');
        INFO("sequence at " << pos << ", " << after << " bytes after it");
        REQUIRE(escaped(in) == reference_escape(in));
        // A truncated sequence at the very end of the string.
        const std::string cut = std::string(pos, 'b') + seq.substr(0, seq.size() - 1);
        REQUIRE(escaped(cut) == reference_escape(cut));
      }
    }
  }
  CHECK(escaped("1234567\xE2\x82\xAC") == "\"1234567\xE2\x82\xAC\"");
  CHECK(escaped("1234567\xE2\x82") == "\"1234567\xEF\xBF\xBD\xEF\xBF\xBD\"");
}

TEST_CASE("json_escape: random strings match the byte-at-a-time definition", "[json_escape]") {
  const std::string alphabet =
      std::string("ab \"\\\n\x01\x1F\x7F\x80\xBF\xC3\xA9\xE2\x82\xAC\xF0\x9F\xFF") + std::string(1, '\0');
  std::mt19937 rng(8);
  for (int round = 0; round < 20000; ++round) {
    std::string in(rng() % 48, 'x');
    for (char& c : in) c = alphabet[rng() % alphabet.size()];
    INFO("input " << Catch::Detail::stringify(in));
    REQUIRE(escaped(in) == reference_escape(in));
  }
}

TEST_CASE("json_escape: the output is valid UTF-8", "[json_escape]") {
  CHECK(is_valid_utf8(escaped("ok \xE2\x82\xAC \xFF \xC3")));
  CHECK_FALSE(is_valid_utf8("\xC3"));
  CHECK(is_valid_utf8("\xF0\x9F\x98\x80"));
}

TEST_CASE("utf8_repaired: valid text is kept, each invalid byte becomes U+FFFD", "[json_escape][security]") {
  CHECK(utf8_repaired("caf\xC3\xA9.log") == "caf\xC3\xA9.log");
  CHECK(utf8_repaired("caf\xE9.log") == "caf\xEF\xBF\xBD.log");
  CHECK(utf8_repaired("\xC0\xAF") == "\xEF\xBF\xBD\xEF\xBF\xBD");      // overlong '/'
  CHECK(utf8_repaired("\xED\xA0\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  CHECK(utf8_repaired(std::string_view("a\0b", 3)) == std::string("a\0b", 3));
  CHECK(is_valid_utf8(utf8_repaired("\xFF\xFE truncated \xE2\x82")));
  std::string out = "x";
  append_utf8_repaired(out, "\x80");
  CHECK(out == "x\xEF\xBF\xBD");
}
