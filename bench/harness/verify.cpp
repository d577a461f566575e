// `certretry-harness verify`: every sequence of replies up to a depth against a machine and its
// policy, the invariants checked after every step, the shortest counterexample printed as a
// replay scenario and confirmed by replaying it (docs/verify.md).
#include "verify.hpp"

#include "fleet_file.hpp"
#include "machine.hpp"
#include "options.hpp"
#include "replay.hpp"
#include "scenario.hpp"

#include "certretry/acme/cert_id.hpp"
#include "certretry/backoff/jitter.hpp"
#include "certretry/backoff/schedule.hpp"
#include "certretry/verify/explorer.hpp"
#include "certretry/verify/planted.hpp"
#include "certretry/verify/subjects.hpp"

#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace certretry::harness {

namespace {

using namespace certretry::verify;

// The machines the verifier has an alphabet for (make_subject below). `verify` with no machine
// named verifies these.
bool has_alphabet(std::string_view machine) {
  for (std::string_view m :
       {"async-poll", "tpp-enroll", "acme-new-order", "acme-poll", "acme-post", "ari-renewal"})
    if (machine == m) return true;
  return false;
}

// The options each machine is verified with when none are given: the harness's defaults, and
// for the machines that need a value, the one the docs use.
std::string default_options(std::string_view machine) {
  if (machine == "acme-new-order") return R"({"replaces":"aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE"})";
  if (machine == "ari-renewal") return R"({"cert_id":"aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE"})";
  return "{}";
}

const machine_adapter* adapter(std::string_view name) {
  for (const auto& a : machines())
    if (a.name == name) return &a;
  return nullptr;
}

// The options of `options_json` for `machine`, each checked against the harness's own
// declaration (type, range, default), by name.
struct read_values {
  std::map<std::string, option_data, std::less<>> v;
  scenario scene;

