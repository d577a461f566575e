// The models `certretry-harness serve` exposes, driven by the wall clock, and its options.
//
// The models run on a virtual clock (testing/, sim/). Here each request first moves the model's
// clock to the wall clock, so issuance, rate-limit windows and outages happen in real time from
// the moment serve started. A model that holds a call (TPP's WorkToDoTimeout, an async CA's
// outage timeout, ACME's unanswered renewalInfo) computes its answer at once; serve sends it
// after the hold. While a TPP or ACME hold is outstanding the model's clock runs ahead of the
// wall clock by that hold (a virtual clock cannot go back), so other objects may see their
// issuance up to that much early; the async-CA model keeps its own event clock and is exact.
#include "serve_model.hpp"

#include <certretry/core/text.hpp>
#include <certretry/sim/async_ca_model.hpp>
#include <certretry/sim/engine.hpp>
#include <certretry/testing/acme/server.hpp>
#include <certretry/testing/scripted.hpp>
#include <certretry/testing/tpp_server.hpp>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <functional>
#include <string_view>
#include <utility>
#include <vector>

namespace certretry::harness::serve {
namespace {

using namespace std::chrono_literals;
namespace models = certretry::model;

// --- the models ---------------------------------------------------------------------------

// Moves a virtual clock forward to the wall clock (never back).
void follow(virtual_clock& clock, time_point now) {
  if (now > clock.now()) clock.advance(now - clock.now());
}

void add_counter(std::string& out, std::string_view name, std::uint64_t v) {
  out += out.empty() ? "{\"" : ",\"";
  out += name;
  out += "\":";
  out += std::to_string(v);
}

struct tpp_setup {
  models::tpp_server_options options;
  std::uint32_t objects = 0;
  double stuck = 0.0;
  std::string policy = "\\VED\\Policy\\certretry";
};

class tpp_model final : public model {
 public:
  tpp_model(time_point start, tpp_setup s)
      : clock_(start), setup_(std::move(s)), server_(clock_, setup_.options) {
    for (std::uint32_t i = 1; i <= setup_.objects; ++i) {
      const bool stuck = is_stuck(i, setup_.stuck);
      stuck_ += stuck ? 1 : 0;
      server_.add_certificate(setup_.policy + "\\cert-" + std::to_string(i),
                              stuck ? models::tpp_prior::failed : models::tpp_prior::issued);
    }
  }

  // Object i (from 1) is stuck when the running count of stuck objects, floor(i * fraction),
  // steps up at i: exactly floor(n * fraction) of the first n, spread evenly (0.2: every 5th).
  static bool is_stuck(std::uint32_t i, double fraction) {
    const auto count = [&](std::uint32_t k) {
      return std::floor(static_cast<double>(k) * fraction + 1e-9);
    };
    return count(i) > count(i - 1);
  }

  reply handle(const request_view& req, time_point now) override {
    follow(clock_, now);
    const time_point before = clock_.now();
    auto r = server_.send(req);
    reply out;
    out.hold = clock_.now() - before;  // a WorkToDoTimeout hold (the model's latency is zero)
    if (r) out.r = std::move(r).value();
    return out;
  }

  std::string startup_json() const override {
    std::string s = ",\"objects\":" + std::to_string(setup_.objects) +
                    ",\"stuck\":" + std::to_string(stuck_) + ",\"policy\":";
    certretry::detail::append_json_string(s, setup_.policy);
    s += ",\"object_names\":";
    certretry::detail::append_json_string(s, setup_.policy + "\\cert-<n>");
    return s;
  }

  std::string counters_json() const override {
    const auto& c = server_.counters();
    std::string s;
    add_counter(s, "request", c.request);
    add_counter(s, "retrieve", c.retrieve);
    add_counter(s, "reset", c.reset);
    add_counter(s, "renew", c.renew);
    add_counter(s, "other", c.other);
    add_counter(s, "issued", c.issued);
    add_counter(s, "wrong_certificates", c.wrong_certificates);
    return s + "}";
  }

