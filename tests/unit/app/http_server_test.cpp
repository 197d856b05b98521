#include "sidecar/app/http_server.hpp"

#include <catch2/catch.hpp>

#include <future>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "support/http_client.hpp"
#include "support/wait.hpp"

using namespace logferry;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

// An io_context running on its own thread; the server lives on that thread.
class IoThread {
 public:
  IoThread() : guard_(io_.get_executor()), thread_([this] { io_.run(); }) {}
  ~IoThread() {
    guard_.reset();
    io_.stop();
    thread_.join();
  }
  asio::io_context& io() { return io_; }

  // Runs fn on the io thread and returns its result.
  template <class F>
  auto call(F fn) {
    std::packaged_task<decltype(fn())()> task(std::move(fn));
    auto result = task.get_future();
    asio::post(io_, [&task] { task(); });
    return result.get();
  }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  std::thread thread_;
};

HttpRoutes test_routes(int& calls) {
  HttpRoutes routes;
  routes.emplace("/healthz", [&calls] {
    ++calls;
    return HttpResponse{200, "text/plain; charset=utf-8", "ok\n"};
  });
  routes.emplace("/busy", [] { return HttpResponse{503, "text/plain; charset=utf-8", "not yet\n"}; });
  return routes;
}

}  // namespace

TEST_CASE("http server: routes, status codes, HEAD and methods", "[ops][http]") {
  IoThread t;
  int calls = 0;
  auto server = t.call([&] { return std::make_unique<HttpServer>(t.io().get_executor(), "127.0.0.1:0", test_routes(calls)); });
  const uint16_t port = server->local_endpoint().port();
  REQUIRE(port != 0);

  auto ok = test::http_get("127.0.0.1", port, "/healthz");
  REQUIRE(ok);
  CHECK(ok->status == 200);
  CHECK(ok->body == "ok\n");
  CHECK(ok->headers["content-type"] == "text/plain; charset=utf-8");
  CHECK(ok->headers["content-length"] == "3");

  auto with_query = test::http_get("127.0.0.1", port, "/healthz?verbose=1");
  REQUIRE(with_query);
  CHECK(with_query->status == 200);

  auto busy = test::http_get("127.0.0.1", port, "/busy");
  REQUIRE(busy);
  CHECK(busy->status == 503);
  CHECK(busy->body == "not yet\n");

  auto missing = test::http_get("127.0.0.1", port, "/nope");
  REQUIRE(missing);
  CHECK(missing->status == 404);

  auto head = test::http_request("127.0.0.1", port, "HEAD", "/healthz");
  REQUIRE(head);
  CHECK(head->status == 200);
  CHECK(head->headers["content-length"] == "3");
  CHECK(head->body.empty());

  auto post = test::http_request("127.0.0.1", port, "DELETE", "/healthz");
  REQUIRE(post);
  CHECK(post->status == 405);
  CHECK(post->headers["allow"] == "GET, HEAD");

  CHECK(t.call([&] { return calls; }) == 3);
  t.call([&] { server.reset(); });
}

