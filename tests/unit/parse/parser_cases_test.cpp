#include "tests/unit/parse/parser_cases.hpp"

using namespace logferry;
using namespace logferry::test;

namespace {

constexpr auto P = ParseResult::parsed;
constexpr auto E = ParseResult::parse_error;
constexpr auto H = ParseResult::pending;
const std::string kAbsent = "<absent>";

const std::vector<ParserCase>& cases() {
  static const std::vector<ParserCase> all{
      // ---- plain ----
      {"plain keeps the line", "plain", "hello world", P, {{"body", "s:hello world"}}},
      {"plain empty line", "plain", "", P, {{"body", "s:"}}},
      {"plain unicode", "plain", "h\xC3\xA9llo \xF0\x9F\x98\x80", P, {{"body", "s:h\xC3\xA9llo \xF0\x9F\x98\x80"}}},
      {"plain invalid UTF-8 replaced", "plain", "a\xFF" "b\xC3", P, {{"body", "s:a\xEF\xBF\xBD" "b\xEF\xBF\xBD"}}},

      // ---- json ----
      {"json typed fields", "json",
       R"({"msg":"started","level":"info","ts":"2024-01-02T15:04:05.123456789Z","port":8080,"ratio":0.5,"ok":true,"none":null})",
       P,
       {{"body", "s:started"}, {"severity_number", "9"}, {"severity_text", "info"}, {"time", "1704207845123456789"},
        {"attr:port", "i:8080"}, {"attr:ratio", "d:0.5"}, {"attr:ok", "b:true"}, {"attr:none", "null"},
        {"attr:msg", kAbsent}, {"attr:level", kAbsent}, {"attr:ts", kAbsent}}},
      {"json nested objects and arrays", "json", R"({"http":{"method":"GET","status":200},"tags":["a",1,[true]]})", P,
       {{"attr:http", "{method=s:GET,status=i:200}"}, {"attr:tags", "[s:a,i:1,[b:true]]"}, {"body", kAbsent}}},
      {"json escapes and unicode", "json", R"({"message":"tab\there \"q\" \u00e9 \ud83d\ude00 \\"})", P,
       {{"body", "s:tab\there \"q\" \xC3\xA9 \xF0\x9F\x98\x80 \\"}}},
      {"json empty values", "json", R"({"msg":"","k":"","o":{},"a":[]})", P,
       {{"body", "s:"}, {"attr:k", "s:"}, {"attr:o", "{}"}, {"attr:a", "[]"}}},
      {"json huge numbers", "json",
       R"({"i":-9223372036854775808,"u":18446744073709551615,"big":1e400,"f":1.5e300,"n":[123456789012345678901234567890],"s":"1e400"})", P,
       {{"attr:i", "i:-9223372036854775808"}, {"attr:u", "s:18446744073709551615"}, {"attr:f", "d:1.5e+300"},
        {"attr:big", "s:1e400"}, {"attr:n", "[s:123456789012345678901234567890]"}, {"attr:s", "s:1e400"}}},
      {"json huge number in an invalid document stays an error", "json", R"({"big":1e400,})", E, {}},
      {"json duplicate keys: last wins", "json", R"({"a":1,"b":2,"a":3})", P, {{"attr:a", "i:3"}, {"attr:b", "i:2"}}},
      {"json epoch milliseconds", "json", R"({"time":1704207845123,"msg":"x"})", P, {{"time", "1704207845123000000"}}},
      {"json epoch float seconds", "json", R"({"ts":1704207845.5})", P, {{"time", "1704207845500000000"}}},
      {"json epoch nanoseconds", "json", R"({"ts":1704207845123456789})", P, {{"time", "1704207845123456789"}}},
      {"json @timestamp with offset", "json", R"({"@timestamp":"2024-01-02T15:04:05.123+07:00"})", P,
       {{"time", "1704182645123000000"}}},
      {"json unparseable time stays an attribute", "json", R"({"time":"yesterday"})", P,
       {{"time", kAbsent}, {"attr:time", "s:yesterday"}}},
      {"json unusable well-known fields of every type stay attributes", "json",
       R"({"time":"yesterday","level":null,"ts":{"a":1},"severity":[1],"trace_id":"xyz","span_id":true})", P,
       {{"time", kAbsent}, {"attr:time", "s:yesterday"}, {"attr:level", "null"}, {"attr:ts", "{a=i:1}"},
        {"attr:severity", "[i:1]"}, {"attr:trace_id", "s:xyz"}, {"attr:span_id", "b:true"}}},
      {"json pino numeric level", "json", R"({"level":50,"msg":"boom"})", P,
       {{"severity_number", "17"}, {"severity_text", "50"}}},
      {"json unknown level keeps its text", "json", R"({"level":"verbose"})", P,
       {{"severity_number", kAbsent}, {"severity_text", "verbose"}}},
      {"json WARNING level", "json", R"({"severity":"WARNING"})", P, {{"severity_number", "13"}}},
      {"json trace context", "json",
       R"({"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7","trace_flags":"01"})", P,
       {{"trace_id", "4bf92f3577b34da6a3ce929d0e0e4736"}, {"span_id", "00f067aa0ba902b7"}, {"flags", "1"}}},
      {"json invalid trace id stays an attribute", "json", R"({"trace_id":"xyz","spanId":"00000000000000000000"})", P,
       {{"trace_id", kAbsent}, {"attr:trace_id", "s:xyz"}, {"attr:spanId", "s:00000000000000000000"}}},
      {"json all-zero or non-hex ids of the right length stay attributes", "json",
       R"({"trace_id":"00000000000000000000000000000000","span_id":"00f067aa0ba902bg"})", P,
       {{"trace_id", kAbsent},
        {"span_id", kAbsent},
        {"attr:trace_id", "s:00000000000000000000000000000000"},
        {"attr:span_id", "s:00f067aa0ba902bg"}}},
      {"json traceparent", "json", R"({"traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"})", P,
       {{"trace_id", "4bf92f3577b34da6a3ce929d0e0e4736"}, {"span_id", "00f067aa0ba902b7"}, {"flags", "1"}}},
      {"json first message field wins", "json", R"({"msg":"one","message":"two"})", P,
       {{"body", "s:one"}, {"attr:message", "s:two"}}},
      {"json non-string message is typed", "json", R"({"msg":{"k":1}})", P, {{"body", "{k=i:1}"}}},
      {"json invalid: truncated", "json", R"({"msg":"x")", E, {{"body", R"(s:{"msg":"x")"}}},
      {"json invalid: not an object", "json", "[1,2]", E,
       {{"body", "s:[1,2]"}, {"attr:log.parse_error", "s:invalid JSON: not an object"}}},
      {"json invalid: trailing garbage", "json", R"({"a":1} x)", E, {{"attr:a", kAbsent}}},
      {"json invalid: empty", "json", "", E, {{"body", "s:"}}},
      {"json invalid UTF-8 is a parse error, body repaired", "json", "{\"msg\":\"a\xFF\"}", E,
       {{"body", "s:{\"msg\":\"a\xEF\xBF\xBD\"}"}, {"attr:log.parse_error", "s:invalid JSON: invalid UTF-8"}}},
      {"json invalid: lone surrogate escape", "json", R"({"m":"\ud800"})", E, {}},

