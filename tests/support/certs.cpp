#include "support/certs.hpp"

#include <openssl/sha.h>

#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace logferry::test {
namespace {

void openssl(const std::vector<std::string>& args, const std::filesystem::path& dir) {
  std::vector<std::string> argv{"openssl"};
  argv.insert(argv.end(), args.begin(), args.end());
  ProcessEnv env = basic_environment();
  env["RANDFILE"] = (dir / ".rnd").string();
  const RunResult r = run_process(argv, env, 30s);
  if (!r.status || r.status->code != 0) {
    std::string cmd;
    for (const auto& a : argv) cmd += a + " ";
    throw std::runtime_error("openssl failed: " + cmd + "\n" + r.out + r.err);
  }
}

// A self-signed CA named `name`: dir/<file>.pem and dir/<file>.key.
void make_ca(const std::filesystem::path& dir, const std::string& file, const std::string& name) {
  const auto cnf = dir / (file + ".cnf");
  write_file(cnf, "[req]\ndistinguished_name=dn\nprompt=no\nx509_extensions=v3\n[dn]\nCN=" + name +
                      "\n[v3]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n"
                      "subjectKeyIdentifier=hash\n");
  openssl({"req", "-x509", "-config", cnf.string(), "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
           "-nodes", "-keyout", (dir / (file + ".key")).string(), "-out", (dir / (file + ".pem")).string(), "-days",
           "2"},
          dir);
}

// A leaf certificate `file` for CN `cn`, signed by the CA `ca`, with `extensions`.
void make_leaf(const std::filesystem::path& dir, const std::string& file, const std::string& cn, const std::string& ca,
               const std::string& extensions) {
  const auto cnf = dir / (file + ".cnf");
  write_file(cnf, "[req]\ndistinguished_name=dn\nprompt=no\n[dn]\nCN=" + cn + "\n");
  const auto ext = dir / (file + ".ext");
  write_file(ext, extensions);
  openssl({"req", "-new", "-config", cnf.string(), "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
           "-nodes", "-keyout", (dir / (file + ".key")).string(), "-out", (dir / (file + ".csr")).string()},
          dir);
  openssl({"x509", "-req", "-in", (dir / (file + ".csr")).string(), "-CA", (dir / (ca + ".pem")).string(), "-CAkey",
           (dir / (ca + ".key")).string(), "-CAcreateserial", "-out", (dir / (file + ".pem")).string(), "-days", "2",
           "-extfile", ext.string()},
          dir);
}

}  // namespace

TestCerts make_test_certs(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  make_ca(dir, "ca", "logferry test CA");
  make_ca(dir, "other-ca", "some other CA");
  make_leaf(dir, "server", "localhost", "ca",
            "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
            "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
  make_leaf(dir, "client", "logferry-sidecar", "ca",
            "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n");
  make_leaf(dir, "team", "team-b-sidecar", "ca",
            "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n"
            "subjectAltName=URI:spiffe://cluster.local/ns/team-b/sa/logferry,DNS:logferry.team-b.svc\n");
  return TestCerts{dir / "ca.pem",       dir / "server.pem", dir / "server.key", dir / "client.pem",
                   dir / "client.key",   dir / "other-ca.pem", dir / "team.pem", dir / "team.key"};
}

std::string sha256_hex(std::string_view s) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), d);
  std::string out;
  for (const unsigned char c : d) out += fmt::format("{:02x}", c);
  return out;
}

}  // namespace logferry::test
