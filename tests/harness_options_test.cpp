// certretry-harness reads, checks and documents each machine's options from one declaration
// (docs/harness.md, "Options by machine"): these tests hold every declared option to it.
#include "machine.hpp"

#include "certretry/tpp/enroll.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace certretry;
using namespace certretry::harness;

constexpr std::string_view cert_id = "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE";

option_value text(std::string_view s) { return {std::string(s)}; }
option_value number(double d) { return {d}; }

// A scenario for `machine` whose every request gets a 404, so that runs end at once.
scenario scenario_for(std::string_view machine) {
  scenario s;
  s.machine = machine;
  if (machine == "ari-renewal") s.options["cert_id"] = text(cert_id);
  s.server.push_back({"*", {scripted_reply::respond(404, "")}});
  return s;
}

// What replay() says about option `name`, without the "options.NAME: " prefix; "" if nothing.
std::string problem_with(const scenario& s, std::string_view name) {
  const replay_result r = replay(s);
  const std::string prefix = "options." + std::string(name) + ": ";
  if (r.exit_code == exit_malformed && r.error.starts_with(prefix))
    return r.error.substr(prefix.size());
  return "";
}

// What check_value says about `v` for option `o`; "" if it accepts it.
std::string problem_with(const option_spec& o, const option_value& v) {
  option_data out;
  return check_value(o, &v, out).value_or("");
}

std::string joined(const std::vector<std::string_view>& names) {
  std::string out;
  for (auto n : names) out += (out.empty() ? "" : ", ") + std::string(n);
  return out;
}

bool numeric(option_kind k) {
  return k == option_kind::number || k == option_kind::seconds || k == option_kind::whole;
}

TEST(HarnessOptions, EveryMachineIsDeclared) {
  std::vector<std::string> names;
  for (const auto& m : machines()) {
    names.emplace_back(m.name);
    EXPECT_FALSE(m.options().empty()) << m.name;
  }
  EXPECT_EQ(names, (std::vector<std::string>{"acme-new-order", "acme-poll", "acme-post",
                                             "ari-renewal", "async-poll", "tpp-enroll"}));
}

TEST(HarnessOptions, EveryDefaultPassesItsOwnChecks) {
  for (const auto& m : machines()) {
    for (const auto& o : m.options()) {
      option_data out;
      EXPECT_EQ(check_value(o, nullptr, out), std::nullopt) << m.name << "." << o.name;
    }
    // And a scenario that gives no option (but the CertID ari-renewal needs) runs.
    const replay_result r = replay(scenario_for(m.name));
    EXPECT_EQ(r.exit_code, exit_finished) << m.name << ": " << r.error;
  }
}

TEST(HarnessOptions, RangesAndTypesComeFromTheDeclaration) {
  int ranges = 0;
  for (const auto& m : machines()) {
    for (const auto& o : m.options()) {
      const std::string where = std::string(m.name) + "." + std::string(o.name);
      if (!numeric(o.kind)) continue;
      ++ranges;
      const std::string seconds = o.kind == option_kind::seconds ? " seconds" : "";
      const std::string no_cap = o.zero == zero_means::no_limit ? " (no cap)" : "";
      const std::string out_of_range =
          o.kind == option_kind::whole
              ? "must be a whole number from " + number_text(o.min) + no_cap + " to " +
                    number_text(o.max)
              : "must be between " + number_text(o.min) + " and " + number_text(o.max) + seconds;
      EXPECT_EQ(problem_with(o, number(o.min)), "") << where;
      EXPECT_EQ(problem_with(o, number(o.max)), "") << where;
      EXPECT_EQ(problem_with(o, number(o.min - std::max(1e-4, o.min * 0.1))), out_of_range)
          << where;
      EXPECT_EQ(problem_with(o, number(o.max + 1)), out_of_range) << where;
      if (o.kind == option_kind::whole) {
        EXPECT_EQ(problem_with(o, number(o.min + 0.5)), out_of_range) << where;
      }
      EXPECT_EQ(problem_with(o, text("5")), "must be a number") << where;
    }
  }
  EXPECT_GT(ranges, 30);
}

TEST(HarnessOptions, WrongTypesAreNamed) {
  for (const auto& m : machines()) {
    for (const auto& o : m.options()) {
      const std::string where = std::string(m.name) + "." + std::string(o.name);
      switch (o.kind) {
        case option_kind::text:
        case option_kind::choice:
        case option_kind::time:
          EXPECT_EQ(problem_with(o, number(1)), "must be a string") << where;
          break;
        case option_kind::boolean:
          EXPECT_EQ(problem_with(o, text("true")), "must be true or false") << where;
          break;
        case option_kind::json:
          EXPECT_EQ(problem_with(o, text("[]")), "must be a JSON array or object") << where;
          break;
        case option_kind::id:
          EXPECT_EQ(problem_with(o, number(-1)), "must be a string or an integer") << where;
          EXPECT_EQ(problem_with(o, number(1.5)), "must be a string or an integer") << where;
          break;
        default: break;
      }
    }
  }
}

