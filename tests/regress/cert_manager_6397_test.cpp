// cert-manager issue 6397 (docs/sources.md#cert-manager-6397): cert-manager 1.11.5, 1.12.3 and
// 1.13.0-1 were configured to call POST /vedsdk/certificates/reset before every request
// (Solution 2, docs/sources.md#cert-manager-5805) and never did: a type check on a wrapped client
// was always false, so the stuck "Fix any errors, and then click Retry." renewals came back. A
// strategy configured to reset must be proven to send the reset, on the wire, every time: here
// over 100 enrollments, through every way of building the machine (concrete and type-erased
// policies, with and without an event sink, and tpp::reset_step()) and every benign reset reply.
#include "certretry/machine/run.hpp"
#include "certretry/testing/scripted.hpp"
#include "certretry/tpp/enroll.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

using namespace certretry;
using namespace std::chrono_literals;

const time_point t0{std::chrono::seconds{1'700'000'000}};

constexpr std::string_view request_key = "POST /vedsdk/certificates/request";
constexpr std::string_view retrieve_key = "POST /vedsdk/certificates/retrieve";
constexpr std::string_view reset_key = "POST /vedsdk/certificates/reset";

// TPP's replies to POST /reset (docs/sources.md#tpp-reset): each lets the enrollment go on to the
// request.
const std::vector<std::string> benign_reset_replies = {
    R"({"ProcessingResetCompleted":true})",
    R"({"ProcessingResetCompleted":true,"RestartCompleted":true})",
    R"({"Error":"Reset is not completed. No reset is required for the certificate."})",
    R"({"Error":"Certificate \\VED\\Policy\\Test\\new.example.com does not exist or you do not have sufficient rights to the object."})",
};

int reset_status(std::size_t i) { return i < 2 ? 200 : 400; }

std::string dn_for(int i) {
  return R"(\VED\Policy\Test\host-)" + std::to_string(i) + ".example.com";
}

std::string json_escaped(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == '"') out += '\\';
    out += c;
  }
  return out;
}

struct reset_body {
  bool json = false;
  std::optional<std::string> dn;
  std::optional<bool> restart;
};

reset_body read_reset_body(std::string_view body) {
  reset_body out;
  simdjson::dom::parser p;
  simdjson::dom::object o;
  if (p.parse(body.data(), body.size()).get(o)) return out;
  out.json = true;
  std::string_view s;
  if (!o["CertificateDN"].get_string().get(s)) out.dn = std::string(s);
  bool b = false;
  if (!o["Restart"].get_bool().get(b)) out.restart = b;
  return out;
}

enum class build { concrete_null_sink, any_policy, reset_step };
constexpr build builds[] = {build::concrete_null_sink, build::any_policy, build::reset_step};

struct counting_sink {
  int* sends = nullptr;
  void operator()(const event& e) {
    if (e.kind == event_kind::send) ++*sends;
  }
};

outcome enroll(build how, tpp::enroll_options o, scripted_transport& server, virtual_clock& clock,
               virtual_sleeper& sleeper, int& sink_sends) {
  const limits l{.max_wait = 60s};
  switch (how) {
    case build::concrete_null_sink: {
      tpp::enroll_machine m{std::move(o), backoff_policy{schedules::vcert, no_jitter{}, l},
                            splitmix64{1}};
      return run(m, server, clock, sleeper);
    }
    case build::any_policy: {
      tpp::enroll_machine m{
          std::move(o),
          backoff_policy{any_schedule{schedules::vcert}, any_jitter{proportional_jitter{0.2}}, l},
          splitmix64{7}, counting_sink{&sink_sends}};
      return run(m, server, clock, sleeper);
    }
    case build::reset_step: {
      o.strategy = tpp::reset_strategy::query_only;  // reset_step() is the reset command itself
      auto m = tpp::reset_step(
          std::move(o), backoff_policy<fixed_schedule, no_jitter>{schedules::vcert, no_jitter{}, l},
          splitmix64{1}, counting_sink{&sink_sends});
      return run(m, server, clock, sleeper);
    }
  }
  return {};
}

