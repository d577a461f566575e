// acme_pebble — issues certificates from an ACME server (RFC 8555) with certretry's machines.
//
//   acme_pebble --directory URL --ca-file PEM --count N --out-dir DIR [--bad-nonce-retries K]
//               [--verbose]
//
// Certificate i names test<i>.example.com and is written to DIR/cert<i>.pem (the chain as
// downloaded) with its key in DIR/key<i>.pem. It is meant for Pebble with always-valid
// challenges: it answers each http-01 challenge with `{}` but serves no key authorization.
//
// Every step after the directory is one certretry machine driven by certretry::run(): the
// machines decide about nonces, badNonce, 429/5xx, Retry-After and polling; this file only
// chains them and signs (jws_transport.hpp). Exit status 0 only if all N certificates were
// issued.
#include "acme_json.hpp"
#include "crypto.hpp"
#include "jws_transport.hpp"

#include <certretry/acme/exchange.hpp>
#include <certretry/acme/new_order.hpp>
#include <certretry/acme/poll.hpp>
#include <certretry/acme/reply.hpp>
#include <certretry/backoff/retry_after.hpp>
#include <certretry/core/event.hpp>
#include <certretry/core/system.hpp>
#include <certretry/machine/run.hpp>
#include <certretry/transport/curl.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace std::chrono_literals;
namespace acme = certretry::acme;

struct options {
  std::string directory;
  std::string ca_file;
  std::uint32_t count = 1;
  std::string out_dir = ".";
  std::uint32_t bad_nonce_retries = 3;
  bool verbose = false;
};

void usage() {
  std::fprintf(stderr,
               "usage: acme_pebble --directory URL --ca-file PEM --count N --out-dir DIR\n"
               "                   [--bad-nonce-retries K] [--verbose]\n");
}

bool parse_u32(std::string_view s, std::uint32_t& out) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && end == s.data() + s.size();
}

bool parse_args(int argc, char** argv, options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--verbose") {
      o.verbose = true;
      continue;
    }
    if (i + 1 >= argc) return false;
    const std::string_view v = argv[++i];
    if (a == "--directory")
      o.directory = v;
    else if (a == "--ca-file")
      o.ca_file = v;
    else if (a == "--out-dir")
      o.out_dir = v;
    else if (a == "--count") {
      if (!parse_u32(v, o.count) || o.count == 0) return false;
    } else if (a == "--bad-nonce-retries") {
      if (!parse_u32(v, o.bad_nonce_retries)) return false;
    } else {
      return false;
    }
  }
  return !o.directory.empty();
}

// What the machines report, counted; each event's line printed with --verbose.
struct tally {
  std::uint64_t bad_nonce_events = 0;
  bool verbose = false;
};

struct counting_sink {
  tally* t;
  void operator()(const certretry::event& e) const {
    if (e.kind == certretry::event_kind::bad_nonce) ++t->bad_nonce_events;
    if (!t->verbose) return;
    const auto text = [](std::string_view s) { return static_cast<int>(s.size()); };
    switch (e.kind) {
      case certretry::event_kind::send:
        std::fprintf(stderr, "  send %.*s %.*s\n", text(e.request.method), e.request.method.data(),
                     text(e.request.target), e.request.target.data());
        break;
      case certretry::event_kind::wait:
        std::fprintf(stderr, "  wait %lld ms (%s)\n", static_cast<long long>(e.delay.count()),
                     certretry::to_string(e.wait_why).data());
        break;
      case certretry::event_kind::finish:
        std::fprintf(stderr, "  finish %s %.*s\n", certretry::to_string(e.outcome).data(),
                     text(e.why), e.why.data());
        break;
      case certretry::event_kind::verdict:
        std::fprintf(stderr, "  verdict %d %s %.*s\n", e.status,
                     certretry::to_string(e.verdict).data(), text(e.why), e.why.data());
        break;
      default:
        std::fprintf(stderr, "  %s %.*s\n", certretry::to_string(e.kind).data(), text(e.why),
                     e.why.data());
    }
  }
};

