// Options several machines share (the clock's start, the backoff policy, the body limit, the
// ACME nonce), declared once here with each machine's defaults, and what they build.
#pragma once

#include "../machine.hpp"

#include "certretry/acme/exchange.hpp"
#include "certretry/backoff/jitter.hpp"
#include "certretry/backoff/policy.hpp"
#include "certretry/backoff/schedule.hpp"
#include "certretry/json/reader.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace certretry::harness {

// --- now (every machine) -------------------------------------------------------------------

struct clock_settings {
  time_point start{};
};

template <class S>
option<S> now_option() {
  return {.name = "now",
          .kind = option_kind::time,
          .def = std::string("2025-01-01T00:00:00Z"),
          .doc =
              "the virtual clock's start: Retry-After dates, `not_before` and `at` are read "
              "and written against it",
          .store = &into<S, &S::start>};
}

// --- paths ---------------------------------------------------------------------------------

inline bool is_path(std::string& s) { return !s.empty() && s.front() == '/'; }

// A URL option: only the path is scripted (scenario keys are "METHOD PATH").
template <class S, auto Field>
option<S> path_option(std::string_view name, std::string def, std::string_view doc) {
  return {.name = name,
          .kind = option_kind::text,
          .def = std::move(def),
          .check = &is_path,
          .bad = "must be a path starting with '/'",
          .type_doc = "string, a path",
          .doc = doc,
          .store = &into<S, Field>};
}

// --- the backoff policy (every machine but ari-renewal) ------------------------------------

struct backoff_settings {
  std::optional<std::string> schedule;  // absent: the machine's choice (tpp-enroll: by mode)
  std::string jitter;
  double jitter_pct = 0;
  duration max_wait{};
  bool honor_retry_after = true;
  duration min_delay{};
  std::uint32_t max_attempts = 0;
  duration retry_after_ceiling{};
};

// A machine's defaults for the backoff options, and its own wording where the shared one would
// be vague (empty: the shared wording).
struct backoff_defaults {
  std::string_view schedule;  // empty: absent, and `schedule_default` says what is used
  double jitter_pct = 0;
  std::string_view schedule_default{};
  std::string_view schedule_doc{}, jitter_doc{}, jitter_pct_doc{}, max_wait_doc{}, honor_doc{},
      min_delay_doc{}, max_attempts_doc{}, ceiling_doc{};
};

inline constexpr std::string_view jitter_names[] = {"none",  "pct",          "full",
                                                    "equal", "decorrelated", "decorrelated-v2"};

// Decorrelated jitter replaces the schedule's growth; 5 min caps it as certctl caps its
// schedule.
inline constexpr duration jitter_cap = std::chrono::minutes{5};

inline std::string_view or_shared(std::string_view own, std::string_view shared) {
  return own.empty() ? shared : own;
}

template <class S>
std::vector<option<S>> backoff_options(const backoff_defaults& d) {
  option_default schedule;
  if (!d.schedule.empty()) schedule = std::string(d.schedule);
  return {
      {.name = "schedule",
       .kind = option_kind::choice,
       .def = schedule,
       .choices = {std::begin(schedule_names), std::end(schedule_names)},
       // A name, or a schedule written out (`table:2.9,2.1`): what `tune` recommends.
       .check = [](std::string& n) { return parse_schedule(n).has_value(); },
       .default_doc = d.schedule_default,
       .doc = or_shared(d.schedule_doc,
                        "the base delays between requests, by name ([named "
                        "schedules](#named-schedules)) or written out (`fixed:2`, "
                        "`geometric:5,3,300`, `table:110,110,130`)"),
       .store = &into<S, &S::schedule>},
      {.name = "jitter",
       .kind = option_kind::choice,
       .def = std::string("pct"),
       .choices = {std::begin(jitter_names), std::end(jitter_names)},
       .check = [](std::string& n) { return named_jitter(n, 0.0, jitter_cap).has_value(); },
       .doc = or_shared(d.jitter_doc,
                        "how each scheduled delay is randomised ([jitter kinds](#jitter-kinds))"),
       .store = &into<S, &S::jitter>},
      {.name = "jitter_pct",
       .kind = option_kind::number,
       .def = d.jitter_pct,
       .min = 0,
       .max = 100,
       .doc = or_shared(d.jitter_pct_doc,
                        "for `jitter` `pct`: each wait is the scheduled delay × (1 + U[−p, +p)), "
                        "p = `jitter_pct`/100; `0` = the exact schedule. Validated but unused by "
                        "the other jitter kinds"),
       .store = &into<S, &S::jitter_pct>},
      {.name = "max_wait_s",
       .kind = option_kind::seconds,
       .def = 600.0,
       .min = 0,
       .max = 31536000,
       .zero = zero_means::the_default,
       .doc = or_shared(d.max_wait_doc,
                        "hard cap on the whole run, from its first request; 0 means the default"),
       .store = &into<S, &S::max_wait>},
      {.name = "honor_retry_after",
       .kind = option_kind::boolean,
       .def = true,
       .doc = or_shared(d.honor_doc,
                        "`true`: a valid Retry-After is a lower bound on the next wait (the "
                        "longer of the hint and the jittered schedule). `false`: the hint never "
                        "changes a wait or ends a run"),
       .store = &into<S, &S::honor_retry_after>},
      {.name = "min_delay_s",
       .kind = option_kind::seconds,
       .def = 1.0,
       .min = 0.1,
       .max = 86400,
       .doc = or_shared(d.min_delay_doc,
                        "no wait is ever shorter, whatever the schedule, jitter or server says; "
                        "with less than this left before the deadline, the run stops instead of "
                        "sending again. At least 0.1: no run polls more than 10 times a second"),
       .store = &into<S, &S::min_delay>},
      {.name = "max_attempts",
       .kind = option_kind::whole,
       .def = 0.0,
       .min = 0,
       .max = 1000000,
       .zero = zero_means::no_limit,
       .doc = or_shared(d.max_attempts_doc,
                        "rounds of requests at most (a round ends with a wait); reaching it ends "
                        "the run `still_pending` with `attempt cap reached …`"),
       .store = &into<S, &S::max_attempts>},
      {.name = "retry_after_ceiling_s",
       .kind = option_kind::seconds,
       .def = 3600.0,
       .min = 0,
       .max = 31536000,
       .doc = or_shared(d.ceiling_doc,
                        "a valid Retry-After longer than this is cut to it before use (so a "
                        "server, or a bug, cannot park the loop for days); `0` cuts every hint "
                        "to 0: the schedule always decides"),
       .store = &into<S, &S::retry_after_ceiling>},
  };
}

