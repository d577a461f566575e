// The TPP load tables (docs/tpp.md): the load TPP clients put on Venafi TPP, calls per
// enrollment, time to certificate, and what happens to renewals stuck on "Fix any errors, and
// then click Retry." bench_tpp_load prints them; `certretry-harness report` runs them too.
//
// N simulated enrollments per row (10 000 in the docs) against certretry::model::tpp_server
// (mean issuance 7 s, exponential; 50 ms per call), each driven by certretry::run() with a
// virtual clock, for four clients, healthy and with 20 % of the certificates stuck behind a
// failed earlier enrollment:
//
//   certretry watch   enroll_machine, reset-on-detection, WorkToDoTimeout 30 s, deadline 600 s
//   certretry poll    enroll_machine, reset-on-detection, VCert's 2 s schedule, deadline 600 s
//   VCert             VCert >= 4.24's loop: 2 s poll, any status but 200/202 an error, no
//                     reset, deadline 600 s
//   cert-manager      enroll_machine, reset-before-request (>= 1.12), 2 s poll, 60 s deadline
//                     per reconcile
//
// Then, healthy certificates only, three more tables: a slow CA (issuance log-normal, median
// 60 s, sigma 1: most issuances outlast a 30 s watch, some outlast a run), a 10-minute 503
// burst starting with each enrollment (load balancer in front of a TPP down), and requests
// carrying WorkToDoTimeout 30 s (the certificate comes back on the request).
//
// Everything is deterministic (the server's seed, seeded jitter): one seed, one table.
#include "tpp_load.hpp"

#include "certretry/backoff/jitter.hpp"
#include "certretry/backoff/policy.hpp"
#include "certretry/backoff/schedule.hpp"
#include "certretry/core/action.hpp"
#include "certretry/core/random.hpp"
#include "certretry/core/time.hpp"
#include "certretry/machine/run.hpp"
#include "certretry/testing/scripted.hpp"
#include "certretry/tpp/enroll.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace certretry::harness {
namespace tpp_load {

namespace {

// VCert (>= 4.24) as its code reads (docs/sources.md#vcert, #vcert-274): request, then retrieve
// every 2 s with no backoff and no jitter; 200 with CertificateData is the certificate, 202
// means wait, and any other status is an error ("Unexpected status code on TPP Certificate
// Retrieval"). It never resets, so a stuck certificate fails again on every renewal.
class vcert_baseline {
 public:
  vcert_baseline(tpp::enroll_options o, duration max_wait)
      : options_(std::move(o)), max_wait_(max_wait) {}

  action start(time_point now) {
    started_ = now;
    return post(tpp::request_path, options_.request_body);
  }
  action on_response(time_point now, const response_view& r) {
    const tpp::reply rep = reader_.read(r.body);
    if (requesting_) {
      if ((r.status != 200 && r.status != 201) || rep.certificate_dn.empty())
        return done(outcome_kind::failed, "request failed");
      requesting_ = false;
      body_ = "{\"CertificateDN\":";
      certretry::detail::append_json_string(body_, rep.certificate_dn);
      body_ += ",\"Format\":\"base64\",\"IncludeChain\":true}";
      return post(tpp::retrieve_path, body_);
    }
    if (r.status == 200 && !rep.certificate_data.empty()) {
      out_.certificate.assign(rep.certificate_data);
      return done(outcome_kind::issued, "");
    }
    if (r.status != 202)
      return done(outcome_kind::failed, "Unexpected status code on TPP Certificate Retrieval");
    if (now - started_ + 2s > max_wait_) return done(outcome_kind::still_pending, "timeout");
    return wait{2s, wait_reason::schedule};
  }
  action on_transport_error(time_point, std::error_code) {
    return done(outcome_kind::failed, "transport error");
  }
  action on_wait_elapsed(time_point) { return post(tpp::retrieve_path, body_); }
  action cancel(time_point) { return done(outcome_kind::cancelled, "cancelled"); }
  outcome take_outcome() { return std::move(out_); }

 private:
  action post(std::string_view path, std::string_view body) {
    ++out_.sends;
    return send{{"POST", path, {}, body}};
  }
  action done(outcome_kind k, std::string_view why) {
    out_.kind = k;
    out_.reason.assign(why);
    return finish{k};
  }