// Counts what reaches the wire: requests, and the badNonce errors the server answered (RFC 8555
// §6.5), independently of what the machines report about them.
template <certretry::transport Inner>
class wire_counter {
 public:
  explicit wire_counter(Inner& inner) : inner_(inner) {}

  certretry::result<certretry::response> send(const certretry::request_view& r) {
    ++requests;
    auto reply = inner_.send(r);
    if (reply && reply.value().status == 400) {
      const auto p = problems_.read(reply.value().body);
      if (p && p->type_name == "badNonce") ++bad_nonces;
    }
    return reply;
  }

  std::uint64_t requests = 0;
  std::uint64_t bad_nonces = 0;

 private:
  Inner& inner_;
  acme::problem_reader problems_;
};

using post_machine = acme::post_machine<certretry::any_schedule, certretry::any_jitter,
                                        certretry::splitmix64, counting_sink>;
using new_order_machine = acme::new_order_machine<certretry::any_schedule, certretry::any_jitter,
                                                  certretry::splitmix64, counting_sink>;
using resource_poll_machine =
    acme::resource_poll_machine<certretry::any_schedule, certretry::any_jitter,
                                certretry::splitmix64, counting_sink>;

// The chain of machines for one program run: the transport stack, the nonce passed from each
// machine to the next, and the counts.
class client {
 public:
  client(certretry::curl_transport& http, const acme_pebble::ec_key& account_key, const options& o,
         std::string base_url, acme_pebble::directory dir)
      : wire_(http),
        signer_(wire_, account_key, std::move(base_url)),
        opts_(o),
        dir_(std::move(dir)),
        rng_(std::random_device{}()) {
    tally_.verbose = o.verbose;
  }

  // RFC 8555 §7.3: the account, once; its URL (Location) is the `kid` of every later request.
  bool create_account() {
    auto m = post(dir_.new_account, R"({"termsOfServiceAgreed":true})");
    if (!drive(m, "new-account")) return false;
    const auto kid = certretry::find_header(m.reply().headers, "Location");
    if (!kid || kid->empty()) {
      std::fprintf(stderr, "new-account: reply has no Location\n");
      return false;
    }
    signer_.set_account_url(std::string(*kid));
    return true;
  }

  // One certificate: new-order, authorizations and challenges, finalize, download.
  bool issue(std::uint32_t index) {
    const auto started = std::chrono::steady_clock::now();
    const std::uint64_t requests_before = wire_.requests;
    const std::uint64_t bad_before = wire_.bad_nonces;
    const std::string name = "test" + std::to_string(index) + ".example.com";
    const auto fail = [&](const char* what) {
      std::printf("cert %u %s failed at %s\n", index, name.c_str(), what);
      return false;
    };

    // RFC 8555 §7.4: the order.
    auto order_m = new_order(R"([{"type":"dns","value":)" + acme_pebble::json_quote(name) + "}]");
    if (!drive(order_m, "new-order")) return fail("new-order");
    const std::string order_url(order_m.order_url());
    auto ord = json_.read_order(order_m.reply().body);
    if (order_url.empty() || !ord) return fail("new-order (no Location or unreadable order)");

    // RFC 8555 §7.5: each authorization, its http-01 challenge answered, then polled until
    // valid (§7.5.1). An authorization the server reused may be valid already.
    for (const std::string& authz_url : ord->authorizations) {
      auto get_authz = post(authz_url, "");  // POST-as-GET
      if (!drive(get_authz, "authorization")) return fail("authorization");
      const auto authz = json_.read_authorization(get_authz.reply().body);
      if (!authz) return fail("authorization (unreadable)");
      if (authz->status == "valid") continue;
      if (authz->http01_url.empty()) return fail("authorization (no http-01 challenge)");

      auto respond = post(authz->http01_url, "{}");
      if (!drive(respond, "challenge")) return fail("challenge");

      // §7.5.1: unless the challenge is valid already, let the server work before the first
      // poll.
      const bool settled = json_.read_status(respond.reply().body) == "valid";
      auto poll = poller(authz_url, acme::resource_kind::authorization, !settled, respond.reply());
      if (!drive(poll, "authorization poll")) return fail("authorization poll");
      if (poll.status() != certretry::acme::resource_status::valid)
        return fail("authorization poll (not valid)");
    }

    // RFC 8555 §7.4: finalize with a CSR naming the identifiers, then poll the order until valid
    // (processing -> valid, §7.1.6).
    const acme_pebble::ec_key cert_key;
    const std::string csr = acme_pebble::make_csr_der(cert_key, {name});
    auto finalize = post(ord->finalize, R"({"csr":")" + acme_pebble::base64url(csr) + "\"}");
    if (!drive(finalize, "finalize")) return fail("finalize");
    ord = json_.read_order(finalize.reply().body);
    if (!ord) return fail("finalize (unreadable order)");
    if (ord->status != "valid") {
      // §7.4: the order is processing; poll it, letting the server work first.
      auto poll_order = poller(order_url, acme::resource_kind::order, true, finalize.reply());
      if (!drive(poll_order, "order poll")) return fail("order poll");
      ord = json_.read_order(poll_order.reply().body);
    }
    if (!ord || ord->status != "valid" || ord->certificate.empty())
      return fail("order poll (not valid, or no certificate URL)");

