#pragma once
// Which namespaces a client may write, bound to its credential: the
// credentials file (LOGFERRY_AGGREGATOR_CREDENTIALS_FILE) maps the SHA-256 of
// each token, or a name in the client certificate (mutual TLS), to namespace
// glob patterns, one line per credential:
//
//   # comment
//   sha256:<64 hex digits>  team-a,team-a-*
//   uri:spiffe://cluster.local/ns/team-b/sa/logferry  team-b
//   dns:logferry.team-c.svc  team-c
//   cn:team-d-sidecar  team-d
//
// The single LOGFERRY_AGGREGATOR_TOKEN(_FILE) token, and no token at all,
// grant every namespace. Reserved namespaces (the audit store's "_audit") are
// granted to nobody.
#include <sys/stat.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/types.h>

#include "sidecar/core/file_stamp.hpp"
#include "logferry/v1/logferry.pb.h"

namespace logferry::aggregator {

// The namespaces a client may write.
class NamespaceGrant {
 public:
  // Every namespace (reserved ones excepted).
  NamespaceGrant() = default;
  // Namespaces matching one of `globs` (fnmatch patterns: *, ?, [...]).
  explicit NamespaceGrant(std::vector<std::string> globs) : globs_(std::move(globs)), all_(false) {}
  bool allows(std::string_view ns) const;
  // The patterns, for messages ("*" for every namespace).
  std::string describe() const;

 private:
  std::vector<std::string> globs_;
  bool all_ = true;
};

// True for namespaces no client may write: "_audit".
bool reserved_namespace(std::string_view ns);

// "" when every source's namespace (k8s.namespace.name of the batch, or of the
// source's own resource, which extends it) is granted; else why not.
std::string check_namespaces(const v1::Batch& head, const NamespaceGrant& grant);

// One line of the credentials file.
struct CredentialEntry {
  std::array<unsigned char, 32> hash{};  // of the token (sha256: lines)
  std::string certificate;               // or a certificate name: "uri:...", "dns:..." or "cn:..."
  NamespaceGrant grant;
};

// The names a client certificate carries, as the credentials file writes them:
// "uri:<value>" and "dns:<value>" for each subjectAltName of those types, then
// "cn:<value>" for each common name of the subject. Names with a NUL byte are left out.
std::vector<std::string> certificate_names(const X509* certificate);

// The parsed credentials file, re-read when it changes (size, mtime or identity).
class Credentials {
 public:
  explicit Credentials(std::string path) : path_(std::move(path)) {}
  // Reads the file; "" or what is wrong with it (line numbers included).
  std::string load();
  // The grant of `token`, re-reading the file first when it changed (a bad
  // new version is logged and the last good one kept); nullopt when unknown.
  std::optional<NamespaceGrant> find(std::string_view token);
  // The grant of the first line naming one of `names` (certificate_names() of
  // a verified client certificate), after the same re-read; nullopt when none does.
  std::optional<NamespaceGrant> find_certificate(const std::vector<std::string>& names);
  size_t size() const { return entries_.size(); }

 private:
  using Entry = CredentialEntry;
  // Re-reads the file when its stamp changed.
  void refresh();
  std::string path_;
  FileStamp stamp_;
  std::vector<Entry> entries_;
};

// Parses credentials file text into entries; "" or the first error.
std::string parse_credentials(std::string_view text, std::vector<CredentialEntry>& out);

}  // namespace logferry::aggregator
