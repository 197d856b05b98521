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

TEST_CASE("durations, booleans, numbers and labels", "[config]") {
  using std::chrono::milliseconds;
  CHECK(parse_duration("250ms") == milliseconds(250));
  CHECK(parse_duration("5s") == milliseconds(5000));
  CHECK(parse_duration("2m") == milliseconds(120000));
  CHECK(parse_duration("1m30s") == milliseconds(90000));
  CHECK(parse_duration("7") == milliseconds(7000));
  CHECK_FALSE(parse_duration("5 minutes").has_value());
  CHECK_FALSE(parse_duration("ms").has_value());
  CHECK(parse_bool("TRUE") == true);
  CHECK(parse_bool("off") == false);
  CHECK_FALSE(parse_bool("2").has_value());
  CHECK(parse_uint("12", 1, 100) == 12u);
  CHECK_FALSE(parse_uint("0", 1, 100).has_value());
  CHECK_FALSE(parse_uint("12a", 1, 100).has_value());
  auto labels = parse_labels("team=payments, env = prod");
  REQUIRE(labels);
  CHECK(*labels == std::vector<std::pair<std::string, std::string>>{{"team", "payments"}, {"env", "prod"}});
  CHECK_FALSE(parse_labels("=x").has_value());
  CHECK(parse_labels("")->empty());
  CHECK(parse_host_port("[::1]:80") == std::make_pair(std::string("::1"), uint16_t{80}));
  CHECK(edit_distance("LOGFERRY_FILSE", "LOGFERRY_FILES") == 2);
  CHECK(format_size(4u << 20) == "4MiB");
  CHECK(format_duration(std::chrono::milliseconds(1500)) == "1500ms");
}
