#pragma once
// `nginx` and `apache`: the common and combined access log formats (the same
// format for both servers):
//   client - user [02/Jan/2006:15:04:05 -0700] "GET /p?q=1 HTTP/1.1" 200 512 "referer" "agent" ...
// The body is the whole line; the fields become OpenTelemetry semantic
// convention attributes (client.address, user.name, http.request.method,
// url.path, url.query, network.protocol.name/version,
// http.response.status_code, http.response.body.size (ints),
// http.request.header.referer, user_agent.original); the time is the
// request's time. Text after the user agent is left in the body only.
#include <string>

#include "sidecar/parse/parser.hpp"

namespace logferry {

class AccessLogParser final : public Parser {
 public:
  // `name` is the registry name: "nginx" or "apache".
  explicit AccessLogParser(std::string_view name) : name_(name) {}
  ParseResult parse(std::string_view line, v1::Entry& entry) override;
  std::string_view name() const override { return name_; }

 private:
  std::string_view name_;
};

}  // namespace logferry