  tpp::enroll_options options_;
  duration max_wait_;
  tpp::reply_reader reader_;
  std::string body_;
  bool requesting_ = true;
  time_point started_{};
  outcome out_{};
};
static_assert(certretry::machine<vcert_baseline>);

}  // namespace

const std::array<client, 4> clients{{
    {"certretry watch (reset-on-detection, watch 30 s)", tpp::reset_strategy::reset_on_detection,
     tpp::retrieve_mode::watch, 600s, false},
    {"certretry poll (reset-on-detection, 2 s)", tpp::reset_strategy::reset_on_detection,
     tpp::retrieve_mode::poll, 600s, false},
    {"VCert (2 s poll, no reset)", tpp::reset_strategy::reset_on_detection,
     tpp::retrieve_mode::poll, 600s, true},
    {"cert-manager (reset-before-request, 2 s poll, 60 s)",
     tpp::reset_strategy::reset_before_request, tpp::retrieve_mode::poll, 60s, false},
}};

namespace {

constexpr std::string_view policy_dn = "\\VED\\Policy\\Bench";

std::string object_name(std::size_t i) { return "host-" + std::to_string(i) + ".example.com"; }

}  // namespace

std::string certificate_dn(std::size_t i) { return std::string(policy_dn) + "\\" + object_name(i); }

namespace {

tpp::enroll_options options_for(const client& c, std::size_t i) {
  tpp::enroll_options o;
  o.strategy = c.strategy;
  o.mode = c.mode;
  o.watch = 30s;
  o.certificate_dn = certificate_dn(i);
  o.request_body = "{\"PolicyDN\":\"\\\\VED\\\\Policy\\\\Bench\",\"ObjectName\":\"" +
                   object_name(i) + "\",\"PKCS10\":\"MIIBbench\",\"Reenable\":true}";
  return o;
}

using bench_policy = backoff_policy<fixed_schedule, no_jitter>;

// One enrollment, start to finish, on the server's clock. `tweak` adjusts certretry's options.
template <class Tweak>
outcome enroll(const client& c, std::size_t i, model::tpp_server& server, virtual_clock& clock,
               Tweak tweak) {
  virtual_sleeper sleeper{clock};
  if (c.vcert) {
    vcert_baseline m{options_for(c, i), c.max_wait};
    return run(m, server, clock, sleeper);
  }
  const bench_policy policy{schedules::vcert, no_jitter{}, limits{.max_wait = c.max_wait}};
  tpp::enroll_options o = options_for(c, i);
  tweak(o);
  tpp::enroll_machine m{std::move(o), policy, splitmix64{i + 1}};
  return run(m, server, clock, sleeper);
}

}  // namespace

outcome enroll(const client& c, std::size_t i, model::tpp_server& server, virtual_clock& clock) {
  return enroll(c, i, server, clock, [](tpp::enroll_options&) {});
}

namespace {

// Every fifth certificate is stuck in the 20 % rows.
constexpr bool is_stuck(std::size_t i, bool with_stuck) { return with_stuck && i % 5 == 4; }

struct row {
  const client* who = nullptr;
  bool with_stuck = false;
  std::size_t n = 0, healthy = 0, stuck = 0;
  std::uint64_t calls = 0, healthy_calls = 0, stuck_calls = 0;
  std::vector<std::uint32_t> sends;  // per certificate, by index
  // Extra calls of the stuck certificates: their calls here minus the same certificates' calls
  // in the healthy row (same DN, same issuance draws: the difference is the stuck path alone).
  std::int64_t stuck_extra = 0;
  std::size_t stuck_recovered = 0;
  std::vector<std::int64_t> issue_ms;  // time to certificate of the issued ones
  std::array<std::size_t, 6> healthy_outcomes{}, stuck_outcomes{};  // by outcome_kind
  model::tpp_counters server{};
  std::uint64_t old_certificates = 0;  // OLD-... certificates handed to the client

