#include "support/fake_api_server.hpp"

#include <deque>
#include <list>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <fmt/format.h>

#include "sidecar/core/event.hpp"
#include "sidecar/core/json_escape.hpp"

namespace logferry::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using asio::ip::tcp;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

namespace {

std::string json_quoted(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

std::string json_map(const std::vector<std::pair<std::string, std::string>>& kvs) {
  std::string out = "{";
  for (const auto& [k, v] : kvs) out += (out.size() > 1 ? "," : "") + json_quoted(k) + ":" + json_quoted(v);
  return out + "}";
}

std::string metadata_json(const FakeObject& o) {
  std::string refs = "[";
  for (const auto& r : o.owners) {
    refs += fmt::format("{}{{\"apiVersion\":\"apps/v1\",\"kind\":{},\"name\":{},\"uid\":\"owner-{}\",\"controller\":{}}}",
                        refs.size() > 1 ? "," : "", json_quoted(r.kind), json_quoted(r.name), r.name, r.controller);
  }
  refs += "]";
  return fmt::format(
      "{{\"name\":{},\"namespace\":{},\"uid\":{},\"resourceVersion\":{},\"labels\":{},\"annotations\":{},"
      "\"ownerReferences\":{}}}",
      json_quoted(o.name), json_quoted(o.ns), json_quoted(o.uid), json_quoted(o.resource_version), json_map(o.labels), json_map(o.annotations),
      refs);
}

std::string status_json(unsigned code, std::string_view reason) {
  return fmt::format("{{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"reason\":{},\"code\":{}}}",
                     json_quoted(reason), code);
}

}  // namespace

std::string pod_json(const FakeObject& pod) {
  return fmt::format(
      "{{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{},\"spec\":{{\"nodeName\":{},\"containers\":[{{\"name\":"
      "\"app\",\"image\":\"busybox\"}}]}},\"status\":{{\"phase\":\"Running\"}}}}",
      metadata_json(pod), json_quoted(pod.node));
}

std::string owner_json(std::string_view kind, const FakeObject& object) {
  return fmt::format("{{\"kind\":{},\"metadata\":{},\"spec\":{{}}}}", json_quoted(kind), metadata_json(object));
}

std::string watch_event_json(std::string_view type, std::string_view object_json) {
  return fmt::format("{{\"type\":{},\"object\":{}}}", json_quoted(type), object_json);
}

std::string bookmark_event_json(std::string_view resource_version) {
  return fmt::format("{{\"type\":\"BOOKMARK\",\"object\":{{\"kind\":\"Pod\",\"metadata\":{{\"resourceVersion\":{}}}}}}}",
                     json_quoted(resource_version));
}

std::string error_event_json(int code) {
  return fmt::format("{{\"type\":\"ERROR\",\"object\":{}}}", status_json(static_cast<unsigned>(code), "Expired"));
}

struct FakeApiServer::Impl {
  // One open watch stream; touched on the server's thread only.
  struct Watch {
    explicit Watch(asio::any_io_executor ex) : wake(ex) {}
    std::deque<std::string> lines;
    Event wake;
    bool end = false, cut = false;
  };

  asio::io_context io;
  ssl::context tls{ssl::context::tls_server};
  tcp::acceptor acceptor{io};
  std::list<std::shared_ptr<Watch>> watches_open;  // server thread only

  mutable std::mutex mutex;
  std::string token;
  std::vector<std::string> items;
  std::string list_rv = "1";
  std::chrono::milliseconds list_delay{0};
  struct Object {
    unsigned status = 404;
    std::string body;
    std::chrono::milliseconds delay{0};
  };
  std::map<std::string, Object> objects;
  std::map<std::string, size_t> object_gets;
  bool gone_next = false;
  size_t lists = 0, watches = 0, unauthorized = 0, open = 0;
  std::vector<std::string> watch_targets;
  std::thread thread;

  using Stream = beast::ssl_stream<beast::tcp_stream>;

  static asio::awaitable<bool> answer(Stream& s, unsigned status, std::string body, bool keep_alive) {
    http::response<http::string_body> res{static_cast<http::status>(status), 11};
    res.set(http::field::content_type, "application/json");
    res.body() = std::move(body);
    res.keep_alive(keep_alive);
    res.prepare_payload();
    auto [ec, n] = co_await http::async_write(s, res, kTuple);
    co_return !ec;
  }

