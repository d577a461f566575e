// The ACME order-polling table (docs/acme.md): how often ACME clients poll an order between
// finalize and `valid`, how long they take to see it valid, and whether they poll sooner than
// the server asked. bench_acme_poll prints it; `certretry-harness report` runs it too.
//
// N simulated orders per row (10 000 in the docs) against certretry::model::acme_server
// (processing after finalize lognormal, median 2 s, p99 10 s; 50 ms per call), for two servers:
//
//   Retry-After 3 s   Boulder: `Retry-After: 3` on every processing reply, finalize included
//   no Retry-After    a server that sends none (Pebble 2.4: docs/sources.md#pebble)
//
// and five clients: four of today's clients as docs/sources.md describes their order polling
// (small policies below, no code of theirs), and certretry's acme::resource_poll_machine with its
// defaults, driven by certretry::run() on the server's virtual clock. Every client sends the
// finalize itself, then polls with POST-as-GET and a fresh nonce from the previous reply.
//
// Everything is deterministic: an order's processing time depends only on the seed and its
// number, so order k takes as long for every client.
#include "acme_poll.hpp"

#include "certretry/acme/exchange.hpp"
#include "certretry/acme/poll.hpp"
#include "certretry/acme/reply.hpp"
#include "certretry/backoff/retry_after.hpp"
#include "certretry/core/action.hpp"
#include "certretry/core/random.hpp"
#include "certretry/core/time.hpp"
#include "certretry/machine/run.hpp"
#include "certretry/testing/scripted.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace certretry::harness {
namespace acme_poll {

namespace {

// The finalize payload: the model does not read the CSR.
constexpr std::string_view finalize_payload = R"({"csr":"MIIBbench"})";

// Every client gives up after 10 minutes, certretry's default (acme::default_policy); no order
// of the model comes near it (p99 10 s).
constexpr duration give_up_after = 10min;

// --- today's clients (docs/sources.md#acme-servers-and-clients) -----------------------------
//
// Each policy answers, after every reply saying the order is still processing (the finalize
// reply first), how long to wait before the next poll, given that reply's Retry-After.

// lego, polling an order after finalize (certificate/certificates.go, getForCSR, revision
// a0e15c2 of July 2026: docs/sources.md#lego): wait.For(timeout, timeout / 60) with the default
// 30 s timeout — the first poll at once after the finalize reply, then every 500 ms; Retry-After
// is never read for orders (lego reads it only for challenges, then 5 s x1.5 when absent). lego
// gives up after the 30 s; no order of this model comes near it at p99.
struct lego_policy {
  static constexpr std::string_view reads = "never";
  bool started = false;
  duration next(std::optional<duration>) {
    if (!started) {
      started = true;
      return duration::zero();
    }
    return 500ms;
  }
};

// certbot, polling an order after finalize (acme/src/acme/client.py, poll_finalization, since
// PR #10288 of May 2025, revision f769e35: docs/sources.md#certbot): sleeps 1 s before the
// first poll (the finalize reply's Retry-After is not read), then each processing reply's
// Retry-After, 1 s without one.
struct certbot_policy {
  static constexpr std::string_view reads = "every poll reply, not finalize's";
  bool started = false;
  duration next(std::optional<duration> retry_after) {
    if (!started) {
      started = true;
      return 1s;
    }
    return retry_after.value_or(1s);
  }
};

// acmez: honours Retry-After, the last reply's (the finalize reply's included); 250 ms without.
struct acmez_policy {
  static constexpr std::string_view reads = "every reply";
  duration next(std::optional<duration> retry_after) { return retry_after.value_or(250ms); }
};

// acme.sh: Retry-After when the reply has one, otherwise 2 s.
struct acme_sh_policy {
  static constexpr std::string_view reads = "every reply";
  duration next(std::optional<duration> retry_after) { return retry_after.value_or(2s); }
};

}  // namespace

const std::array<client, 5> clients{{
    {client_id::lego, "lego (at once, then 500 ms)", lego_policy::reads},
    {client_id::certbot, "certbot (1 s, then RA or 1 s)", certbot_policy::reads},
    {client_id::acmez, "acmez (RA, else 250 ms)", acmez_policy::reads},
    {client_id::acme_sh, "acme.sh (RA, else 2 s)", acme_sh_policy::reads},
    {client_id::certretry, "certretry (acme::resource_poll_machine, defaults)", "every reply"},
}};

const std::array<server_kind, 2> servers{{
    {model::acme_order_style::boulder, "Retry-After 3 s (Boulder)"},
    {model::acme_order_style::no_retry_after, "no Retry-After"},
}};

namespace {

std::optional<duration> retry_after_of(const response& r, time_point now) {
  return read_retry_after(r.headers, now).value_if_any();
}

std::string nonce_of(const response& r) {
  return std::string(find_header(r.headers, acme::replay_nonce_header).value_or(""));
}

// A signed POST in certretry's convention (acme/exchange.hpp): the payload as the body, the
// nonce to sign with as a Replay-Nonce field.
result<response> post(model::acme_server& server, std::string_view url, std::string_view payload,
                      const std::string& nonce) {
  const std::array<header_field, 1> h{{{std::string(acme::replay_nonce_header), nonce}}};
  return server.send({"POST", url, h, payload});
}

// One of today's clients: finalize, then poll at the policy's pace until the order is valid.
template <class Policy>
order_result poll_with(model::acme_server& server, virtual_clock& clock, std::uint64_t id) {
  Policy policy;
  acme::object_reader reader;
  virtual_sleeper sleeper{clock};
  order_result out;
  const time_point t0 = clock.now();
  const std::string order_url = model::acme_server::order_path(id);
  auto reply =
      post(server, model::acme_server::finalize_path(id), finalize_payload, server.fresh_nonce());
  while (reply.has_value()) {
    const response& r = reply.value();
    const auto obj = reader.read(r.body);
    if (r.status == 200 && obj && obj->state() == acme::resource_status::valid) {
      out.valid = true;
      out.to_valid = clock.now() - t0;
      return out;
    }
    if (r.status != 200 || !obj || obj->state() != acme::resource_status::processing) break;
    const duration wait = policy.next(retry_after_of(r, clock.now()));
    if (clock.now() - t0 + wait > give_up_after) break;
    sleeper.sleep_for(wait);
    const std::string nonce = nonce_of(r);
    ++out.polls;
    reply = post(server, order_url, {}, nonce);
  }
  return out;
}

// The transport certretry's machine runs on: the model itself, counting what goes out.
struct model_transport {
  model::acme_server* server;
  std::uint32_t sent = 0;
  result<response> send(const request_view& r) {
    ++sent;
    return server->send(r);
  }
};

// certretry: the benchmark sends the finalize, then resource_poll_machine takes over with the
// finalize reply's Retry-After and nonce, and reads every later reply's Retry-After itself.
order_result poll_with_certretry(model::acme_server& server, virtual_clock& clock,
                                 std::uint64_t id) {
  order_result out;
  const time_point t0 = clock.now();
  auto fin =
      post(server, model::acme_server::finalize_path(id), finalize_payload, server.fresh_nonce());
  if (!fin.has_value() || fin.value().status != 200) return out;
  acme::poll_options options;
  options.url = model::acme_server::order_path(id);
  options.kind = acme::resource_kind::order;
  options.nonce.initial = nonce_of(fin.value());
  options.wait_first = true;
  options.first_retry_after = retry_after_of(fin.value(), clock.now());
  acme::resource_poll_machine poller{std::move(options), acme::default_policy(), splitmix64{id}};
  model_transport transport{&server};
  virtual_sleeper sleeper{clock};
  const outcome o = run(poller, transport, clock, sleeper);
  out.polls = transport.sent;
  out.valid = o.kind == outcome_kind::completed && poller.status() == acme::resource_status::valid;
  if (out.valid) out.to_valid = clock.now() - t0;
  return out;
}

}  // namespace

order_result poll_order(const client& c, model::acme_server& server, virtual_clock& clock,
                        std::uint64_t id) {
  switch (c.id) {
    case client_id::lego: return poll_with<lego_policy>(server, clock, id);
    case client_id::certbot: return poll_with<certbot_policy>(server, clock, id);
    case client_id::acmez: return poll_with<acmez_policy>(server, clock, id);
    case client_id::acme_sh: return poll_with<acme_sh_policy>(server, clock, id);
    case client_id::certretry: return poll_with_certretry(server, clock, id);
  }
  return {};
}

namespace {

struct row {
  const server_kind* server = nullptr;
  const client* who = nullptr;
  std::size_t n = 0, valid = 0;
  std::uint64_t polls = 0;         // the server's count
  std::uint64_t client_polls = 0;  // the clients' count
  std::uint64_t early = 0;         // polls sooner than the previous reply's Retry-After
  std::vector<std::int64_t> to_valid_ms;

