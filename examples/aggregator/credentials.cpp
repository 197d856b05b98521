#include "aggregator/credentials.hpp"

#include <fnmatch.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

#include <fmt/format.h>

#include "sidecar/core/code_points.hpp"
#include "sidecar/core/logger.hpp"

namespace logferry::aggregator {
namespace {

constexpr std::string_view kNamespaceKey = "k8s.namespace.name";
constexpr std::string_view kHashPrefix = "sha256:";
constexpr std::string_view kCertificatePrefixes[] = {"uri:", "dns:", "cn:"};

// "<prefix><value>" for an ASN.1 string without NUL bytes; "" otherwise.
std::string certificate_name(std::string_view prefix, const ASN1_STRING* value) {
  unsigned char* utf8 = nullptr;
  const int n = ASN1_STRING_to_UTF8(&utf8, value);
  if (n < 0) return {};
  const std::unique_ptr<unsigned char, void (*)(unsigned char*)> owned(utf8, [](unsigned char* p) { OPENSSL_free(p); });
  const std::string_view text(reinterpret_cast<const char*>(utf8), static_cast<size_t>(n));
  if (text.empty() || text.find('\0') != std::string_view::npos) return {};
  return std::string(prefix) + std::string(text);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// The namespace label among `labels`, if there is one.
std::optional<std::string_view> namespace_label(const google::protobuf::RepeatedPtrField<v1::KeyValue>& labels) {
  std::optional<std::string_view> ns;
  for (const auto& kv : labels) {
    if (kv.key() != kNamespaceKey) continue;
    ns = kv.value().value_case() == v1::AnyValue::kStringValue ? std::string_view(kv.value().string_value())
                                                              : std::string_view();
  }
  return ns;
}

std::string check_one(std::string_view ns, const NamespaceGrant& grant) {
  if (reserved_namespace(ns)) return fmt::format("namespace \"{}\" is reserved for the aggregator's own store", ns);
  if (!grant.allows(ns)) {
    return fmt::format("this client's credential may not write namespace \"{}\" (allowed: {})", ns, grant.describe());
  }
  return {};
}

}  // namespace

bool NamespaceGrant::allows(std::string_view ns) const {
  if (all_) return true;
  const std::string name(ns);
  for (const auto& glob : globs_) {
    if (::fnmatch(glob.c_str(), name.c_str(), 0) == 0) return true;
  }
  return false;
}

std::string NamespaceGrant::describe() const {
  if (all_) return "*";
  std::string out;
  for (const auto& g : globs_) out += (out.empty() ? "" : ",") + g;
  return out;
}

bool reserved_namespace(std::string_view ns) { return ns == "_audit"; }

std::string check_namespaces(const v1::Batch& head, const NamespaceGrant& grant) {
  const std::string_view batch_ns = namespace_label(head.resource()).value_or(std::string_view());
  if (head.sources_size() == 0) return check_one(batch_ns, grant);
  for (const auto& src : head.sources()) {
    if (auto why = check_one(namespace_label(src.resource()).value_or(batch_ns), grant); !why.empty()) return why;
  }
  return {};
}

std::vector<std::string> certificate_names(const X509* certificate) {
  std::vector<std::string> out;
  if (certificate == nullptr) return out;
  using Names = std::unique_ptr<GENERAL_NAMES, void (*)(GENERAL_NAMES*)>;
  const Names sans(static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr)),
                   GENERAL_NAMES_free);
  for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(sans.get(), i);
    std::string text;
    if (name->type == GEN_URI) text = certificate_name("uri:", name->d.uniformResourceIdentifier);
    else if (name->type == GEN_DNS) text = certificate_name("dns:", name->d.dNSName);
    if (!text.empty()) out.push_back(std::move(text));
  }
  const X509_NAME* subject = X509_get_subject_name(certificate);
  for (int i = -1; subject != nullptr && (i = X509_NAME_get_index_by_NID(subject, NID_commonName, i)) >= 0;) {
    std::string text = certificate_name("cn:", X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i)));
    if (!text.empty()) out.push_back(std::move(text));
  }
  return out;
}