  template <class T>
  std::optional<T> get(std::string_view name) const {
    const auto it = v.find(name);
    if (it == v.end()) return std::nullopt;
    if (const auto* x = std::get_if<T>(&it->second)) return *x;
    return std::nullopt;
  }
};

bool read_options_json(std::string_view machine, const std::string& options_json,
                       std::uint64_t seed, const std::string& base_dir, read_values& out,
                       std::string& error) {
  const machine_adapter* a = adapter(machine);
  if (!a) {
    std::string known;
    for (const auto& n : machine_names()) known += (known.empty() ? "" : ", ") + n;
    error = "machine: '" + std::string(machine) + "' is not a machine this harness knows (" +
            known + ")";
    return false;
  }
  const std::string text = "{\"machine\":\"" + std::string(machine) +
                           "\",\"options\":" + options_json + ",\"seed\":" + std::to_string(seed) +
                           ",\"server\":{\"*\":[{\"status\":200}]}}";
  std::string detail;
  auto parsed = parse_scenario(text, detail);
  if (!parsed) {
    error = detail;
    return false;
  }
  out.scene = std::move(parsed).value();
  out.scene.base_dir = base_dir;
  std::vector<std::string_view> names;
  for (const option_spec& o : a->options()) {
    names.push_back(o.name);
    const auto it = out.scene.options.find(o.name);
    option_data value;
    if (auto problem =
            check_value(o, it == out.scene.options.end() ? nullptr : &it->second, value)) {
      error = "options." + std::string(o.name) + ": " + *problem;
      return false;
    }
    out.v.emplace(std::string(o.name), std::move(value));
  }
  if (auto problem = unknown_option(out.scene, names)) {
    error = *problem;
    return false;
  }
  return true;
}

// The backoff policy the harness builds from the shared options (machines/shared.cpp).
backoff_policy<any_schedule, any_jitter> policy_of(const read_values& r,
                                                   std::string_view schedule_if_absent) {
  const std::string name = r.get<std::string>("schedule").value_or(std::string(schedule_if_absent));
  const auto schedule = parse_schedule(name);
  const auto jitter = named_jitter(r.get<std::string>("jitter").value_or("none"),
                                   r.get<double>("jitter_pct").value_or(0) / 100.0, 5min);
  limits l;
  l.max_wait = r.get<duration>("max_wait_s").value_or(10min);
  l.min_delay = r.get<duration>("min_delay_s").value_or(1s);
  l.max_attempts = r.get<std::uint32_t>("max_attempts").value_or(0);
  retry_after_policy ra;
  ra.mode = r.get<bool>("honor_retry_after").value_or(true) ? retry_after_mode::at_least_schedule
                                                            : retry_after_mode::ignore;
  ra.ceiling = r.get<duration>("retry_after_ceiling_s").value_or(1h);
  return {schedule.value_or(any_schedule{schedules::certctl}), jitter.value_or(any_jitter{}), l,
          ra};
}

std::size_t body_limit(const read_values& r) {
  return static_cast<std::size_t>(
      r.get<double>("max_body_bytes").value_or(static_cast<double>(default_max_body_bytes)));
}

acme::nonce_options nonce_of(const read_values& r) {
  acme::nonce_options n;
  n.new_nonce_url = r.get<std::string>("new_nonce_url").value_or(n.new_nonce_url);
  n.max_bad_nonce_retries = r.get<std::uint32_t>("max_bad_nonce_retries").value_or(3);
  n.initial = r.get<std::string>("nonce").value_or("");
  return n;
}

bool make_subject(std::string_view machine, const std::string& options_json, std::uint64_t seed,
                  const std::string& base_dir, subject& out, std::string& error) {
  read_values r;
  if (!read_options_json(machine, options_json, seed, base_dir, r, error)) return false;
  const time_point start = r.get<time_point>("now").value_or(time_point{});
  if (machine == "async-poll") {
    async_ca_order order{async_ca_from_name(r.get<std::string>("profile").value_or("generic"))
                             .value_or(async_ca::generic),
                         r.get<std::string>("id").value_or("1"),
                         r.get<std::string>("ca").value_or("1")};
    out = async_poll_subject(std::move(order), policy_of(r, "certctl"), seed, options_json, start,
                             body_limit(r));
    return true;
  }
  if (machine == "tpp-enroll") {
    tpp::enroll_options o;
    if (auto s = tpp::parse_reset_strategy(r.get<std::string>("strategy").value_or("")))
      o.strategy = s.value();
    if (auto m = tpp::parse_retrieve_mode(r.get<std::string>("mode").value_or("")))
      o.mode = m.value();
    o.watch = r.get<duration>("watch_s").value_or(30s);
    o.certificate_dn = r.get<std::string>("certificate_dn").value_or("");
    o.request_body = r.get<std::string>("request").value_or("{}");
    const auto policy = policy_of(r, o.mode == tpp::retrieve_mode::poll ? "vcert" : "certctl");
    if (r.get<std::string>("detector").value_or("both") == "click-retry")
      out = tpp_subject<tpp::click_retry_detector>(std::move(o), policy, seed, options_json, start);
    else
      out = tpp_subject<tpp::stale_enrollment_detector>(std::move(o), policy, seed, options_json,
                                                        start);
    return true;
  }
  if (machine == "acme-new-order") {
    acme::new_order_options o;
    o.new_order_url = r.get<std::string>("new_order_url").value_or(o.new_order_url);
    o.identifiers_json = r.get<std::string>("identifiers").value_or(o.identifiers_json);
    o.replaces = r.get<std::string>("replaces");
    o.renewal_info_advertised = r.get<bool>("renewal_info_advertised").value_or(true);
    o.nonce = nonce_of(r);
    o.max_body_bytes = body_limit(r);
    out = acme_new_order_subject(std::move(o), policy_of(r, "acme"), seed, options_json, start);
    return true;
  }
  if (machine == "acme-poll") {
    acme::poll_options o;
    o.url = r.get<std::string>("url").value_or("/acme/order/1");
    o.kind = acme::resource_kind_from_name(r.get<std::string>("kind").value_or("order"))
                 .value_or(acme::resource_kind::order);
    o.nonce = nonce_of(r);
    o.first_retry_after = r.get<duration>("first_retry_after_s");
    o.wait_first = r.get<bool>("wait_first").value_or(o.first_retry_after.has_value());
    o.pacing.stretch = r.get<double>("stretch").value_or(o.pacing.stretch);
    o.pacing.max_stretch = r.get<double>("max_stretch").value_or(o.pacing.max_stretch);
    o.pacing.processing_error_floor =
        r.get<duration>("processing_error_floor_s").value_or(o.pacing.processing_error_floor);
    o.max_body_bytes = body_limit(r);
    out = acme_poll_subject(std::move(o), policy_of(r, "acme"), seed, options_json, start);
    return true;
  }
  if (machine == "acme-post") {
    acme::post_options o;
    o.url = r.get<std::string>("url").value_or("/acme/order/1/finalize");
    o.kind = acme::post_kind_from_name(r.get<std::string>("kind").value_or("finalize"))
                 .value_or(acme::post_kind::finalize);
    o.payload = r.get<std::string>("payload").value_or("{}");
    o.resource_url = r.get<std::string>("resource_url").value_or("");
    // As the harness runs it (machines/acme_post.cpp): a finalize's order is its URL without
    // the trailing /finalize; a challenge is its own resource.
    constexpr std::string_view finalize_suffix = "/finalize";
    if (o.resource_url.empty()) {
      o.resource_url = o.url;
      if (o.kind == acme::post_kind::finalize && o.resource_url.size() > finalize_suffix.size() &&
          o.resource_url.ends_with(finalize_suffix))
        o.resource_url.resize(o.resource_url.size() - finalize_suffix.size());
    }
    o.nonce = nonce_of(r);
    o.max_body_bytes = body_limit(r);
    out = acme_post_subject(std::move(o), policy_of(r, "acme"), seed, options_json, start);
    return true;
  }
  if (machine == "ari-renewal") {
    acme::ari_options o;
    o.renewal_info_url = r.get<std::string>("renewal_info_url").value_or(o.renewal_info_url);
    auto id = r.get<std::string>("cert_id");
    const auto pem = r.get<std::string>("cert_pem");
    if (id.has_value() == pem.has_value()) {
      error = "options.cert_id: give either cert_id or cert_pem (a PEM file), not both";
      return false;
    }
    if (pem) {
      const std::string path = !pem->empty() && pem->front() == '/' ? *pem : base_dir + "/" + *pem;
      std::string text, why;
      if (!load_file(path, acme::max_certificate_bytes, text, why)) {
        error = "options.cert_pem: " + why;
        return false;
      }
      auto cid = acme::cert_id_from_pem(text);
      if (!cid) {
        error = "options.cert_pem: '" + path + "' is not a usable certificate";
        return false;
      }
      id = cid.value();
    }
    o.cert_id = *id;
    o.not_after = r.get<time_point>("not_after").value_or(start + std::chrono::hours{24 * 90});
    o.min_retry_after = r.get<duration>("min_retry_after_s").value_or(o.min_retry_after);
    o.max_retry_after = r.get<duration>("max_retry_after_s").value_or(o.max_retry_after);
    o.long_term_retry = r.get<duration>("long_term_retry_s").value_or(o.long_term_retry);
    o.max_temporary_retries =
        r.get<std::uint32_t>("max_temporary_retries").value_or(o.max_temporary_retries);
    o.wait_for_window = r.get<bool>("wait_for_window").value_or(true);
    o.max_body_bytes = body_limit(r);
    out = ari_subject(std::move(o), seed, options_json, start);
    return true;
  }
  error = "verify: no alphabet for machine '" + std::string(machine) + "'";
  return false;
}

// Replays a counterexample through the harness (the scenario it prints) and compares its
// requests and waits with the verifier's, up to the step that broke the invariant.
bool reproduces(const subject& s, const counterexample& c, std::string& why) {
  std::string detail;
  auto parsed = parse_scenario(scenario_json(s, c), detail);
  if (!parsed) {
    why = "the scenario does not parse: " + detail;
    return false;
  }
  replay_output out;
  out.max_steps = c.t.steps.size() + 8;
  const replay_result r = replay(parsed.value(), out);
  if (r.exit_code == exit_malformed) {
    why = r.error;
    return false;
  }
  std::vector<std::string> mine, theirs;
  for (const step& st : c.t.steps) {
    const auto t = std::chrono::duration_cast<duration>(st.at - c.t.start).count();
    if (st.what == step::kind::send) mine.push_back("send " + std::to_string(t) + " " + st.key());
    if (st.what == step::kind::wait)
      mine.push_back("wait " + std::to_string(t) + " " + std::to_string(st.delay.count()));
    if (st.what == step::kind::finish)
      mine.push_back("outcome " + std::to_string(t) +
                     (st.outcome == outcome_kind::completed
                          ? std::string(" issued")
                          : " " + std::string(to_string(st.outcome))));
  }
  duration last_t{};
  for (const entry& e : r.entries) {
    if (e.kind == "send") theirs.push_back("send " + std::to_string(e.t.count()) + " " + e.what);
    if (e.kind == "wait")
      theirs.push_back("wait " + std::to_string(e.t.count()) + " " +
                       std::to_string(e.wait.count()));
    if (e.kind == "outcome")
      theirs.push_back("outcome " + std::to_string(e.t.count()) + " " + e.what);
    last_t = e.t;
  }
  (void)last_t;
  for (std::size_t i = 0; i < mine.size(); ++i) {
    if (i >= theirs.size() || theirs[i] != mine[i]) {
      why = "step " + std::to_string(i + 1) + ": the verifier saw '" + mine[i] + "', the replay '" +
            (i < theirs.size() ? theirs[i] : std::string("nothing")) + "'";
      return false;
    }
  }
  return true;
}

std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f s", s);
  return buf;
}

