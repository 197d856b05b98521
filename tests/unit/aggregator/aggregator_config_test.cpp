#include "aggregator/aggregator_config.hpp"

#include <filesystem>

#include <catch2/catch.hpp>

#include "support/temp_dir.hpp"

using namespace logferry;
using namespace logferry::aggregator;

namespace {

// Every error message of a load, one per line.
template <class Result>
std::string error_text(const Result& r) {
  std::string all;
  for (const auto& e : r.errors) all += e.message + "\n";
  return all;
}

}  // namespace

TEST_CASE("aggregator defaults and discard mode need no data directory", "[aggregator]") {
  const auto r = load_aggregator_config({{"LOGFERRY_AGGREGATOR_DISCARD", "true"}});
  REQUIRE(r.errors.empty());
  CHECK(r.config.listen_host == "0.0.0.0");
  CHECK(r.config.listen_port == 7070);
  CHECK(r.config.max_frame_bytes == 16u << 20);
  CHECK(r.config.fsync == FsyncPolicy::always);
  CHECK(r.config.idle_timeout == std::chrono::minutes(5));
  CHECK(r.config.frame_timeout == std::chrono::seconds(30));
}

TEST_CASE("aggregator config errors name the variable, value and what is allowed", "[aggregator]") {
  const auto r = load_aggregator_config({{"LOGFERRY_AGGREGATOR_LISTEN", "nowhere"},
                                         {"LOGFERRY_AGGREGATOR_FSYNC", "sometimes"},
                                         {"LOGFERRY_AGGREGATOR_TOKEN", "hunter2"},
                                         {"LOGFERRY_AGGREGATOR_TOKEN_FILE", "/nonexistent"},
                                         {"LOGFERRY_AGGREGATOR_DISCRAD", "true"}});
  const std::string all = error_text(r);
  CHECK_THAT(all, Catch::Contains("LOGFERRY_AGGREGATOR_LISTEN=\"nowhere\": expected HOST:PORT"));
  CHECK_THAT(all, Catch::Contains("LOGFERRY_AGGREGATOR_FSYNC=\"sometimes\": expected always or never"));
  CHECK_THAT(all, Catch::Contains("LOGFERRY_AGGREGATOR_DISCRAD: unknown variable; did you mean LOGFERRY_AGGREGATOR_DISCARD?"));
  CHECK_THAT(all, Catch::Contains("LOGFERRY_AGGREGATOR_DATA_DIR=\"\": required"));
  CHECK_THAT(all, Catch::Contains("not both"));
  CHECK(all.find("hunter2") == std::string::npos);
}

TEST_CASE("aggregator enum and bool variables accept their spellings and name them when refused", "[aggregator]") {
  const auto bad = load_aggregator_config({{"LOGFERRY_AGGREGATOR_RELAY_MODE", "sometimes"},
                                           {"LOGFERRY_AGGREGATOR_DISCARD", "maybe"},
                                           {"LOGFERRY_LOG_LEVEL", "loud"},
                                           {"LOGFERRY_LOG_FORMAT", "xml"}});
  const std::string all = error_text(bad);
  CHECK_THAT(all, Catch::Contains("LOGFERRY_AGGREGATOR_RELAY_MODE=\"sometimes\": expected store_and_forward or relay_only"));
  CHECK_THAT(all, Catch::Contains("LOGFERRY_AGGREGATOR_DISCARD=\"maybe\": expected true or false"));
  CHECK_THAT(all, Catch::Contains("LOGFERRY_LOG_LEVEL=\"loud\": expected debug, info, warn or error"));
  CHECK_THAT(all, Catch::Contains("LOGFERRY_LOG_FORMAT=\"xml\": expected json or text"));

  const auto good = load_aggregator_config({{"LOGFERRY_AGGREGATOR_DISCARD", "yes"},
                                            {"LOGFERRY_AGGREGATOR_FSYNC", "never"},
                                            {"LOGFERRY_LOG_LEVEL", "warn"},
                                            {"LOGFERRY_LOG_FORMAT", "text"}});
  REQUIRE(good.errors.empty());
  CHECK(good.config.discard);
  CHECK(good.config.fsync == FsyncPolicy::never);
  CHECK(good.config.log_level == LogLevel::warn);
  CHECK(good.config.log_format == LogFormat::text);
}