    // RFC 8555 §7.4.2: the chain, POST-as-GET.
    auto download = post(ord->certificate, "");  // POST-as-GET
    if (!drive(download, "certificate")) return fail("certificate download");

    const std::filesystem::path dir{opts_.out_dir};
    const auto cert_path = dir / ("cert" + std::to_string(index) + ".pem");
    const auto key_path = dir / ("key" + std::to_string(index) + ".pem");
    if (!write_file(cert_path, download.reply().body, 0644) ||
        !write_file(key_path, cert_key.private_pem(), 0600))
      return fail("writing files");

    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::printf("cert %u %s issued requests %llu bad_nonce %llu seconds %.2f -> %s\n", index,
                name.c_str(), static_cast<unsigned long long>(wire_.requests - requests_before),
                static_cast<unsigned long long>(wire_.bad_nonces - bad_before), seconds,
                cert_path.c_str());
    return true;
  }

  std::uint64_t requests() const noexcept { return wire_.requests; }
  std::uint64_t wire_bad_nonces() const noexcept { return wire_.bad_nonces; }
  std::uint64_t recovered() const noexcept { return recovered_; }

 private:
  // The freshest nonce the previous machine left, so that only the first machine of the run
  // asks new-nonce (RFC 8555 §7.2).
  acme::nonce_options nonce_options() const {
    return {.new_nonce_url = dir_.new_nonce,
            .max_bad_nonce_retries = opts_.bad_nonce_retries,
            .initial = nonce_};
  }

  // The machines. Each step has its own deadline: Pebble answers in milliseconds, so a step
  // still unfinished after that is stuck, and the run should say so rather than hang.
  static constexpr certretry::duration step_deadline = 2min;

  post_machine post(std::string url, std::string payload) {
    return post_machine{{.url = std::move(url),
                         .payload = std::move(payload),
                         .nonce = nonce_options(),
                         .errors = {},
                         .max_body_bytes = certretry::default_max_body_bytes},
                        acme::default_policy(step_deadline),
                        next_seed(),
                        counting_sink{&tally_}};
  }

  new_order_machine new_order(std::string identifiers_json) {
    acme::new_order_options o;
    o.new_order_url = dir_.new_order;
    o.identifiers_json = std::move(identifiers_json);
    o.renewal_info_advertised = dir_.renewal_info;
    o.nonce = nonce_options();
    return new_order_machine{std::move(o), acme::default_policy(step_deadline), next_seed(),
                             counting_sink{&tally_}};
  }

  // Polls `url` after `began`, the reply to the request that started the processing (a
  // challenge response, finalize). With wait_first the first poll waits for that reply's
  // Retry-After (RFC 8555 §7.4, §7.5.1), or the schedule's first delay when it has none.
  resource_poll_machine poller(std::string url, acme::resource_kind kind, bool wait_first,
                               const certretry::response& began) {
    acme::poll_options p;
    p.url = std::move(url);
    p.kind = kind;
    p.nonce = nonce_options();
    p.wait_first = wait_first;
    p.first_retry_after = certretry::read_retry_after(began.headers, clock_.now()).value_if_any();
    return resource_poll_machine{std::move(p), acme::default_policy(step_deadline), next_seed(),
                                 counting_sink{&tally_}};
  }

  certretry::splitmix64 next_seed() { return certretry::splitmix64{rng_()}; }

  // Runs one machine to its end. The badNonce retries of a machine that then succeeded are the
  // ones recovered.
  template <class M>
  bool drive(M& m, const char* step) {
    const std::uint64_t events_before = tally_.bad_nonce_events;
    const certretry::outcome o = certretry::run(m, signer_, clock_, sleeper_);
    nonce_.assign(m.nonce());
    if (o.kind != certretry::outcome_kind::completed) {
      std::fprintf(stderr, "%s: %s after %u requests: %s (%s)\n", step,
                   certretry::to_string(o.kind).data(), o.sends, o.reason.c_str(),
                   o.error.message().c_str());
      return false;
    }
    recovered_ += tally_.bad_nonce_events - events_before;
    return true;
  }

  static bool write_file(const std::filesystem::path& path, std::string_view bytes, mode_t mode) {
    // open(2) with the mode, so a key is never readable by others, not even briefly.
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) return false;
    std::size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
      if (n <= 0) break;
      done += static_cast<std::size_t>(n);
    }
    return ::close(fd) == 0 && done == bytes.size();
  }

  wire_counter<certretry::curl_transport> wire_;
  acme_pebble::jws_transport<wire_counter<certretry::curl_transport>> signer_;
  const options& opts_;
  acme_pebble::directory dir_;
  std::mt19937_64 rng_;
  certretry::system_clock clock_;
  certretry::thread_sleeper sleeper_;
  tally tally_;
  std::string nonce_;
  std::uint64_t recovered_ = 0;
  acme_pebble::json_objects json_;
};