struct run_result {
  subject s;
  report rep;
  double seconds = 0;
};

// The verifier runs on one thread, so its CPU time is the "one core" of the target; wall time
// would count whatever else the machine is doing.
double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

run_result run_one(subject s, const verify_options& o) {
  run_result r;
  const double t0 = thread_cpu_seconds();
  r.rep = explore(s, o);
  r.seconds = thread_cpu_seconds() - t0;
  r.s = std::move(s);
  return r;
}

void print_table(const std::vector<run_result>& runs, std::uint32_t depth) {
  std::printf(
      "| machine | letters | depth | sequences | states | merged | ended within the depth "
      "| continued past it | invariants that apply | result |\n");
  std::printf("|---|--:|--:|--:|--:|--:|--:|--:|--:|---|\n");
  for (const run_result& r : runs) {
    std::size_t apply = 0;
    for (const invariant& i : r.rep.invariants) apply += i.applies ? 1 : 0;
    std::string result = r.rep.ok() ? "verified" : "";
    for (const counterexample& c : r.rep.violations)
      result += (result.empty() ? "violates " : ", ") + c.invariant;
    if (!r.rep.exhausted) result += " (stopped at the state limit)";
    std::printf("| %s | %zu | %u | %zu | %zu | %zu | %zu | %zu | %zu of %zu | %s |\n",
                r.s.machine.c_str(), r.s.letters.size(), depth, r.rep.sequences, r.rep.states,
                r.rep.merged, r.rep.finished, r.rep.continued, apply, r.rep.invariants.size(),
                result.c_str());
  }
  std::printf("\n");
}

