#pragma once
// The timestamps of one source's entries, assigned once at intake so that a
// re-sent entry carries the same bytes and a backend that sorts by time shows
// the source's lines in file order (docs/ordering.md):
// - the observed time is the read time, strictly increasing per source
//   (max(now, previous + 1 ns));
// - an event time the line carried with coarser precision than nanoseconds,
//   equal to the previous line's, is moved 1 ns past the previous line's
//   (within the tick the line carried, never into the next one: ties beyond
//   the tick's capacity share its last nanosecond), so ties keep file order. An event time that differs from the previous line's is kept
//   as it is, even when it goes back in time.
#include <algorithm>
#include <cstdint>

namespace logferry {

// The precision a timestamp carried, inferred from its value: 1 s, 1 ms,
// 1 us or 1 ns, the coarsest that divides it. A parsed time is a multiple of
// its precision, so this is never finer than the precision the line had.
constexpr uint64_t carried_tick(uint64_t t) {
  if (t % 1'000'000'000 == 0) return 1'000'000'000;
  if (t % 1'000'000 == 0) return 1'000'000;
  if (t % 1'000 == 0) return 1'000;
  return 1;
}

class SourceClock {
 public:
  // The observed time of the source's next entry, given the clock's `now`.
  uint64_t observe(uint64_t now) {
    last_observed_ = now > last_observed_ ? now : last_observed_ + 1;
    return last_observed_;
  }

  // The event time to send for the source's next entry whose line carried
  // `t` (0 = none: returned unchanged; entries without one are skipped over).
  uint64_t order_event(uint64_t t) {
    if (t == 0) return 0;
    uint64_t out = t;
    if (t == last_event_in_) out = std::min(last_event_out_ + 1, t + carried_tick(t) - 1);  // stays in the tick
    last_event_in_ = t;
    last_event_out_ = out;
    return out;
  }

 private:
  uint64_t last_observed_ = 0;
  uint64_t last_event_in_ = 0;   // the previous entry's event time as its line carried it
  uint64_t last_event_out_ = 0;  // and as it was sent
};

}  // namespace logferry
