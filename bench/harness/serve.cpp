// `certretry-harness serve`: HTTP/1.1 on 127.0.0.1 with Boost.Beast over Asio, one I/O thread,
// one coroutine per connection (Beast: "HTTP server, coroutine", docs/sources.md#beast). Beast
// parses every request (no parser of our own) under a header and a body limit; a request it
// refuses is answered 400, 413 or 431 and the connection closed; the server goes on.
//
// The models are not thread-safe and need none: every handler runs on the one thread.
#include "serve.hpp"

#include "serve_model.hpp"
#include "serve_request.hpp"

#include <certretry/core/system.hpp>
#include <certretry/core/text.hpp>
#include <certretry/core/version.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace certretry::harness {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

// 1 000 clients need more descriptors than a default soft limit of 1 024 leaves.
void raise_descriptor_limit() {
  rlimit l{};
  if (getrlimit(RLIMIT_NOFILE, &l) == 0 && l.rlim_cur < l.rlim_max) {
    l.rlim_cur = l.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &l);
  }
}

class server {
 public:
  server(asio::io_context& io, serve::config& cfg, std::FILE* log)
      : io_(io),
        cfg_(cfg),
        log_(log),
        acceptor_(io),
        signals_(io, SIGTERM, SIGINT),
        grace_(io),
        start_(std::chrono::steady_clock::now()) {}

  // Binds 127.0.0.1:port; false with `error` set.
  bool bind(std::string& error) {
    beast::error_code ec;
    const tcp::endpoint at{asio::ip::make_address_v4("127.0.0.1"), cfg_.port};
    if (acceptor_.open(at.protocol(), ec) ||
        acceptor_.set_option(asio::socket_base::reuse_address(true), ec) ||
        acceptor_.bind(at, ec) || acceptor_.listen(asio::socket_base::max_listen_connections, ec)) {
      error = "cannot listen on 127.0.0.1:" + std::to_string(cfg_.port) + ": " + ec.message();
      return false;
    }
    port_ = acceptor_.local_endpoint().port();
    return true;
  }
  std::uint16_t port() const noexcept { return port_; }

  void start() {
    signals_.async_wait([this](const beast::error_code& ec, int) {
      if (!ec) stop();
    });
    asio::co_spawn(io_, accept_loop(), asio::detached);
  }

  std::uint64_t requests() const noexcept { return requests_; }
  std::uint64_t bad_requests() const noexcept { return bad_requests_; }
  std::uint64_t connections() const noexcept { return next_conn_; }

 private:
  struct session_state {
    beast::tcp_stream* stream = nullptr;
    bool reading = false;
  };

  // SIGTERM: no new connections; idle ones are closed; replies in flight get the grace period.
  void stop() {
    if (stopping_) return;
    stopping_ = true;
    beast::error_code ignored;
    acceptor_.close(ignored);
    for (auto& [id, s] : sessions_)
      if (s->reading) s->stream->socket().close(ignored);
    grace_.expires_after(cfg_.grace);
    grace_.async_wait([this](const beast::error_code& ec) {
      if (!ec) io_.stop();
    });
    if (sessions_.empty()) grace_.cancel();
  }

  asio::awaitable<void> accept_loop() {
    while (!stopping_) {
      auto [ec, socket] = co_await acceptor_.async_accept(tuple_awaitable);
      if (ec) {
        if (stopping_ || ec == asio::error::operation_aborted) break;
        continue;  // EMFILE and the like: the listener stays up
      }
      const std::uint64_t id = ++next_conn_;
      if (sessions_.size() >= cfg_.max_connections) {
        asio::co_spawn(io_, refuse(std::move(socket), id), asio::detached);
        continue;
      }
      asio::co_spawn(io_, session(std::move(socket), id), asio::detached);
    }
  }

