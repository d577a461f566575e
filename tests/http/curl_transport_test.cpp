// certretry::curl_transport against servers this test starts on 127.0.0.1 with free ports:
// `certretry-harness serve` (the models), and small Asio servers that misbehave on purpose (one
// that stalls, one that resets, one that sends 10 MiB, a TLS server with a self-signed
// certificate made here with openssl, one that acts as an HTTP proxy).
#include "serve_process.hpp"

#include <certretry/core/concepts.hpp>
#include <certretry/core/version.hpp>
#include <certretry/machine/kit.hpp>
#include <certretry/transport/curl.hpp>

#include <gtest/gtest.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using certretry::curl_options;
using certretry::curl_transport;
using certretry::errc;
using certretry::header_field;
using certretry::request_view;

static_assert(certretry::transport<curl_transport>);

const std::string harness = CERTRETRY_HARNESS;

// One HTTP/1.1 request as a test server saw it.
struct seen_request {
  std::string head;  // request line and fields
  std::string body;
};

// Reads one request (head, then Content-Length bytes of body) from a stream; false at EOF.
template <class Stream>
bool read_request(Stream& s, asio::streambuf& buf, seen_request& out) {
  boost::system::error_code ec;
  const std::size_t n = asio::read_until(s, buf, "\r\n\r\n", ec);
  if (ec) return false;
  out.head.assign(asio::buffers_begin(buf.data()), asio::buffers_begin(buf.data()) + n);
  buf.consume(n);
  std::size_t length = 0;
  std::string lower = out.head;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (const auto at = lower.find("\r\ncontent-length:"); at != std::string::npos)
    length = std::strtoul(lower.c_str() + at + 17, nullptr, 10);
  if (buf.size() < length) asio::read(s, buf, asio::transfer_exactly(length - buf.size()), ec);
  if (ec) return false;
  out.body.assign(asio::buffers_begin(buf.data()), asio::buffers_begin(buf.data()) + length);
  buf.consume(length);
  return true;
}

// A loopback server on a free port whose connections are handled one at a time on its own
// thread by `handle`. The destructor stops it (waking a blocked accept with a connection).
class loopback_server {
 public:
  using handler = std::function<void(tcp::socket&, loopback_server&)>;

  explicit loopback_server(handler h) : acceptor_(io_), handle_(std::move(h)) {
    const tcp::endpoint at{asio::ip::make_address_v4("127.0.0.1"), 0};
    acceptor_.open(at.protocol());
    acceptor_.bind(at);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] {
      while (!stopping_) {
        tcp::socket s(io_);
        boost::system::error_code ec;
        acceptor_.accept(s, ec);
        if (ec || stopping_) break;
        ++connections_;
        handle_(s, *this);
      }
    });
  }
  ~loopback_server() {
    stopping_ = true;
    boost::system::error_code ec;
    tcp::socket wake(io_);
    wake.connect({asio::ip::make_address_v4("127.0.0.1"), port_}, ec);
    thread_.join();
  }

  unsigned short port() const noexcept { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  bool stopping() const noexcept { return stopping_; }
  int connections() const noexcept { return connections_; }
  void record(const seen_request& r) {
    std::lock_guard lock(mutex_);
    seen_.push_back(r);
  }
  std::vector<seen_request> seen() {
    std::lock_guard lock(mutex_);
    return seen_;
  }

 private:
  asio::io_context io_;
  tcp::acceptor acceptor_;
  handler handle_;
  unsigned short port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  std::mutex mutex_;
  std::vector<seen_request> seen_;
  std::thread thread_;
};

// Answers every request on a kept-alive connection with the fields machines read, Link twice.
void answer_with_fields(tcp::socket& s, loopback_server& srv) {
  asio::streambuf buf;
  seen_request r;
  while (read_request(s, buf, r)) {
    srv.record(r);
    const std::string body = "seen";
    const std::string reply =
        "HTTP/1.1 200 OK\r\nRetry-After: 7\r\nReplay-Nonce: abc123\r\n"
        "Location: http://127.0.0.1/order/1\r\n"
        "Link: <http://127.0.0.1/dir>;rel=\"index\"\r\n"
        "Link: <http://127.0.0.1/cert/1/alt>;rel=\"alternate\"\r\n"
        "X-Folded: one\r\n two\r\n"
        "Content-Length: " +
        std::to_string(body.size()) + "\r\n\r\n" + body;
    boost::system::error_code ec;
    asio::write(s, asio::buffer(reply), ec);
    if (ec) return;
  }
}