  double per(std::uint64_t total, std::size_t count) const {
    return count == 0 ? 0.0 : static_cast<double>(total) / static_cast<double>(count);
  }
  double calls_per_enrollment() const { return per(calls, n); }
  double calls_per_healthy() const { return per(healthy_calls, healthy); }
  double extra_per_stuck() const {
    return stuck == 0 ? 0.0 : static_cast<double>(stuck_extra) / static_cast<double>(stuck);
  }
  double recovered_pct() const {
    return stuck == 0 ? 0.0
                      : 100.0 * static_cast<double>(stuck_recovered) / static_cast<double>(stuck);
  }
  double mean_s() const {
    if (issue_ms.empty()) return 0.0;
    double sum = 0;
    for (const auto v : issue_ms) sum += static_cast<double>(v);
    return sum / static_cast<double>(issue_ms.size()) / 1000.0;
  }
  double p99_s() const {  // nearest rank
    if (issue_ms.empty()) return 0.0;
    std::vector<std::int64_t> v = issue_ms;
    const std::size_t rank = (v.size() * 99 + 99) / 100;  // ceil(0.99 n)
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(rank - 1), v.end());
    return static_cast<double>(v[rank - 1]) / 1000.0;
  }
};

// `healthy`: the same client's row without stuck certificates (for the paired extra calls).
row simulate(const client& c, bool with_stuck, std::size_t n, std::uint64_t seed,
             const row* healthy = nullptr) {
  virtual_clock clock;
  model::tpp_server server{clock, model::tpp_server_options{.seed = seed}};
  row r;
  r.who = &c;
  r.with_stuck = with_stuck;
  r.n = n;
  for (std::size_t i = 0; i < n; ++i)
    server.add_certificate(certificate_dn(i), is_stuck(i, with_stuck) ? model::tpp_prior::failed
                                                                      : model::tpp_prior::issued);
  r.issue_ms.reserve(n);
  r.sends.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const time_point start = clock.now();
    const outcome out = enroll(c, i, server, clock);
    const bool stuck = is_stuck(i, with_stuck);
    const bool issued = out.kind == outcome_kind::issued;
    r.calls += out.sends;
    r.sends.push_back(out.sends);
    if (stuck && healthy != nullptr)
      r.stuck_extra += static_cast<std::int64_t>(out.sends) - healthy->sends[i];
    (stuck ? r.stuck_calls : r.healthy_calls) += out.sends;
    ++(stuck ? r.stuck : r.healthy);
    ++(stuck ? r.stuck_outcomes : r.healthy_outcomes)[static_cast<std::size_t>(out.kind)];
    if (issued) {
      r.issue_ms.push_back((clock.now() - start).count());
      if (stuck) ++r.stuck_recovered;
      if (model::tpp_server::is_old_certificate(out.certificate)) ++r.old_certificates;
    }
  }
  r.server = server.counters();
  return r;
}

std::string fixed(double v, int decimals) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string outcomes_text(const std::array<std::size_t, 6>& o) {
  std::string s;
  for (std::size_t k = 0; k < o.size(); ++k) {
    if (o[k] == 0) continue;
    if (!s.empty()) s += ", ";
    s += std::string(to_string(static_cast<outcome_kind>(k))) + " " + std::to_string(o[k]);
  }
  return s.empty() ? "-" : s;
}

int print_extra_tables(std::string& out, std::size_t n, std::uint64_t seed);

