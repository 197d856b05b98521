// LOGFERRY_LOKI_STRUCTURED_METADATA=auto against the in-test Loki (LokiFake):
// structured metadata while Loki takes it; when Loki refuses it, logfmt from
// then on, the refused batch re-sent (no loss, no duplicate), counted once.
#include "sidecar/forward/loki_encoder.hpp"

#include <filesystem>

#include <catch2/catch.hpp>

#include "sidecar/config/config.hpp"
#include "sidecar/parse/registry.hpp"
#include "support/loki_fake.hpp"
#include "unit/forward/output_harness.hpp"

using namespace logferry;
using namespace logferry::test;

namespace {

// Entries of one source: even ones carry a level and an attribute, odd ones nothing but a body.
v1::Batch mixed_batch(const std::string& tag, int n, uint64_t first_offset) {
  v1::Batch b = plain_batch(tag, 0);
  for (int i = 0; i < n; ++i) {
    auto* e = b.add_entries();
    e->set_observed_time_unix_nano(1'700'000'000'000'000'000ull + first_offset + static_cast<uint64_t>(i));
    e->mutable_body()->set_string_value(tag + " " + std::to_string(i));
    e->set_offset(first_offset + static_cast<uint64_t>(i));
    if (i % 2 == 0) {
      e->set_severity_text("info");
      auto* kv = e->add_attributes();
      kv->set_key("user");
      kv->mutable_value()->set_string_value("ann");
    }
  }
  return b;
}

std::string output(const LokiFake& loki) { return "loki+http://127.0.0.1:" + std::to_string(loki.port()); }

}  // namespace

TEST_CASE("Loki auto: structured metadata while Loki allows it", "[output][loki]") {
  LokiFake loki;
  OutputHarness h(output(loki));  // the default is auto
  h.push(mixed_batch("a", 4, 0), 100);
  REQUIRE(h.run_until([&] { return h.origin->acked_offset == 100; }));
  const auto stored = loki.query_forward();
  REQUIRE(stored.size() == 4);
  CHECK(stored[0].line == "a 0");
  CHECK(stored[0].metadata == std::vector<std::pair<std::string, std::string>>{{"level", "info"}, {"user", "ann"}});
  CHECK(h.metrics.output_fallbacks == 0);
}

TEST_CASE("Loki auto: a Loki refusing structured metadata gets every entry once, in logfmt", "[output][loki]") {
  LokiFake loki(LokiFakeOptions{.allow_structured_metadata = false, .after_store = {}});
  OutputHarness h(output(loki));
  h.push(mixed_batch("a", 6, 0), 100);
  h.push(mixed_batch("b", 6, 100), 200);
  REQUIRE(h.run_until([&] { return h.origin->acked_offset == 200; }));
  // The refused push stored its entries without metadata; their re-sent
  // copies are exact duplicates (same stream, timestamp and line): dropped.
  CHECK(loki.refused_structured_metadata() == 3);
  CHECK(loki.duplicates_dropped() == 3);
  CHECK(loki.pushes() == 3);  // refused, re-sent, then the second batch in logfmt at once
  const auto stored = loki.query_forward();
  REQUIRE(stored.size() == 12);
  CHECK(stored[0].line == "a 0 level=info user=ann");
  CHECK(stored[1].line == "a 1");
  CHECK(stored[6].line == "b 0 level=info user=ann");
  for (const auto& e : stored) CHECK(e.metadata.empty());
  CHECK(h.metrics.output_fallbacks == 1);
  CHECK(h.metrics.batches_rejected == 0);
  CHECK(h.metrics.batches_acked == 2);
}

TEST_CASE("Loki true: a refusal of structured metadata is a rejection (no fallback)", "[output][loki]") {
  LokiFake loki(LokiFakeOptions{.allow_structured_metadata = false, .after_store = {}});
  OutputHarness h(output(loki), [](Config& c) { c.output.loki_structured_metadata_fallback = false; });
  h.push(mixed_batch("a", 2, 0), 100);
  REQUIRE(h.run_until([&] { return h.origin->acked_offset == 100; }));
  CHECK(h.metrics.batches_rejected == 1);
  CHECK(h.metrics.output_fallbacks == 0);
}

TEST_CASE("Loki: the refusal is recognised by Loki's own message only", "[output][loki]") {
  const std::string loki_message =
      "stream '{pod=\"web-0\"}' includes structured metadata, but this feature is disallowed. Please see "
      "`limits_config.allow_structured_metadata` or contact your Loki administrator to enable it.";
  CHECK(refuses_structured_metadata(400, loki_message));
  CHECK_FALSE(refuses_structured_metadata(500, loki_message));
  CHECK_FALSE(refuses_structured_metadata(400, "entry too far behind"));
  CHECK_FALSE(refuses_structured_metadata(400, "structured metadata too large"));
}

TEST_CASE("LOGFERRY_LOKI_STRUCTURED_METADATA: auto (default), true, false", "[output][loki][config]") {
  const auto parse = [](const char* value) {
    Environment env{{"LOGFERRY_FILES", "/var/log/app/*.log"},
                    {"LOGFERRY_OUTPUT", "loki+http://loki:3100"},
                    {"LOGFERRY_CHECKPOINT_DIR",
                     (std::filesystem::temp_directory_path() / "logferry-loki-metadata-cfg").string()}};
    if (value != nullptr) env["LOGFERRY_LOKI_STRUCTURED_METADATA"] = value;
    return load_config(env, parser_catalog());
  };
  auto r = parse(nullptr);
  REQUIRE(r.errors.empty());
  CHECK(r.config.output.loki_structured_metadata);
  CHECK(r.config.output.loki_structured_metadata_fallback);
  r = parse("true");
  CHECK((r.config.output.loki_structured_metadata && !r.config.output.loki_structured_metadata_fallback));
  r = parse("false");
  CHECK((!r.config.output.loki_structured_metadata && !r.config.output.loki_structured_metadata_fallback));
  r = parse("sometimes");
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].message.find("expected auto, true or false") != std::string::npos);
}
