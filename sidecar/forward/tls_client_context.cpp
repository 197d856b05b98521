#include "sidecar/forward/tls_client_context.hpp"

#include <stdexcept>

#include <fmt/format.h>

namespace logferry {

namespace ssl = boost::asio::ssl;
using boost::system::error_code;

bool uses_tls(const Endpoint& ep) { return ep.scheme == "tls" || ep.scheme.ends_with("+https"); }

ssl::context make_tls_client_context(const OutputOptions& options) {
  ssl::context tls(ssl::context::tls_client);
  tls.set_options(ssl::context::no_sslv2 | ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  error_code ec;
  if (options.tls_ca.empty()) {
    tls.set_default_verify_paths(ec);
  } else {
    tls.load_verify_file(options.tls_ca, ec);
    if (ec) throw std::runtime_error(fmt::format("LOGFERRY_TLS_CA=\"{}\": cannot load: {}", options.tls_ca, ec.message()));
  }
  tls.set_verify_mode(ssl::verify_peer);
  if (!options.tls_cert.empty()) {
    tls.use_certificate_chain_file(options.tls_cert, ec);
    if (ec) throw std::runtime_error(fmt::format("LOGFERRY_TLS_CERT=\"{}\": cannot load: {}", options.tls_cert, ec.message()));
    tls.use_private_key_file(options.tls_key, ssl::context::pem, ec);
    if (ec) throw std::runtime_error(fmt::format("LOGFERRY_TLS_KEY=\"{}\": cannot load: {}", options.tls_key, ec.message()));
  }
  return tls;
}

std::optional<ssl::context> tls_client_context_if_needed(const OutputOptions& options) {
  for (const auto& ep : options.outputs)
    if (uses_tls(ep)) return make_tls_client_context(options);
  return std::nullopt;
}

std::string tls_server_name(const OutputOptions& options, const Endpoint& ep) {
  return options.tls_server_name.empty() ? ep.host : options.tls_server_name;
}

}  // namespace logferry