  // Marks the watch cut when the client closes its end (a read ends), so that
  // open_watches() counts only streams a client still reads.
  static asio::awaitable<void> detect_close(std::shared_ptr<Stream> s, std::shared_ptr<Watch> w) {
    char byte[64];
    for (;;) {
      auto [ec, n] = co_await s->async_read_some(asio::buffer(byte), kTuple);
      if (ec) break;
    }
    w->cut = true;
    w->wake.notify();
  }

  asio::awaitable<void> stream_watch(const std::shared_ptr<Stream>& stream) {
    Stream& s = *stream;
    http::response<http::empty_body> res{http::status::ok, 11};
    res.set(http::field::content_type, "application/json");
    res.chunked(true);
    http::response_serializer<http::empty_body> sr{res};
    auto watch = std::make_shared<Watch>(io.get_executor());
    auto& w = *watch;
    const auto it = watches_open.insert(watches_open.end(), watch);
    {
      std::lock_guard lock(mutex);
      ++open;
    }
    if (auto [ec, n] = co_await http::async_write_header(s, sr, kTuple); !ec) {
      asio::co_spawn(io, detect_close(stream, watch), asio::detached);
      for (;;) {
        while (w.lines.empty() && !w.end && !w.cut) co_await w.wake.wait();
        if (w.cut) break;
        if (w.lines.empty()) {  // end: the last chunk
          co_await asio::async_write(s, http::make_chunk_last(), kTuple);
          break;
        }
        const std::string line = std::move(w.lines.front());
        w.lines.pop_front();
        if (auto [wec, wn] = co_await asio::async_write(s, http::make_chunk(asio::buffer(line)), kTuple); wec) break;
        if (line.starts_with("{\"type\":\"ERROR\"")) w.end = true;  // the API server ends a watch after an ERROR
      }
    }
    watches_open.erase(it);
    std::lock_guard lock(mutex);
    --open;
  }

  // Routes one request; false when the connection is to be closed.
  asio::awaitable<bool> serve(const std::shared_ptr<Stream>& stream, const http::request<http::empty_body>& req) {
    Stream& s = *stream;
    const std::string target(req.target());
    const std::string path = target.substr(0, target.find('?'));
    const bool watch = path == "/api/v1/pods" && target.find("watch=true") != std::string::npos;
    std::string expected;
    std::chrono::milliseconds delay{0};
    {
      std::lock_guard lock(mutex);
      expected = token;
      delay = list_delay;
    }
    if (!expected.empty() && req[http::field::authorization] != "Bearer " + expected) {
      {
        std::lock_guard lock(mutex);
        ++unauthorized;
      }
      co_return co_await answer(s, 401, status_json(401, "Unauthorized"), req.keep_alive());
    }
    if (watch) {
      bool gone = false;
      {
        std::lock_guard lock(mutex);
        ++watches;
        watch_targets.push_back(target);
        gone = std::exchange(gone_next, false);
      }
      if (gone) co_return co_await answer(s, 410, status_json(410, "Expired"), req.keep_alive());
      co_await stream_watch(stream);
      co_return false;
    }
    if (path == "/api/v1/pods") {
      {
        std::lock_guard lock(mutex);
        ++lists;
      }
      if (delay.count() > 0) {
        asio::steady_timer t(io, delay);
        co_await t.async_wait(kTuple);
      }
      std::string body;
      {
        std::lock_guard lock(mutex);
        body = fmt::format("{{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{{\"resourceVersion\":{}}},\"items\":[",
                           json_quoted(list_rv));
        for (size_t i = 0; i < items.size(); ++i) body += (i ? "," : "") + items[i];
        body += "]}";
      }
      co_return co_await answer(s, 200, std::move(body), req.keep_alive());
    }
    Object object{404, status_json(404, "NotFound")};
    {
      std::lock_guard lock(mutex);
      ++object_gets[path];
      if (auto it = objects.find(path); it != objects.end()) object = it->second;
    }
    if (object.delay.count() > 0) {
      asio::steady_timer t(io, object.delay);
      co_await t.async_wait(kTuple);
    }
    co_return co_await answer(s, object.status, std::move(object.body), req.keep_alive());
  }

