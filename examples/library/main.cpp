// logferry's client library in a tiny application: configured from the
// environment like the sidecar (LOGFERRY_OUTPUT=tcp://HOST:PORT, ...), it logs
// a few entries with attributes, flushes, and prints the client's counters.
//   logferry-library-example [COUNT]
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include <logferry/client.hpp>

int main(int argc, char** argv) {
  const long count = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 10;
  try {
    logferry::Client client(logferry::ClientConfig::from_environment());
    for (long i = 0; i < count; ++i) {
      client.log(logferry::Severity::info, "order placed " + std::to_string(i),
                 {{"order_id", int64_t{i}}, {"currency", std::string("EUR")}, {"express", i % 2 == 0}});
    }
    const bool flushed = client.flush(std::chrono::seconds(10));
    const auto s = client.stats();
    std::printf("{\"flushed\":%s,\"logged\":%llu,\"accepted\":%llu,\"dropped\":%llu,\"acked\":%llu}\n",
                flushed ? "true" : "false", static_cast<unsigned long long>(s.logged),
                static_cast<unsigned long long>(s.accepted), static_cast<unsigned long long>(s.dropped),
                static_cast<unsigned long long>(s.acked));
    return flushed ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "logferry: %s\n", e.what());
    return 2;
  }
}
