#include "sidecar/config/value_parsers.hpp"

#include <catch2/catch.hpp>

using namespace logferry;

TEST_CASE("sizes parse with binary and decimal units", "[config]") {
  CHECK(parse_size("1048576") == 1048576u);
  CHECK(parse_size("64KiB") == 65536u);
  CHECK(parse_size("4mib") == 4u << 20);
  CHECK(parse_size("10MB") == 10'000'000u);
  CHECK_FALSE(parse_size("ten").has_value());
  CHECK_FALSE(parse_size("5 parsecs").has_value());
  CHECK_FALSE(parse_size("").has_value());
  CHECK_FALSE(parse_size("99999999999999999999GiB").has_value());
}
