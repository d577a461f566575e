// certretry/core/concepts.hpp — what a caller injects: transport, clock, sleeper, cancellation,
// and what a machine is.
#pragma once

#include "certretry/core/action.hpp"
#include "certretry/core/errc.hpp"
#include "certretry/core/http.hpp"
#include "certretry/core/time.hpp"

#include <concepts>
#include <system_error>

namespace certretry {

/// Sends one request and returns the whole response, or a transport error (errc::
/// transport_timeout, connection_refused, tls_failure, connection_reset or the transport's own
/// code). A transport never retries: retrying is the machine's decision.
template <class T>
concept transport = requires(T& t, const request_view& r) {
  { t.send(r) } -> std::convertible_to<result<response>>;
};

template <class C>
concept clock = requires(C& c) {
  { c.now() } -> std::convertible_to<time_point>;
};

template <class S>
concept sleeper = requires(S& s, duration d) {
  s.sleep_for(d);
};

/// std::stop_token models this, as does anything with stop_requested().
template <class C>
concept cancellation = requires(const C& c) {
  { c.stop_requested() } -> std::convertible_to<bool>;
};

/// The cancellation a run gets when the caller passes none: never stops.
///
/// Thread safety: stateless: share freely.
struct never_cancelled {
  /// Always false.
  constexpr bool stop_requested() const noexcept { return false; }
};

/// A sans-IO machine: every member takes the current time and answers with the next action.
template <class M>
concept machine = requires(M& m, time_point now, const response_view& r, std::error_code ec) {
  { m.start(now) } -> std::same_as<action>;
  { m.on_response(now, r) } -> std::same_as<action>;
  { m.on_transport_error(now, ec) } -> std::same_as<action>;
  { m.on_wait_elapsed(now) } -> std::same_as<action>;
  { m.cancel(now) } -> std::same_as<action>;
  { m.take_outcome() } -> std::same_as<outcome>;
};

}  // namespace certretry