 private:
  virtual_clock clock_;
  tpp_setup setup_;
  models::tpp_server server_;
  std::uint32_t stuck_ = 0;
};

struct acme_setup {
  models::acme_server_options options;
  std::uint32_t certificates = 0;
};

class acme_model final : public model {
 public:
  acme_model(time_point start, acme_setup s) : clock_(start), setup_(std::move(s)) {}

  void bound(std::uint16_t port) override {
    setup_.options.origin = "http://127.0.0.1:" + std::to_string(port);
    server_.emplace(clock_, setup_.options);
    // Certificates `replaces` may name, each renewable now (its window opened a day ago).
    for (std::uint32_t i = 1; i <= setup_.certificates; ++i)
      server_->add_certificate({.cert_id = cert_id(i),
                                .identifiers = {"test" + std::to_string(i) + ".example.com"},
                                .window_start = clock_.now() - 24h,
                                .window_end = clock_.now() + 24h,
                                .explanation_url = {}});
  }

  // A CertID of two base64url parts (RFC 9773 §4.1): a fixed key identifier, and as serial
  // the three bytes of 0x100000 + i (four base64url characters; serial 10000a for i = 10).
  static std::string cert_id(std::uint32_t i) {
    static constexpr char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const std::uint32_t v = 0x100000u + i;
    std::string id = "Y2VydHJldHJ5LXNlcnZl.";
    for (const int shift : {18, 12, 6, 0}) id += alphabet[(v >> shift) & 63u];
    return id;
  }

  reply handle(const request_view& req, time_point now) override {
    follow(clock_, now);
    const std::string_view path = req.target.substr(0, req.target.find('?'));
    if (path == "/directory" && req.method == "GET") return directory();
    const time_point before = clock_.now();
    auto r = server_->send(req);
    reply out;
    out.hold = clock_.now() - before;
    if (r) {
      out.r = std::move(r).value();
    } else {
      out.silent = true;  // the model's unanswered renewalInfo: the client times out
    }
    return out;
  }

  std::string startup_json() const override {
    std::string s = ",\"directory\":";
    certretry::detail::append_json_string(s, setup_.options.origin + "/directory");
    s += ",\"certificates\":[";
    for (std::uint32_t i = 1; i <= setup_.certificates; ++i) {
      if (i > 1) s += ',';
      certretry::detail::append_json_string(s, cert_id(i));
    }
    return s + "]";
  }

  std::string counters_json() const override {
    const auto& c = server_->counters();
    std::string s;
    add_counter(s, "new_nonce", c.new_nonce);
    add_counter(s, "new_order", c.new_order);
    add_counter(s, "finalize", c.finalize);
    add_counter(s, "order_polls", c.order_polls);
    add_counter(s, "certificate", c.certificate);
    add_counter(s, "renewal_info", c.renewal_info);
    add_counter(s, "other", c.other);
    add_counter(s, "bad_nonce", c.bad_nonce);
    add_counter(s, "rate_limited", c.rate_limited);
    add_counter(s, "replaces_rejected", c.replaces_rejected);
    add_counter(s, "orders_valid", c.orders_valid);
    return s + "}";
  }

 private:
  // RFC 8555 §7.1.1's directory, with the model's endpoints (no account or authz endpoints:
  // the model has none).
  reply directory() const {
    const std::string& o = setup_.options.origin;
    std::string body = "{\"newNonce\":\"" + o + std::string(models::acme_new_nonce_path) +
                       "\",\"newOrder\":\"" + o + std::string(models::acme_new_order_path) +
                       "\",\"renewalInfo\":\"" + o +
                       std::string(models::acme_renewal_info_prefix.substr(
                           0, models::acme_renewal_info_prefix.size() - 1)) +
                       "\"}";
    reply out;
    out.r = response{200, {{"Content-Type", "application/json"}}, std::move(body)};
    return out;
  }

  virtual_clock clock_;
  acme_setup setup_;
  std::optional<models::acme_server> server_;
};

class async_ca_model final : public model {
 public:
  async_ca_model(time_point start, sim::async_ca_options options)
      : engine_(start), model_(engine_, std::move(options)) {}