TEST_CASE("port 0 is allowed for the listen address", "[aggregator]") {
  const auto r = load_aggregator_config({{"LOGFERRY_AGGREGATOR_LISTEN", "127.0.0.1:0"},
                                         {"LOGFERRY_AGGREGATOR_DISCARD", "true"}});
  REQUIRE(r.errors.empty());
  CHECK(r.config.listen_port == 0);
  CHECK(r.config.listen_host == "127.0.0.1");
}

TEST_CASE("retention and relay variables: bounds and combinations are checked", "[aggregator]") {
  logferry::test::TempDir tmp("logferry-agg-retention-config");
  const std::string data = (tmp / "data").string();
  const auto ok = load_aggregator_config({{"LOGFERRY_AGGREGATOR_DATA_DIR", data},
                                          {"LOGFERRY_AGGREGATOR_RETENTION_MAX_BYTES", "1GiB"},
                                          {"LOGFERRY_AGGREGATOR_RETENTION_MAX_AGE", "24h"},
                                          {"LOGFERRY_AGGREGATOR_RETENTION_WHEN_FULL", "delete_oldest"}});
  REQUIRE(ok.errors.empty());
  CHECK(ok.config.retention_max_bytes == 1ull << 30);
  CHECK(ok.config.retention_max_age == std::chrono::hours(24));
  CHECK(ok.config.retention_when_full == logferry::aggregator::RetentionFull::delete_oldest);
  // A cap smaller than two segments, an unknown policy, a native downstream for relay_only.
  const auto bad = load_aggregator_config({{"LOGFERRY_AGGREGATOR_DATA_DIR", data},
                                           {"LOGFERRY_AGGREGATOR_RETENTION_MAX_BYTES", "64MiB"},
                                           {"LOGFERRY_AGGREGATOR_RETENTION_WHEN_FULL", "drop"},
                                           {"LOGFERRY_AGGREGATOR_RELAY", "tcp://127.0.0.1:7070"},
                                           {"LOGFERRY_AGGREGATOR_RELAY_MODE", "relay_only"}});
  const std::string all = error_text(bad);
  CHECK_THAT(all, Catch::Contains("LOGFERRY_AGGREGATOR_RETENTION_MAX_BYTES=\"64MiB\": expected 0 or at least twice"));
  CHECK_THAT(all, Catch::Contains("LOGFERRY_AGGREGATOR_RETENTION_WHEN_FULL=\"drop\": expected slow or delete_oldest"));
  CHECK_THAT(all, Catch::Contains("LOGFERRY_AGGREGATOR_RELAY=\"tcp://127.0.0.1:7070\": relay_only needs"));
  // store_and_forward takes a native downstream.
  const auto native = load_aggregator_config({{"LOGFERRY_AGGREGATOR_DATA_DIR", data},
                                              {"LOGFERRY_AGGREGATOR_RELAY", "tcp://127.0.0.1:7070"}});
  CHECK(native.errors.empty());
}

TEST_CASE("the relay URL's credentials and query never appear in errors or the effective settings", "[aggregator]") {
  logferry::test::TempDir tmp("logferry-agg-relay-redacted");
  const Environment env{{"LOGFERRY_AGGREGATOR_DATA_DIR", (tmp / "data").string()},
                        {"LOGFERRY_AGGREGATOR_RELAY", "tcp://user:s3cret@127.0.0.1:7070?key=abc"},
                        {"LOGFERRY_AGGREGATOR_RELAY_MODE", "relay_only"}};
  const std::string all = error_text(load_aggregator_config(env));
  CHECK_THAT(all, Catch::Contains("LOGFERRY_AGGREGATOR_RELAY=\"tcp://***@127.0.0.1:7070?***\""));
  CHECK_THAT(all, !Catch::Contains("s3cret") && !Catch::Contains("key=abc"));
  const std::string shown = render_effective(aggregator_config_table(), env);
  CHECK_THAT(shown, Catch::Contains("LOGFERRY_AGGREGATOR_RELAY=tcp://***@127.0.0.1:7070?***"));
  CHECK_THAT(shown, !Catch::Contains("s3cret") && !Catch::Contains("key=abc"));
}
