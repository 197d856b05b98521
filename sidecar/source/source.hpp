#pragma once
// A Source produces raw lines with their position and hands them to an Intake
// (the pipeline's front: parse, batch, forward). Files, the named pipe and
// stdin implement it.
#include <chrono>
#include <cstdint>
#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "sidecar/core/clock.hpp"
#include "sidecar/core/origin.hpp"

namespace logferry {

// One line as read: the bytes without the newline, where it starts and where
// the next line starts.
struct RawLine {
  std::string_view text;
  uint64_t offset = 0;      // first byte of the line within the origin
  uint64_t end_offset = 0;  // first byte after the line (and its newline)
  bool truncated = false;   // cut at LOGFERRY_MAX_LINE_BYTES
  // When it was read: the source takes the time once per read (ReadTime) and
  // gives it to each line of that read. Zero: now, taken at intake.
  uint64_t read_unix_nano = 0;  // first read (a spilled line keeps its own)
  std::chrono::steady_clock::time_point read_steady{};
};

// The time of one read, taken on its first line (two clock reads per read,
// not per line, and none on a read that returns nothing).
class ReadTime {
 public:
  void reset() { taken_ = false; }
  RawLine stamp(const RawLine& line) {
    if (!taken_) {
      unix_nano_ = now_unix_nano();
      steady_ = std::chrono::steady_clock::now();
      taken_ = true;
    }
    RawLine out = line;
    if (out.read_unix_nano == 0) out.read_unix_nano = unix_nano_;
    out.read_steady = steady_;
    return out;
  }

 private:
  uint64_t unix_nano_ = 0;
  std::chrono::steady_clock::time_point steady_{};
  bool taken_ = false;
};

class Intake {
 public:
  virtual ~Intake() = default;
  // Completes when the pipeline can take more lines (backpressure: a full
  // buffer pauses the caller until batches are acknowledged).
  virtual boost::asio::awaitable<void> wait_for_room() = 0;
  // True when the pipeline's memory budget is used up; a source should stop
  // reading and call wait_for_room().
  virtual bool full() const = 0;
  // Takes one line of `origin` (parses it into the current batch).
  virtual void accept(const OriginPtr& origin, const RawLine& line) = 0;
  // Marks that nothing further will come from `origin` (the reader is gone).
  virtual void retire(const OriginPtr& origin) = 0;
  // When the open batch is due (LOGFERRY_BATCH_TIMEOUT after its first line);
  // max without one. A source that sees few lines may hold its reads until
  // then: the lines would wait in the batch anyway, and one wake-up then
  // reads them all, where reading at every write of the app woke it each time.
  virtual std::chrono::steady_clock::time_point batch_due() const {
    return std::chrono::steady_clock::time_point::max();
  }
  // Seals the open batch if it is due. A source that held its reads calls it
  // after reading: the batch goes out with them, on time.
  virtual void seal_due() {}
};

class Source {
 public:
  virtual ~Source() = default;
  // Reads and hands lines to `intake` until drain() was called and everything
  // available at that moment was read, or until the coroutine is cancelled.
  virtual boost::asio::awaitable<void> run(Intake& intake) = 0;
  // Asks run() to stop discovering, read what is there now, and return.
  virtual void drain() = 0;
};

}  // namespace logferry