curl_transport make(curl_options o) {
  auto t = curl_transport::create(std::move(o));
  EXPECT_TRUE(t.has_value());
  return std::move(t).value();
}

certretry::request_view get(std::string_view target) { return {.method = "GET", .target = target}; }

// --- against `serve` --------------------------------------------------------------------------

TEST(CurlTransport, TppEnrollmentThroughServeReusesOneConnection) {
  certretry_test::serve_process serve(
      harness, {"--model", "tpp", "--tpp-objects", "1", "--tpp-mean-issuance", "0"});
  ASSERT_TRUE(serve.ok()) << serve.startup();
  auto t = make({.base_url = serve.url()});
  const std::string body = R"({"CertificateDN":"\\VED\\Policy\\certretry\\cert-1"})";
  auto requested =
      t.send({.method = "POST", .target = "/vedsdk/certificates/request", .body = body});
  ASSERT_TRUE(requested.has_value()) << requested.error().message() << t.last_error_detail();
  EXPECT_EQ(requested.value().status, 200);
  EXPECT_NE(requested.value().body.find("\"Guid\""), std::string::npos);
  auto retrieved =
      t.send({.method = "POST", .target = "/vedsdk/certificates/retrieve", .body = body});
  ASSERT_TRUE(retrieved.has_value());
  EXPECT_EQ(retrieved.value().status, 200) << retrieved.value().body;
  EXPECT_NE(retrieved.value().body.find("CertificateData"), std::string::npos);
  // An unknown path is the model's 404, on the same connection.
  auto unknown = t.send(get("/nowhere"));
  ASSERT_TRUE(unknown.has_value());
  EXPECT_EQ(unknown.value().status, 404);
  EXPECT_EQ(t.connections_opened(), 1u);
  EXPECT_EQ(serve.stop(), 0);
}

TEST(CurlTransport, AcmeNonceAndLocationThroughServe) {
  certretry_test::serve_process serve(harness, {"--model", "acme"});
  ASSERT_TRUE(serve.ok()) << serve.startup();
  auto t = make({.base_url = serve.url()});
  auto nonce = t.send({.method = "HEAD", .target = "/acme/new-nonce"});
  ASSERT_TRUE(nonce.has_value()) << t.last_error_detail();
  EXPECT_EQ(nonce.value().status, 200);
  const auto n = nonce.value().view().header("replay-nonce");
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->size(), 16u);
  const std::vector<header_field> fields{{"Replay-Nonce", std::string(*n)}};
  auto order = t.send({.method = "POST",
                       .target = "/acme/new-order",
                       .headers = fields,
                       .body = R"({"identifiers":[{"type":"dns","value":"example.com"}]})"});
  ASSERT_TRUE(order.has_value());
  EXPECT_EQ(order.value().status, 201) << order.value().body;
  const auto location = order.value().view().header("Location");
  ASSERT_TRUE(location.has_value());
  EXPECT_EQ(*location, serve.url() + "/acme/order/1");
  // The same nonce again: badNonce, with a fresh nonce to retry with (RFC 8555 §6.5).
  auto again = t.send({.method = "POST",
                       .target = "/acme/new-order",
                       .headers = fields,
                       .body = R"({"identifiers":[{"type":"dns","value":"example.com"}]})"});
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again.value().status, 400);
  EXPECT_NE(again.value().body.find("badNonce"), std::string::npos);
  EXPECT_TRUE(again.value().view().header("Replay-Nonce").has_value());
  EXPECT_EQ(serve.stop(), 0);
}