int print_table(std::string& out, std::size_t n, std::uint64_t seed) {
  std::vector<row> rows;
  rows.reserve(2 * clients.size());  // the stuck rows point at the healthy ones
  for (const client& c : clients) rows.push_back(simulate(c, false, n, seed));
  for (std::size_t k = 0; k < clients.size(); ++k)
    rows.push_back(simulate(clients[k], true, n, seed, &rows[k]));

  appendf(out,
          "\n## TPP polling load: %zu enrollments per row, mean issuance 7 s (exponential), "
          "50 ms per call, seed %llu\n\n",
          n, static_cast<unsigned long long>(seed));
  appendf(out,
          "| client | stuck | calls / enrollment | calls / healthy enrollment | time to "
          "certificate mean | p99 | stuck recovered | extra calls / stuck enrollment | "
          "resets sent |\n");
  appendf(out, "|---|--:|--:|--:|--:|--:|--:|--:|--:|\n");
  for (const row& r : rows) {
    appendf(out, "| %s | %s | %s | %s | %s s | %s s | %s | %s | %llu |\n",
            std::string(r.who->name).c_str(), r.with_stuck ? "20 %" : "0 %",
            fixed(r.calls_per_enrollment(), 3).c_str(), fixed(r.calls_per_healthy(), 3).c_str(),
            fixed(r.mean_s(), 2).c_str(), fixed(r.p99_s(), 2).c_str(),
            r.with_stuck ? (fixed(r.recovered_pct(), 1) + " %").c_str() : "-",
            r.with_stuck ? fixed(r.extra_per_stuck(), 2).c_str() : "-",
            static_cast<unsigned long long>(r.server.reset));
  }

  appendf(out, "\nOutcomes (healthy | stuck), server-side checks:\n\n");
  bool consistent = true;
  for (const row& r : rows) {
    const bool match = r.server.calls() == r.calls;
    consistent = consistent && match;
    appendf(out,
            "- %s, %s stuck: healthy: %s | stuck: %s; server saw %llu calls (%s), "
            "Restart=true resets %llu, old certificates issued %llu\n",
            std::string(r.who->name).c_str(), r.with_stuck ? "20 %" : "0 %",
            outcomes_text(r.healthy_outcomes).c_str(), outcomes_text(r.stuck_outcomes).c_str(),
            static_cast<unsigned long long>(r.server.calls()),
            match ? "= client sends" : "MISMATCH with client sends",
            static_cast<unsigned long long>(r.server.restart_true),
            static_cast<unsigned long long>(r.server.wrong_certificates));
  }

  // rows: [0..3] healthy, [4..7] 20 % stuck; clients in the order of `clients`.
  const row& watch0 = rows[0];
  const row& poll0 = rows[1];
  const row& cm0 = rows[3];
  const row& watch20 = rows[4];
  const row& poll20 = rows[5];
  const row& vcert20 = rows[6];
  const row& cm20 = rows[7];
  const auto verdict = [](bool ok) { return ok ? "holds" : "MISSED"; };
  appendf(out, "\nTargets:\n\n");
  appendf(out, "- certretry watch <= 2.05 calls per healthy enrollment: %s / %s -> %s\n",
          fixed(watch0.calls_per_healthy(), 3).c_str(),
          fixed(watch20.calls_per_healthy(), 3).c_str(),
          verdict(watch0.calls_per_healthy() <= 2.05 && watch20.calls_per_healthy() <= 2.05));
  appendf(
      out, "- certretry recovers 100 %% of stuck enrollments: watch %s %%, poll %s %% -> %s\n",
      fixed(watch20.recovered_pct(), 1).c_str(), fixed(poll20.recovered_pct(), 1).c_str(),
      verdict(watch20.stuck_recovered == watch20.stuck && poll20.stuck_recovered == poll20.stuck));
  appendf(out,
          "- certretry <= 2 extra calls per stuck enrollment: watch %s, poll %s -> %s "
          "(with Restart=false the floor is 3: the retrieve that detects, the reset, the "
          "second request)\n",
          fixed(watch20.extra_per_stuck(), 2).c_str(), fixed(poll20.extra_per_stuck(), 2).c_str(),
          verdict(watch20.extra_per_stuck() <= 2.0 && poll20.extra_per_stuck() <= 2.0));
  appendf(out, "- VCert's stuck enrollments never recover: %zu of %zu recovered -> %s\n",
          vcert20.stuck_recovered, vcert20.stuck, verdict(vcert20.stuck_recovered == 0));
  appendf(out,
          "- cert-manager pays +1 call on every enrollment: resets %llu / %zu and %llu / %zu; "
          "calls per healthy enrollment %s vs certretry poll %s (+%s) -> %s\n",
          static_cast<unsigned long long>(cm0.server.reset), cm0.n,
          static_cast<unsigned long long>(cm20.server.reset), cm20.n,
          fixed(cm0.calls_per_healthy(), 3).c_str(), fixed(poll0.calls_per_healthy(), 3).c_str(),
          fixed(cm0.calls_per_healthy() - poll0.calls_per_healthy(), 3).c_str(),
          verdict(cm0.server.reset == cm0.n && cm20.server.reset == cm20.n));
  std::uint64_t restarts = 0, olds = 0;
  for (const row& r : rows) {
    if (r.who->name.starts_with("certretry")) restarts += r.server.restart_true;
    olds += r.old_certificates;
  }
  appendf(out, "- certretry never sends Restart=true: %llu sent -> %s\n",
          static_cast<unsigned long long>(restarts), verdict(restarts == 0));
  appendf(out, "- no client received an old certificate: %llu -> %s\n",
          static_cast<unsigned long long>(olds), verdict(olds == 0));
  const int extra = print_extra_tables(out, n, seed);
  return consistent ? extra : 1;
}

