#include "sidecar/core/errors.hpp"

#include <string>

#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"  // boost::system::error_category by design

namespace logferry {
namespace {

class Category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "logferry"; }
  std::string message(int ev) const override {
    switch (static_cast<Errc>(ev)) {
      case Errc::frame_too_large: return "frame larger than the maximum frame size";
      case Errc::malformed_message: return "malformed message";
      case Errc::protocol_violation: return "protocol violation";
      case Errc::handshake_refused: return "handshake refused";
      case Errc::ack_timeout: return "timed out waiting for an acknowledgement";
      case Errc::retry_requested: return "the receiver asked to retry later";
      case Errc::closed: return "connection closed";
    }
    return "unknown logferry error";
  }
};

}  // namespace

const boost::system::error_category& logferry_category() {
  static const Category c;
  return c;
}

}  // namespace logferry