TEST(CurlTransport, RetryAfterOfA429ThroughServe) {
  certretry_test::serve_process serve(harness, {"--model", "async-ca", "--fault", "0-600:429:7"});
  ASSERT_TRUE(serve.ok()) << serve.startup();
  auto t = make({.base_url = serve.url()});
  auto r = t.send(get("/order/certificate/1"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r.value().status, 429);
  EXPECT_EQ(r.value().view().header("Retry-After").value_or(""), "7");
  EXPECT_NE(r.value().body.find("request_limit_exceeded"), std::string::npos);
  EXPECT_EQ(serve.stop(), 0);
}

TEST(CurlTransport, ServeAnswers413ToABodyOverItsLimitAndKeepsServing) {
  certretry_test::serve_process serve(harness, {"--model", "tpp", "--max-body", "1000"});
  ASSERT_TRUE(serve.ok()) << serve.startup();
  auto t = make({.base_url = serve.url()});
  const std::string big(5000, 'x');
  auto r = t.send({.method = "POST", .target = "/vedsdk/certificates/request", .body = big});
  ASSERT_TRUE(r.has_value()) << t.last_error_detail();
  EXPECT_EQ(r.value().status, 413);
  auto next = t.send({.method = "POST", .target = "/vedsdk/certificates/request", .body = "{}"});
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next.value().status, 400);  // the model's own refusal: no DN
  EXPECT_EQ(serve.stop(), 0);
}

// --- the fields machines read, User-Agent, methods --------------------------------------------

TEST(CurlTransport, KeepsEveryFieldLinkTwiceInOrder) {
  loopback_server srv(answer_with_fields);
  auto t = make({.base_url = srv.url()});
  auto r = t.send(get("/x"));
  ASSERT_TRUE(r.has_value()) << t.last_error_detail();
  const auto& v = r.value();
  EXPECT_EQ(v.status, 200);
  EXPECT_EQ(v.body, "seen");
  EXPECT_EQ(v.view().header("retry-after").value_or(""), "7");
  EXPECT_EQ(v.view().header("Replay-Nonce").value_or(""), "abc123");
  EXPECT_EQ(v.view().header("Location").value_or(""), "http://127.0.0.1/order/1");
  std::vector<std::string> links;
  for (const auto& h : v.headers)
    if (h.name == "Link") links.push_back(h.value);
  ASSERT_EQ(links.size(), 2u);
  EXPECT_EQ(links[0], "<http://127.0.0.1/dir>;rel=\"index\"");
  EXPECT_EQ(links[1], "<http://127.0.0.1/cert/1/alt>;rel=\"alternate\"");
  EXPECT_EQ(v.view().header("X-Folded").value_or(""), "one two");
}

TEST(CurlTransport, SendsUserAgentMethodBodyAndJsonContentType) {
  loopback_server srv(answer_with_fields);
  auto t = make({.base_url = srv.url() + "/"});
  const std::vector<header_field> fields{{"X-Request", "1"}};
  ASSERT_TRUE(t.send({.method = "POST", .target = "a", .headers = fields, .body = "{\"k\":1}"}));
  ASSERT_TRUE(t.send({.method = "PUT", .target = "/b", .body = "put"}));
  ASSERT_TRUE(t.send({.method = "DELETE", .target = "/c"}));
  ASSERT_TRUE(t.send(get(srv.url() + "/absolute")));
  const auto seen = srv.seen();
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[0].head.substr(0, seen[0].head.find('\r')), "POST /a HTTP/1.1");
  EXPECT_NE(seen[0].head.find("User-Agent: certretry/" + std::string(certretry::version)),
            std::string::npos)
      << seen[0].head;
  EXPECT_NE(seen[0].head.find("Content-Type: application/json"), std::string::npos);
  EXPECT_NE(seen[0].head.find("X-Request: 1"), std::string::npos);
  EXPECT_EQ(seen[0].head.find("Expect:"), std::string::npos);
  EXPECT_EQ(seen[0].body, "{\"k\":1}");
  EXPECT_EQ(seen[1].head.substr(0, 12), "PUT /b HTTP/");
  EXPECT_EQ(seen[1].body, "put");
  EXPECT_EQ(seen[2].head.substr(0, 15), "DELETE /c HTTP/");
  EXPECT_EQ(seen[3].head.substr(0, 19), "GET /absolute HTTP/");
  EXPECT_EQ(srv.connections(), 1);  // one connection for all four
  EXPECT_EQ(t.connections_opened(), 1u);
}