// The policy the backoff options describe; `schedule_if_absent` names the schedule when the
// options left it to the machine.
backoff_policy<any_schedule, any_jitter> make_policy(const backoff_settings& b,
                                                     std::string_view schedule_if_absent = {});

// --- the body limit (every machine) --------------------------------------------------------

struct body_settings {
  std::size_t max_body_bytes = default_max_body_bytes;
};

template <class S>
option<S> max_body_option(std::string_view doc) {
  return {.name = "max_body_bytes",
          .kind = option_kind::number,
          .def = static_cast<double>(default_max_body_bytes),
          .min = 1,
          .max = 1073741824,
          .doc = doc,
          .store = &into<S, &S::max_body_bytes>};
}

// --- the ACME nonce (acme-new-order, acme-poll) ----------------------------------------------

struct nonce_settings {
  std::string new_nonce_url;
  std::uint32_t max_bad_nonce_retries = 0;
  std::optional<std::string> nonce;

  acme::nonce_options nonce_options() const {
    acme::nonce_options n;
    n.new_nonce_url = new_nonce_url;
    n.max_bad_nonce_retries = max_bad_nonce_retries;
    n.initial = nonce.value_or("");
    return n;
  }
};

template <class S>
option<S> new_nonce_url_option() {
  return path_option<S, &S::new_nonce_url>(
      "new_nonce_url", acme::nonce_options{}.new_nonce_url,
      "the directory's `newNonce` URL, asked with `HEAD` whenever no nonce is at hand");
}

inline bool is_nonce_or_empty(std::string& n) { return n.empty() || acme::is_valid_nonce(n); }

template <class S>
option<S> nonce_option(option_default def, std::string_view doc) {
  return {.name = "nonce",
          .kind = option_kind::text,
          .def = std::move(def),
          .check = &is_nonce_or_empty,
          .bad = "'{}' is not a base64url nonce",
          .type_doc = "base64url string",
          .doc = doc,
          .store = &into<S, &S::nonce>};
}

template <class S>
option<S> bad_nonce_retries_option() {
  return {.name = "max_bad_nonce_retries",
          .kind = option_kind::whole,
          .def = 3.0,
          .min = 0,
          .max = 100,
          .doc = "badNonce replies retried in a row for one request; the next one fails the run",
          .store = &into<S, &S::max_bad_nonce_retries>};
}

// Whether a scenario scripts the new-nonce URL itself (a "HEAD|GET|POST <url>" key, or "*").
// When it does not, the scripted server hands out nonces (docs/harness.md, "Nonces from the
// script").
bool scripts_new_nonce(const scenario& s, std::string_view new_nonce_url);

// The scripted server with a fresh Replay-Nonce on every reply that carries none, as RFC 8555
// §6.5 requires of a real server's successful replies.
struct nonce_supplier {
  scripted_transport* inner;
  std::uint64_t issued = 0;

  result<response> send(const request_view& r);
};

// Runs an ACME machine over the scripted server, through a nonce_supplier when the scenario does
// not script nonces itself; `through(transport)` drives it (a caller may wrap the transport).
template <class Through>
replay_result drive_acme_through(world& w, bool supply_nonces, Through&& through) {
  if (!supply_nonces) return through(w.server);
  nonce_supplier t{&w.server};
  return through(t);
}

template <class Machine>
replay_result drive_acme(world& w, Machine& m, bool supply_nonces) {
  return drive_acme_through(w, supply_nonces, [&](auto& t) { return w.drive(m, t); });
}

}  // namespace certretry::harness
