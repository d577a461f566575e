#include "replay.hpp"

#include "json_out.hpp"

#include "certretry/acme/ari.hpp"
#include "certretry/acme/cert_id.hpp"
#include "certretry/acme/new_order.hpp"
#include "certretry/acme/poll.hpp"
#include "certretry/backoff/policy.hpp"
#include "certretry/core/rfc3339.hpp"
#include "certretry/machine/run.hpp"
#include "certretry/testing/scripted.hpp"
#include "certretry/tpp/enroll.hpp"
#include "certretry/async_ca/poller.hpp"

#include <simdjson.h>

#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

namespace certretry::harness {
namespace {

// The virtual clock's start when a scenario gives no `now` option.
constexpr std::string_view default_start = "2025-01-01T00:00:00Z";

class transcript_sink {
 public:
  transcript_sink(std::vector<entry>* out, time_point start) : out_(out), start_(start) {}

  void operator()(const event& e) {
    entry en;
    en.t = e.at - start_;
    json_line line;
    line.secs("t", en.t);
    switch (e.kind) {
      case event_kind::send:
        en.kind = "send";
        en.what = std::string(e.request.method) + " " + std::string(e.request.target);
        line.str("send", en.what);
        if (!e.request.body.empty()) line.raw("body", e.request.body);
        break;
      case event_kind::verdict:
        en.kind = "recv";
        en.verdict = std::string(to_string(e.v));
        en.why = std::string(e.why);
        if (e.status != 0) {
          en.what = std::to_string(e.status);
          line.num("recv", e.status);
        } else {
          en.what = std::string(transport_error_name(e.error));
          line.str("recv", en.what);
        }
        line.str("verdict", en.verdict).str("why", en.why);
        break;
      case event_kind::wait:
        en.kind = "wait";
        en.wait = e.delay;
        en.why = std::string(to_string(e.wait_why));
        line.secs("wait", e.delay, true).str("why", en.why);
        break;
      case event_kind::finish: return;  // the outcome line is written from the outcome itself
      default:
        en.kind = "event";
        en.what = std::string(to_string(e.kind));
        en.why = e.error ? e.error.message() : std::string(e.why);
        line.str("event", en.what).str("why", en.why);
        if (e.kind == event_kind::renewal_time) line.str("at", format_rfc3339(e.when));
        break;
    }
    en.line = line.done();
    out_->push_back(std::move(en));
  }

