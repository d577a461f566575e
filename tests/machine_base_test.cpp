// What every machine gets from machine_base (machine/base.hpp), checked on each machine: inputs in
// the wrong state end the run with errc::input_out_of_order and send nothing; after the end the
// first ending stands; the machine concept holds; template arguments are deduced from the
// constructor's.
#include "certretry/acme/ari.hpp"
#include "certretry/acme/exchange.hpp"
#include "certretry/acme/new_order.hpp"
#include "certretry/acme/poll.hpp"
#include "certretry/async_ca/poller.hpp"
#include "certretry/core/concepts.hpp"
#include "certretry/machine/base.hpp"
#include "certretry/tpp/enroll.hpp"

#include "support/event_log.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

namespace {

using namespace certretry;
using namespace std::chrono_literals;
using model::capture_sink;
using model::only;
using model::seen_event;

const time_point t0{std::chrono::sys_days{std::chrono::year{2025} / 1 / 1}};

// One factory per machine, each with a capture sink; `nonce` gives the ACME machines one at hand
// so that their first request is the POST itself.
struct async_ca_case {
  static constexpr const char* name = "async_ca_poll_machine";
  static auto make(std::vector<seen_event>& log) {
    return async_ca_poll_machine{async_ca_triage{{async_ca::digicert, "42", ""}},
                                 backoff_policy{schedules::certctl, no_jitter{}}, splitmix64{1},
                                 capture_sink{&log}};
  }
};

struct tpp_case {
  static constexpr const char* name = "tpp::enroll_machine";
  static auto make(std::vector<seen_event>& log) {
    return tpp::enroll_machine{tpp::enroll_options{}, backoff_policy{schedules::vcert, no_jitter{}},
                               splitmix64{1}, capture_sink{&log}};
  }
};

struct post_case {
  static constexpr const char* name = "acme::post_machine";
  static auto make(std::vector<seen_event>& log) {
    acme::post_options o;
    o.url = "/acme/new-account";
    o.payload = R"({"termsOfServiceAgreed":true})";
    o.nonce.initial = "bm9uY2U";
    return acme::post_machine{std::move(o), acme::default_policy(), splitmix64{1},
                              capture_sink{&log}};
  }
};

struct new_order_case {
  static constexpr const char* name = "acme::new_order_machine";
  static auto make(std::vector<seen_event>& log) {
    acme::new_order_options o;
    o.nonce.initial = "bm9uY2U";
    return acme::new_order_machine{std::move(o), acme::default_policy(), splitmix64{1},
                                   capture_sink{&log}};
  }
};

struct resource_poll_case {
  static constexpr const char* name = "acme::resource_poll_machine";
  static auto make(std::vector<seen_event>& log) {
    acme::poll_options o;
    o.url = "/acme/order/1";
    o.nonce.initial = "bm9uY2U";
    return acme::resource_poll_machine{std::move(o), acme::default_policy(), splitmix64{1},
                                       capture_sink{&log}};
  }
};

struct ari_case {
  static constexpr const char* name = "acme::ari_machine";
  static auto make(std::vector<seen_event>& log) {
    acme::ari_options o;
    o.cert_id = "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE";
    o.not_after = t0 + 24h * 90;
    return acme::ari_machine{std::move(o), acme::ari_error_policy(), splitmix64{1},
                             capture_sink{&log}};
  }
};

template <class Case>
class EveryMachine : public ::testing::Test {
 protected:
  using machine_type = decltype(Case::make(std::declval<std::vector<seen_event>&>()));
  static_assert(machine<machine_type>);

  std::vector<seen_event> log;
  machine_type m = Case::make(log);

  // The run ended failed with input_out_of_order, naming the input.
  void expect_refused(const action& a, std::string_view what) {
    ASSERT_TRUE(std::holds_alternative<certretry::finish>(a)) << Case::name;
    EXPECT_EQ(std::get<certretry::finish>(a).kind, outcome_kind::failed) << Case::name;
    EXPECT_EQ(m.phase(), machine_phase::finished) << Case::name;
    EXPECT_EQ(m.state(), decltype(m.state())::finished) << Case::name;
    const outcome o = m.take_outcome();
    EXPECT_EQ(o.kind, outcome_kind::failed) << Case::name;
    EXPECT_EQ(o.error, make_error_code(errc::input_out_of_order)) << Case::name;
    EXPECT_NE(o.error, make_error_code(errc::invalid_policy)) << Case::name;
    EXPECT_NE(o.reason.find(what), std::string::npos) << Case::name << ": " << o.reason;
    const auto finishes = only(log, event_kind::finish);
    ASSERT_EQ(finishes.size(), 1u) << Case::name;
    EXPECT_EQ(finishes[0]->error, make_error_code(errc::input_out_of_order)) << Case::name;
  }