  // Over --max-connections: a 503 and close.
  asio::awaitable<void> refuse(tcp::socket socket, std::uint64_t id) {
    beast::tcp_stream stream(std::move(socket));
    stream.expires_after(std::chrono::seconds{5});
    http::response<http::string_body> res{http::status::service_unavailable, 11};
    res.set(http::field::content_type, "application/json");
    res.set(http::field::retry_after, "1");
    res.body() = R"({"error":"too many connections"})";
    res.keep_alive(false);
    res.prepare_payload();
    co_await http::async_write(stream, res, tuple_awaitable);
    log_error(id, 503, "too many connections (--max-connections)");
  }

  asio::awaitable<void> session(tcp::socket socket, std::uint64_t id) {
    beast::tcp_stream stream(std::move(socket));
    session_state state{&stream, false};
    sessions_.emplace(id, &state);
    beast::flat_buffer buffer;
    std::vector<header_field> fields;
    for (;;) {
      if (stopping_) break;
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(cfg_.max_header));
      parser.body_limit(cfg_.max_body);
      stream.expires_after(cfg_.idle_timeout);
      state.reading = true;
      auto [ec, n] = co_await http::async_read(stream, buffer, parser, tuple_awaitable);
      state.reading = false;
      (void)n;
      if (ec) {
        // A request Beast refused: say why, then close (the stream may be mid-message).
        if (const int status = serve::refusal_status(ec)) {
          co_await write_refusal(stream, status, ec.message());
          log_error(id, status, ec.message());
        }
        break;  // end of stream, idle timeout, reset, or SIGTERM
      }
      auto& req = parser.get();
      const request_view view = serve::model_request(req, fields);
      serve::reply r = cfg_.m->handle(view, system_clock{}.now());
      const duration hold = r.hold + cfg_.latency;
      if (hold > duration::zero()) {
        asio::steady_timer timer(co_await asio::this_coro::executor);
        timer.expires_after(hold);
        co_await timer.async_wait(tuple_awaitable);
      }
      if (r.silent) {  // the model never answers this one
        log_request(id, view, 0, 0, hold, true);
        break;
      }
      http::response<http::string_body> res{static_cast<http::status>(r.r.status), req.version()};
      res.set(http::field::server, server_name());
      for (const auto& h : r.r.headers) res.insert(h.name, h.value);
      const bool keep = req.keep_alive() && !stopping_;
      res.keep_alive(keep);
      const bool head = req.method() == http::verb::head;
      const std::size_t bytes = r.r.body.size();
      if (!head) res.body() = std::move(r.r.body);
      res.prepare_payload();
      stream.expires_after(cfg_.idle_timeout);
      auto [wec, wn] = co_await http::async_write(stream, res, tuple_awaitable);
      (void)wn;
      log_request(id, view, r.r.status, bytes, hold, false, wec ? wec.message() : "");
      if (wec || !keep) break;
    }
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream.socket().close(ignored);
    sessions_.erase(id);
    if (stopping_ && sessions_.empty()) grace_.cancel();
  }

  asio::awaitable<void> write_refusal(beast::tcp_stream& stream, int status,
                                      const std::string& why) {
    http::response<http::string_body> res{static_cast<http::status>(status), 11};
    res.set(http::field::server, server_name());
    res.set(http::field::content_type, "application/json");
    std::string body = "{\"error\":";
    certretry::detail::append_json_string(body, why);
    body += '}';
    res.body() = std::move(body);
    res.keep_alive(false);
    res.prepare_payload();
    stream.expires_after(std::chrono::seconds{5});
    co_await http::async_write(stream, res, tuple_awaitable);
  }

  static const std::string& server_name() {
    static const std::string name = "certretry-harness/" + std::string(version);
    return name;
  }

  std::int64_t elapsed_ms() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 start_)
        .count();
  }

  void log_request(std::uint64_t conn, const request_view& req, int status, std::size_t bytes,
                   duration hold, bool silent, const std::string& write_error = {}) {
    ++requests_;
    line_ = "{\"seq\":" + std::to_string(++seq_) + ",\"t_ms\":" + std::to_string(elapsed_ms()) +
            ",\"conn\":" + std::to_string(conn) + ",\"method\":";
    certretry::detail::append_json_string(line_, req.method);
    line_ += ",\"target\":";
    std::string target;
    certretry::detail::append_sanitized(target, req.target, 512);
    certretry::detail::append_json_string(line_, target);
    line_ += ",\"status\":" + std::to_string(status) + ",\"bytes\":" + std::to_string(bytes) +
             ",\"hold_ms\":" + std::to_string(hold.count());
    if (silent) line_ += ",\"unanswered\":true";
    if (!write_error.empty()) {
      line_ += ",\"write_error\":";
      certretry::detail::append_json_string(line_, write_error);
    }
    line_ += "}\n";
    emit();
  }

  void log_error(std::uint64_t conn, int status, const std::string& why) {
    ++bad_requests_;
    line_ = "{\"seq\":" + std::to_string(++seq_) + ",\"t_ms\":" + std::to_string(elapsed_ms()) +
            ",\"conn\":" + std::to_string(conn) + ",\"status\":" + std::to_string(status) +
            ",\"error\":";
    certretry::detail::append_json_string(line_, why);
    line_ += "}\n";
    emit();
  }

  void emit() {
    std::fwrite(line_.data(), 1, line_.size(), log_);
    std::fflush(log_);  // a reader (tail -f, a test) sees each line as it happens
  }

  asio::io_context& io_;
  serve::config& cfg_;
  std::FILE* log_;
  tcp::acceptor acceptor_;
  asio::signal_set signals_;
  asio::steady_timer grace_;
  std::chrono::steady_clock::time_point start_;
  std::map<std::uint64_t, session_state*> sessions_;
  std::uint16_t port_ = 0;
  bool stopping_ = false;
  std::uint64_t next_conn_ = 0;
  std::uint64_t seq_ = 0;
  std::uint64_t requests_ = 0;
  std::uint64_t bad_requests_ = 0;
  std::string line_;
};

}  // namespace

