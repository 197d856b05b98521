// Throughput of each parser chain on synthetic but realistic lines, printed as
// lines/s. Not a test (not run by ctest): build logferry_parser_bench and run
// it on an idle machine. Usage: logferry_parser_bench [lines-per-parser [parser]]
// Each parser is timed as the batcher drives it (encode() when the chain offers
// it, else parse() into a reused entry and serialization), and parse() alone.
// With --file PATH PARSER [lines [dump-file]]: writes the file's lines into
// batches of 2,000 wire-format entries, as the sidecar's batcher does (no I/O
// to the network); run it under callgrind for instructions per line.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string_view>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "sidecar/config/config.hpp"
#include "sidecar/core/wire_buffer.hpp"
#include "sidecar/parse/entry_writer.hpp"
#include "sidecar/parse/registry.hpp"

using namespace logferry;

namespace {

struct Workload {
  std::string parser;
  Environment env;
  std::vector<std::string> lines;
};

std::vector<Workload> workloads() {
  std::vector<Workload> w;
  w.push_back({"plain", {}, {"2024-01-02 15:04:05.123 INFO request handled in 12ms path=/api/orders status=200"}});
  w.push_back({"json",
               {},
               {R"({"ts":"2024-01-02T15:04:05.123456Z","level":"info","msg":"request handled","method":"GET","path":"/api/orders/12345","status":200,"duration_ms":12.5,"user":{"id":42,"name":"bob"},"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7"})",
                R"({"ts":1704207845123,"level":"warn","msg":"slow query","table":"orders","rows":1200,"cached":false})"}});
  w.push_back({"logfmt",
               {},
               {R"(ts=2024-01-02T15:04:05.123Z level=info msg="request handled" method=GET path=/api/orders status=200 duration=12.5)"}});
  w.push_back({"regex",
               {{"LOGFERRY_REGEX", R"(^(?P<time>\S+) (?P<level>\w+) \[(?P<component>[^\]]*)\] (?P<msg>.*)$)"}},
               {"2024-01-02T15:04:05.123Z INFO [http] request handled in 12ms"}});
  w.push_back({"cri", {}, {R"(2024-01-02T15:04:05.123456789Z stdout F {"level":"info","msg":"hello","n":1})"}});
  w.push_back({"docker", {}, {R"({"log":"plain text message from the app\n","stream":"stdout","time":"2024-01-02T15:04:05.123456789Z"})"}});
  w.push_back({"nginx",
               {},
               {R"x(192.168.1.5 - - [10/Oct/2000:13:55:36 -0700] "GET /index.html?a=1 HTTP/1.1" 200 2326 "http://example.com/" "Mozilla/5.0 (X11; Linux x86_64)")x"}});
  w.push_back({"syslog", {}, {"<34>Oct 11 22:14:15 mymachine su[123]: 'su root' failed for lonvick on /dev/pts/8"}});
  w.push_back({"klog", {}, {R"(I0102 15:04:05.123456   12345 controller.go:123] "Pod updated" pod="kube-system/coredns-5d78c9869d-abcde" ready=true)"}});
  w.push_back({"auto", {}, {R"({"level":"info","msg":"json line"})", "level=info msg=logfmt n=1", "plain text line"}});
  w.push_back({"plain", {{"LOGFERRY_MULTILINE", "java"}},
               {"2024-01-02 ERROR failed", "java.lang.IllegalStateException: boom", "\tat a.b.C.d(C.java:1)",
                "\tat a.b.C.e(C.java:2)"}});
  return w;
}

std::unique_ptr<Parser> parser_named(const std::string& name) {
  Environment env{{"LOGFERRY_OUTPUT", "tcp://127.0.0.1:1"}, {"LOGFERRY_FILES", "/tmp/x.log"},
                  {"LOGFERRY_CHECKPOINT_DIR", "/tmp"}, {"LOGFERRY_PARSER", name}};
  const ConfigResult cr = load_config(env, parser_catalog());
  if (!cr.errors.empty()) {
    fmt::print(stderr, "{}: {}\n", name, cr.errors.front().message);
    std::exit(1);
  }
  return make_parser_for(cr.config.parse, "/tmp/x.log");
}

// Parses every line of `path` into batches of wire bytes, like the batcher.
// With `dump` set, the batches are also written there (to compare two builds' output).
int run_file(const std::string& path, const std::string& parser_name, long max_lines, const char* dump) {
  auto parser = parser_named(parser_name);
  std::ifstream in(path);
  std::ofstream out;
  if (dump != nullptr) out.open(dump, std::ios::binary);
  std::string line;
  WireBuffer wire;
  v1::Entry reused;
  long lines = 0;
  size_t bytes = 0;
  const auto start = std::chrono::steady_clock::now();
  auto seal = [&] {
    bytes += wire.size();
    if (dump != nullptr) out << wire.view();
    wire.clear();
  };
  while (lines < max_lines && std::getline(in, line)) {
    const size_t mark = wire.open(4);  // Batch.entries
    parse_to_wire(*parser, line, reused, wire);
    wire.varint(101, static_cast<uint64_t>(lines));
    wire.close(mark);
    if (++lines % 2000 == 0) seal();
  }
  seal();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fmt::print("{} {}: {} lines, {} payload bytes, {:.0f} lines/s\n", parser_name, path, lines, bytes,
             static_cast<double>(lines) / s);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 3 && std::string_view(argv[1]) == "--file")
    return run_file(argv[2], argv[3], argc > 4 ? std::atol(argv[4]) : 1L << 40, argc > 5 ? argv[5] : nullptr);
  const long n = argc > 1 ? std::atol(argv[1]) : 500000;
  const std::string only = argc > 2 ? argv[2] : "";
  for (auto& w : workloads()) {
    if (!only.empty() && w.parser != only) continue;
    w.env["LOGFERRY_OUTPUT"] = "tcp://127.0.0.1:1";
    w.env["LOGFERRY_FILES"] = "/tmp/x.log";
    w.env["LOGFERRY_CHECKPOINT_DIR"] = "/tmp";
    w.env["LOGFERRY_PARSER"] = w.parser;
    const ConfigResult cr = load_config(w.env, parser_catalog());
    if (!cr.errors.empty()) {
      fmt::print(stderr, "{}: {}\n", w.parser, cr.errors.front().message);
      return 1;
    }
    auto parser = make_parser_for(cr.config.parse, "/tmp/x.log");
    size_t bytes = 0, entries = 0;
    WireBuffer wire;
    v1::Entry reused;
    const auto start = std::chrono::steady_clock::now();
    for (long i = 0; i < n; ++i) {
      const std::string& line = w.lines[static_cast<size_t>(i) % w.lines.size()];
      const ParseResult r = parse_to_wire(*parser, line, reused, wire);  // as the batcher does
      entries += r == ParseResult::parsed || r == ParseResult::parsed_holding_line;
      bytes += line.size();
      if (wire.size() > (1u << 19)) wire.clear();
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    // parse() alone into one reused entry (Clear() keeps its allocations), no wire bytes.
    const auto start2 = std::chrono::steady_clock::now();
    for (long i = 0; i < n; ++i) {
      reused.Clear();
      parser->parse(w.lines[static_cast<size_t>(i) % w.lines.size()], reused);
    }
    const double s2 = std::chrono::duration<double>(std::chrono::steady_clock::now() - start2).count();
    const std::string label = w.env.count("LOGFERRY_MULTILINE") ? w.parser + "+multiline" : w.parser;
    fmt::print("{:<18} {:>10.0f} lines/s {:>7.1f} MB/s  parse() only: {:>10.0f} lines/s  ({} entries)\n", label,
               static_cast<double>(n) / s, static_cast<double>(bytes) / s / 1e6, static_cast<double>(n) / s2, entries);
  }
  return 0;
}
