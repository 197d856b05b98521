// The failover walk shared by the TCP and HTTP sinks.
#include "sidecar/forward/endpoint_failover.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <catch2/catch.hpp>

#include "sidecar/core/errors.hpp"

using namespace logferry;
using boost::system::error_code;
using boost::system::result;

namespace {

std::vector<Endpoint> outputs(std::initializer_list<const char*> hosts) {
  std::vector<Endpoint> out;
  for (const char* h : hosts) {
    Endpoint ep;
    ep.scheme = "tcp";
    ep.host = h;
    ep.port = 1;
    ep.text = std::string("tcp://") + h + ":1";
    out.push_back(ep);
  }
  return out;
}

// Runs one walk where the hosts named in `up` open and the others fail with `failure`.
result<std::string> walk(const std::vector<Endpoint>& eps, size_t& preferred, std::vector<std::string> up,
                         std::vector<std::string>& tried, error_code failure = boost::asio::error::connection_refused,
                         bool stop_on_failure = false, std::map<std::string, uint64_t>* errors = nullptr) {
  boost::asio::io_context io;
  std::map<std::string, uint64_t> ignored;
  auto open = [&](const Endpoint& ep) -> boost::asio::awaitable<result<std::string>> {
    tried.push_back(ep.host);
    for (const auto& u : up)
      if (u == ep.host) co_return ep.host;
    co_return failure;
  };
  auto stop = [&](const error_code&) { return stop_on_failure; };
  auto f = boost::asio::co_spawn(io, open_with_failover<std::string>(eps, preferred, errors ? *errors : ignored, open, stop),
                                 boost::asio::use_future);
  io.run();
  return f.get();
}

}  // namespace

TEST_CASE("failover walk: from the last good output, wrapping, remembering the one that opened",
          "[failover]") {
  const auto eps = outputs({"a", "b", "c"});
  size_t preferred = 0;
  std::vector<std::string> tried;
  auto r = walk(eps, preferred, {"b", "c"}, tried);
  REQUIRE(r);
  CHECK(*r == "b");
  CHECK(preferred == 1);
  CHECK(tried == std::vector<std::string>{"a", "b"});

  tried.clear();  // b still works: the walk starts there
  r = walk(eps, preferred, {"a", "b"}, tried);
  CHECK(*r == "b");
  CHECK(tried == std::vector<std::string>{"b"});

  tried.clear();  // b and c down: wraps around to a
  r = walk(eps, preferred, {"a"}, tried);
  CHECK(*r == "a");
  CHECK(preferred == 0);
  CHECK(tried == std::vector<std::string>{"b", "c", "a"});
}

TEST_CASE("failover walk: all down gives the last error, each output tried once; a stop error ends it",
          "[failover]") {
  const auto eps = outputs({"a", "b", "c"});
  size_t preferred = 2;
  std::vector<std::string> tried;
  auto r = walk(eps, preferred, {}, tried, boost::asio::error::timed_out);
  REQUIRE(!r);
  CHECK(r.error() == boost::asio::error::timed_out);
  CHECK(tried == std::vector<std::string>{"c", "a", "b"});
  CHECK(preferred == 2);

  tried.clear();
  r = walk(eps, preferred, {"a"}, tried, make_error_code(Errc::handshake_refused), true);
  REQUIRE(!r);
  CHECK(r.error() == Errc::handshake_refused);
  CHECK(tried == std::vector<std::string>{"c"});

  tried.clear();
  size_t none = 0;
  r = walk({}, none, {}, tried);
  CHECK(r.error() == boost::asio::error::host_not_found);
  CHECK(tried.empty());
}

TEST_CASE("failover walk: each failed attempt counts for its own output", "[failover]") {
  const auto eps = outputs({"a", "b", "c"});
  size_t preferred = 0;
  std::vector<std::string> tried;
  std::map<std::string, uint64_t> errors;
  auto r = walk(eps, preferred, {"c"}, tried, boost::asio::error::connection_refused, false, &errors);
  REQUIRE(r);
  CHECK(errors == std::map<std::string, uint64_t>{{"tcp://a:1", 1}, {"tcp://b:1", 1}});
  CHECK(preferred_output(eps, preferred) == "tcp://c:1");

  r = walk(eps, preferred, {}, tried, boost::asio::error::connection_refused, false, &errors);  // all down
  REQUIRE(!r);
  CHECK(errors == std::map<std::string, uint64_t>{{"tcp://a:1", 2}, {"tcp://b:1", 2}, {"tcp://c:1", 1}});
  CHECK(preferred_output({}, 0).empty());
}

TEST_CASE("failover walk: outputs are named with their query strings redacted", "[failover]") {
  auto eps = outputs({"a", "b"});
  eps[0].text = "loki+http://a:1/loki/api/v1/push?tenant=secret";
  size_t preferred = 0;
  std::vector<std::string> tried;
  std::map<std::string, uint64_t> errors;
  REQUIRE(walk(eps, preferred, {"b"}, tried, boost::asio::error::connection_refused, false, &errors));
  CHECK(errors == std::map<std::string, uint64_t>{{"loki+http://a:1/loki/api/v1/push?***", 1}});
  CHECK(describe_outputs(eps) == "loki+http://a:1/loki/api/v1/push?***,tcp://b:1");
  CHECK(preferred_output(eps, 0) == "loki+http://a:1/loki/api/v1/push?***");
}