int run_program(const options& o) {
  const auto started = std::chrono::steady_clock::now();
  const std::string base = acme_pebble::url_origin(o.directory);
  auto made = certretry::curl_transport::create({.base_url = base, .ca_file = o.ca_file});
  if (!made) {
    std::fprintf(stderr, "libcurl: %s\n", made.error().message().c_str());
    return 1;
  }
  certretry::curl_transport& http = made.value();

  // The directory (RFC 8555 §7.1.1) is a plain GET: no nonce, no signature, nothing to retry
  // here that a rerun would not.
  const auto reply = http.send({.method = "GET", .target = o.directory});
  if (!reply) {
    std::fprintf(stderr, "directory: %s\n", reply.error().message().c_str());
    return 1;
  }
  if (reply.value().status != 200) {
    std::fprintf(stderr, "directory: HTTP %d\n", reply.value().status);
    return 1;
  }
  acme_pebble::json_objects json;
  auto dir = json.read_directory(reply.value().body);
  if (!dir) {
    std::fprintf(stderr, "directory: not an ACME directory\n");
    return 1;
  }

  const acme_pebble::ec_key account_key;
  client c{http, account_key, o, base, std::move(*dir)};
  std::uint32_t issued = 0;
  if (c.create_account()) {
    for (std::uint32_t i = 1; i <= o.count; ++i)
      if (c.issue(i)) ++issued;
  }

  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("certificates %u bad_nonce %llu recovered %llu requests %llu seconds %.2f\n", issued,
              static_cast<unsigned long long>(c.wire_bad_nonces()),
              static_cast<unsigned long long>(c.recovered()),
              static_cast<unsigned long long>(c.requests()), seconds);
  return issued == o.count ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  if (!parse_args(argc, argv, o)) {
    usage();
    return 2;
  }
  try {
    std::error_code ec;
    std::filesystem::create_directories(o.out_dir, ec);
    if (ec) {
      std::fprintf(stderr, "%s: %s\n", o.out_dir.c_str(), ec.message().c_str());
      return 1;
    }
    return run_program(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "acme_pebble: %s\n", e.what());
    return 1;
  }
}