// --- Slow issuance, a 503 burst, the certificate on the request ----------------------------

struct extra_row {
  std::string name;
  std::size_t n = 0;
  std::uint64_t calls = 0, burst_calls = 0, one_call = 0;
  std::array<std::size_t, 6> outcomes{};
  std::vector<std::int64_t> issue_ms;
  model::tpp_counters server{};
  std::uint32_t most_burst_calls = 0;

  double per(std::uint64_t v) const {
    return n == 0 ? 0.0 : static_cast<double>(v) / static_cast<double>(n);
  }
  double issued_pct() const {
    return n == 0 ? 0.0 : 100.0 * static_cast<double>(outcomes[0]) / static_cast<double>(n);
  }
};

// `opts`: the server's options; `burst`: a 10-minute outage from each enrollment's start;
// `tweak`: certretry's options; `resume`: after still_pending, come back (as cert-manager's next
// reconcile does) with resume_dn, up to `comebacks` times.
template <class Tweak>
extra_row simulate_extra(std::string name, const client& c, std::size_t n,
                         model::tpp_server_options opts, bool burst, Tweak tweak,
                         int comebacks = 0) {
  virtual_clock clock;
  model::tpp_server server{clock, opts};
  extra_row r;
  r.name = std::move(name);
  r.n = n;
  for (std::size_t i = 0; i < n; ++i)
    server.add_certificate(certificate_dn(i), model::tpp_prior::issued);
  for (std::size_t i = 0; i < n; ++i) {
    const time_point start = clock.now();
    if (burst) server.add_outage(start, start + 10min);
    const std::uint64_t before = server.counters().outage_503;
    outcome out = enroll(c, i, server, clock, tweak);
    std::uint32_t sends = out.sends;
    for (int k = 0; k < comebacks && out.kind == outcome_kind::still_pending; ++k) {
      out = enroll(c, i, server, clock, [&](tpp::enroll_options& o) {
        tweak(o);
        o.resume_dn = certificate_dn(i);
      });
      sends += out.sends;
    }
    r.calls += sends;
    r.one_call += sends == 1;
    const auto in_burst = static_cast<std::uint32_t>(server.counters().outage_503 - before);
    r.burst_calls += in_burst;
    r.most_burst_calls = std::max(r.most_burst_calls, in_burst);
    ++r.outcomes[static_cast<std::size_t>(out.kind)];
    if (out.kind == outcome_kind::issued) r.issue_ms.push_back((clock.now() - start).count());
  }
  r.server = server.counters();
  return r;
}

double mean_s(const std::vector<std::int64_t>& ms) {
  if (ms.empty()) return 0.0;
  double sum = 0;
  for (const auto v : ms) sum += static_cast<double>(v);
  return sum / static_cast<double>(ms.size()) / 1000.0;
}