  reply handle(const request_view& req, time_point now) override {
    // The model's event clock to the wall clock: a tick at `now`, after every issuance and
    // outage end due by then.
    engine_.at(now, 0, tick);
    engine_.run(now, [&](const sim::sim_event& e) {
      if (e.what == sim::ca_event_issued || e.what == sim::ca_event_restored) model_.on_event(e);
      return true;
    });
    // DigiCert's API key header picks the rate-limit bucket (dev.digicert.com, "Rate limits").
    std::uint64_t key = 0;
    if (const auto k = find_header(req.headers, "X-DC-DEVKEY"))
      key = std::hash<std::string_view>{}(*k);
    const sim::ca_reply cr = model_.handle(req, key);
    model_.render(cr, buffer_);
    reply out;
    out.r.status = buffer_.status;
    out.r.headers = buffer_.headers;
    out.r.body = buffer_.body;
    const std::string_view ct = out.r.body.starts_with("-----BEGIN")
                                    ? "application/pem-certificate-chain"
                                    : "application/json";
    out.r.headers.push_back({"Content-Type", std::string(ct)});
    out.hold = cr.delay;
    return out;
  }

  std::string startup_json() const override {
    std::string s = ",\"profile\":";
    certretry::detail::append_json_string(s, model_.profile().name);
    s += ",\"submit\":";
    certretry::detail::append_json_string(s, model_.submit_path());
    s += ",\"status\":";
    certretry::detail::append_json_string(s, model_.profile().status_path);
    return s;
  }

  std::string counters_json() const override {
    const auto& c = model_.counters();
    std::string s;
    add_counter(s, "requests", c.requests);
    add_counter(s, "submits_accepted", c.submits_accepted);
    add_counter(s, "issued", c.issued);
    add_counter(s, "rate_limited", c.rate_limited);
    add_counter(s, "faulted", c.faulted);
    add_counter(s, "outage_503", c.outage_503);
    add_counter(s, "not_found", c.not_found);
    return s + "}";
  }

 private:
  static constexpr std::uint32_t tick = 0xfff0;
  sim::engine engine_;
  sim::async_ca_model model_;
  sim::response_buffer buffer_;
};

// --- option values ------------------------------------------------------------------------

bool parse_uint(std::string_view s, std::uint64_t max, std::uint64_t& out) {
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || v > max) return false;
  out = v;
  return true;
}

bool parse_double(std::string_view s, double lo, double hi, double& out) {
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || !std::isfinite(v) || v < lo || v > hi)
    return false;
  out = v;
  return true;
}

// Seconds, decimals allowed ("1.5"), up to a year.
bool parse_seconds(std::string_view s, duration& out) {
  double v = 0;
  if (!parse_double(s, 0.0, 366.0 * 24 * 3600, v)) return false;
  out = certretry::detail::saturate_ms(v * 1000.0);
  return true;
}

// FROM-TO in seconds since serve started.
bool parse_window(std::string_view s, duration& from, duration& to) {
  const auto dash = s.find('-');
  if (dash == std::string_view::npos) return false;
  return parse_seconds(s.substr(0, dash), from) && parse_seconds(s.substr(dash + 1), to) &&
         from < to;
}

// fixed:S | exp:S | lognormal:MEDIAN_S,SIGMA
bool parse_issuance(std::string_view s, sim::distribution& out) {
  const auto colon = s.find(':');
  if (colon == std::string_view::npos) return false;
  const std::string_view kind = s.substr(0, colon), rest = s.substr(colon + 1);
  duration d{};
  if (kind == "fixed" && parse_seconds(rest, d)) {
    out = sim::distribution::fixed(d);
    return true;
  }
  if (kind == "exp" && parse_seconds(rest, d)) {
    out = sim::distribution::exponential(d);
    return true;
  }
  if (kind == "lognormal") {
    const auto comma = rest.find(',');
    double sigma = 0;
    if (comma == std::string_view::npos || !parse_seconds(rest.substr(0, comma), d) ||
        !parse_double(rest.substr(comma + 1), 0.0, 10.0, sigma))
      return false;
    out = sim::distribution::lognormal(d, sigma);
    return true;
  }
  return false;
}

const char* const usage_text =
    R"(usage: certretry-harness serve --model async-ca|tpp|acme [options]

