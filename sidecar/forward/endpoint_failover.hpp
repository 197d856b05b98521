#pragma once
// Failover over the configured outputs, shared by the sinks: try each output
// once, starting with the one that worked last, and remember the one that
// opened. A predicate can end the walk early on an error that another output
// would not cure (e.g. a refused handshake). Each failed attempt is counted
// under its output's text (query redacted), for the per-output error metric.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/error.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include "sidecar/core/output_options.hpp"
#include "sidecar/config/value_parsers.hpp"

namespace logferry {

// Awaits `open(outputs[i])` for i = preferred, preferred+1, ... (wrapping) until
// one succeeds (then `preferred` = i) or `stop_here(error)` is true; returns the
// first success, else the last error (host_not_found when `outputs` is empty).
// `open`: awaitable<result<T>>(const Endpoint&); `stop_here`: bool(error_code).
// Every failed attempt adds one to `errors[output text]`.
template <class T, class Open, class StopHere>
boost::asio::awaitable<boost::system::result<T>> open_with_failover(const std::vector<Endpoint>& outputs,
                                                                    size_t& preferred,
                                                                    std::map<std::string, uint64_t>& errors, Open open,
                                                                    StopHere stop_here) {
  boost::system::error_code last = boost::asio::error::host_not_found;
  for (size_t i = 0; i < outputs.size(); ++i) {
    const size_t idx = (preferred + i) % outputs.size();
    boost::system::result<T> r = co_await open(outputs[idx]);
    if (r) {
      preferred = idx;
      co_return r;
    }
    last = r.error();
    ++errors[redact_urls(outputs[idx].text)];
    if (stop_here(last)) co_return last;
  }
  co_return last;
}

// The text of the output that opened last (the first one before any did), its
// query string redacted (credentials are refused at start-up): the sinks'
// current_output().
inline std::string preferred_output(const std::vector<Endpoint>& outputs, size_t preferred) {
  return preferred < outputs.size() ? redact_urls(outputs[preferred].text) : std::string();
}

// Every output, comma-separated, redacted the same way: the sinks' describe().
inline std::string describe_outputs(const std::vector<Endpoint>& outputs) {
  std::string out;
  for (const auto& ep : outputs) out += (out.empty() ? "" : ",") + redact_urls(ep.text);
  return out;
}

// The predicate of sinks for which every error is a reason to try the next output.
inline bool never_stop(const boost::system::error_code&) { return false; }

}  // namespace logferry