int cmd_serve(int argc, char** argv) {
  for (int i = 0; i < argc; ++i)
    if (std::string_view(argv[i]) == "--help" || std::string_view(argv[i]) == "-h") {
      std::fputs(serve::usage(), stdout);
      return 0;
    }
  serve::config cfg;
  std::string error;
  if (!serve::parse_args(argc, argv, system_clock{}.now(), cfg, error)) {
    std::fprintf(stderr, "serve: %s\n", error.c_str());
    return 2;
  }
  raise_descriptor_limit();
  std::signal(SIGPIPE, SIG_IGN);  // a client that goes away is a write error, not a signal

  std::FILE* log = stdout;
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> log_file(nullptr, &std::fclose);
  if (!cfg.log_path.empty()) {
    log_file.reset(std::fopen(cfg.log_path.c_str(), "w"));
    if (!log_file) {
      std::fprintf(stderr, "serve: cannot open the log %s\n", cfg.log_path.c_str());
      return 1;
    }
    log = log_file.get();
  }

  asio::io_context io{1};
  server srv(io, cfg, log);
  if (!srv.bind(error)) {
    std::fprintf(stderr, "serve: %s\n", error.c_str());
    return 1;
  }
  cfg.m->bound(srv.port());
  srv.start();
  std::printf("{\"listening\":\"127.0.0.1:%u\",\"port\":%u,\"model\":\"%s\",\"pid\":%ld%s}\n",
              static_cast<unsigned>(srv.port()), static_cast<unsigned>(srv.port()),
              cfg.model_name.c_str(), static_cast<long>(getpid()), cfg.m->startup_json().c_str());
  std::fflush(stdout);

  io.run();

  std::fflush(log);
  std::fprintf(stderr,
               "{\"stopped\":true,\"requests\":%llu,\"bad_requests\":%llu,\"connections\":%llu,"
               "\"model\":%s}\n",
               static_cast<unsigned long long>(srv.requests()),
               static_cast<unsigned long long>(srv.bad_requests()),
               static_cast<unsigned long long>(srv.connections()), cfg.m->counters_json().c_str());
  return 0;
}

}  // namespace certretry::harness
