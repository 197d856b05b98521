#pragma once
// Failover over the configured outputs, shared by the sinks: try each output
// once, starting with the one that worked last, and remember the one that
// opened. A predicate can end the walk early on an error that another output
// would not cure (e.g. a refused handshake).
#include <cstddef>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/error.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include "sidecar/config/config.hpp"

namespace logferry {

// Awaits `open(outputs[i])` for i = preferred, preferred+1, ... (wrapping) until
// one succeeds (then `preferred` = i) or `stop_here(error)` is true; returns the
// first success, else the last error (host_not_found when `outputs` is empty).
// `open`: awaitable<result<T>>(const Endpoint&); `stop_here`: bool(error_code).
template <class T, class Open, class StopHere>
boost::asio::awaitable<boost::system::result<T>> open_with_failover(const std::vector<Endpoint>& outputs,
                                                                    size_t& preferred, Open open, StopHere stop_here) {
  boost::system::error_code last = boost::asio::error::host_not_found;
  for (size_t i = 0; i < outputs.size(); ++i) {
    const size_t idx = (preferred + i) % outputs.size();
    boost::system::result<T> r = co_await open(outputs[idx]);
    if (r) {
      preferred = idx;
      co_return r;
    }
    last = r.error();
    if (stop_here(last)) co_return last;
  }
  co_return last;
}

// The predicate of sinks for which every error is a reason to try the next output.
inline bool never_stop(const boost::system::error_code&) { return false; }

}  // namespace logferry