TEST(CertManager6397, ResetBeforeRequestSendsTheResetFirstOnEveryEnrollment) {
  int enrollments = 0;
  for (int i = 0; i < 100; ++i) {
    const build how = builds[static_cast<std::size_t>(i) % std::size(builds)];
    const std::size_t reply = static_cast<std::size_t>(i / 3) % benign_reset_replies.size();
    const std::string dn = dn_for(i);

    virtual_clock clock{t0};
    virtual_sleeper sleeper{clock};
    scripted_transport server{clock};
    server.script(std::string(reset_key),
                  {scripted_reply::respond(reset_status(reply), benign_reset_replies[reply])});
    server.script(
        std::string(request_key),
        {scripted_reply::respond(200, R"({"CertificateDN":")" + json_escaped(dn) + "\"}")});
    server.script(
        std::string(retrieve_key),
        {scripted_reply::respond(200, R"({"CertificateData":"TUlJQg==","Format":"base64"})")});

    tpp::enroll_options o;
    o.strategy = tpp::reset_strategy::reset_before_request;
    o.certificate_dn = dn;
    int sink_sends = 0;
    const outcome out = enroll(how, std::move(o), server, clock, sleeper, sink_sends);

    SCOPED_TRACE("enrollment " + std::to_string(i) + ", reset reply " + std::to_string(reply));
    // The reset is on the wire, exactly once, before anything else.
    ASSERT_FALSE(server.sent().empty());
    const request& first = server.sent().front();
    EXPECT_EQ(first.method, "POST");
    EXPECT_EQ(first.target, "/vedsdk/certificates/reset");
    const reset_body body = read_reset_body(first.body);
    EXPECT_TRUE(body.json) << first.body;
    EXPECT_EQ(body.dn, std::optional<std::string>{dn}) << first.body;
    EXPECT_EQ(body.restart, std::optional<bool>{false}) << first.body;
    EXPECT_EQ(server.calls(reset_key), 1u);
    // Then the request and the retrieve: Solution 2's three calls.
    ASSERT_EQ(server.sent().size(), 3u);
    EXPECT_EQ(server.sent()[1].target, "/vedsdk/certificates/request");
    EXPECT_EQ(server.sent()[2].target, "/vedsdk/certificates/retrieve");
    EXPECT_EQ(out.kind, outcome_kind::issued) << out.reason;
    EXPECT_EQ(out.sends, 3u);
    if (how != build::concrete_null_sink) {
      EXPECT_EQ(sink_sends, 3);
    }
    ++enrollments;
  }
  EXPECT_EQ(enrollments, 100);
}

TEST(CertManager6397, ResetOnDetectionSendsTheResetWhenTppAsksForIt) {
  // The other configured reset: on the first retrieve's "click Retry" / "WebSDK" message.
  const std::string stale[] = {
      R"({"Stage":500,"Status":"This certificate cannot be processed while it is in an error state. Fix any errors, and then click Retry."})",
      R"({"Stage":500,"Status":"WebSDK CertRequest Module Requested Certificate"})"};
  for (int i = 0; i < 100; ++i) {
    const std::string dn = dn_for(i);
    virtual_clock clock{t0};
    virtual_sleeper sleeper{clock};
    scripted_transport server{clock};
    server.script(std::string(reset_key),
                  {scripted_reply::respond(200, R"({"ProcessingResetCompleted":true})")});
    server.script(
        std::string(request_key),
        {scripted_reply::respond(200, R"({"CertificateDN":")" + json_escaped(dn) + "\"}")});
    server.script(
        std::string(retrieve_key),
        {scripted_reply::respond(500, stale[static_cast<std::size_t>(i) % 2]),
         scripted_reply::respond(200, R"({"CertificateData":"TUlJQg==","Format":"base64"})")});

    tpp::enroll_options o;  // reset-on-detection is the default strategy
    tpp::enroll_machine m{
        std::move(o), {schedules::vcert, no_jitter{}, {.max_wait = 60s}}, splitmix64{1}};
    const outcome out = run(m, server, clock, sleeper);

    SCOPED_TRACE("enrollment " + std::to_string(i));
    EXPECT_EQ(out.kind, outcome_kind::issued) << out.reason;
    EXPECT_EQ(server.calls(reset_key), 1u);
    ASSERT_EQ(server.sent().size(), 5u);
    EXPECT_EQ(server.sent()[2].target, "/vedsdk/certificates/reset");
    const reset_body body = read_reset_body(server.sent()[2].body);
    EXPECT_EQ(body.dn, std::optional<std::string>{dn});
    EXPECT_EQ(body.restart, std::optional<bool>{false});
    EXPECT_EQ(server.sent()[3].target, "/vedsdk/certificates/request");
  }
}

}  // namespace