TEST(CurlTransport, EmptyPostSendsNoBodyAndNeverReadsStdin) {
  loopback_server srv(answer_with_fields);
  auto t = make({.base_url = srv.url()});
  auto r = t.send({.method = "POST", .target = "/post-as-get"});  // ACME's POST-as-GET
  ASSERT_TRUE(r.has_value()) << t.last_error_detail();
  const auto seen = srv.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_NE(seen[0].head.find("Content-Length: 0"), std::string::npos) << seen[0].head;
  EXPECT_TRUE(seen[0].body.empty());
}

TEST(CurlTransport, RefusesALineBreakInAHeader) {
  loopback_server srv(answer_with_fields);
  auto t = make({.base_url = srv.url()});
  const std::vector<header_field> bad{{"Replay-Nonce", "abc\r\nX-Injected: 1"}};
  auto r = t.send({.method = "GET", .target = "/", .headers = bad});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), errc::transport_failure);
  EXPECT_NE(t.last_error_detail().find("line break"), std::string_view::npos);
  EXPECT_TRUE(srv.seen().empty());
}

TEST(CurlTransport, VersionMatchesTheProject) {
  EXPECT_EQ(certretry::version, CERTRETRY_PROJECT_VERSION);
}

// --- failures as values -----------------------------------------------------------------------

TEST(CurlTransport, StalledServerIsATimeout) {
  loopback_server srv([](tcp::socket& s, loopback_server& self) {
    asio::streambuf buf;
    seen_request r;
    read_request(s, buf, r);
    for (int i = 0; i < 200 && !self.stopping(); ++i) std::this_thread::sleep_for(25ms);
  });
  auto t = make({.base_url = srv.url(), .timeout = 300ms});
  const auto started = std::chrono::steady_clock::now();
  auto r = t.send(get("/stall"));
  const auto took = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), errc::transport_timeout);
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 3s);
  EXPECT_FALSE(t.last_error_detail().empty());
  EXPECT_EQ(certretry::transport_error_name(r.error()), "timeout");
}

TEST(CurlTransport, ResetConnectionIsAReset) {
  loopback_server srv([](tcp::socket& s, loopback_server&) {
    asio::streambuf buf;
    seen_request r;
    read_request(s, buf, r);
    s.set_option(asio::socket_base::linger(true, 0));  // close() sends RST
    s.close();
  });
  auto t = make({.base_url = srv.url()});
  auto r = t.send(get("/reset"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), errc::connection_reset) << t.last_error_detail();
  EXPECT_EQ(certretry::transport_error_name(r.error()), "reset");
}

TEST(CurlTransport, ClosedPortIsConnectionRefused) {
  unsigned short port = 0;
  {
    asio::io_context io;
    tcp::acceptor a(io, {asio::ip::make_address_v4("127.0.0.1"), 0});
    port = a.local_endpoint().port();
  }  // closed: nothing listens there now
  auto t = make({.base_url = "http://127.0.0.1:" + std::to_string(port)});
  auto r = t.send(get("/"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), errc::connection_refused) << t.last_error_detail();
}