void print_invariants(const std::vector<run_result>& runs) {
  if (runs.empty()) return;
  std::string head = "| invariant |", rule = "|---|";
  for (const run_result& r : runs) {
    head += " " + r.s.machine + " |";
    rule += "---|";
  }
  std::printf("%s\n%s\n", head.c_str(), rule.c_str());
  for (std::size_t i = 0; i < runs.front().rep.invariants.size(); ++i) {
    std::string row = "| " + runs.front().rep.invariants[i].name + " |";
    for (const run_result& r : runs) {
      if (i >= r.rep.invariants.size()) {
        row += " |";
        continue;
      }
      const invariant& inv = r.rep.invariants[i];
      row += !inv.applies ? " n/a |" : r.rep.violation(inv.name) ? " **violated** |" : " held |";
    }
    std::printf("%s\n", row.c_str());
  }
  std::printf("\n");
}

int print_violations(const std::vector<run_result>& runs, bool confirm) {
  int worst = 0;
  for (const run_result& r : runs)
    for (const counterexample& c : r.rep.violations) {
      worst = 1;
      std::printf("#### %s: %s\n\n%s, after %zu replies (%s)%s.\n\n", r.s.machine.c_str(),
                  c.invariant.c_str(), c.what.c_str(), c.letters.size(),
                  letters_text(r.s, c).c_str(),
                  c.past_depth ? ", found continuing past the depth" : "");
      std::printf("```json\n%s```\n\n", scenario_json(r.s, c).c_str());
      if (confirm) {
        std::string why;
        const bool ok = reproduces(r.s, c, why);
        std::printf("Replayed by `certretry-harness replay`: %s\n\n",
                    ok ? "the same requests and waits, up to the step that broke it"
                       : ("differs: " + why).c_str());
      }
    }
  return worst;
}

}  // namespace

