// libFuzzer target: arbitrary bytes through every parser and through the
// composed chains (cri/docker -> multiline -> auto, filters). The first byte
// picks the chain; the rest is split into lines at '\n'. Checks the parser
// contract: no crash, every entry has valid UTF-8 strings and serializes, a
// parse error carries log.parse_error, flush() ends, and encode() either
// declines without writing or writes the bytes of the entry parse() fills.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "sidecar/core/json_escape.hpp"
#include "sidecar/core/wire_buffer.hpp"
#include "sidecar/parse/access_log_parser.hpp"
#include "sidecar/parse/auto_parser.hpp"
#include "sidecar/parse/container_parser.hpp"
#include "sidecar/parse/filter_parser.hpp"
#include "sidecar/parse/json_parser.hpp"
#include "sidecar/parse/k8s_audit_parser.hpp"
#include "sidecar/parse/klog_parser.hpp"
#include "sidecar/parse/logfmt_parser.hpp"
#include "sidecar/parse/multiline_parser.hpp"
#include "sidecar/parse/plain_parser.hpp"
#include "sidecar/parse/regex_parser.hpp"
#include "sidecar/parse/syslog_parser.hpp"

using namespace logferry;

namespace {

const FieldNames kFields;

std::shared_ptr<const re2::RE2> regex(const char* pattern) {
  std::string error;
  return compile_regex(pattern, error);
}

std::unique_ptr<Parser> multiline(std::unique_ptr<Parser> inner, const char* preset) {
  return std::make_unique<MultilineParser>(std::move(inner), *multiline_preset(preset), 20, 4096);
}

using Factory = std::function<std::unique_ptr<Parser>()>;

const std::vector<Factory>& factories() {
  static const std::vector<Factory> all{
      [] { return std::make_unique<PlainParser>(); },
      [] { return std::make_unique<JsonParser>(kFields); },
      [] { return std::make_unique<LogfmtParser>(kFields); },
      [] { return std::make_unique<RegexParser>(regex(R"(^(?P<time>\S+) (?P<level>\w+) (?P<msg>.*)$)"), kFields); },
      [] {
        return std::make_unique<ContainerParser>(ContainerParser::Format::cri, std::make_unique<AutoParser>(kFields),
                                                 256);
      },
      [] {
        return std::make_unique<ContainerParser>(ContainerParser::Format::docker,
                                                 std::make_unique<AutoParser>(kFields), 256);
      },
      [] { return std::make_unique<AccessLogParser>("nginx"); },
      [] { return std::make_unique<SyslogParser>(); },
      [] { return std::make_unique<KlogParser>(kFields); },
      [] { return std::make_unique<K8sAuditParser>(); },
      [] { return std::make_unique<AutoParser>(kFields); },
      // The multiline chains.
      [] { return multiline(std::make_unique<AutoParser>(kFields), "java"); },
      [] { return multiline(std::make_unique<JsonParser>(kFields), "python"); },
      [] {
        return std::make_unique<ContainerParser>(ContainerParser::Format::cri,
                                                 multiline(std::make_unique<AutoParser>(kFields), "go"), 128);
      },
      [] {
        auto chain = std::make_unique<ContainerParser>(ContainerParser::Format::docker,
                                                       multiline(std::make_unique<AutoParser>(kFields), "java"), 128);
        return std::make_unique<FilterParser>(std::move(chain), regex("drop"), 9);
      },
  };
  return all;
}

bool utf8(const v1::AnyValue& v) {
  if (v.has_string_value()) return is_valid_utf8(v.string_value());
  if (v.has_array_value())
    for (const auto& x : v.array_value().values())
      if (!utf8(x)) return false;
  if (v.has_kvlist_value())
    for (const auto& kv : v.kvlist_value().values())
      if (!is_valid_utf8(kv.key()) || !utf8(kv.value())) return false;
  return true;
}

void check(const v1::Entry& e, ParseResult r) {
  bool ok = utf8(e.body()) && is_valid_utf8(e.severity_text());
  bool has_error = false;
  for (const auto& kv : e.attributes()) {
    ok = ok && is_valid_utf8(kv.key()) && utf8(kv.value());
    has_error = has_error || kv.key() == "log.parse_error";
  }
  std::string wire;
  ok = ok && e.SerializeToString(&wire);
  if (!ok || (r == ParseResult::parse_error && !has_error)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto& all = factories();
  auto parser = all[data[0] % all.size()]();
  auto twin = all[data[0] % all.size()]();  // its encode() fast path must agree with parse()
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  while (!rest.empty()) {
    const size_t nl = rest.find('\n');
    const std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    WireBuffer wire;
    const bool encoded = twin->encode(line, wire);
    v1::Entry entry;
    const ParseResult r = parser->parse(line, entry);
    if (r != ParseResult::pending && r != ParseResult::dropped) check(entry, r);
    if (encoded) {
      v1::Entry decoded;
      if (r != ParseResult::parsed || !decoded.ParseFromArray(wire.data(), static_cast<int>(wire.size())) ||
          decoded.SerializeAsString() != entry.SerializeAsString())
        std::abort();
    } else if (!wire.empty()) {
      std::abort();  // a declined encode() writes nothing
    }
  }
  for (int i = 0; i < 8; ++i) {
    v1::Entry entry;
    const ParseResult r = parser->flush(entry);
    if (r == ParseResult::pending) return 0;
    check(entry, r);
  }
  std::abort();  // flush must end: each call empties held state
}
