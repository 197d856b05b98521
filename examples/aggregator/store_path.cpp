#include "aggregator/store_path.hpp"

#include <openssl/sha.h>

namespace logferry::aggregator {
namespace {

constexpr std::string_view kUnknown = "_unknown";
constexpr char kHex[] = "0123456789ABCDEF";
constexpr size_t kHashChars = 16;

bool kept(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string escape_path_component(std::string_view value) {
  if (value.empty()) return std::string(kUnknown);
  if (value == ".") return "%2E";
  if (value == "..") return "%2E%2E";
  std::string out;
  out.reserve(value.size());
  size_t cut = 0;  // the longest escape-boundary prefix that leaves room for the hash suffix
  for (const char c : value) {
    if (out.size() <= kMaxPathComponentBytes - kHashChars - 1) cut = out.size();
    if (kept(c)) {
      out.push_back(c);
    } else {
      const auto b = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 15]);
    }
  }
  if (out.size() <= kMaxPathComponentBytes) return out;
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(value.data()), value.size(), digest);
  out.resize(cut);
  out.push_back('+');
  for (size_t i = 0; i < kHashChars / 2; ++i) {
    out.push_back(static_cast<char>(kHex[digest[i] >> 4] | 0x20));  // lowercase hex
    out.push_back(static_cast<char>(kHex[digest[i] & 15] | 0x20));
  }
  return out;
}

std::optional<std::string> unescape_path_component(std::string_view name) {
  if (name == kUnknown) return std::string();
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (kept(c)) {
      out.push_back(c);
      continue;
    }
    if (c != '%' || i + 2 >= name.size()) return std::nullopt;
    const int hi = hex_value(name[i + 1]);
    const int lo = hex_value(name[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi << 4 | lo));
    i += 2;
  }
  if (escape_path_component(out) != name) return std::nullopt;  // "%2E" vs ".", cut names, ...
  return out;
}

std::string pod_dir_key(std::string_view ns, std::string_view pod) {
  std::string key = escape_path_component(ns);
  key.push_back('/');
  key += escape_path_component(pod);
  return key;
}

}  // namespace logferry::aggregator