TEST_CASE("http server: keep-alive serves several requests on one connection", "[ops][http]") {
  IoThread t;
  int calls = 0;
  auto server = t.call([&] { return std::make_unique<HttpServer>(t.io().get_executor(), "127.0.0.1:0", test_routes(calls)); });
  test::TcpClient c("127.0.0.1", server->local_endpoint().port());
  REQUIRE(c.connected());
  REQUIRE(c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  const auto [text, closed] = c.read_until_closed(5s);
  CHECK(closed);
  CHECK(text.find("HTTP/1.1 200 OK") == 0);
  CHECK(text.find("HTTP/1.1 200 OK", 10) != std::string::npos);
  CHECK(t.call([&] { return calls; }) == 2);
  t.call([&] { server.reset(); });
}

TEST_CASE("http server: oversized requests, bodies and slow clients are cut off", "[ops][http]") {
  IoThread t;
  int calls = 0;
  HttpServerLimits limits;
  limits.max_request_bytes = 1024;
  limits.request_timeout = 300ms;
  auto server = t.call(
      [&] { return std::make_unique<HttpServer>(t.io().get_executor(), "127.0.0.1:0", test_routes(calls), limits); });
  const uint16_t port = server->local_endpoint().port();

  SECTION("headers beyond the limit: closed without a response") {
    const std::string big = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + std::string(4096, 'a') + "\r\n\r\n";
    CHECK(test::http_exchange("127.0.0.1", port, big, 5s).empty());
  }
  SECTION("a request with a body: closed without a response") {
    const std::string with_body = "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello";
    CHECK(test::http_exchange("127.0.0.1", port, with_body, 5s).empty());
  }
  SECTION("an idle connection is closed after the request timeout") {
    test::TcpClient idle("127.0.0.1", port);
    REQUIRE(idle.connected());
    REQUIRE(idle.send("GET /healthz HTTP/1.1\r\n"));  // never finished
    const auto started = std::chrono::steady_clock::now();
    const auto [text, closed] = idle.read_until_closed(5s);
    CHECK(closed);
    CHECK(text.empty());
    CHECK(std::chrono::steady_clock::now() - started < 4s);
  }
  CHECK(t.call([&] { return calls; }) == 0);
  t.call([&] { server.reset(); });
}

TEST_CASE("http server: when every slot is taken, the connection idle the longest makes room", "[ops][http]") {
  IoThread t;
  int calls = 0;
  HttpServerLimits limits;
  limits.max_connections = 2;
  limits.request_timeout = 10s;
  auto server = t.call(
      [&] { return std::make_unique<HttpServer>(t.io().get_executor(), "127.0.0.1:0", test_routes(calls), limits); });
  const uint16_t port = server->local_endpoint().port();

  auto a = std::make_unique<test::TcpClient>("127.0.0.1", port);
  REQUIRE(a->connected());
  REQUIRE(test::wait_until([&] { return t.call([&] { return server->connections(); }) == 1; }, 5s));
  auto b = std::make_unique<test::TcpClient>("127.0.0.1", port);
  REQUIRE(b->connected());
  REQUIRE(test::wait_until([&] { return t.call([&] { return server->connections(); }) == 2; }, 5s));

  // A third connection is served; the oldest idle one (a) is closed for it.
  auto ok = test::http_get("127.0.0.1", port, "/healthz");
  REQUIRE(ok);
  CHECK(ok->status == 200);
  const auto [text, closed] = a->read_until_closed(5s);
  CHECK(closed);
  CHECK(text.empty());
  CHECK(t.call([&] { return calls; }) == 1);
  t.call([&] { server.reset(); });
}

TEST_CASE("http server: stop closes the listener and open connections", "[ops][http]") {
  IoThread t;
  int calls = 0;
  auto server = t.call([&] { return std::make_unique<HttpServer>(t.io().get_executor(), "127.0.0.1:0", test_routes(calls)); });
  const uint16_t port = server->local_endpoint().port();
  test::TcpClient open_conn("127.0.0.1", port);
  REQUIRE(open_conn.connected());
  REQUIRE(test::wait_until([&] { return t.call([&] { return server->connections(); }) == 1; }, 5s));
  t.call([&] { server->stop(); });
  const auto [text, closed] = open_conn.read_until_closed(5s);
  CHECK(closed);
  CHECK_FALSE(test::TcpClient("127.0.0.1", port).connected());
  CHECK(t.call([&] { return calls; }) == 0);
  t.call([&] { server.reset(); });
}

TEST_CASE("http server: invalid or busy addresses are start-up errors", "[ops][http]") {
  asio::io_context io;
  CHECK_THROWS_WITH(HttpServer(io.get_executor(), "127.0.0.1", {}), "invalid listen address \"127.0.0.1\": expected HOST:PORT");
  HttpServer first(io.get_executor(), "127.0.0.1:0", {});
  const auto taken = "127.0.0.1:" + std::to_string(first.local_endpoint().port());
  CHECK_THROWS_WITH(HttpServer(io.get_executor(), taken, {}), "cannot listen on " + taken + ": Address already in use");
}