  double polls_per_order() const {
    return n == 0 ? 0.0 : static_cast<double>(polls) / static_cast<double>(n);
  }
  double mean_s() const {
    if (to_valid_ms.empty()) return 0.0;
    double sum = 0;
    for (const auto v : to_valid_ms) sum += static_cast<double>(v);
    return sum / static_cast<double>(to_valid_ms.size()) / 1000.0;
  }
  double p99_s() const {  // nearest rank
    if (to_valid_ms.empty()) return 0.0;
    std::vector<std::int64_t> v = to_valid_ms;
    const std::size_t rank = (v.size() * 99 + 99) / 100;  // ceil(0.99 n)
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(rank - 1), v.end());
    return static_cast<double>(v[rank - 1]) / 1000.0;
  }
};

row simulate(const server_kind& s, const client& c, std::size_t n, std::uint64_t seed) {
  virtual_clock clock;
  model::acme_server server{clock, {.seed = seed, .order_style = s.style}};
  row r;
  r.server = &s;
  r.who = &c;
  r.n = n;
  r.to_valid_ms.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t id = server.create_order({"host-" + std::to_string(i) + ".example.com"});
    const order_result o = poll_order(c, server, clock, id);
    r.client_polls += o.polls;
    if (o.valid) {
      ++r.valid;
      r.to_valid_ms.push_back(o.to_valid.count());
    }
  }
  r.polls = server.counters().order_polls;
  r.early = server.counters().early_order_polls;
  return r;
}

