#pragma once
// What an HTTP output's answer means for a batch, shared by the OTLP and Loki
// sinks: 2xx accepted; 429, 5xx and 3xx retried (honouring Retry-After); 400
// and every other 4xx rejected for good (counted, logged, never re-sent).
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "sidecar/forward/sink.hpp"

namespace logferry {

// The longest Retry-After honoured; larger hints are cut to this.
inline constexpr std::chrono::milliseconds kMaxRetryAfter{10 * 60 * 1000};

// Parses a Retry-After value: delay-seconds ("120") or an HTTP date
// ("Wed, 21 Oct 2015 07:28:00 GMT", relative to `now`). Dates in the past give
// 0; std::nullopt when the value is neither.
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::chrono::system_clock::time_point now);

// Maps a status code (and the Retry-After header, "" when absent) to an
// outcome; `body` gives the error text (its start, printable bytes only).
DeliveryReport classify_http_response(uint64_t sequence, unsigned status, std::string_view retry_after,
                                      std::string_view body);

}  // namespace logferry