std::vector<verified_machine> verify_default_machines(
    std::uint32_t depth, const std::function<void(std::string_view)>& before) {
  verify_options o;
  o.depth = depth;
  std::vector<verified_machine> out;
  for (const auto& name : machine_names()) {
    if (!has_alphabet(name)) continue;
    if (before) before(name);
    verified_machine v;
    v.machine = name;
    subject s;
    if (!make_subject(name, default_options(name), 1, ".", s, v.error)) {
      out.push_back(std::move(v));
      continue;
    }
    const run_result r = run_one(std::move(s), o);
    v.letters = r.s.letters.size();
    v.sequences = r.rep.sequences;
    v.states = r.rep.states;
    v.merged = r.rep.merged;
    v.finished = r.rep.finished;
    v.continued = r.rep.continued;
    v.invariants = r.rep.invariants.size();
    for (const invariant& i : r.rep.invariants) v.invariants_applying += i.applies ? 1 : 0;
    for (const counterexample& c : r.rep.violations) v.violated.push_back(c.invariant);
    v.exhausted = r.rep.exhausted;
    v.cpu_seconds = r.seconds;
    out.push_back(std::move(v));
  }
  return out;
}

namespace {

constexpr const char* usage_text =
    "usage: certretry-harness verify [MACHINE | SCENARIO.json]... [--depth N] [--planted] "
    "[--out DIR]\n";

}  // namespace