// Each name a choice lists is one the machine takes (through the library's parser for enums),
// and any other is refused with the list.
TEST(HarnessOptions, ChoicesAgreeWithTheParsers) {
  int choices = 0;
  for (const auto& m : machines()) {
    for (const auto& o : m.options()) {
      if (o.kind != option_kind::choice) continue;
      for (auto name : *o.choices) {
        ++choices;
        scenario s = scenario_for(m.name);
        s.options[std::string(o.name)] = text(name);
        EXPECT_EQ(problem_with(s, o.name), "") << m.name << "." << o.name << " = " << name;
      }
      scenario s = scenario_for(m.name);
      s.options[std::string(o.name)] = text("no-such-name");
      EXPECT_EQ(problem_with(s, o.name), "'no-such-name' is not one of " + joined(*o.choices))
          << m.name << "." << o.name;
    }
  }
  EXPECT_GT(choices, 30);
}

TEST(HarnessOptions, TppNamesParseThroughTheLibrary) {
  for (auto s : {tpp::reset_strategy::reset_on_detection, tpp::reset_strategy::reset_before_request,
                 tpp::reset_strategy::query_only}) {
    const auto parsed = tpp::parse_reset_strategy(tpp::to_string(s));
    ASSERT_TRUE(parsed.has_value()) << tpp::to_string(s);
    EXPECT_EQ(parsed.value(), s);
  }
  for (auto m : {tpp::retrieve_mode::watch, tpp::retrieve_mode::poll}) {
    const auto parsed = tpp::parse_retrieve_mode(tpp::to_string(m));
    ASSERT_TRUE(parsed.has_value()) << tpp::to_string(m);
    EXPECT_EQ(parsed.value(), m);
  }
  EXPECT_EQ(tpp::parse_reset_strategy("Query-Only").error(), errc::invalid_policy);
  EXPECT_EQ(tpp::parse_retrieve_mode("").error(), errc::invalid_policy);
}

TEST(HarnessOptions, ZeroMaxWaitIsTheDefault) {
  for (const auto& m : machines())
    for (const auto& o : m.options())
      if (o.name == "max_wait_s") {
        option_data out;
        const option_value zero = number(0);
        ASSERT_EQ(check_value(o, &zero, out), std::nullopt) << m.name;
        EXPECT_EQ(std::get<duration>(out), std::chrono::seconds{600}) << m.name;
      }
}

TEST(HarnessOptions, UnknownOptionListsTheDeclaredOnesInOrder) {
  for (const auto& m : machines()) {
    scenario s = scenario_for(m.name);
    s.options["retry_after_s"] = number(5);
    std::vector<std::string_view> names;
    for (const auto& o : m.options()) names.push_back(o.name);
    EXPECT_EQ(
        problem_with(s, "retry_after_s"),
        "unknown option for machine " + std::string(m.name) + " (known: " + joined(names) + ")");
  }
}

// A bad value of a declared option is named before an option nobody declares, and that before
// what only a combination of options shows.
TEST(HarnessOptions, ProblemsAreReportedInAFixedOrder) {
  scenario s = scenario_for("async-poll");
  s.options["retry_after_s"] = number(5);
  s.options["jitter_pct"] = number(500);
  s.options["max_wait_s"] = number(-1);
  EXPECT_EQ(replay(s).error, "options.jitter_pct: must be between 0 and 100");
  s.options.erase("jitter_pct");
  s.options.erase("max_wait_s");
  EXPECT_TRUE(replay(s).error.starts_with("options.retry_after_s: unknown option"));

  scenario ari = scenario_for("ari-renewal");
  ari.options["cert_pem"] = text("cert.pem");
  ari.options["wait"] = number(1);
  EXPECT_TRUE(replay(ari).error.starts_with("options.wait: unknown option"));
  ari.options.erase("wait");
  EXPECT_EQ(replay(ari).error,
            "options.cert_id: give either cert_id or cert_pem (a PEM file), not both");
}

TEST(HarnessOptions, TheReferenceHasARowPerDeclaredOption) {
  const std::string md = options_reference(true);
  const std::string plain = options_reference(false);
  for (const auto& m : machines()) {
    const std::string heading = "### " + std::string(m.name) + " options\n";
    const auto at = md.find(heading);
    ASSERT_NE(at, std::string::npos) << m.name;
    const auto end = md.find("### ", at + heading.size());
    const std::string block = md.substr(at, end == std::string::npos ? end : end - at);
    const auto listing_at = plain.find(std::string(m.name) + ": ");
    ASSERT_NE(listing_at, std::string::npos) << m.name;
    for (const auto& o : m.options()) {
      EXPECT_NE(block.find("\n| `" + std::string(o.name) + "` | "), std::string::npos)
          << m.name << "." << o.name;
      EXPECT_NE(plain.find("\n  " + std::string(o.name) + "  (", listing_at), std::string::npos)
          << m.name << "." << o.name;
    }
  }
  // Defaults and ranges as declared.
  EXPECT_NE(md.find("| `max_attempts` | whole number, 0–1000000 | `0` (no cap) |"),
            std::string::npos);
  EXPECT_NE(md.find("| `min_delay_s` | seconds, 0.1–86400 | `1` |"), std::string::npos);
}

}  // namespace
