#pragma once
// The TLS client side shared by the sinks (tls://, otlp+https://, loki+https://):
// one context from LOGFERRY_TLS_CA/CERT/KEY, and per connection the server name
// sent (SNI) and verified against the server's certificate.
#include <optional>
#include <string>

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>

#include "sidecar/core/output_options.hpp"

namespace logferry {

// True for the schemes that speak TLS: tls, otlp+https, loki+https.
bool uses_tls(const Endpoint& ep);

// Loads the TLS client context: LOGFERRY_TLS_CA (system CAs when unset), peer
// verification on, TLS 1.2+, and LOGFERRY_TLS_CERT/KEY for mutual TLS.
// Throws std::runtime_error naming the variable at start-up.
boost::asio::ssl::context make_tls_client_context(const OutputOptions& options);

// make_tls_client_context when some output uses TLS, else nothing. Throws as it does.
std::optional<boost::asio::ssl::context> tls_client_context_if_needed(const OutputOptions& options);

// The name the server's certificate must carry: LOGFERRY_TLS_SERVER_NAME, else the output's host.
std::string tls_server_name(const OutputOptions& options, const Endpoint& ep);

// Sends `name` as SNI and makes the handshake fail unless the certificate matches it.
template <class SslStream>
void verify_server_name(SslStream& stream, const std::string& name) {
  SSL_set_tlsext_host_name(stream.native_handle(), name.c_str());
  stream.set_verify_callback(boost::asio::ssl::host_name_verification(name));
}

}  // namespace logferry