int cmd_verify(int argc, char** argv) {
  verify_options o;
  bool planted = false;
  std::string out_dir;
  std::vector<std::string> targets;
  for (int i = 0; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--help" || a == "-h") {
      std::printf("%s(docs/verify.md)\n", usage_text);
      return 0;
    }
    if (a == "--depth" && i + 1 < argc) {
      char* end = nullptr;
      const unsigned long d = std::strtoul(argv[++i], &end, 10);
      if (*end != '\0' || d < 1 || d > 20) {
        std::fprintf(stderr, "verify: --depth must be a whole number from 1 to 20\n");
        return 2;
      }
      o.depth = static_cast<std::uint32_t>(d);
    } else if (a == "--planted") {
      planted = true;
    } else if (a == "--out" && i + 1 < argc) {
      out_dir = argv[++i];
    } else if (a.starts_with("--")) {
      std::fprintf(stderr, "verify: unexpected argument '%s'\n%s", argv[i], usage_text);
      return 2;
    } else {
      targets.emplace_back(a);
    }
  }

  if (planted) {
    std::printf("## Planted bugs: one machine per invariant that breaks it, depth %u\n\n", o.depth);
    std::printf("| bug | machine | breaks | found | replies | the counterexample |\n");
    std::printf("|---|---|---|---|--:|---|\n");
    int missed = 0;
    for (const bug b : all_bugs) {
      std::string machine = "async-poll";
      if (b == bug::resets_twice || b == bug::skips_reset) machine = "tpp-enroll";
      if (b == bug::claims_again) machine = "acme-new-order";
      subject s;
      std::string error;
      if (!make_subject(machine, default_options(machine), 1, ".", s, error)) {
        std::fprintf(stderr, "verify: %s\n", error.c_str());
        return 2;
      }
      verify_options po = o;
      po.stop_when_all_violated = true;
      const report rep = explore(plant(std::move(s), b), po);
      const counterexample* c = rep.violation(breaks(b));
      if (!c) ++missed;
      subject named;
      make_subject(machine, default_options(machine), 1, ".", named, error);
      std::printf("| %s | %s | %s | %s | %s | %s |\n", std::string(to_string(b)).c_str(),
                  machine.c_str(), std::string(breaks(b)).c_str(), c ? "yes" : "**no**",
                  c ? std::to_string(c->letters.size()).c_str() : "-",
                  c ? (letters_text(named, *c) + ": " + c->what).c_str() : "-");
    }
    std::printf("\n- every planted bug found: %s\n", missed == 0 ? "PASS" : "MISSED");
    return missed == 0 ? 0 : 1;
  }

  if (targets.empty())
    for (const auto& n : machine_names())
      if (has_alphabet(n)) targets.push_back(n);
  std::vector<run_result> runs;
  for (const std::string& t : targets) {
    subject s;
    std::string error;
    if (t.ends_with(".json")) {
      std::string text, why;
      if (!load_file(t, 1u << 22, text, why)) {
        std::fprintf(stderr, "%s\n", why.c_str());
        return 2;
      }
      simdjson::dom::parser parser;
      simdjson::dom::element root;
      std::string_view machine;
      if (parser.parse(text).get(root) || root["machine"].get_string().get(machine)) {
        std::fprintf(stderr, "%s: needs a \"machine\" and, optionally, \"options\" and \"seed\"\n",
                     t.c_str());
        return 2;
      }
      std::string options = "{}";
      simdjson::dom::element opts;
      if (!root["options"].get(opts)) options = simdjson::minify(opts);
      std::uint64_t seed = 1;
      if (std::uint64_t v = 0; !root["seed"].get_uint64().get(v)) seed = v;
      const auto slash = t.find_last_of('/');
      const std::string base = slash == std::string::npos ? "." : t.substr(0, slash);
      if (!make_subject(machine, options, seed, base, s, error)) {
        std::fprintf(stderr, "%s: %s\n", t.c_str(), error.c_str());
        return 2;
      }
    } else if (!make_subject(t, default_options(t), 1, ".", s, error)) {
      std::fprintf(stderr, "verify: %s\n%s", error.c_str(), usage_text);
      return 2;
    }
    runs.push_back(run_one(std::move(s), o));
  }
  std::printf("## Verification: every sequence of up to %u replies\n\n", o.depth);
  print_table(runs, o.depth);
  print_invariants(runs);
  std::string times;
  for (const run_result& r : runs) {
    times += (times.empty() ? "" : ", ") + r.s.machine + " " + seconds_text(r.seconds);
  }
  std::printf("CPU time (one thread): %s.\n\n", times.c_str());
  int rc = 0;
  if (std::any_of(runs.begin(), runs.end(), [](const run_result& r) { return !r.rep.ok(); })) {
    std::printf("### Counterexamples\n\n");
    rc = print_violations(runs, true);
  }
  bool fast = true;
  for (const run_result& r : runs) fast = fast && r.seconds < 60;
  std::printf("Targets:\n\n- every machine verified: %s\n- each within 60 s on one core: %s\n",
              rc == 0 ? "PASS" : "MISSED", fast ? "PASS" : "MISSED");
  if (!out_dir.empty())
    for (const run_result& r : runs)
      for (const counterexample& c : r.rep.violations) {
        std::string name = r.s.machine + "-" + c.invariant;
        for (char& ch : name)
          if (ch == ' ') ch = '-';
        std::ofstream f(out_dir + "/" + name + ".json", std::ios::binary | std::ios::trunc);
        f << scenario_json(r.s, c);
      }
  return rc;
}

}  // namespace certretry::harness