 private:
  std::vector<entry>* out_;
  time_point start_;
};

entry outcome_entry(const outcome& o, duration t) {
  entry en;
  en.kind = "outcome";
  en.t = t;
  en.what = std::string(to_string(o.kind));
  en.sends = o.sends;
  en.why = o.reason;
  json_line line;
  line.secs("t", t).str("outcome", en.what).num("sends", o.sends);
  if (o.kind != outcome_kind::issued) line.str("reason", o.reason);
  if (o.not_before) line.str("not_before", format_rfc3339(*o.not_before));
  en.line = line.done();
  return en;
}

replay_result malformed(std::string msg) {
  replay_result r;
  r.exit_code = exit_malformed;
  r.error = std::move(msg);
  return r;
}

duration seconds_to_ms(double secs) { return certretry::detail::saturate_ms(secs * 1000.0); }

// Options every machine shares.
struct common_options {
  time_point start{};
};

bool read_common(option_reader& opts, common_options& c, std::string& detail) {
  const auto now = opts.string("now");
  const std::string text = now.value_or(std::string(default_start));
  const auto t = parse_rfc3339(text);
  if (!t) {
    detail = "options.now: '" + text + "' is not an RFC 3339 time (e.g. 2025-01-01T00:00:00Z)";
    return false;
  }
  c.start = *t;
  return true;
}

// The backoff options every polling machine shares, with that machine's defaults.
struct backoff_defaults {
  const char* schedule;
  double jitter_pct;
  double max_wait_s;
};

std::optional<backoff_policy<any_schedule, any_jitter>> read_backoff(option_reader& opts,
                                                                     const backoff_defaults& def,
                                                                     std::string& detail) {
  const std::string schedule_name = opts.string("schedule").value_or(def.schedule);
  const std::string jitter_name = opts.string("jitter").value_or("pct");
  const double jitter_pct = opts.number("jitter_pct").value_or(def.jitter_pct);
  double max_wait_s = opts.number("max_wait_s").value_or(def.max_wait_s);
  const bool honor = opts.boolean("honor_retry_after").value_or(true);
  const double min_delay_s = opts.number("min_delay_s").value_or(1.0);
  const double max_attempts = opts.number("max_attempts").value_or(0.0);
  const double ceiling_s = opts.number("retry_after_ceiling_s").value_or(3600.0);
  const auto bad = [&](std::string msg) {
    detail = std::move(msg);
    return std::nullopt;
  };
  const auto sched = named_schedule(schedule_name);
  if (!sched) {
    std::string names;
    for (auto n : schedule_names) names += (names.empty() ? "" : ", ") + std::string(n);
    return bad("options.schedule: '" + schedule_name + "' is not one of " + names);
  }
  if (!(jitter_pct >= 0 && jitter_pct <= 100))
    return bad("options.jitter_pct: must be between 0 and 100");
  // certctl: a PollMaxWait of 0 (or unset) means the default.
  if (max_wait_s == 0) max_wait_s = def.max_wait_s;
  if (!(max_wait_s > 0 && max_wait_s <= 365.0 * 86400))
    return bad("options.max_wait_s: must be between 0 and 31536000 seconds");
  if (!(min_delay_s >= 0.001 && min_delay_s <= 86400))
    return bad("options.min_delay_s: must be between 0.001 and 86400 seconds");
  if (!(max_attempts >= 0 && max_attempts <= 1e6 && std::floor(max_attempts) == max_attempts))
    return bad("options.max_attempts: must be a whole number from 0 (no cap) to 1000000");
  if (!(ceiling_s >= 0 && ceiling_s <= 365.0 * 86400))
    return bad("options.retry_after_ceiling_s: must be between 0 and 31536000 seconds");
  const auto jit = named_jitter(jitter_name, jitter_pct / 100.0, 5min);
  if (!jit)
    return bad("options.jitter: '" + jitter_name +
               "' is not one of none, pct, full, equal, decorrelated, decorrelated-v2");
  limits lim;
  lim.max_wait = seconds_to_ms(max_wait_s);
  lim.min_delay = seconds_to_ms(min_delay_s);
  lim.max_attempts = static_cast<std::uint32_t>(max_attempts);
  retry_after_policy ra;
  ra.mode = honor ? retry_after_mode::at_least_schedule : retry_after_mode::ignore;
  ra.ceiling = seconds_to_ms(ceiling_s);
  return backoff_policy<any_schedule, any_jitter>{*sched, *jit, lim, ra};
}

std::optional<std::size_t> read_max_body(option_reader& opts, std::string& detail) {
  const double max_body = opts.number("max_body_bytes").value_or(double(default_max_body_bytes));
  if (!(max_body >= 1 && max_body <= 1 << 30)) {
    detail = "options.max_body_bytes: must be between 1 and 1073741824";
    return std::nullopt;
  }
  return static_cast<std::size_t>(max_body);
}

// The scripted server and virtual clock a scenario runs against.
struct world {
  virtual_clock clock;
  scripted_transport server{clock};
  std::vector<entry> entries;

  world(const scenario& s, time_point start) : clock(start) {
    for (const auto& [key, replies] : s.server) server.script(key, replies);
  }
  transcript_sink sink() { return transcript_sink{&entries, clock.start()}; }

  template <class Machine>
  replay_result run_machine(Machine& m) {
    return run_machine_with(m, server);
  }

