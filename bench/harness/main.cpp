// certretry-harness: replay scenarios against the library's machines (docs/harness.md).
#include "machine.hpp"
#include "replay.hpp"
#include "scenario.hpp"
#include "simulate.hpp"
#include "serve.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>

namespace {

constexpr const char* usage =
    R"(certretry-harness — replay certretry's machines against scripted servers

usage:
  certretry-harness replay SCENARIO.json   run the scenario, print its transcript (JSON lines)
  certretry-harness check SCENARIO.json... replay each scenario twice, require identical
                                           transcripts and assert its "expect" block
  certretry-harness sweep SCENARIO.json [N] replay with seeds 1..N (default 1000) and print
                                           the distribution of requests, waits and end time
  certretry-harness simulate FLEET.json [--json FILE] [--svg FILE]
                                           run a fleet of machines against a CA model on
                                           the fleet simulator; print a summary table
  certretry-harness serve --model async-ca|tpp|acme [--port N] [options]
                                           serve a server model over HTTP on 127.0.0.1
                                           (serve --help; docs/testing-your-client.md)
  certretry-harness options [--markdown]   every machine's options: type, default, meaning
                                           (--markdown: the tables of docs/harness.md)
  certretry-harness --help                 this text

exit codes (replay): 0 the machine finished (whatever the outcome), 2 malformed scenario or
unknown option, 3 a request matched no scripted response. check: 1 an expectation failed.

machines: %s
Scenario format and every option with its default: docs/harness.md
)";

bool read_file(const char* path, std::string& out, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = std::string(path) + ": cannot open";
    return false;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

int load(const char* path, certretry::harness::scenario& s) {
  std::string text, error;
  if (!read_file(path, text, error)) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return certretry::harness::exit_malformed;
  }
  std::string detail;
  auto parsed = certretry::harness::parse_scenario(text, detail);
  if (!parsed) {
    std::fprintf(stderr, "%s: %s\n", path, detail.c_str());
    return certretry::harness::exit_malformed;
  }
  s = std::move(parsed).value();
  const std::string p(path);
  const auto slash = p.find_last_of('/');
  s.base_dir = slash == std::string::npos ? "." : p.substr(0, slash == 0 ? 1 : slash);
  return 0;
}

int cmd_replay(const char* path) {
  certretry::harness::scenario s;
  if (int rc = load(path, s)) return rc;
  const auto r = certretry::harness::replay(s);
  std::fputs(r.transcript().c_str(), stdout);
  if (r.exit_code != 0) std::fprintf(stderr, "%s: %s\n", path, r.error.c_str());
  return r.exit_code;
}

int cmd_check(const char* path) {
  using namespace certretry::harness;
  scenario s;
  if (int rc = load(path, s)) return rc;
  const auto first = replay(s);
  if (first.exit_code != 0) {
    std::fprintf(stderr, "%s: %s\n", path, first.error.c_str());
    return first.exit_code;
  }
  const auto second = replay(s);
  if (second.transcript() != first.transcript()) {
    std::fprintf(stderr, "%s: two replays of the same scenario and seed differ\n", path);
    return exit_expectation_failed;
  }
  if (!s.expect) {
    std::fprintf(stderr, "%s: no \"expect\" block to check\n", path);
    return exit_malformed;
  }
  std::string why;
  bool malformed = false;
  if (!check_expectations(*s.expect, first, why, malformed)) {
    std::fprintf(stderr, "%s: %s\n--- transcript ---\n%s", path, why.c_str(),
                 first.transcript().c_str());
    return malformed ? exit_malformed : exit_expectation_failed;
  }
  std::printf("ok %s (%zu lines)\n", path, first.entries.size());
  return 0;
}

int cmd_sweep(const char* path, const char* count) {
  using namespace certretry::harness;
  scenario s;
  if (int rc = load(path, s)) return rc;
  char* end = nullptr;
  const unsigned long n = count ? std::strtoul(count, &end, 10) : 1000;
  if (n == 0 || n > 1000000 || (count && *end != '\0')) {
    std::fprintf(stderr, "sweep: N must be a whole number from 1 to 1000000\n");
    return exit_malformed;
  }
  std::map<std::string, unsigned long> outcomes;
  std::vector<std::int64_t> sends, end_ms, min_gap_ms;
  for (unsigned long seed = 1; seed <= n; ++seed) {
    s.seed = seed;
    const auto r = replay(s);
    if (r.exit_code != 0) {
      std::fprintf(stderr, "%s (seed %lu): %s\n", path, seed, r.error.c_str());
      return r.exit_code;
    }
    const entry& out = r.entries.back();
    ++outcomes[out.what];
    sends.push_back(out.sends);
    end_ms.push_back(out.t.count());
    std::int64_t gap = -1, last = -1;
    for (const auto& e : r.entries)
      if (e.kind == "send") {
        if (last >= 0 && (gap < 0 || e.t.count() - last < gap)) gap = e.t.count() - last;
        last = e.t.count();
      }
    if (gap >= 0) min_gap_ms.push_back(gap);
  }
  auto stats = [](std::vector<std::int64_t> v, double scale) {
    std::sort(v.begin(), v.end());
    double sum = 0;
    for (auto x : v) sum += static_cast<double>(x);
    const auto pct = [&](double p) {
      return static_cast<double>(
                 v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))]) /
             scale;
    };
    char buf[160];
    std::snprintf(buf, sizeof buf, "min %g, mean %.2f, p50 %g, p99 %g, max %g", pct(0),
                  sum / static_cast<double>(v.size()) / scale, pct(0.5), pct(0.99), pct(1));
    return std::string(buf);
  };
  std::printf("scenario: %s\nseeds: 1..%lu\n", path, n);
  for (const auto& [k, v] : outcomes) std::printf("outcome %s: %lu\n", k.c_str(), v);
  std::printf("requests: %s\n", stats(sends, 1).c_str());
  std::printf("end time (s): %s\n", stats(end_ms, 1000).c_str());
  if (!min_gap_ms.empty())
    std::printf("shortest gap between requests (s): %s\n", stats(min_gap_ms, 1000).c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string names;
  for (const auto& n : certretry::harness::machine_names())
    names += (names.empty() ? "" : ", ") + n;
  const std::string arg1 = argc > 1 ? argv[1] : "";
  if (arg1 == "--help" || arg1 == "-h" || arg1 == "help") {
    std::printf(usage, names.c_str());
    return 0;
  }
  if (arg1 == "replay" && argc == 3) return cmd_replay(argv[2]);
  if (arg1 == "options" && (argc == 2 || (argc == 3 && std::string(argv[2]) == "--markdown"))) {
    std::fputs(certretry::harness::options_reference(argc == 3).c_str(), stdout);
    return 0;
  }
  if (arg1 == "simulate" && argc >= 3) return certretry::harness::cmd_simulate(argc - 2, argv + 2);
  if (arg1 == "serve") return certretry::harness::cmd_serve(argc - 2, argv + 2);
  if (arg1 == "sweep" && (argc == 3 || argc == 4))
    return cmd_sweep(argv[2], argc == 4 ? argv[3] : nullptr);
  if (arg1 == "check" && argc >= 3) {
    int worst = 0;
    for (int i = 2; i < argc; ++i) {
      const int rc = cmd_check(argv[i]);
      if (rc > worst) worst = rc;
    }
    return worst;
  }
  std::fprintf(stderr, usage, names.c_str());
  return 2;
}
