// A test program linking logferry::client the way an application does (only
// <logferry/client.hpp>): THREADS threads log PER_THREAD entries each (bodies
// "t<thread>-<i>"), pausing PAUSE_US microseconds after every PAUSE_EVERY
// entries, and measure the longest single log() call. Configured from the
// environment (LOGFERRY_OUTPUT, LOGFERRY_CLIENT_QUEUE_ENTRIES, ...).
// Prints "logging" when it starts, "logged {...}" when every thread is done,
// then flushes (at most FLUSH_MS) and prints "done {...}" with the counters.
//   logferry_library_load_app THREADS PER_THREAD PAUSE_EVERY PAUSE_US FLUSH_MS
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <thread>
#include <vector>

#include <logferry/client.hpp>

namespace {

long arg(int argc, char** argv, int i) { return i < argc ? std::strtol(argv[i], nullptr, 10) : 0; }

void print_stats(const char* what, const logferry::ClientStats& s, long long max_log_us, bool flushed) {
  std::printf(
      "%s {\"logged\":%llu,\"accepted\":%llu,\"dropped\":%llu,\"acked\":%llu,\"max_log_us\":%lld,\"flushed\":%s}\n",
      what, static_cast<unsigned long long>(s.logged), static_cast<unsigned long long>(s.accepted),
      static_cast<unsigned long long>(s.dropped), static_cast<unsigned long long>(s.acked), max_log_us,
      flushed ? "true" : "false");
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: %s THREADS PER_THREAD PAUSE_EVERY PAUSE_US FLUSH_MS\n", argv[0]);
    return 2;
  }
  const long threads = arg(argc, argv, 1), per_thread = arg(argc, argv, 2);
  const long pause_every = std::max(1L, arg(argc, argv, 3)), pause_us = arg(argc, argv, 4);
  const long flush_ms = arg(argc, argv, 5);
  try {
    logferry::Client client(logferry::ClientConfig::from_environment());
    std::printf("logging\n");
    std::fflush(stdout);
    std::atomic<long long> max_log_ns{0};
    std::vector<std::thread> workers;
    for (long t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        long long longest = 0;
        for (long i = 0; i < per_thread; ++i) {
          const std::string body = "t" + std::to_string(t) + "-" + std::to_string(i);
          const auto start = std::chrono::steady_clock::now();
          client.log(logferry::Severity::info, body, {{"thread", int64_t{t}}, {"i", int64_t{i}}});
          const auto took = std::chrono::steady_clock::now() - start;
          longest = std::max<long long>(longest, std::chrono::nanoseconds(took).count());
          if ((i + 1) % pause_every == 0 && pause_us > 0) std::this_thread::sleep_for(std::chrono::microseconds(pause_us));
        }
        long long seen = max_log_ns.load();
        while (longest > seen && !max_log_ns.compare_exchange_weak(seen, longest)) {
        }
      });
    }
    for (auto& w : workers) w.join();
    const long long max_us = max_log_ns.load() / 1000;
    print_stats("logged", client.stats(), max_us, false);
    const bool flushed = client.flush(std::chrono::milliseconds(flush_ms));
    print_stats("done", client.stats(), max_us, flushed);
    return flushed ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "library_load_app: %s\n", e.what());
    return 2;
  }
}
