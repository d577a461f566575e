// certretry/machine/erased.hpp — a machine of any type behind one interface, for code that is
// not a template over the machine: the verifier, which drives whatever machine a subject makes,
// and the fleet simulator's model fleets, whose renewals chain machines of different types.
#pragma once

#include "certretry/core/action.hpp"
#include "certretry/core/concepts.hpp"
#include "certretry/core/http.hpp"
#include "certretry/core/time.hpp"

#include <system_error>
#include <utility>

namespace certretry {

/// A machine of any type, behind one interface.
///
/// Thread safety: as the machine behind it: driven by one thread at a time.
class erased_machine {
 public:
  virtual ~erased_machine() = default;
  /// The machine's start().
  virtual action start(time_point now) = 0;
  /// The machine's on_response().
  virtual action on_response(time_point now, const response_view& r) = 0;
  /// The machine's on_transport_error().
  virtual action on_transport_error(time_point now, std::error_code ec) = 0;
  /// The machine's on_wait_elapsed().
  virtual action on_wait_elapsed(time_point now) = 0;
  /// The machine's take_outcome().
  virtual outcome take_outcome() = 0;
};

/// Machine `M` behind erased_machine, or behind `Base`, an interface derived from it that adds
/// what its user needs of the machine (reached through inner()).
///
/// Thread safety: as the machine behind it: driven by one thread at a time.
template <machine M, class Base = erased_machine>
class erased : public Base {
 public:
  /// Wraps `m`.
  explicit erased(M m) : m_(std::move(m)) {}
  /// Forwards to the machine.
  action start(time_point now) override { return m_.start(now); }
  /// Forwards to the machine.
  action on_response(time_point now, const response_view& r) override {
    return m_.on_response(now, r);
  }
  /// Forwards to the machine.
  action on_transport_error(time_point now, std::error_code ec) override {
    return m_.on_transport_error(now, ec);
  }
  /// Forwards to the machine.
  action on_wait_elapsed(time_point now) override { return m_.on_wait_elapsed(now); }
  /// Forwards to the machine.
  outcome take_outcome() override { return m_.take_outcome(); }
  /// The machine itself.
  M& inner() noexcept { return m_; }

 private:
  M m_;
};

}  // namespace certretry