  // A reply every machine reads as transient: it waits afterwards.
  static response_view unavailable() { return {503, {}, {}}; }
};

using machines = ::testing::Types<async_ca_case, tpp_case, post_case, new_order_case,
                                  resource_poll_case, ari_case>;
TYPED_TEST_SUITE(EveryMachine, machines);

TYPED_TEST(EveryMachine, ResponseBeforeStartIsRefusedAndNothingIsSent) {
  EXPECT_EQ(this->m.phase(), machine_phase::idle);
  const action a = this->m.on_response(t0, this->unavailable());
  this->expect_refused(a, "no request was outstanding");
  EXPECT_EQ(this->m.sends(), 0u);
  EXPECT_TRUE(only(this->log, event_kind::send).empty());
}

TYPED_TEST(EveryMachine, TransportErrorBeforeStartIsRefused) {
  const action a = this->m.on_transport_error(t0, make_error_code(errc::transport_timeout));
  this->expect_refused(a, "no request was outstanding");
  EXPECT_EQ(this->m.sends(), 0u);
}

TYPED_TEST(EveryMachine, WaitElapsedBeforeStartIsRefused) {
  this->expect_refused(this->m.on_wait_elapsed(t0), "wait elapsed while not waiting");
  EXPECT_EQ(this->m.sends(), 0u);
}

TYPED_TEST(EveryMachine, StartTwiceIsRefused) {
  ASSERT_TRUE(std::holds_alternative<certretry::send>(this->m.start(t0)));
  EXPECT_EQ(this->m.phase(), machine_phase::awaiting_response);
  this->expect_refused(this->m.start(t0 + 1s), "start() called twice");
  EXPECT_EQ(this->m.sends(), 1u);
}

TYPED_TEST(EveryMachine, WaitElapsedWhileARequestIsOutstandingIsRefused) {
  ASSERT_TRUE(std::holds_alternative<certretry::send>(this->m.start(t0)));
  this->expect_refused(this->m.on_wait_elapsed(t0 + 1s), "wait elapsed while not waiting");
  EXPECT_EQ(this->m.sends(), 1u);
}

TYPED_TEST(EveryMachine, ResponseWhileWaitingIsRefused) {
  ASSERT_TRUE(std::holds_alternative<certretry::send>(this->m.start(t0)));
  ASSERT_TRUE(
      std::holds_alternative<certretry::wait>(this->m.on_response(t0 + 1s, this->unavailable())));
  EXPECT_EQ(this->m.phase(), machine_phase::waiting);
  this->expect_refused(this->m.on_response(t0 + 2s, this->unavailable()),
                       "no request was outstanding");
  EXPECT_EQ(this->m.sends(), 1u);
}

TYPED_TEST(EveryMachine, TransportErrorWhileWaitingIsRefused) {
  ASSERT_TRUE(std::holds_alternative<certretry::send>(this->m.start(t0)));
  ASSERT_TRUE(
      std::holds_alternative<certretry::wait>(this->m.on_response(t0 + 1s, this->unavailable())));
  this->expect_refused(this->m.on_transport_error(t0 + 2s, make_error_code(errc::connection_reset)),
                       "no request was outstanding");
}

TYPED_TEST(EveryMachine, AnAllowedOrderRunsOn) {
  // The same inputs in the order run() feeds them: no refusal.
  ASSERT_TRUE(std::holds_alternative<certretry::send>(this->m.start(t0)));
  ASSERT_TRUE(
      std::holds_alternative<certretry::wait>(this->m.on_response(t0 + 1s, this->unavailable())));
  const action next = this->m.on_wait_elapsed(t0 + 10min);
  ASSERT_TRUE(std::holds_alternative<certretry::send>(next));
  EXPECT_EQ(this->m.phase(), machine_phase::awaiting_response);
  EXPECT_EQ(this->m.sends(), 2u);
  EXPECT_TRUE(only(this->log, event_kind::finish).empty());
}

TYPED_TEST(EveryMachine, AfterTheEndTheFirstEndingStands) {
  ASSERT_TRUE(std::holds_alternative<certretry::send>(this->m.start(t0)));
  const action c = this->m.cancel(t0 + 1s);
  ASSERT_TRUE(std::holds_alternative<certretry::finish>(c));
  EXPECT_EQ(std::get<certretry::finish>(c).kind, outcome_kind::cancelled);
  // A late reply, a second start: the run stays cancelled, nothing is sent, no second finish.
  const action late = this->m.on_response(t0 + 2s, this->unavailable());
  ASSERT_TRUE(std::holds_alternative<certretry::finish>(late));
  EXPECT_EQ(std::get<certretry::finish>(late).kind, outcome_kind::cancelled);
  EXPECT_EQ(std::get<certretry::finish>(this->m.start(t0 + 3s)).kind, outcome_kind::cancelled);
  EXPECT_EQ(this->m.sends(), 1u);
  EXPECT_EQ(only(this->log, event_kind::finish).size(), 1u);
  EXPECT_EQ(this->m.take_outcome().error, make_error_code(errc::cancelled));
}

TEST(InputOutOfOrder, MessageSaysItIsTheDriversBugAndWhatToDo) {
  const std::string msg = make_error_code(errc::input_out_of_order).message();
  EXPECT_NE(msg.find("driving"), std::string::npos) << msg;
  EXPECT_NE(msg.find("run()"), std::string::npos) << msg;
  EXPECT_NE(msg, make_error_code(errc::invalid_policy).message());
}

TEST(MachinePhase, Names) {
  EXPECT_EQ(to_string(machine_phase::idle), "idle");
  EXPECT_EQ(to_string(machine_phase::awaiting_response), "awaiting_response");
  EXPECT_EQ(to_string(machine_phase::waiting), "waiting");
  EXPECT_EQ(to_string(machine_phase::finished), "finished");
}

// --- deduced template arguments ------------------------------------------------------------

struct other_sink {
  void operator()(const event&) const {}
};

TEST(Deduction, PolicyRngAndSinkComeFromTheArguments) {
  const auto triage = [] { return async_ca_triage{{async_ca::digicert, "42", ""}}; };
  // A concrete policy keeps its concrete types ...
  async_ca_poll_machine concrete{triage(),
                                 backoff_policy{schedules::certctl, proportional_jitter{0.2}},
                                 splitmix64{1}, other_sink{}};
  static_assert(
      std::is_same_v<
          decltype(concrete),
          async_ca_poll_machine<geometric_schedule, proportional_jitter, splitmix64, other_sink>>);
  // ... a braced one is the run-time-chosen form, and no sink is the null sink.
  async_ca_poll_machine braced{
      triage(), {schedules::certctl, proportional_jitter{0.2}}, splitmix64{1}};
  static_assert(std::is_same_v<decltype(braced), async_ca_poll_machine<>>);
  // The generic machine deduces its triage too.
  poll_machine generic{triage(), acme::default_policy(), splitmix64{1}};
  static_assert(std::is_same_v<decltype(generic), poll_machine<async_ca_triage>>);
  // Deduced machines behave as spelled ones: the same first request.
  const action a = concrete.start(t0);
  const action b = braced.start(t0);
  ASSERT_TRUE(std::holds_alternative<certretry::send>(a) &&
              std::holds_alternative<certretry::send>(b));
  EXPECT_EQ(std::get<certretry::send>(a).request.target,
            std::get<certretry::send>(b).request.target);
  EXPECT_EQ(std::get<certretry::send>(a).request.target, "/order/certificate/42");
}

TEST(Deduction, EveryMachine) {
  tpp::enroll_machine enroll{tpp::enroll_options{}, acme::default_policy(), splitmix64{1},
                             other_sink{}, tpp::click_retry_detector{}};
  static_assert(
      std::is_same_v<decltype(enroll), tpp::enroll_machine<tpp::click_retry_detector, any_schedule,
                                                           any_jitter, splitmix64, other_sink>>);
  tpp::enroll_machine plain{tpp::enroll_options{}, acme::default_policy(), splitmix64{1}};
  static_assert(std::is_same_v<decltype(plain), tpp::enroll_machine<>>);
  acme::post_machine poster{acme::post_options{}, acme::default_policy(), splitmix64{1}};
  static_assert(std::is_same_v<decltype(poster), acme::post_machine<>>);
  acme::new_order_machine order{acme::new_order_options{}, acme::default_policy(), splitmix64{1},
                                other_sink{}};
  static_assert(
      std::is_same_v<decltype(order),
                     acme::new_order_machine<any_schedule, any_jitter, splitmix64, other_sink>>);
  acme::resource_poll_machine poller{acme::poll_options{}, acme::default_policy(), splitmix64{1}};
  static_assert(std::is_same_v<decltype(poller), acme::resource_poll_machine<>>);
  acme::ari_machine ari{acme::ari_options{}, acme::ari_error_policy(), splitmix64{1}};
  static_assert(std::is_same_v<decltype(ari), acme::ari_machine<>>);
  EXPECT_EQ(enroll.sends() + plain.sends() + poster.sends() + order.sends() + poller.sends() +
                ari.sends(),
            0u);
}

}  // namespace