  template <class Machine, class Transport>
  replay_result run_machine_with(Machine& m, Transport& transport) {
    virtual_sleeper sleeper{clock};
    outcome o = run(m, transport, clock, sleeper, server);
    replay_result r;
    if (server.unmatched()) {
      r.exit_code = exit_unmatched;
      r.error = "no scripted response for " + *server.unmatched();
    } else {
      entries.push_back(outcome_entry(o, clock.now() - clock.start()));
    }
    r.entries = std::move(entries);
    return r;
  }
};

replay_result replay_async_poll(const scenario& s) {
  option_reader opts{s};
  std::string detail;
  common_options common;
  if (!read_common(opts, common, detail)) return malformed(detail);
  const std::string profile = opts.string("profile").value_or("generic");
  const std::string id = opts.id("id").value_or("1");
  const std::string ca = opts.id("ca").value_or("1");
  const auto policy = read_backoff(opts, {"certctl", 20.0, 600.0}, detail);
  if (!policy) return malformed(detail);
  const auto max_body = read_max_body(opts, detail);
  if (!max_body) return malformed(detail);
  if (!opts.finish(detail, s.machine)) return malformed(detail);
  const auto ca_kind = async_ca_from_name(profile);
  if (!ca_kind)
    return malformed("options.profile: '" + profile +
                     "' is not one of digicert, sectigo, entrust, globalsign, generic");

  world w{s, common.start};
  async_ca_poller<any_schedule, any_jitter, splitmix64, transcript_sink> m{
      async_ca_triage{{*ca_kind, id, ca}, *max_body}, *policy, splitmix64{s.seed}, w.sink()};
  return w.run_machine(m);
}

template <class Detector>
replay_result run_tpp(world& w, tpp::enroll_options options,
                      const backoff_policy<any_schedule, any_jitter>& policy, std::uint64_t seed,
                      std::size_t max_body) {
  tpp::enroll_machine<Detector, any_schedule, any_jitter, splitmix64, transcript_sink> m{
      std::move(options), policy, splitmix64{seed}, w.sink(), Detector{}, max_body};
  return w.run_machine(m);
}

replay_result replay_tpp_enroll(const scenario& s) {
  option_reader opts{s};
  std::string detail;
  common_options common;
  if (!read_common(opts, common, detail)) return malformed(detail);
  tpp::enroll_options o;
  const std::string strategy = opts.string("strategy").value_or("reset-on-detection");
  const std::string mode = opts.string("mode").value_or("watch");
  const double watch_s = opts.number("watch_s").value_or(30.0);
  o.certificate_dn =
      opts.string("certificate_dn").value_or("\\VED\\Policy\\certretry\\example.com");
  o.request_body = opts.raw("request").value_or(
      R"({"PolicyDN":"\\VED\\Policy\\certretry","ObjectName":"example.com",)"
      R"("Subject":"example.com","Reenable":true})");
  const std::string detector = opts.string("detector").value_or("both");
  if (strategy == "reset-on-detection")
    o.strategy = tpp::reset_strategy::reset_on_detection;
  else if (strategy == "reset-before-request")
    o.strategy = tpp::reset_strategy::reset_before_request;
  else if (strategy == "query-only")
    o.strategy = tpp::reset_strategy::query_only;
  else
    return malformed("options.strategy: '" + strategy +
                     "' is not one of reset-on-detection, reset-before-request, query-only");
  if (mode == "watch")
    o.mode = tpp::retrieve_mode::watch;
  else if (mode == "poll")
    o.mode = tpp::retrieve_mode::poll;
  else
    return malformed("options.mode: '" + mode + "' is not one of watch, poll");
  if (!(watch_s >= 1 && watch_s <= 3600))
    return malformed("options.watch_s: must be between 1 and 3600 seconds");
  o.watch = seconds_to_ms(watch_s);
  // VCert polls every 2 s without jitter: the poll-mode default. In watch mode the schedule
  // paces only errors and a TPP that answers a watch at once.
  const auto policy = read_backoff(
      opts, {o.mode == tpp::retrieve_mode::poll ? "vcert" : "certctl", 0.0, 600.0}, detail);
  if (!policy) return malformed(detail);
  const auto max_body = read_max_body(opts, detail);
  if (!max_body) return malformed(detail);
  if (!opts.finish(detail, s.machine)) return malformed(detail);
  if (detector != "both" && detector != "click-retry")
    return malformed("options.detector: '" + detector + "' is not one of both, click-retry");

  world w{s, common.start};
  if (detector == "click-retry")
    return run_tpp<tpp::click_retry_detector>(w, std::move(o), *policy, s.seed, *max_body);
  return run_tpp<tpp::stale_enrollment_detector>(w, std::move(o), *policy, s.seed, *max_body);
}

// --- ACME ---------------------------------------------------------------------------------

// A scenario that scripts no new-nonce endpoint (no "HEAD|GET|POST <new_nonce_url>" key and no
// "*") leaves nonces to the scripted server: the machine starts with one, and every reply that
// carries none gets a fresh Replay-Nonce, as RFC 8555 §6.5 requires of a real server's
// successful replies. Scenarios can then script the resource alone; one that scripts new-nonce
// gets exactly its replies.
bool scripts_new_nonce(const scenario& s, std::string_view url) {
  for (const auto& [key, replies] : s.server) {
    if (key == "*") return true;
    for (std::string_view method : {"HEAD ", "GET ", "POST "})
      if (key.size() == method.size() + url.size() && key.starts_with(method) &&
          std::string_view(key).substr(method.size()) == url)
        return true;
  }
  return false;
}

struct nonce_supplier {
  scripted_transport* inner;
  std::uint64_t issued = 0;