// Name resolution is not exercised live (only 127.0.0.1 is reachable here): the mapping is.
TEST(CurlTransport, ErrorMapping) {
  EXPECT_EQ(certretry::curl_error_kind(CURLE_COULDNT_RESOLVE_HOST), errc::dns_failure);
  EXPECT_EQ(certretry::curl_error_kind(CURLE_COULDNT_RESOLVE_PROXY), errc::dns_failure);
  EXPECT_EQ(certretry::curl_error_kind(CURLE_OPERATION_TIMEDOUT), errc::transport_timeout);
  EXPECT_EQ(certretry::curl_error_kind(CURLE_COULDNT_CONNECT), errc::connection_refused);
  EXPECT_EQ(certretry::curl_error_kind(CURLE_PEER_FAILED_VERIFICATION), errc::tls_failure);
  EXPECT_EQ(certretry::curl_error_kind(CURLE_SSL_CONNECT_ERROR), errc::tls_failure);
  EXPECT_EQ(certretry::curl_error_kind(CURLE_RECV_ERROR), errc::connection_reset);
  EXPECT_EQ(certretry::curl_error_kind(CURLE_GOT_NOTHING), errc::connection_reset);
  EXPECT_EQ(certretry::curl_error_kind(CURLE_FILESIZE_EXCEEDED), errc::body_too_large);
  EXPECT_EQ(certretry::curl_error_kind(CURLE_URL_MALFORMAT), errc::transport_failure);
  EXPECT_EQ(certretry::transport_error_name(make_error_code(errc::dns_failure)), "dns_failure");
  EXPECT_NE(make_error_code(errc::dns_failure).message().find("resolve"), std::string::npos);
}

TEST(CurlTransport, UnsupportedSchemeIsATransportFailure) {
  auto t = make({});
  auto r = t.send(get("ftp://127.0.0.1/x"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), errc::transport_failure);
}

// 10 MiB against a 1 MiB bound, announced (Content-Length) or not (chunked): an error value,
// and the transport is usable again after the aborted transfer.
class BigBody : public ::testing::TestWithParam<bool> {};

TEST_P(BigBody, IsBodyTooLargeNotAnAllocation) {
  const bool chunked = GetParam();
  std::atomic<std::size_t> written{0};
  loopback_server ok(answer_with_fields);  // outlives the transport: it holds a kept-alive link
  loopback_server srv([&](tcp::socket& s, loopback_server&) {
    asio::streambuf buf;
    seen_request r;
    read_request(s, buf, r);
    constexpr std::size_t total = 10u << 20;
    const std::string chunk(64u << 10, 'x');
    boost::system::error_code ec;
    asio::write(
        s,
        asio::buffer(chunked ? std::string("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                             : "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(total) +
                                   "\r\n\r\n"),
        ec);
    char size_line[32];
    std::snprintf(size_line, sizeof size_line, "%zx\r\n", chunk.size());
    for (std::size_t sent = 0; sent < total && !ec; sent += chunk.size()) {
      if (chunked) asio::write(s, asio::buffer(std::string(size_line)), ec);
      if (!ec) asio::write(s, asio::buffer(chunk), ec);
      if (chunked && !ec) asio::write(s, asio::buffer(std::string("\r\n")), ec);
      if (!ec) written += chunk.size();
    }
    if (chunked && !ec) asio::write(s, asio::buffer(std::string("0\r\n\r\n")), ec);
  });
  auto t = make({.base_url = srv.url()});
  auto r = t.send(get("/big"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), errc::body_too_large) << t.last_error_detail();
  // The same transport goes on working after an aborted transfer.
  auto after = t.send(get(ok.url() + "/after"));
  ASSERT_TRUE(after.has_value()) << t.last_error_detail();
  EXPECT_EQ(after.value().status, 200);
}

INSTANTIATE_TEST_SUITE_P(LengthOrChunked, BigBody, ::testing::Values(false, true),
                         [](const auto& p) { return p.param ? "chunked" : "length"; });

TEST(CurlTransport, HeadersOverTheirBoundAreHeaderTooLarge) {
  loopback_server srv([](tcp::socket& s, loopback_server&) {
    asio::streambuf buf;
    seen_request r;
    read_request(s, buf, r);
    std::string reply = "HTTP/1.1 200 OK\r\n";
    for (int i = 0; i < 100; ++i)
      reply += "X-Filler-" + std::to_string(i) + ": " + std::string(100, 'y') + "\r\n";
    reply += "Content-Length: 0\r\n\r\n";
    boost::system::error_code ec;
    asio::write(s, asio::buffer(reply), ec);
  });
  auto t = make({.base_url = srv.url(), .max_header_bytes = 4096});
  auto r = t.send(get("/"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), errc::header_too_large);
}

// --- TLS ----------------------------------------------------------------------------------------

class Tls : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::system("command -v openssl >/dev/null 2>&1") != 0) GTEST_SKIP() << "no openssl";
    dir_ = certretry_test::temp_dir();
    ASSERT_FALSE(dir_.empty());
    const std::string cmd =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 "
        "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout " +
        dir_ + "/key.pem -out " + dir_ + "/cert.pem >" + dir_ + "/openssl.log 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << certretry_test::read_text(dir_ + "/openssl.log");
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  std::string dir_;
};

