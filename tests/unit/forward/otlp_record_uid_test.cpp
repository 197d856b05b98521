// log.record.uid: OTLP records carry a stable id derived from the entry's
// idempotency key (source id, offset), the same on every re-send.
#include "sidecar/forward/otlp_encoder.hpp"

#include <set>

#include <catch2/catch.hpp>

#include "unit/forward/output_harness.hpp"

using namespace logferry;
using namespace logferry::test;

namespace {

std::string uid_of(const otlp::logs::LogRecord& r) {
  for (const auto& kv : r.attributes())
    if (kv.key() == "log.record.uid") return kv.value().string_value();
  return "";
}

}  // namespace

TEST_CASE("log.record.uid: a name-based UUID of source id and offset, deterministic and distinct", "[output][otlp]") {
  const std::string a = log_record_uid("file:1:2:abc", 0);
  CHECK(a == log_record_uid("file:1:2:abc", 0));
  REQUIRE(a.size() == 36);
  CHECK(a[8] == '-');
  CHECK(a[13] == '-');
  CHECK(a[14] == '5');  // version 5: name-based (SHA-1)
  CHECK(std::string("89ab").find(a[19]) != std::string::npos);  // RFC 9562 variant
  CHECK(a != log_record_uid("file:1:2:abc", 1));
  CHECK(a != log_record_uid("file:1:2:abd", 0));
  // The offset is a fixed-width suffix: no id/offset pair reads as another.
  CHECK(log_record_uid("file:1", 0x31) != log_record_uid("file:11", 0));
}

TEST_CASE("log.record.uid: every record gets one, the same when the batch is encoded again", "[output][otlp]") {
  v1::Batch b = plain_batch("x", 5);
  otlp::collector::ExportLogsServiceRequest first, again;
  batch_to_otlp(b, "", first);
  batch_to_otlp(b, "", again);
  const auto& records = first.resource_logs(0).scope_logs(0).log_records();
  REQUIRE(records.size() == 5);
  std::set<std::string> ids;
  for (int i = 0; i < records.size(); ++i) {
    const std::string uid = uid_of(records[i]);
    CHECK(uid == log_record_uid("file:1:2:abc", static_cast<uint64_t>(i) * 10));
    CHECK(uid == uid_of(again.resource_logs(0).scope_logs(0).log_records(i)));
    ids.insert(uid);
  }
  CHECK(ids.size() == 5);
  CHECK(first.SerializeAsString() == again.SerializeAsString());
}

TEST_CASE("log.record.uid: an id the line carried itself is kept", "[output][otlp]") {
  v1::Batch b = plain_batch("x", 1);
  auto* kv = b.mutable_entries(0)->add_attributes();
  kv->set_key("log.record.uid");
  kv->mutable_value()->set_string_value("01ARZ3NDEKTSV4RRFFQ69G5FAV");
  otlp::collector::ExportLogsServiceRequest req;
  batch_to_otlp(b, "", req);
  const auto& r = req.resource_logs(0).scope_logs(0).log_records(0);
  CHECK(uid_of(r) == "01ARZ3NDEKTSV4RRFFQ69G5FAV");
  int count = 0;
  for (const auto& a : r.attributes()) count += a.key() == "log.record.uid";
  CHECK(count == 1);
}