Serves one of certretry's server models over HTTP/1.1 on 127.0.0.1 (never another address).
The first line on standard output is JSON naming the bound port:
  {"listening":"127.0.0.1:PORT","port":PORT,"model":"tpp",...}
then one JSON line per request (or per bad request) goes to the log. SIGTERM or SIGINT stops
it: no new connections, in-flight replies get --grace, exit 0. The models' clocks follow the
wall clock from the moment serve starts (docs/testing-your-client.md).

common options:
  --port N                 port to bind (default 0: a free one, printed)
  --seed N                 the model's seed (default 1)
  --log FILE               request log (default: standard output)
  --latency S              added to every reply, seconds (default 0)
  --max-body BYTES         larger request bodies answer 413 (default 1048576)
  --max-connections N      more answer 503 and close (default 4096)
  --idle-timeout S         an idle or too slow connection is closed (default 30)
  --grace S                SIGTERM: time left to replies in flight (default 2)

--model tpp (Venafi TPP: request, retrieve, reset, renew under /vedsdk/certificates/):
  --tpp-objects N          create objects <policy>\cert-1 .. cert-N holding a certificate
                           (default 0; other objects are created by their first request)
  --tpp-stuck F            fraction of those objects whose last enrollment failed ("click
                           Retry" until reset): every (1/F)-th object, exactly floor(N*F)
  --tpp-policy DN          the objects' folder (default \VED\Policy\certretry)
  --tpp-click-retry P      probability a request on a stuck object gives "click Retry" on
                           every retrieve (default 0.6)
  --tpp-websdk-first P     probability of "WebSDK ..." once, then "click Retry" (default
                           0.3); the rest: "WebSDK ..." throughout
  --tpp-misbehaving-websdk P  the first retrieve after a request on a healthy object answers
                           500 "WebSDK ..." (default 0)
  --tpp-unknown-rows P     pending retrieves answer the state table's "??" rows (default 0)
  --tpp-restart-race       reset with Restart=true after a request re-issues the old CSR
  --tpp-mean-issuance S    mean time to issuance (default 7); --tpp-min-issuance S (0)

--model async-ca (DigiCert-style; submit, status, download):
  --profile NAME           digicert (default), sectigo, entrust, globalsign, generic
  --issuance D             fixed:S, exp:S or lognormal:MEDIAN_S,SIGMA (default lognormal:60,1)
  --capacity N             orders issued at once (default 1000)
  --rate-limit N/S         at most N requests per S seconds per API key (X-DC-DEVKEY);
                           repeatable; excess answers 429
  --rate-limit-retry-after S  Retry-After on those 429s (default: none, as DigiCert)
  --fault FROM-TO:STATUS[:RETRY_AFTER]  from FROM to TO seconds after start every request
                           answers STATUS (429, 503 ...) with an optional Retry-After; repeatable
  --outage FROM-TO         capacity 0 and every reply 503 after --outage-timeout; repeatable
  --outage-timeout S       (default 6)

--model acme (RFC 8555 order flow and RFC 9773 renewalInfo, certretry's unsigned convention:
 a POST's body is the JWS payload and its nonce travels as a Replay-Nonce request field):
  --acme-bad-nonce P       new-order answers badNonce with this probability (default 0)
  --acme-rate-limited P    new-order answers 429 rateLimited (default 0)
  --acme-unavailable P     new-order answers a 503 page (default 0)
  --acme-rate-limit-retry-after S  (default 3600)
  --acme-order-retry-after boulder|none  Retry-After: 3 on processing orders, or none
  --acme-replaces-style rfc9773|boulder-conflict  how a second `replaces` is refused
  --acme-certificates N    certificates `replaces` and renewalInfo know (CertIDs printed)
  --acme-renewal-info-errors P, --acme-renewal-info-timeouts P  renewalInfo faults
  --acme-timeout S         an unanswered request's connection closes after S (default 30)
  --acme-processing-median S, --acme-processing-p99 S  order processing (default 2, 10)
  --acme-no-nonce-check    accept any nonce
)";

}  // namespace

const char* usage() { return usage_text; }