std::string parse_credentials(std::string_view text, std::vector<CredentialEntry>& out) {
  out.clear();
  size_t line_no = 0;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    if (line.empty() || line.front() == '#') continue;
    const size_t space = line.find_first_of(" \t");
    const std::string_view credential = line.substr(0, space);
    const std::string_view globs = space == std::string_view::npos ? std::string_view() : trim(line.substr(space));
    CredentialEntry entry;
    if (std::any_of(std::begin(kCertificatePrefixes), std::end(kCertificatePrefixes),
                    [&](std::string_view p) { return credential.starts_with(p) && credential.size() > p.size(); })) {
      entry.certificate = std::string(credential);
    } else if (credential.starts_with(kHashPrefix) && credential.size() == kHashPrefix.size() + 64) {
      for (size_t i = 0; i < 32; ++i) {
        const int hi = hex_digit_value(credential[kHashPrefix.size() + 2 * i]);
        const int lo = hex_digit_value(credential[kHashPrefix.size() + 2 * i + 1]);
        if (hi < 0 || lo < 0) return fmt::format("line {}: the hash is not hexadecimal", line_no);
        entry.hash[i] = static_cast<unsigned char>(hi << 4 | lo);
      }
    } else {
      return fmt::format(
          "line {}: expected sha256:<64 hex digits> (the SHA-256 of a token), or uri:, dns: or cn: and a name "
          "in the client certificate, then namespace patterns",
          line_no);
    }
    std::vector<std::string> patterns;
    std::string_view rest = globs;
    while (!rest.empty()) {
      const size_t comma = rest.find(',');
      const std::string_view glob = trim(rest.substr(0, comma));
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      if (!glob.empty()) patterns.emplace_back(glob);
    }
    if (patterns.empty()) {
      return fmt::format("line {}: expected namespace patterns after the credential, e.g. team-a,team-a-*", line_no);
    }
    entry.grant = NamespaceGrant(std::move(patterns));
    out.push_back(std::move(entry));
  }
  return {};
}

std::string Credentials::load() {
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) return fmt::format("cannot read {}: {}", path_, std::strerror(errno));
  std::ifstream in(path_, std::ios::binary);
  std::stringstream ss;
  if (in) ss << in.rdbuf();
  if (!in) return fmt::format("cannot read {}", path_);
  std::vector<CredentialEntry> parsed;
  if (auto why = parse_credentials(ss.str(), parsed); !why.empty()) return path_ + ": " + why;
  entries_ = std::move(parsed);
  stamp_ = FileStamp::of(st);
  return {};
}

void Credentials::refresh() {
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) return;
  const FileStamp now = FileStamp::of(st);
  if (now == stamp_) return;
  if (auto why = load(); !why.empty()) {
    stamp_ = now;  // not parsed again until it changes
    log_limited(LogLevel::error, "the credentials file is invalid: keeping the last good one", {{"error", why}});
  } else {
    log_info("credentials file re-read", {{"path", path_}, {"credentials", entries_.size()}});
  }
}

std::optional<NamespaceGrant> Credentials::find(std::string_view token) {
  refresh();
  unsigned char given[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), given);
  const Entry* match = nullptr;
  for (const auto& e : entries_) {  // every entry compared: the time does not tell which one matched
    const bool same = CRYPTO_memcmp(e.hash.data(), given, sizeof given) == 0;
    if (same && e.certificate.empty() && match == nullptr) match = &e;
  }
  if (match == nullptr || token.empty()) return std::nullopt;
  return match->grant;
}

std::optional<NamespaceGrant> Credentials::find_certificate(const std::vector<std::string>& names) {
  refresh();
  for (const auto& e : entries_) {
    if (e.certificate.empty()) continue;
    if (std::find(names.begin(), names.end(), e.certificate) != names.end()) return e.grant;
  }
  return std::nullopt;
}

}  // namespace logferry::aggregator
