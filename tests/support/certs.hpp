#pragma once
// Throw-away TLS material for tests, made with the `openssl` command line in a
// directory the caller owns: a CA, a server certificate for localhost and
// 127.0.0.1 (subjectAltName), a client certificate, and a second, unrelated CA.
#include <filesystem>
#include <string>
#include <string_view>

namespace logferry::test {

struct TestCerts {
  std::filesystem::path ca;            // PEM of the CA that signed server and client
  std::filesystem::path server_cert;   // PEM, SAN DNS:localhost, IP:127.0.0.1, serverAuth
  std::filesystem::path server_key;
  std::filesystem::path client_cert;   // PEM, CN=logferry-sidecar, clientAuth
  std::filesystem::path client_key;
  std::filesystem::path other_ca;      // PEM of a CA that signed nothing here
  // PEM, CN=team-b-sidecar, SAN URI:spiffe://cluster.local/ns/team-b/sa/logferry and
  // DNS:logferry.team-b.svc, clientAuth (signed by `ca`)
  std::filesystem::path team_cert;
  std::filesystem::path team_key;
};

// Creates everything under `dir` (EC P-256 keys, valid two days). Throws
// std::runtime_error with openssl's output when a step fails.
TestCerts make_test_certs(const std::filesystem::path& dir);

// The SHA-256 of `s` in lower-case hex: a token's line in a credentials file.
std::string sha256_hex(std::string_view s);

}  // namespace logferry::test