bool parse_args(int argc, char** argv, time_point now, config& out, std::string& error) {
  tpp_setup tpp;
  tpp.options.latency = duration::zero();
  acme_setup acme;
  acme.options.latency = duration::zero();
  sim::async_ca_options ca;
  ca.latency = duration::zero();
  bool tpp_used = false, acme_used = false, ca_used = false;

  for (int i = 0; i < argc; ++i) {
    const std::string_view name = argv[i];
    if (name == "--tpp-restart-race") {
      tpp.options.restart_race = tpp_used = true;
      continue;
    }
    if (name == "--acme-no-nonce-check") {
      acme.options.check_nonces = false;
      acme_used = true;
      continue;
    }
    if (i + 1 >= argc) {
      error = std::string(name) + ": a value is missing (certretry-harness serve --help)";
      return false;
    }
    const std::string_view v = argv[++i];
    std::uint64_t n = 0;
    double p = 0;
    duration d{};
    bool ok = true;
    const auto prob = [&](double& field) {
      ok = parse_double(v, 0.0, 1.0, p);
      if (ok) field = p;
    };
    const auto secs = [&](duration& field) {
      ok = parse_seconds(v, d);
      if (ok) field = d;
    };
    if (name == "--model") {
      out.model_name = v;
    } else if (name == "--port") {
      ok = parse_uint(v, 65535, n);
      out.port = static_cast<std::uint16_t>(n);
    } else if (name == "--seed") {
      ok = parse_uint(v, UINT64_MAX, n);
      tpp.options.seed = acme.options.seed = ca.seed = n;
    } else if (name == "--log") {
      out.log_path = v;
    } else if (name == "--latency") {
      secs(out.latency);
    } else if (name == "--max-body") {
      ok = parse_uint(v, std::uint64_t{1} << 30, n);
      out.max_body = static_cast<std::size_t>(n);
    } else if (name == "--max-connections") {
      ok = parse_uint(v, 1'000'000, n) && n > 0;
      out.max_connections = static_cast<std::size_t>(n);
    } else if (name == "--idle-timeout") {
      secs(out.idle_timeout);
      ok = ok && out.idle_timeout > duration::zero();
    } else if (name == "--grace") {
      secs(out.grace);
    } else if (name.starts_with("--tpp-")) {
      tpp_used = true;
      if (name == "--tpp-objects") {
        ok = parse_uint(v, 1'000'000, n);
        tpp.objects = static_cast<std::uint32_t>(n);
      } else if (name == "--tpp-stuck") {
        prob(tpp.stuck);
      } else if (name == "--tpp-policy") {
        tpp.policy = v;
        ok = !v.empty();
      } else if (name == "--tpp-click-retry") {
        prob(tpp.options.case1);
      } else if (name == "--tpp-websdk-first") {
        prob(tpp.options.case2);
      } else if (name == "--tpp-misbehaving-websdk") {
        prob(tpp.options.misbehaving_websdk);
      } else if (name == "--tpp-unknown-rows") {
        prob(tpp.options.unknown_rows);
      } else if (name == "--tpp-mean-issuance") {
        secs(tpp.options.mean_issuance);
      } else if (name == "--tpp-min-issuance") {
        secs(tpp.options.min_issuance);
      } else {
        error = std::string(name) + ": unknown option (certretry-harness serve --help)";
        return false;
      }
    } else if (name.starts_with("--acme-")) {
      acme_used = true;
      auto& o = acme.options;
      if (name == "--acme-bad-nonce") {
        prob(o.bad_nonce);
      } else if (name == "--acme-rate-limited") {
        prob(o.rate_limited);
      } else if (name == "--acme-unavailable") {
        prob(o.unavailable);
      } else if (name == "--acme-rate-limit-retry-after") {
        ok = parse_uint(v, 366ULL * 24 * 3600, n);
        o.rate_limit_retry_after = std::chrono::seconds{static_cast<std::int64_t>(n)};
      } else if (name == "--acme-order-retry-after") {
        ok = v == "boulder" || v == "none";
        o.order_style = v == "none" ? models::acme_order_style::no_retry_after
                                    : models::acme_order_style::boulder;
      } else if (name == "--acme-replaces-style") {
        ok = v == "rfc9773" || v == "boulder-conflict";
        o.replaces_style = v == "boulder-conflict" ? models::acme_replaces_style::boulder_conflict
                                                   : models::acme_replaces_style::rfc9773;
      } else if (name == "--acme-certificates") {
        ok = parse_uint(v, 10'000, n);
        acme.certificates = static_cast<std::uint32_t>(n);
      } else if (name == "--acme-renewal-info-errors") {
        prob(o.renewal_info_errors);
      } else if (name == "--acme-renewal-info-timeouts") {
        prob(o.renewal_info_timeouts);
      } else if (name == "--acme-timeout") {
        secs(o.timeout);
      } else if (name == "--acme-processing-median") {
        secs(o.processing_median);
      } else if (name == "--acme-processing-p99") {
        secs(o.processing_p99);
      } else {
        error = std::string(name) + ": unknown option (certretry-harness serve --help)";
        return false;
      }
    } else {
      ca_used = true;
      if (name == "--profile") {
        const auto which = async_ca_from_name(v);
        ok = which.has_value();
        if (ok) ca.profile = *which;
      } else if (name == "--issuance") {
        ok = parse_issuance(v, ca.issuance);
      } else if (name == "--capacity") {
        ok = parse_uint(v, 1'000'000, n);
        ca.capacity = static_cast<std::uint32_t>(n);
      } else if (name == "--rate-limit") {
        const auto slash = v.find('/');
        ok = slash != std::string_view::npos && parse_uint(v.substr(0, slash), 1'000'000, n) &&
             n > 0 && parse_seconds(v.substr(slash + 1), d) && d > duration::zero();
        if (ok) ca.rate_limits.push_back({static_cast<std::uint32_t>(n), d});
      } else if (name == "--rate-limit-retry-after") {
        ok = parse_seconds(v, d);
        if (ok) ca.rate_limit_retry_after = d;
      } else if (name == "--fault") {
        // FROM-TO:STATUS[:RETRY_AFTER]
        const auto c1 = v.find(':');
        const auto c2 = c1 == std::string_view::npos ? c1 : v.find(':', c1 + 1);
        sim::fault_window f;
        ok = c1 != std::string_view::npos && parse_window(v.substr(0, c1), f.from, f.to);
        const std::string_view status =
            ok ? v.substr(c1 + 1, c2 == std::string_view::npos ? v.npos : c2 - c1 - 1) : "";
        ok = ok && parse_uint(status, 599, n) && n >= 100;
        f.status = static_cast<int>(n);
        if (ok && c2 != std::string_view::npos) {
          ok = parse_seconds(v.substr(c2 + 1), d);
          f.retry_after = d;
        }
        if (ok) ca.faults.push_back(f);
      } else if (name == "--outage") {
        sim::time_window w;
        ok = parse_window(v, w.from, w.to);
        if (ok) ca.outages.push_back(w);
      } else if (name == "--outage-timeout") {
        secs(ca.outage_timeout);
      } else {
        error = std::string(name) + ": unknown option (certretry-harness serve --help)";
        return false;
      }
    }
    if (!ok) {
      error = std::string(name) + ": '" + std::string(v) +
              "' is not a valid value (certretry-harness serve --help)";
      return false;
    }
  }

  if (out.model_name == "tpp" && !acme_used && !ca_used) {
    out.m = std::make_unique<tpp_model>(now, std::move(tpp));
  } else if (out.model_name == "acme" && !tpp_used && !ca_used) {
    out.m = std::make_unique<acme_model>(now, std::move(acme));
  } else if (out.model_name == "async-ca" && !tpp_used && !acme_used) {
    out.m = std::make_unique<async_ca_model>(now, std::move(ca));
  } else if (out.model_name.empty()) {
    error = "--model async-ca|tpp|acme is required";
    return false;
  } else if (out.model_name != "tpp" && out.model_name != "acme" && out.model_name != "async-ca") {
    error = "--model: '" + out.model_name + "' is not one of async-ca, tpp, acme";
    return false;
  } else {
    error = "an option of another model was given to --model " + out.model_name;
    return false;
  }
  return true;
}

}  // namespace certretry::harness::serve
