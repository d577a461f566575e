// certretry/verify/planted.hpp — machines that break one invariant each, to prove the verifier
// finds it.
//
// A planted bug wraps a real machine and changes what it does at one moment; everything else
// is the machine's own behaviour. plant(subject, bug) returns the same subject with its machine
// wrapped, so the verifier runs the misbehaving machine against the same alphabet and facts.
//   loops_on_timeout        after a timeout, sends the request again at once, for ever
//   polls_past_deadline     when the machine gives up still_pending, waits a second and polls
//                           once more
//   no_wait_after_429       waits 0 s after a 429
//   ignores_retry_after     waits at most 5 s whatever the server's Retry-After
//   resets_twice            sends every TPP reset a second time
//   claims_again            after falling back without `replaces` and failing, claims it again
//   polls_once_more         after success, sends the last request once more
//   skips_reset             gives up where the machine would reset (TPP)
//   reports_issued          reports a failure as issued
#pragma once

#include "certretry/core/action.hpp"
#include "certretry/core/http.hpp"
#include "certretry/verify/subject.hpp"
#include "certretry/verify/trace.hpp"

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace certretry::verify {

/// The planted bugs (see the file's comment).
enum class bug : std::uint8_t {
  loops_on_timeout,
  polls_past_deadline,
  no_wait_after_429,
  ignores_retry_after,
  resets_twice,
  claims_again,
  polls_once_more,
  skips_reset,
  reports_issued,
};

/// Every planted bug, in order.
inline constexpr bug all_bugs[] = {
    bug::loops_on_timeout,    bug::polls_past_deadline, bug::no_wait_after_429,
    bug::ignores_retry_after, bug::resets_twice,        bug::claims_again,
    bug::polls_once_more,     bug::skips_reset,         bug::reports_issued};

/// The bug's name, as reports print it.
constexpr std::string_view to_string(bug b) noexcept {
  switch (b) {
    case bug::loops_on_timeout: return "loops_on_timeout";
    case bug::polls_past_deadline: return "polls_past_deadline";
    case bug::no_wait_after_429: return "no_wait_after_429";
    case bug::ignores_retry_after: return "ignores_retry_after";
    case bug::resets_twice: return "resets_twice";
    case bug::claims_again: return "claims_again";
    case bug::polls_once_more: return "polls_once_more";
    case bug::skips_reset: return "skips_reset";
    case bug::reports_issued: return "reports_issued";
  }
  return "?";
}

/// The invariant each bug breaks.
constexpr std::string_view breaks(bug b) noexcept {
  switch (b) {
    case bug::loops_on_timeout: return "terminates";
    case bug::polls_past_deadline: return "deadline";
    case bug::no_wait_after_429: return "floor";
    case bug::ignores_retry_after: return "retry-after";
    case bug::resets_twice: return "one reset";
    case bug::claims_again: return "one fallback";
    case bug::polls_once_more: return "happy path";
    case bug::skips_reset: return "configured reset";
    case bug::reports_issued: return "outcome agrees";
  }
  return "?";
}

/// A machine with one planted bug (see the file's comment) around a real one.
///
/// Thread safety: one verification's: used on its thread only.
class planted_machine final : public erased_machine {
 public:
  /// Wraps `inner` with bug `b`.
  planted_machine(std::unique_ptr<erased_machine> inner, bug b) : in_(std::move(inner)), bug_(b) {}

  /// The inner machine's start(), as the bug changes it.
  action start(time_point now) override { return watch(now, in_->start(now)); }

  /// The inner machine's on_response(), as the bug changes it.
  action on_response(time_point now, const response_view& r) override {
    if (mode_ == mode::echo) {  // our own extra request was answered
      mode_ = mode::normal;
      if (held_) return finish{held_->kind};
      return deliver_held(now);
    }
    if (mode_ == mode::looping) {  // the inner machine waits; answer it as if it had polled
      mode_ = mode::normal;
      const action a = in_->on_wait_elapsed(now);
      if (!std::holds_alternative<send>(a)) return watch(now, a);
      return after_response(now, r, in_->on_response(now, r));
    }
    if (bug_ == bug::resets_twice && is_reset(last_) && r.status == 200 && !reset_again_) {
      reset_again_ = true;
      stored_ = response{r.status, {r.headers.begin(), r.headers.end()}, std::string(r.body)};
      mode_ = mode::echo;
      return send{last_.view()};
    }
    return after_response(now, r, in_->on_response(now, r));
  }

  /// The inner machine's on_transport_error(), as the bug changes it.
  action on_transport_error(time_point now, std::error_code ec) override {
    if (bug_ == bug::loops_on_timeout && ec == errc::transport_timeout) {
      if (mode_ == mode::normal) {
        const action a = in_->on_transport_error(now, ec);
        if (!std::holds_alternative<wait>(a)) return watch(now, a);
      }
      mode_ = mode::looping;
      return send{last_.view()};
    }
    if (mode_ == mode::echo) {
      mode_ = mode::normal;
      if (held_) return finish{held_->kind};
      return deliver_held(now);
    }
    return watch(now, in_->on_transport_error(now, ec));
  }

  /// The inner machine's on_wait_elapsed(), as the bug changes it.
  action on_wait_elapsed(time_point now) override {
    if (mode_ == mode::late) {
      mode_ = mode::echo;
      return send{last_.view()};
    }
    return watch(now, in_->on_wait_elapsed(now));
  }

  /// The inner machine's outcome, as the bug changes it.
  outcome take_outcome() override {
    if (held_) return *held_;
    if (skipped_)
      return outcome{outcome_kind::failed, {}, "gave up instead of resetting", {}, 0, {}, {}};
    outcome o = in_->take_outcome();
    if (bug_ == bug::reports_issued && o.kind == outcome_kind::failed)
      o.kind = outcome_kind::issued;
    return o;
  }

 private:
  enum class mode : std::uint8_t { normal, looping, echo, late };

  static bool is_reset(const request& r) {
    return r.target.find("/certificates/reset") != std::string::npos;
  }

  action after_response(time_point now, const response_view& r, action a) {
    if (const auto* w = std::get_if<wait>(&a)) {
      if (bug_ == bug::no_wait_after_429 && r.status == 429) return wait{duration::zero(), w->why};
      if (bug_ == bug::ignores_retry_after && r.header("Retry-After"))
        return wait{std::min(w->delay, duration{5000}), w->why};
    }
    return watch(now, a);
  }

  action deliver_held(time_point now) {
    const response r = std::move(*stored_);
    stored_.reset();
    return watch(now, in_->on_response(now, r.view()));
  }

  // Every action of the inner machine passes here: remember the requests, plant the bug.
  action watch(time_point, action a) {
    if (const auto* s = std::get_if<send>(&a)) {
      if (bug_ == bug::skips_reset &&
          s->request.target.find("/certificates/reset") != std::string_view::npos) {
        skipped_ = true;
        return finish{outcome_kind::failed};
      }
      last_ = request{s->request};
      if (last_.target.find("new-order") != std::string::npos) {
        const bool claims = last_.body.find("\"replaces\"") != std::string::npos;
        if (claims && !first_claim_) first_claim_ = last_;
        if (!claims && first_claim_) dropped_ = true;
      }
      return a;
    }
    if (const auto* f = std::get_if<finish>(&a)) {
      if (bug_ == bug::polls_past_deadline && f->kind == outcome_kind::still_pending && !held_) {
        held_ = in_->take_outcome();
        mode_ = mode::late;
        return wait{duration{1000}, wait_reason::schedule};
      }
      if (bug_ == bug::polls_once_more &&
          (f->kind == outcome_kind::issued || f->kind == outcome_kind::completed) && !held_) {
        held_ = in_->take_outcome();
        mode_ = mode::echo;
        return send{last_.view()};
      }
      if (bug_ == bug::claims_again && f->kind == outcome_kind::failed && dropped_ &&
          first_claim_ && !held_) {
        held_ = in_->take_outcome();
        last_ = *first_claim_;
        mode_ = mode::echo;
        return send{last_.view()};
      }
    }
    return a;
  }

  std::unique_ptr<erased_machine> in_;
  bug bug_;
  mode mode_ = mode::normal;
  request last_;
  std::optional<request> first_claim_;
  bool dropped_ = false;
  bool reset_again_ = false;
  bool skipped_ = false;
  std::optional<response> stored_;
  std::optional<outcome> held_;
};

/// The subject with its machine replaced by one that has the bug.
inline subject plant(subject s, bug b) {
  auto make = std::move(s.make);
  s.make = [make = std::move(make), b](recording_sink sink) -> std::unique_ptr<erased_machine> {
    return std::make_unique<planted_machine>(make(sink), b);
  };
  return s;
}

}  // namespace certretry::verify