  result<response> send(const request_view& r) {
    auto out = inner->send(r);
    if (out && !find_header(out.value().headers, acme::replay_nonce_header))
      out.value().headers.push_back(
          {std::string(acme::replay_nonce_header), "scriptNonce" + std::to_string(++issued)});
    return out;
  }
};

template <class Machine>
replay_result run_acme(world& w, Machine& m, bool supply_nonces) {
  if (!supply_nonces) return w.run_machine(m);
  nonce_supplier t{&w.server};
  return w.run_machine_with(m, t);
}

// The nonce options ACME machines share. `initial` is the nonce at hand when the run starts.
bool read_nonce(option_reader& opts, acme::nonce_options& n, std::optional<std::string> initial,
                std::string& detail) {
  n.new_nonce_url = opts.string("new_nonce_url").value_or(n.new_nonce_url);
  const double retries = opts.number("max_bad_nonce_retries").value_or(3.0);
  if (!(retries >= 0 && retries <= 100 && std::floor(retries) == retries)) {
    detail = "options.max_bad_nonce_retries: must be a whole number from 0 to 100";
    return false;
  }
  n.max_bad_nonce_retries = static_cast<std::uint32_t>(retries);
  n.initial = opts.string("nonce").value_or(initial.value_or(""));
  if (!n.initial.empty() && !acme::is_valid_nonce(n.initial)) {
    detail = "options.nonce: '" + n.initial + "' is not a base64url nonce";
    return false;
  }
  if (n.new_nonce_url.empty() || n.new_nonce_url.front() != '/') {
    detail = "options.new_nonce_url: must be a path starting with '/'";
    return false;
  }
  return true;
}

// RFC 8555 §7.4 identifiers: a list of DNS names, or of {"type", "value"} objects as sent.
std::optional<std::string> read_identifiers(option_reader& opts, std::string& detail) {
  const auto raw = opts.raw("identifiers");
  if (!raw) return std::string(R"([{"type":"dns","value":"example.com"}])");
  simdjson::dom::parser parser;
  const simdjson::padded_string padded(std::string_view{*raw});
  simdjson::dom::array arr;
  if (parser.parse(padded).get_array().get(arr) || arr.size() == 0) {
    detail = "options.identifiers: must be a non-empty list of names or {type, value} objects";
    return std::nullopt;
  }
  std::string out = "[";
  for (simdjson::dom::element e : arr) {
    if (out.size() > 1) out += ',';
    std::string_view name;
    if (!e.get_string().get(name)) {
      out += R"({"type":"dns","value":)";
      certretry::detail::append_json_string(out, name);
      out += '}';
    } else if (e.is_object()) {
      out += simdjson::minify(e);
    } else {
      detail = "options.identifiers: must be a non-empty list of names or {type, value} objects";
      return std::nullopt;
    }
  }
  return out + "]";
}

bool is_path(const std::string& url) { return !url.empty() && url.front() == '/'; }

replay_result replay_acme_new_order(const scenario& s) {
  option_reader opts{s};
  std::string detail;
  common_options common;
  if (!read_common(opts, common, detail)) return malformed(detail);
  acme::new_order_options o;
  o.new_order_url = opts.string("new_order_url").value_or(o.new_order_url);
  o.replaces = opts.string("replaces");
  o.renewal_info_advertised = opts.boolean("renewal_info_advertised").value_or(true);
  const auto ids = read_identifiers(opts, detail);
  if (!ids) return malformed(detail);
  o.identifiers_json = *ids;
  if (!read_nonce(opts, o.nonce, std::nullopt, detail)) return malformed(detail);
  const auto policy = read_backoff(opts, {"acme", 0.0, 600.0}, detail);
  if (!policy) return malformed(detail);
  const auto max_body = read_max_body(opts, detail);
  if (!max_body) return malformed(detail);
  o.max_body_bytes = *max_body;
  if (!opts.finish(detail, s.machine)) return malformed(detail);
  if (!is_path(o.new_order_url))
    return malformed("options.new_order_url: must be a path starting with '/'");
  const bool supply = !scripts_new_nonce(s, o.nonce.new_nonce_url);
  if (supply && o.nonce.initial.empty()) o.nonce.initial = "scriptNonce0";

  world w{s, common.start};
  acme::new_order_machine<any_schedule, any_jitter, splitmix64, transcript_sink> m{
      std::move(o), *policy, splitmix64{s.seed}, w.sink()};
  return run_acme(w, m, supply);
}

replay_result replay_acme_poll(const scenario& s) {
  option_reader opts{s};
  std::string detail;
  common_options common;
  if (!read_common(opts, common, detail)) return malformed(detail);
  acme::poll_options o;
  o.url = opts.string("url").value_or("/acme/order/1");
  const std::string kind = opts.string("kind").value_or("order");
  // A replayed poll starts with a nonce at hand (the reply before it carried one), so its
  // first request is the POST-as-GET itself.
  if (!read_nonce(opts, o.nonce, std::string("replayNonce0"), detail)) return malformed(detail);
  const auto first = opts.number("first_retry_after_s");
  o.wait_first = opts.boolean("wait_first").value_or(first.has_value());
  o.pacing.stretch = opts.number("stretch").value_or(o.pacing.stretch);
  o.pacing.max_stretch = opts.number("max_stretch").value_or(o.pacing.max_stretch);
  const double floor_s = opts.number("processing_error_floor_s").value_or(5.0);
  const auto policy = read_backoff(opts, {"acme", 0.0, 600.0}, detail);
  if (!policy) return malformed(detail);
  const auto max_body = read_max_body(opts, detail);
  if (!max_body) return malformed(detail);
  o.max_body_bytes = *max_body;
  if (!opts.finish(detail, s.machine)) return malformed(detail);
  const auto k = acme::resource_kind_from_name(kind);
  if (!k) return malformed("options.kind: '" + kind + "' is not one of order, authz, challenge");
  o.kind = *k;
  if (!is_path(o.url)) return malformed("options.url: must be a path starting with '/'");
  if (first) {
    if (!(*first >= 0 && *first <= 86400))
      return malformed("options.first_retry_after_s: must be between 0 and 86400 seconds");
    o.first_retry_after = seconds_to_ms(*first);
  }
  if (!(o.pacing.stretch >= 1 && o.pacing.stretch <= 10))
    return malformed("options.stretch: must be between 1 and 10");
  if (!(o.pacing.max_stretch >= 1 && o.pacing.max_stretch <= 100))
    return malformed("options.max_stretch: must be between 1 and 100");
  if (!(floor_s >= 0 && floor_s <= 3600))
    return malformed("options.processing_error_floor_s: must be between 0 and 3600 seconds");
  o.pacing.processing_error_floor = seconds_to_ms(floor_s);
  const bool supply = !scripts_new_nonce(s, o.nonce.new_nonce_url);

  world w{s, common.start};
  acme::resource_poller<any_schedule, any_jitter, splitmix64, transcript_sink> m{
      std::move(o), *policy, splitmix64{s.seed}, w.sink()};
  return run_acme(w, m, supply);
}

replay_result replay_ari_renewal(const scenario& s) {
  option_reader opts{s};
  std::string detail;
  common_options common;
  if (!read_common(opts, common, detail)) return malformed(detail);
  acme::ari_options o;
  o.renewal_info_url = opts.string("renewal_info_url").value_or(o.renewal_info_url);
  const auto cert_id = opts.string("cert_id");
  const auto cert_pem = opts.string("cert_pem");
  const auto not_after = opts.string("not_after");
  const double min_s = opts.number("min_retry_after_s").value_or(60.0);
  const double max_s = opts.number("max_retry_after_s").value_or(86400.0);
  const double long_s = opts.number("long_term_retry_s").value_or(21600.0);
  const double temps = opts.number("max_temporary_retries").value_or(5.0);
  o.wait_for_window = opts.boolean("wait_for_window").value_or(true);
  const auto max_body = read_max_body(opts, detail);
  if (!max_body) return malformed(detail);
  o.max_body_bytes = *max_body;
  if (!opts.finish(detail, s.machine)) return malformed(detail);
  if (!is_path(o.renewal_info_url))
    return malformed("options.renewal_info_url: must be a path starting with '/'");
  if (cert_id.has_value() == cert_pem.has_value())
    return malformed("options.cert_id: give either cert_id or cert_pem (a PEM file), not both");
  if (cert_id) {
    o.cert_id = *cert_id;
  } else {
    const std::string path =
        !cert_pem->empty() && cert_pem->front() == '/' ? *cert_pem : s.base_dir + "/" + *cert_pem;
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    if (in) text << in.rdbuf();
    if (!in) return malformed("options.cert_pem: cannot read '" + path + "'");
    auto id = acme::cert_id_from_pem(text.str());
    if (!id)
      return malformed("options.cert_pem: '" + path + "' is not a usable certificate (" +
                       id.error().message() + ")");
    o.cert_id = id.value();
  }
  if (o.cert_id.empty() || o.cert_id.find_first_of("/?# ") != std::string::npos)
    return malformed("options.cert_id: must be a CertID (base64url.base64url)");
  if (not_after) {
    const auto t = parse_rfc3339(*not_after);
    if (!t)
      return malformed("options.not_after: '" + *not_after +
                       "' is not an RFC 3339 time (e.g. 2025-04-01T00:00:00Z)");
    o.not_after = *t;
  } else {
    o.not_after = common.start + std::chrono::hours{24 * 90};  // a 90-day certificate
  }
  if (!(min_s >= 1 && max_s >= min_s && max_s <= 365.0 * 86400))
    return malformed(
        "options.min_retry_after_s / max_retry_after_s: need 1 <= min <= max <= 31536000");
  if (!(long_s >= 60 && long_s <= 365.0 * 86400))
    return malformed("options.long_term_retry_s: must be between 60 and 31536000 seconds");
  if (!(temps >= 0 && temps <= 100 && std::floor(temps) == temps))
    return malformed("options.max_temporary_retries: must be a whole number from 0 to 100");
  o.min_retry_after = seconds_to_ms(min_s);
  o.max_retry_after = seconds_to_ms(max_s);
  o.long_term_retry = seconds_to_ms(long_s);
  o.max_temporary_retries = static_cast<std::uint32_t>(temps);

  world w{s, common.start};
  acme::ari_machine<any_schedule, any_jitter, splitmix64, transcript_sink> m{
      std::move(o), acme::ari_error_policy(), splitmix64{s.seed}, w.sink()};
  return w.run_machine(m);
}

using machine_fn = replay_result (*)(const scenario&);

const std::map<std::string, machine_fn, std::less<>>& machines() {
  static const std::map<std::string, machine_fn, std::less<>> table{
      {"acme-new-order", &replay_acme_new_order}, {"acme-poll", &replay_acme_poll},
      {"ari-renewal", &replay_ari_renewal},       {"async-poll", &replay_async_poll},
      {"tpp-enroll", &replay_tpp_enroll},
  };
  return table;
}

}  // namespace

std::string replay_result::transcript() const {
  std::string out;
  for (const auto& e : entries) {
    out += e.line;
    out += '\n';
  }
  return out;
}

std::vector<std::string> machine_names() {
  std::vector<std::string> names;
  for (const auto& [name, fn] : machines()) names.push_back(name);
  return names;
}

replay_result replay(const scenario& s) {
  const auto it = machines().find(s.machine);
  if (it == machines().end()) {
    std::string known;
    for (const auto& n : machine_names()) known += (known.empty() ? "" : ", ") + n;
    return malformed("machine: '" + s.machine + "' is not a machine this harness knows (" + known +
                     ")");
  }
  return it->second(s);
}

}  // namespace certretry::harness
