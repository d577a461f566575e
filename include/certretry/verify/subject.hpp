// certretry/verify/subject.hpp — what is verified: a machine, its policy's promises, the finite
// alphabet of replies a server may send it, and the invariants that must hold on every sequence.
//
// A subject makes a fresh machine on demand (the verifier replays every sequence from the
// start: machines hold parsers and need not be copyable), says which letters may answer which
// request, and states the facts the invariants check against: the deadline, the floor, the
// ceiling on Retry-After, how many calls the happy path needs. Users verify their own machine by
// writing a subject, and add their own invariants as callables.
#pragma once

#include "certretry/core/http.hpp"
#include "certretry/core/time.hpp"
#include "certretry/verify/trace.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

namespace certretry::verify {

/// One reply a server may send: a response or a transport error, for the requests it applies
/// to.
///
/// Thread safety: a plain value: safe to share read-only between threads.
struct letter {
  std::string name;                     ///< "429 + Retry-After"
  std::optional<response> reply;        ///< absent: the transport error below
  std::error_code error{};              ///< the transport error, when there is no reply
  std::optional<duration> retry_after;  ///< the valid Retry-After the reply carries
  /// Which requests it may answer ("METHOD TARGET" prefixes; empty: any).
  std::vector<std::string> answers;
  bool happy = false;   ///< what a server that issues at once answers (the happy path)
  bool repeat = false;  ///< answers forever when a sequence is continued past the depth
  bool stale = false;   ///< TPP: a stale-enrollment message (click Retry, WebSDK)

  /// Whether it may answer `method` `target`.
  bool applies_to(std::string_view method, std::string_view target) const {
    if (answers.empty()) return true;
    for (const std::string& a : answers) {
      const auto space = a.find(' ');
      const std::string_view m = std::string_view(a).substr(0, space);
      const std::string_view t =
          space == std::string::npos ? std::string_view{} : std::string_view(a).substr(space + 1);
      if (m == method && target.substr(0, t.size()) == t) return true;
    }
    return false;
  }
};

/// The promises the invariants hold the machine to.
///
/// Thread safety: a plain value: safe to share read-only between threads.
struct facts {
  duration deadline = 10min;             ///< no request after start + deadline
  std::optional<time_point> not_after;   ///< ARI: no request at or after it (instead of deadline)
  duration floor = 1s;                   ///< no wait shorter (but one cut to the deadline)
  duration retry_after_ceiling = 1h;     ///< a valid Retry-After is honoured up to this
  bool honours_retry_after = true;       ///< false: the policy ignores it (certctl's behaviour)
  std::uint32_t max_sends_in_a_row = 4;  ///< requests without a wait between them
  std::uint32_t max_waits_in_a_row = 2;  ///< waits without a request between them
  std::uint32_t happy_calls = 1;         ///< requests on the happy path
  std::uint32_t max_steps = 100000;      ///< a run longer than this does not terminate
  /// Requests that serve another (ACME's HEAD new-nonce): their verdicts are not the run's.
  std::vector<std::string> auxiliary_requests;
  /// TPP
  enum class reset_rule : std::uint8_t { none, on_detection, before_request, query_only };
  reset_rule reset = reset_rule::none;  ///< TPP: the reset strategy promised
  std::string reset_request;            ///< "POST /vedsdk/certificates/reset"
  std::string enroll_request;           ///< "POST /vedsdk/certificates/request"
  std::string retrieve_request;         ///< "POST /vedsdk/certificates/retrieve"
  /// ACME new-order
  bool fallback_applies = false;
  std::string new_order_request;  ///< "POST /acme/new-order"
};

/// An invariant: nothing when the trace (whose last step is the newest) is fine, else what is
/// wrong. Checked after every step.
using invariant_check = std::function<std::optional<std::string>(const trace&, const facts&,
                                                                 const std::vector<letter>&)>;

/// A named invariant and its check.
///
/// Thread safety: a plain value: safe to share read-only between threads; the check is a pure
/// function.
struct invariant {
  std::string name;       ///< its name in reports ("terminates")
  invariant_check check;  ///< the check
  bool applies = true;    ///< false: listed as not applicable to this machine
};

/// What the verifier explores: a machine, how to build it, the replies a server may send, and what
/// it promises.
///
/// Thread safety: a plain value: safe to share read-only between threads; make() builds a new
/// machine each call.
struct subject {
  std::string machine;              ///< the harness's name for it ("async-poll")
  std::string options_json = "{}";  ///< the harness options it was built from
  std::uint64_t seed = 1;           ///< the machine's random seed
  time_point start{};               ///< the virtual clock's start (options.now)
  facts f;                          ///< what the machine promises
  std::vector<letter> letters;      ///< the replies a server may send
  /// builds a new machine reporting into the sink
  std::function<std::unique_ptr<erased_machine>(recording_sink)> make;
  std::vector<invariant> extra;  ///< the user's own
};

}  // namespace certretry::verify