      // ---- logfmt ----
      {"logfmt typed values", "logfmt",
       R"(ts=2024-01-02T15:04:05Z level=warn msg="disk almost full" used=93.5 free=7 ok=false path=/var dry)", P,
       {{"time", "1704207845000000000"}, {"severity_number", "13"}, {"body", "s:disk almost full"},
        {"attr:used", "d:93.5"}, {"attr:free", "i:7"}, {"attr:ok", "b:false"}, {"attr:path", "s:/var"},
        {"attr:dry", "b:true"}}},
      {"logfmt quoted values stay strings", "logfmt", R"(id="42" q="a \"b\" \\ \u00e9")", P,
       {{"attr:id", "s:42"}, {"attr:q", "s:a \"b\" \\ \xC3\xA9"}}},
      {"logfmt empty values", "logfmt", R"(a= b="")", P, {{"attr:a", "s:"}, {"attr:b", "s:"}}},
      {"logfmt leading zeros are strings", "logfmt", "zip=01234 n=-0", P, {{"attr:zip", "s:01234"}, {"attr:n", "s:-0"}}},
      {"logfmt huge integer is a string", "logfmt", "n=99999999999999999999", P,
       {{"attr:n", "s:99999999999999999999"}}},
      {"logfmt duplicate keys: last wins", "logfmt", "a=1 a=2", P, {{"attr:a", "i:2"}}},
      {"logfmt blank line keeps the text", "logfmt", "   ", P, {{"body", "s:   "}}},
      {"logfmt invalid: unterminated quote", "logfmt", R"(a="oops)", E,
       {{"attr:log.parse_error", "s:invalid logfmt: an unterminated quoted value"}, {"attr:a", kAbsent}}},
      {"logfmt invalid: value without key", "logfmt", "=x", E, {}},
      {"logfmt invalid UTF-8 repaired", "logfmt", "k=\xFF", P, {{"attr:k", "s:\xEF\xBF\xBD"}}},

      // ---- regex ----
      {"regex named groups", "regex", "2024-01-02T15:04:05Z ERROR [db] connection lost", P,
       {{"time", "1704207845000000000"}, {"severity_number", "17"}, {"attr:component", "s:db"},
        {"body", "s:connection lost"}},
       {{"LOGFERRY_REGEX", R"(^(?P<time>\S+) (?P<level>\w+) \[(?P<component>[^\]]*)\] (?P<msg>.*)$)"}}},
      {"regex without message group keeps the line", "regex", "user=bob", P,
       {{"body", "s:user=bob"}, {"attr:who", "s:bob"}}, {{"LOGFERRY_REGEX", "user=(?P<who>\\w+)"}}},
      {"regex optional group absent", "regex", "a", P, {{"attr:b", kAbsent}},
       {{"LOGFERRY_REGEX", "^(?P<a>a)(?P<b>b)?$"}}},
      {"regex no match", "regex", "nothing here", E,
       {{"body", "s:nothing here"}, {"attr:log.parse_error", "s:the line does not match LOGFERRY_REGEX"}},
       {{"LOGFERRY_REGEX", "^\\d+$"}}},

      // ---- cri ----
      {"cri full line, message parsed as auto", "cri", R"(2024-01-02T15:04:05.123456789Z stdout F {"msg":"hi","level":"error"})", P,
       {{"time", "1704207845123456789"}, {"attr:log.iostream", "s:stdout"}, {"body", "s:hi"}, {"severity_number", "17"}}},
      {"cri plain message", "cri", "2024-01-02T15:04:05.123456789Z stderr F hello world", P,
       {{"body", "s:hello world"}, {"attr:log.iostream", "s:stderr"}}},
      {"cri empty message", "cri", "2024-01-02T15:04:05Z stdout F ", P, {{"body", "s:"}}},
      {"cri partial is held", "cri", "2024-01-02T15:04:05Z stdout P part", H, {}},
      {"cri invalid: no stream", "cri", "2024-01-02T15:04:05Z foo F x", E,
       {{"attr:log.parse_error", "s:not a CRI log line: expected stdout or stderr"}}},
      {"cri invalid: bad time", "cri", "yesterday stdout F x", E, {{"body", "s:yesterday stdout F x"}}},
      {"cri invalid: bad tag", "cri", "2024-01-02T15:04:05Z stdout X x", E, {}},

      // ---- docker ----
      {"docker line, newline stripped", "docker", R"({"log":"hello\n","stream":"stderr","time":"2024-01-02T15:04:05.123456789Z"})", P,
       {{"body", "s:hello"}, {"attr:log.iostream", "s:stderr"}, {"time", "1704207845123456789"}}},
      {"docker JSON message", "docker", R"({"log":"{\"msg\":\"m\",\"user\":\"u\"}\n","stream":"stdout","time":"2024-01-02T15:04:05Z"})", P,
       {{"body", "s:m"}, {"attr:user", "s:u"}}},
      {"docker partial (no newline) is held", "docker", R"({"log":"part","stream":"stdout","time":"2024-01-02T15:04:05Z"})", H, {}},
      {"docker invalid: no log", "docker", R"({"stream":"stdout"})", E,
       {{"attr:log.parse_error", "s:not a docker log line: no log field"}}},
      {"docker invalid: not JSON", "docker", "hello", E, {{"body", "s:hello"}}},

      // ---- nginx / apache ----
      {"nginx combined", "nginx",
       R"(192.168.1.5 - - [10/Oct/2000:13:55:36 -0700] "GET /index.html?a=1&b=2 HTTP/1.1" 200 2326 "http://example.com/" "curl/8.0")", P,
       {{"time", "971211336000000000"}, {"attr:client.address", "s:192.168.1.5"}, {"attr:http.request.method", "s:GET"},
        {"attr:url.path", "s:/index.html"}, {"attr:url.query", "s:a=1&b=2"}, {"attr:network.protocol.version", "s:1.1"},
        {"attr:http.response.status_code", "i:200"}, {"attr:http.response.body.size", "i:2326"},
        {"attr:http.request.header.referer", "s:http://example.com/"}, {"attr:user_agent.original", "s:curl/8.0"},
        {"attr:user.name", kAbsent}}},
      {"nginx garbage request and '-' size", "nginx", R"(10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "\x16\x03\x01" 400 - "-" "-")", P,
       {{"attr:http.request.line", "s:\\x16\\x03\\x01"}, {"attr:http.response.status_code", "i:400"},
        {"attr:http.response.body.size", kAbsent}, {"attr:user_agent.original", kAbsent}}},
      {"apache common with user", "apache", R"(127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326)", P,
       {{"attr:user.name", "s:frank"}, {"attr:url.path", "s:/apache_pb.gif"}, {"attr:http.response.body.size", "i:2326"}}},
      {"apache escaped quote in agent", "apache", R"(::1 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 304 0 "-" "a \"b\" c")", P,
       {{"attr:user_agent.original", "s:a \\\"b\\\" c"}, {"attr:client.address", "s:::1"}}},
      {"apache invalid: error log format", "apache", "[Tue Jan 02 15:04:05.123 2024] [core:error] [pid 1] AH00037: x", E,
       {{"attr:log.parse_error", "s:not an access log line: expected [time]"}}},
      {"nginx invalid: bad time", "nginx", R"(1.2.3.4 - - [yesterday] "GET / HTTP/1.1" 200 1)", E,
       {{"attr:log.parse_error", "s:not an access log line: invalid time"}, {"attr:client.address", kAbsent}}},
      {"nginx invalid: status", "nginx", R"(1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" abc 1)", E, {}},

      // ---- syslog ----
      {"syslog RFC 5424", "syslog",
       R"(<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application"] An application event)", P,
       {{"severity_number", "10"}, {"severity_text", "notice"}, {"attr:syslog.facility", "i:20"},
        {"time", "1065910455003000000"}, {"attr:host.name", "s:mymachine.example.com"},
        {"attr:syslog.appname", "s:evntslog"}, {"attr:syslog.procid", kAbsent}, {"attr:syslog.msgid", "s:ID47"},
        {"attr:syslog.structured_data", "{exampleSDID@32473={iut=s:3,eventSource=s:Application}}"},
        {"body", "s:An application event"}}},
      {"syslog RFC 5424 nil values and BOM", "syslog", "<34>1 - - - - - - \xEF\xBB\xBFhi", P,
       {{"severity_number", "21"}, {"time", kAbsent}, {"body", "s:hi"}}},
      {"syslog RFC 5424 SD escapes", "syslog", R"(<14>1 - h a 1 m [x@1 k="a\"b\]c"] msg)", P,
       {{"attr:syslog.structured_data", "{x@1={k=s:a\"b]c}}"}, {"attr:syslog.procid", "s:1"}}},
      {"syslog RFC 3164", "syslog", "<34>Oct 11 22:14:15 mymachine su[123]: 'su root' failed", P,
       {{"severity_number", "21"}, {"severity_text", "crit"}, {"time", "*"}, {"attr:host.name", "s:mymachine"},
        {"attr:syslog.appname", "s:su"}, {"attr:syslog.procid", "s:123"}, {"body", "s:'su root' failed"}}},
      {"syslog file line without PRI", "syslog", "Jan  2 15:04:05 web-1 CRON: job done", P,
       {{"severity_number", kAbsent}, {"time", "*"}, {"attr:syslog.appname", "s:CRON"}, {"body", "s:job done"}}},
      {"syslog rsyslog RFC 3339 time", "syslog", "2024-01-02T15:04:05+00:00 web-1 app[7]: started", P,
       {{"time", "1704207845000000000"}, {"attr:syslog.procid", "s:7"}}},
      {"syslog invalid PRI", "syslog", "<999>1 - - - - - -", E, {{"attr:log.parse_error", "s:not a syslog line: invalid <PRI>"}}},
      {"syslog invalid: no time", "syslog", "hello world", E, {}},
      {"syslog invalid: bad SD", "syslog", "<14>1 - h a 1 m [x k=unquoted] msg", E, {}},

      // ---- klog ----
      {"klog plain message", "klog", "I0102 15:04:05.123456   12345 controller.go:123] Starting workers", P,
       {{"severity_number", "9"}, {"severity_text", "I"}, {"time", "*"}, {"attr:thread.id", "i:12345"},
        {"attr:code.filepath", "s:controller.go"}, {"attr:code.lineno", "i:123"}, {"body", "s:Starting workers"}}},
      {"klog structured", "klog",
       R"(E0102 15:04:05.123456       1 pod_workers.go:951] "Error syncing pod" err="failed \"x\"" pod="kube-system/coredns" attempt=3)", P,
       {{"severity_number", "17"}, {"body", "s:Error syncing pod"}, {"attr:err", "s:failed \"x\""},
        {"attr:pod", "s:kube-system/coredns"}, {"attr:attempt", "i:3"}}},
      {"klog quoted but not structured", "klog", R"(W0102 15:04:05.000000 1 a.go:1] "quoted" then words)", P,
       {{"body", "s:\"quoted\" then words"}, {"severity_number", "13"}}},
      {"klog invalid letter", "klog", "X0102 15:04:05.123456 1 a.go:1] x", E, {}},
      {"klog invalid date", "klog", "I1302 15:04:05.123456 1 a.go:1] x", E, {{"attr:log.parse_error", "s:not a klog line: invalid time"}}},

      // ---- k8s-audit ----
      {"k8s-audit event", "k8s-audit",
       R"({"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a1b2","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/pods/web-0","verb":"get","user":{"username":"system:admin","groups":["system:masters"]},"sourceIPs":["10.0.0.7"],"userAgent":"kubectl/v1.29","objectRef":{"resource":"pods","namespace":"default","name":"web-0","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":200},"requestReceivedTimestamp":"2024-01-02T15:04:05.000000Z","stageTimestamp":"2024-01-02T15:04:05.123456Z"})", P,
       {{"attr:k8s.audit.id", "s:a1b2"}, {"attr:k8s.audit.verb", "s:get"}, {"attr:k8s.audit.stage", "s:ResponseComplete"},
        {"attr:k8s.audit.user.username", "s:system:admin"}, {"attr:k8s.audit.objectRef.resource", "s:pods"},
        {"attr:k8s.audit.objectRef.namespace", "s:default"}, {"attr:k8s.audit.objectRef.name", "s:web-0"},
        {"attr:http.response.status_code", "i:200"}, {"attr:client.address", "s:10.0.0.7"},
        {"time", "1704207845123456000"}, {"body", "*"}}},
      {"k8s-audit invalid: no auditID", "k8s-audit", R"({"kind":"Event"})", E,
       {{"attr:log.parse_error", "s:not a Kubernetes audit event: no auditID"}}},
      {"k8s-audit invalid JSON", "k8s-audit", "{", E, {}},

      // ---- auto ----
      {"auto picks JSON", "auto", R"(  {"msg":"j","n":1})", P, {{"body", "s:j"}, {"attr:n", "i:1"}}},
      {"auto picks logfmt", "auto", "level=info msg=hello n=2", P, {{"body", "s:hello"}, {"attr:n", "i:2"}}},
      {"auto keeps prose with one = as plain", "auto", "set x=1 done", P, {{"body", "s:set x=1 done"}, {"attr:x", kAbsent}}},
      {"auto plain", "auto", "just words", P, {{"body", "s:just words"}}},
      {"auto broken JSON is a parse error", "auto", "{oops", E, {{"body", "s:{oops"}}},
  };
  return all;
}

}  // namespace

TEST_CASE("every parser: table of valid and invalid lines", "[parse]") {
  for (const auto& c : cases()) run_case(c);
}

TEST_CASE("every registered parser has cases, and every case a registered parser", "[parse]") {
  for (const auto name : parser_names()) {
    int valid = 0, invalid = 0;
    for (const auto& c : cases()) {
      if (c.parser != name) continue;
      (c.result == ParseResult::parse_error ? invalid : valid) += 1;
    }
    INFO("parser " << name);
    CHECK(valid > 0);
    if (name != "plain") CHECK(invalid > 0);  // plain accepts everything
  }
}
