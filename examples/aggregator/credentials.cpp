#include "aggregator/credentials.hpp"

#include <fnmatch.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "sidecar/core/logger.hpp"

namespace logferry::aggregator {
namespace {

constexpr std::string_view kNamespaceKey = "k8s.namespace.name";
constexpr std::string_view kHashPrefix = "sha256:";

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
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

std::string parse_credentials(std::string_view text,
                              std::vector<std::pair<std::array<unsigned char, 32>, NamespaceGrant>>& out) {
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
    if (!credential.starts_with(kHashPrefix) || credential.size() != kHashPrefix.size() + 64) {
      return fmt::format("line {}: expected sha256:<64 hex digits> (the SHA-256 of a token) and namespace patterns",
                         line_no);
    }
    std::array<unsigned char, 32> hash{};
    for (size_t i = 0; i < 32; ++i) {
      const int hi = hex_digit(credential[kHashPrefix.size() + 2 * i]);
      const int lo = hex_digit(credential[kHashPrefix.size() + 2 * i + 1]);
      if (hi < 0 || lo < 0) return fmt::format("line {}: the hash is not hexadecimal", line_no);
      hash[i] = static_cast<unsigned char>(hi << 4 | lo);
    }
    std::vector<std::string> patterns;
    std::string_view rest = globs;
    while (!rest.empty()) {
      const size_t comma = rest.find(',');
      const std::string_view glob = trim(rest.substr(0, comma));
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      if (!glob.empty()) patterns.emplace_back(glob);
    }
    if (patterns.empty()) return fmt::format("line {}: expected namespace patterns after the hash, e.g. team-a,team-a-*", line_no);
    out.emplace_back(hash, NamespaceGrant(std::move(patterns)));
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
  std::vector<std::pair<std::array<unsigned char, 32>, NamespaceGrant>> parsed;
  if (auto why = parse_credentials(ss.str(), parsed); !why.empty()) return path_ + ": " + why;
  entries_.clear();
  for (auto& [hash, grant] : parsed) entries_.push_back(Entry{hash, std::move(grant)});
  stamp_ = Stamp{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino), static_cast<uint64_t>(st.st_size),
                 static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
  return {};
}

std::optional<NamespaceGrant> Credentials::find(std::string_view token) {
  struct stat st {};
  if (::stat(path_.c_str(), &st) == 0) {
    const Stamp now{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino),
                    static_cast<uint64_t>(st.st_size),
                    static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
    if (now != stamp_) {
      if (auto why = load(); !why.empty()) {
        stamp_ = now;  // not parsed again until it changes
        log_limited(LogLevel::error, "the credentials file is invalid: keeping the last good one", {{"error", why}});
      } else {
        log_info("credentials file re-read", {{"path", path_}, {"credentials", entries_.size()}});
      }
    }
  }
  unsigned char given[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), given);
  const Entry* match = nullptr;
  for (const auto& e : entries_) {  // every entry compared: the time does not tell which one matched
    if (CRYPTO_memcmp(e.hash.data(), given, sizeof given) == 0 && match == nullptr) match = &e;
  }
  if (match == nullptr || token.empty()) return std::nullopt;
  return match->grant;
}

}  // namespace logferry::aggregator
