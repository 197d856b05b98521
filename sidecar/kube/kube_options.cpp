#include "sidecar/kube/kube_options.hpp"

#include <charconv>

#include <fmt/format.h>

namespace logferry {

namespace {

std::optional<uint16_t> parse_port(std::string_view s) {
  unsigned v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || end != s.data() + s.size() || v == 0 || v > 65535) return std::nullopt;
  return static_cast<uint16_t>(v);
}

std::string host_port(std::string_view host, uint16_t port) {
  return host.find(':') != std::string_view::npos ? fmt::format("[{}]:{}", host, port) : fmt::format("{}:{}", host, port);
}

}  // namespace

std::optional<KubeOptions> in_cluster_options(const std::function<const char*(const char*)>& getenv) {
  const char* host = getenv("KUBERNETES_SERVICE_HOST");
  const char* port_text = getenv("KUBERNETES_SERVICE_PORT");
  if (host == nullptr || port_text == nullptr || *host == '\0') return std::nullopt;
  const auto port = parse_port(port_text);
  if (!port) return std::nullopt;
  std::string_view h(host);
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  KubeOptions o;
  o.api_url = "https://" + host_port(h, *port);
  o.ca_file = std::string(kServiceAccountCa);
  o.token_file = std::string(kServiceAccountToken);
  return o;
}

std::optional<ApiEndpoint> parse_api_url(std::string_view url) {
  constexpr std::string_view kScheme = "https://";
  if (!url.starts_with(kScheme)) return std::nullopt;
  url.remove_prefix(kScheme.size());
  if (url.ends_with('/')) url.remove_suffix(1);
  if (url.find_first_of("/?#@") != std::string_view::npos) return std::nullopt;
  ApiEndpoint ep;
  std::string_view rest;
  if (url.starts_with('[')) {
    const size_t close = url.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    ep.host = std::string(url.substr(1, close - 1));
    rest = url.substr(close + 1);
  } else {
    const size_t colon = url.find(':');
    ep.host = std::string(url.substr(0, colon));
    rest = colon == std::string_view::npos ? std::string_view{} : url.substr(colon);
  }
  if (ep.host.empty()) return std::nullopt;
  if (!rest.empty()) {
    if (rest.front() != ':') return std::nullopt;
    const auto port = parse_port(rest.substr(1));
    if (!port) return std::nullopt;
    ep.port = *port;
  }
  ep.host_header = host_port(ep.host, ep.port);
  return ep;
}

std::string percent_encode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (const unsigned char c : s) {
    const bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                            c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

}  // namespace logferry
