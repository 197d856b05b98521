#pragma once
// logferry's own error codes for the data path (returned, never thrown).
#include <boost/system/error_code.hpp>

namespace logferry {

enum class Errc {
  frame_too_large = 1,   // a frame's length exceeds the receiver's maximum
  malformed_message,     // a frame's payload is not a valid message
  protocol_violation,    // a valid message at the wrong time or with wrong numbers
  handshake_refused,     // the peer refused our hello (version, token)
  ack_timeout,           // the oldest batch waited too long for its ack
  retry_requested,       // the peer asked us to retry later
  closed,                // the connection was closed on purpose
};

const boost::system::error_category& logferry_category();

inline boost::system::error_code make_error_code(Errc e) {
  return {static_cast<int>(e), logferry_category()};
}

}  // namespace logferry

template <>
struct boost::system::is_error_code_enum<logferry::Errc> : std::true_type {};