TEST_F(Tls, SelfSignedIsRefusedUnlessItsCaIsGiven) {
  asio::ssl::context ctx(asio::ssl::context::tls_server);
  ctx.use_certificate_chain_file(dir_ + "/cert.pem");
  ctx.use_private_key_file(dir_ + "/key.pem", asio::ssl::context::pem);
  std::atomic<int> handshakes{0};
  loopback_server srv([&](tcp::socket& s, loopback_server&) {
    asio::ssl::stream<tcp::socket&> tls(s, ctx);
    boost::system::error_code ec;
    tls.handshake(asio::ssl::stream_base::server, ec);
    if (ec) return;  // the client refused our certificate
    ++handshakes;
    asio::streambuf buf;
    seen_request r;
    while (read_request(tls, buf, r)) {
      const std::string reply = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\ntls";
      asio::write(tls, asio::buffer(reply), ec);
      if (ec) return;
    }
  });
  const std::string url = "https://127.0.0.1:" + std::to_string(srv.port());

  // The server takes one connection at a time: the refusals come first.
  auto refused = make({.base_url = url});  // the system store does not know our CA
  auto r1 = refused.send(get("/"));
  ASSERT_FALSE(r1.has_value());
  EXPECT_EQ(r1.error(), errc::tls_failure) << refused.last_error_detail();
  EXPECT_EQ(certretry::transport_error_name(r1.error()), "tls");
  auto untrusting = make({.base_url = url, .ca_file = dir_ + "/no-such-bundle.pem"});
  auto r4 = untrusting.send(get("/"));
  ASSERT_FALSE(r4.has_value());
  EXPECT_EQ(r4.error(), errc::tls_failure) << untrusting.last_error_detail();

  auto trusting = make({.base_url = url, .ca_file = dir_ + "/cert.pem"});
  auto r2 = trusting.send(get("/"));
  ASSERT_TRUE(r2.has_value()) << trusting.last_error_detail();
  EXPECT_EQ(r2.value().status, 200);
  EXPECT_EQ(r2.value().body, "tls");
  auto r3 = trusting.send(get("/again"));
  ASSERT_TRUE(r3.has_value());
  EXPECT_EQ(trusting.connections_opened(), 1u);  // the TLS connection was reused
  EXPECT_EQ(handshakes.load(), 1);
}

// --- proxy from the environment, as libcurl does ------------------------------------------------

TEST(CurlTransport, HonoursHttpProxyFromTheEnvironmentUnlessDisabled) {
  loopback_server proxy(answer_with_fields);
  loopback_server origin(answer_with_fields);
  unsetenv("no_proxy");
  unsetenv("NO_PROXY");
  setenv("http_proxy", proxy.url().c_str(), 1);
  {
    auto t = make({.base_url = origin.url()});
    ASSERT_TRUE(t.send(get("/via-proxy")).has_value()) << t.last_error_detail();
    auto direct = make({.base_url = origin.url(), .proxy = ""});
    ASSERT_TRUE(direct.send(get("/direct")).has_value()) << direct.last_error_detail();
  }
  unsetenv("http_proxy");
  const auto at_proxy = proxy.seen();
  ASSERT_EQ(at_proxy.size(), 1u);
  // A proxy gets the absolute form of the target (RFC 9112 §3.2.2).
  EXPECT_EQ(at_proxy[0].head.substr(0, at_proxy[0].head.find(' ', 4)),
            "GET " + origin.url() + "/via-proxy");
  const auto at_origin = origin.seen();
  ASSERT_EQ(at_origin.size(), 1u);
  EXPECT_EQ(at_origin[0].head.substr(0, 12), "GET /direct ");
}

}  // namespace