int print_extra_tables(std::string& out, std::size_t n, std::uint64_t seed) {
  const auto same = [](tpp::enroll_options&) {};
  const auto verdict = [](bool ok) { return ok ? "holds" : "MISSED"; };
  const model::tpp_server_options slow{.seed = seed,
                                       .issuance = model::tpp_issuance::log_normal,
                                       .median_issuance = 60s,
                                       .issuance_sigma = 1.0};
  std::vector<extra_row> slow_rows;
  for (const client& c : clients)
    slow_rows.push_back(simulate_extra(std::string(c.name), c, n, slow, false, same));
  slow_rows.push_back(
      simulate_extra("cert-manager, then resume_dn per reconcile (up to 9 more 60 s reconciles)",
                     clients[3], n, slow, false, same, 9));
  appendf(out,
          "\n## Slow CA: issuance log-normal, median 60 s, sigma 1; %zu healthy enrollments per "
          "row, seed %llu\n\n",
          n, static_cast<unsigned long long>(seed));
  appendf(
      out,
      "| client | calls / enrollment | issued | outcomes | time to certificate mean | resets sent "
      "|\n");
  appendf(out, "|---|--:|--:|---|--:|--:|\n");
  for (const auto& r : slow_rows)
    appendf(out, "| %s | %s | %s %% | %s | %s s | %llu |\n", r.name.c_str(),
            fixed(r.per(r.calls), 3).c_str(), fixed(r.issued_pct(), 1).c_str(),
            outcomes_text(r.outcomes).c_str(), fixed(mean_s(r.issue_ms), 2).c_str(),
            static_cast<unsigned long long>(r.server.reset));

  const model::tpp_server_options plain{.seed = seed};
  std::vector<extra_row> burst_rows;
  for (const client& c : clients)
    burst_rows.push_back(simulate_extra(std::string(c.name), c, n, plain, true, same));
  // What the poll did before errors had their own backoff: every error at the 2 s pace.
  burst_rows.push_back(simulate_extra("certretry poll, errors at the 2 s pending pace (before)",
                                      clients[1], n, plain, true, [](tpp::enroll_options& o) {
                                        o.errors = {
                                            .base = 2s, .factor = 1.0, .cap = 2s, .jitter = 0.0};
                                      }));
  appendf(out,
          "\n## 503 burst: every call answers 503 for the first 10 minutes of each enrollment; %zu "
          "healthy enrollments per row, seed %llu\n\n",
          n, static_cast<unsigned long long>(seed));
  appendf(out,
          "| client | calls / enrollment | calls in the burst / enrollment | most in the burst | "
          "outcomes |\n");
  appendf(out, "|---|--:|--:|--:|---|\n");
  for (const auto& r : burst_rows)
    appendf(out, "| %s | %s | %s | %u | %s |\n", r.name.c_str(), fixed(r.per(r.calls), 3).c_str(),
            fixed(r.per(r.burst_calls), 2).c_str(), r.most_burst_calls,
            outcomes_text(r.outcomes).c_str());

  const extra_row on_request =
      simulate_extra("certretry watch, request with WorkToDoTimeout 30 s", clients[0], n, plain,
                     false, [](tpp::enroll_options& o) { o.request_work_to_do_timeout = 30s; });
  appendf(out, "\n## The certificate on the request (WorkToDoTimeout 30 s on the request)\n\n");
  appendf(
      out,
      "| client | calls / enrollment | enrollments in 1 call | certificates on the request | time "
      "to certificate mean |\n");
  appendf(out, "|---|--:|--:|--:|--:|\n");
  appendf(out, "| %s | %s | %llu | %llu | %s s |\n", on_request.name.c_str(),
          fixed(on_request.per(on_request.calls), 3).c_str(),
          static_cast<unsigned long long>(on_request.one_call),
          static_cast<unsigned long long>(on_request.server.certificate_on_request),
          fixed(mean_s(on_request.issue_ms), 2).c_str());

  appendf(out, "\nTargets:\n\n");
  const extra_row& poll_burst = burst_rows[1];
  appendf(out,
          "- certretry poll spends <= 10 calls per enrollment on a 10-minute 503 burst: %s on "
          "average, %u at most -> %s\n",
          fixed(poll_burst.per(poll_burst.burst_calls), 2).c_str(), poll_burst.most_burst_calls,
          verdict(poll_burst.most_burst_calls <= 10));
  appendf(out,
          "- with CertificateData returned on the request, 1 call: %llu of %llu such "
          "enrollments took 1 call -> %s\n",
          static_cast<unsigned long long>(on_request.one_call),
          static_cast<unsigned long long>(on_request.server.certificate_on_request),
          verdict(on_request.one_call == on_request.server.certificate_on_request &&
                  on_request.one_call > 0));
  const extra_row& cm_resumed = slow_rows.back();
  appendf(out,
          "- a slow issuance resumed by DN is not reset again: %llu resets for %zu "
          "enrollments -> %s\n",
          static_cast<unsigned long long>(cm_resumed.server.reset), cm_resumed.n,
          verdict(cm_resumed.server.reset == cm_resumed.n));
  return 0;
}

}  // namespace

}  // namespace tpp_load

table_run tpp_load_tables(std::size_t enrollments, std::uint64_t seed) {
  table_run r;
  r.exit_code = tpp_load::print_table(r.text, enrollments == 0 ? 1 : enrollments, seed);
  r.targets = targets_of(r.text);
  return r;
}

}  // namespace certretry::harness