double seconds_of(duration d) { return std::chrono::duration<double>(d).count(); }

std::string fixed(double v, int decimals) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

int print_table(std::string& out, std::size_t n, std::uint64_t seed) {
  std::vector<row> rows;
  rows.reserve(servers.size() * clients.size());
  for (const server_kind& s : servers)
    for (const client& c : clients) rows.push_back(simulate(s, c, n, seed));
  const auto at = [&](std::size_t server, client_id id) -> const row& {
    return rows[server * clients.size() + static_cast<std::size_t>(id)];
  };

  const model::acme_server_options model{};
  appendf(out,
          "\n## ACME order polling after finalize: %zu orders per row, processing lognormal "
          "(median %s s, p99 %s s), %lld ms per call, seed %llu\n\n",
          n, fixed(seconds_of(model.processing_median), 0).c_str(),
          fixed(seconds_of(model.processing_p99), 0).c_str(),
          static_cast<long long>(model.latency.count()), static_cast<unsigned long long>(seed));
  appendf(out,
          "Time to valid: from sending the finalize to receiving the reply that says valid.\n\n");
  appendf(out,
          "| server | client | reads Retry-After | polls / order | time to valid mean | p99 | "
          "polls sooner than asked | respects Retry-After | certretry polls / client's |\n");
  appendf(out, "|---|---|---|--:|--:|--:|--:|---|--:|\n");
  for (std::size_t k = 0; k < rows.size(); ++k) {
    const row& r = rows[k];
    const bool sends_ra = r.server->style == model::acme_order_style::boulder;
    const row& mine = at(k / clients.size(), client_id::certretry);
    appendf(
        out, "| %s | %s | %s | %s | %s s | %s s | %llu | %s | %s |\n",
        std::string(r.server->name).c_str(), std::string(r.who->name).c_str(),
        std::string(r.who->reads).c_str(), fixed(r.polls_per_order(), 3).c_str(),
        fixed(r.mean_s(), 2).c_str(), fixed(r.p99_s(), 2).c_str(),
        static_cast<unsigned long long>(r.early), sends_ra ? (r.early == 0 ? "yes" : "no") : "-",
        fixed(r.polls == 0 ? 0.0 : static_cast<double>(mine.polls) / static_cast<double>(r.polls),
              2)
            .c_str());
  }

  appendf(out, "\nChecks: every order valid, the server's poll count equal to the clients':\n\n");
  bool consistent = true;
  for (const row& r : rows) {
    const bool ok = r.valid == r.n && r.polls == r.client_polls;
    consistent = consistent && ok;
    appendf(out, "- %s, %s: valid %zu / %zu; server saw %llu polls (%s)\n",
            std::string(r.server->name).c_str(), std::string(r.who->name).c_str(), r.valid, r.n,
            static_cast<unsigned long long>(r.polls),
            r.polls == r.client_polls ? "= client polls" : "MISMATCH with client polls");
  }

  const auto verdict = [](bool ok) { return ok ? "PASS" : "MISSED"; };
  const row& cr_ra = at(0, client_id::certretry);
  const row& cr_none = at(1, client_id::certretry);
  const row& acmez_ra = at(0, client_id::acmez);
  const row& acme_sh_ra = at(0, client_id::acme_sh);
  const row& certbot_none = at(1, client_id::certbot);
  appendf(out, "\nTargets:\n\n");
  appendf(
      out, "- certretry never polls sooner than asked: %llu (Retry-After 3 s), %llu (none) -> %s\n",
      static_cast<unsigned long long>(cr_ra.early), static_cast<unsigned long long>(cr_none.early),
      verdict(cr_ra.early == 0 && cr_none.early == 0));
  appendf(out,
          "- fewest polls among clients that read every Retry-After (Retry-After 3 s): "
          "certretry %s, acmez %s, acme.sh %s -> %s\n",
          fixed(cr_ra.polls_per_order(), 3).c_str(), fixed(acmez_ra.polls_per_order(), 3).c_str(),
          fixed(acme_sh_ra.polls_per_order(), 3).c_str(),
          verdict(cr_ra.polls < acmez_ra.polls && cr_ra.polls < acme_sh_ra.polls));
  appendf(out, "- no Retry-After: fewer polls than certbot: certretry %s vs certbot %s -> %s\n",
          fixed(cr_none.polls_per_order(), 3).c_str(),
          fixed(certbot_none.polls_per_order(), 3).c_str(),
          verdict(cr_none.polls < certbot_none.polls));
  appendf(out,
          "- no Retry-After: p99 time to valid within 2 s of certbot's: certretry %s s vs "
          "certbot %s s (%s%s s) -> %s\n",
          fixed(cr_none.p99_s(), 2).c_str(), fixed(certbot_none.p99_s(), 2).c_str(),
          cr_none.p99_s() >= certbot_none.p99_s() ? "+" : "",
          fixed(cr_none.p99_s() - certbot_none.p99_s(), 2).c_str(),
          verdict(cr_none.p99_s() <= certbot_none.p99_s() + 2.0));
  // No client beats certretry on both counts: each one sends more polls or has a p99 at least
  // as high (certretry's default schedule comes from the tuner: docs/tuning.md).
  std::string dominated_by;
  for (std::size_t s = 0; s < servers.size(); ++s) {
    const row& mine = at(s, client_id::certretry);
    for (const client& c : clients) {
      if (c.id == client_id::certretry) continue;
      const row& other = at(s, c.id);
      if (!(mine.polls < other.polls || mine.p99_s() < other.p99_s()))
        dominated_by += " " + std::string(c.name.substr(0, c.name.find(' '))) + " (" +
                        std::string(servers[s].name) + ")";
    }
  }
  appendf(out,
          "- not dominated: against every client on both servers, fewer polls or a lower p99 "
          "time to valid ->%s\n",
          dominated_by.empty() ? " PASS" : (" MISSED, dominated by" + dominated_by).c_str());
  appendf(out, "\nPolls, certretry / client:\n\n");
  for (std::size_t s = 0; s < servers.size(); ++s) {
    std::string line = "- " + std::string(servers[s].name) + ":";
    const row& mine = at(s, client_id::certretry);
    for (const client& c : clients) {
      if (c.id == client_id::certretry) continue;
      const row& other = at(s, c.id);
      line += " " + std::string(c.name.substr(0, c.name.find(' '))) + " " +
              fixed(static_cast<double>(mine.polls) / static_cast<double>(other.polls), 2);
      if (c.id != client_id::acme_sh) line += ',';
    }
    appendf(out, "%s\n", line.c_str());
  }
  return consistent ? 0 : 1;
}

}  // namespace

}  // namespace acme_poll

table_run acme_poll_tables(std::size_t orders, std::uint64_t seed) {
  table_run r;
  r.exit_code = acme_poll::print_table(r.text, orders == 0 ? 1 : orders, seed);
  r.targets = targets_of(r.text);
  return r;
}

}  // namespace certretry::harness