  asio::awaitable<void> session(tcp::socket socket) {
    auto stream = std::make_shared<Stream>(std::move(socket), tls);
    Stream& s = *stream;
    if (auto [ec] = co_await s.async_handshake(ssl::stream_base::server, kTuple); ec) co_return;
    beast::flat_buffer buffer;
    for (;;) {
      http::request<http::empty_body> req;
      if (auto [ec, n] = co_await http::async_read(s, buffer, req, kTuple); ec) break;
      if (!co_await serve(stream, req) || !req.keep_alive()) break;
    }
    beast::error_code ignored;
    beast::get_lowest_layer(s).socket().shutdown(tcp::socket::shutdown_both, ignored);
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(kTuple);
      if (ec) co_return;
      asio::co_spawn(io, session(std::move(socket)), asio::detached);
    }
  }
};

FakeApiServer::FakeApiServer(const TestCerts& certs, uint16_t port) : impl_(std::make_unique<Impl>()) {
  impl_->tls.use_certificate_chain_file(certs.server_cert.string());
  impl_->tls.use_private_key_file(certs.server_key.string(), ssl::context::pem);
  const tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), port);
  impl_->acceptor.open(ep.protocol());
  impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  impl_->acceptor.bind(ep);
  impl_->acceptor.listen();
  port_ = impl_->acceptor.local_endpoint().port();
  asio::co_spawn(impl_->io, impl_->accept_loop(), asio::detached);
  impl_->thread = std::thread([this] { impl_->io.run(); });
}

FakeApiServer::~FakeApiServer() {
  impl_->io.stop();
  impl_->thread.join();
}

std::string FakeApiServer::url() const { return fmt::format("https://127.0.0.1:{}", port_); }

void FakeApiServer::set_token(std::string token) {
  std::lock_guard lock(impl_->mutex);
  impl_->token = std::move(token);
}

void FakeApiServer::set_pods(std::vector<std::string> items, std::string resource_version) {
  std::lock_guard lock(impl_->mutex);
  impl_->items = std::move(items);
  impl_->list_rv = std::move(resource_version);
}

void FakeApiServer::set_list_delay(std::chrono::milliseconds delay) {
  std::lock_guard lock(impl_->mutex);
  impl_->list_delay = delay;
}

void FakeApiServer::set_object(std::string path, std::string body, unsigned status, std::chrono::milliseconds delay) {
  std::lock_guard lock(impl_->mutex);
  impl_->objects[std::move(path)] = {status, std::move(body), delay};
}

void FakeApiServer::answer_next_watch_gone() {
  std::lock_guard lock(impl_->mutex);
  impl_->gone_next = true;
}

void FakeApiServer::push_event(std::string line) {
  asio::post(impl_->io, [impl = impl_.get(), line = std::move(line) + "\n"] {
    for (auto& w : impl->watches_open) {
      w->lines.push_back(line);
      w->wake.notify();
    }
  });
}

void FakeApiServer::end_watches() {
  asio::post(impl_->io, [impl = impl_.get()] {
    for (auto& w : impl->watches_open) {
      w->end = true;
      w->wake.notify();
    }
  });
}

void FakeApiServer::drop_watches() {
  asio::post(impl_->io, [impl = impl_.get()] {
    for (auto& w : impl->watches_open) {
      w->cut = true;
      w->wake.notify();
    }
  });
}

size_t FakeApiServer::lists() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->lists;
}

size_t FakeApiServer::watches() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->watches;
}

size_t FakeApiServer::open_watches() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->open;
}

size_t FakeApiServer::unauthorized() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->unauthorized;
}

size_t FakeApiServer::object_gets(const std::string& path) const {
  std::lock_guard lock(impl_->mutex);
  const auto it = impl_->object_gets.find(path);
  return it == impl_->object_gets.end() ? 0 : it->second;
}

std::vector<std::string> FakeApiServer::watch_targets() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->watch_targets;
}

}  // namespace logferry::test
