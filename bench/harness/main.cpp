// certretry-harness: replay scenarios against the library's machines (docs/harness.md).
#include "files.hpp"
#include "machine.hpp"
#include "replay.hpp"
#include "report.hpp"
#include "scenario.hpp"
#include "serve.hpp"
#include "simulate.hpp"
#include "tune.hpp"
#include "verify.hpp"

#include "certretry/core/version.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace {

constexpr const char* usage =
    R"(certretry-harness — replay certretry's machines against scripted servers

usage:
  certretry-harness replay [--max-steps N] SCENARIO.json
                                           run the scenario, print its transcript (JSON lines)
  certretry-harness check [--max-steps N] SCENARIO.json...
                                           replay each scenario twice, require identical
                                           transcripts and assert its "expect" block
  certretry-harness sweep [--max-steps N] SCENARIO.json [N]
                                           replay with seeds 1..N (default 1000) and print
                                           the distribution of requests, waits and end time
  certretry-harness simulate FLEET.json [--json FILE] [--svg FILE]
                                           run a fleet of machines against a CA model on
                                           the fleet simulator; print a summary table
  certretry-harness serve --model async-ca|tpp|acme [--port N] [options]
                                           serve a server model over HTTP on 127.0.0.1
                                           (serve --help; docs/testing-your-client.md)
  certretry-harness tune TUNING.json [--svg FILE]
                                           the cheapest poll schedule for an issuance-time
                                           distribution, its lower bound and Pareto front
                                           (docs/tuning.md)
  certretry-harness verify [MACHINE | SCENARIO.json]... [--depth N] [--planted]
                                           every sequence of replies up to depth N (8)
                                           against the machines' invariants; the shortest
                                           counterexample as a scenario (docs/verify.md)
  certretry-harness report [--out DIR] [--quick]
                                           every machine verified, the polling load, the
                                           tuned schedule, the TPP and ACME load tables in
                                           one run: DIR/index.html, DIR/report.md and SVG
                                           charts (DIR: report/), one line per section
  certretry-harness options [--markdown]   every machine's options: type, default, meaning
                                           (--markdown: the tables of docs/harness.md)
  certretry-harness --help                 this text (also COMMAND --help)
  certretry-harness --version              the harness's and the library's version

--max-steps N: requests and waits a run may take (default 1000000, at most 1000000000; a
scenario's "max_steps" sets it too). A scenario file is at most 4 MiB.

exit codes (replay): 0 the machine finished (whatever the outcome), 2 malformed scenario,
unknown option or a file that cannot be read, 3 a request matched no scripted response, 4 the
run reached its step cap. check: 1 an expectation failed.

machines: %s
Scenario format and every option with its default: docs/harness.md
)";

int load(const char* path, certretry::harness::scenario& s) {
  using namespace certretry::harness;
  std::string text, error;
  if (!read_file_bounded(path, max_scenario_bytes, "a scenario", text, error)) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return exit_malformed;
  }
  const std::string p(path);
  const auto slash = p.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : p.substr(0, slash == 0 ? 1 : slash);
  std::string detail;
  auto parsed = parse_scenario(text, detail, parse_options{dir});
  if (!parsed) {
    std::fprintf(stderr, "%s: %s\n", path, detail.c_str());
    return exit_malformed;
  }
  s = std::move(parsed).value();
  s.base_dir = dir;
  return 0;
}

int cmd_replay(const char* path, const certretry::harness::replay_output& base) {
  certretry::harness::scenario s;
  if (int rc = load(path, s)) return rc;
  // Each line goes out as it is produced: a long run holds nothing but its last line.
  certretry::harness::replay_output out = base;
  out.keep = false;
  out.on_entry = [](const certretry::harness::entry& e) {
    std::fwrite(e.line.data(), 1, e.line.size(), stdout);
    std::fputc('\n', stdout);
  };
  const auto r = certretry::harness::replay(s, out);
  std::fflush(stdout);
  if (r.exit_code != 0) std::fprintf(stderr, "%s: %s\n", path, r.error.c_str());
  return r.exit_code;
}

int cmd_check(const char* path, const certretry::harness::replay_output& out) {
  using namespace certretry::harness;
  scenario s;
  if (int rc = load(path, s)) return rc;
  const auto first = replay(s, out);
  if (first.exit_code != 0) {
    std::fprintf(stderr, "%s: %s\n", path, first.error.c_str());
    return first.exit_code;
  }
  const auto second = replay(s, out);
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

int cmd_sweep(const char* path, const char* count, const certretry::harness::replay_output& base) {
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
    // Only what the summary needs is kept: the shortest gap between two sends, and the outcome.
    std::int64_t gap = -1, last = -1;
    replay_output out = base;
    out.keep = false;
    out.on_entry = [&](const entry& e) {
      if (e.kind != "send") return;
      if (last >= 0 && (gap < 0 || e.t.count() - last < gap)) gap = e.t.count() - last;
      last = e.t.count();
    };
    const auto r = replay(s, out);
    if (r.exit_code != 0) {
      std::fprintf(stderr, "%s (seed %lu): %s\n", path, seed, r.error.c_str());
      return r.exit_code;
    }
    const entry& o = *r.outcome;
    ++outcomes[o.what];
    sends.push_back(o.sends);
    end_ms.push_back(o.t.count());
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

// replay, check and sweep: --help, --max-steps N, then the positional arguments. Empty optional:
// the arguments were read; otherwise the exit code.
std::optional<int> scenario_args(const char* command, int argc, char** argv,
                                 certretry::harness::replay_output& out,
                                 std::vector<const char*>& positional, const std::string& names) {
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::printf(usage, names.c_str());
      return 0;
    }
    if (a == "--max-steps") {
      char* end = nullptr;
      const char* v = i + 1 < argc ? argv[i + 1] : "";
      const unsigned long long n = std::strtoull(v, &end, 10);
      if (*v == '\0' || *end != '\0' || *v == '-' || n == 0 ||
          n > certretry::harness::max_max_steps) {
        std::fprintf(stderr, "%s: --max-steps needs a whole number from 1 to %llu\n", command,
                     static_cast<unsigned long long>(certretry::harness::max_max_steps));
        return certretry::harness::exit_malformed;
      }
      out.max_steps = n;
      ++i;
      continue;
    }
    if (a.size() > 1 && a.front() == '-' && a != "-") {
      std::fprintf(stderr, "%s: unknown option '%s' (--max-steps N, --help)\n", command, a.c_str());
      return certretry::harness::exit_malformed;
    }
    positional.push_back(argv[i]);
  }
  return std::nullopt;
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
  if (arg1 == "--version") {
    std::printf("certretry-harness %s (certretry %s)\n", CERTRETRY_VERSION_STRING,
                std::string(certretry::version).c_str());
    return 0;
  }
  if (arg1 == "replay" || arg1 == "check" || arg1 == "sweep") {
    certretry::harness::replay_output out;
    std::vector<const char*> pos;
    if (auto rc = scenario_args(arg1.c_str(), argc, argv, out, pos, names)) return *rc;
    if (arg1 == "replay" && pos.size() == 1) return cmd_replay(pos[0], out);
    if (arg1 == "sweep" && (pos.size() == 1 || pos.size() == 2))
      return cmd_sweep(pos[0], pos.size() == 2 ? pos[1] : nullptr, out);
    if (arg1 == "check" && !pos.empty()) {
      int worst = 0;
      for (const char* path : pos) worst = std::max(worst, cmd_check(path, out));
      return worst;
    }
    std::fprintf(stderr, "%s: wrong arguments\n\n", arg1.c_str());
    std::fprintf(stderr, usage, names.c_str());
    return 2;
  }
  if (arg1 == "options" && argc == 3 &&
      (std::string(argv[2]) == "--help" || std::string(argv[2]) == "-h")) {
    std::printf(usage, names.c_str());
    return 0;
  }
  if (arg1 == "options" && (argc == 2 || (argc == 3 && std::string(argv[2]) == "--markdown"))) {
    std::fputs(certretry::harness::options_reference(argc == 3).c_str(), stdout);
    return 0;
  }
  if (arg1 == "simulate" && argc >= 3) return certretry::harness::cmd_simulate(argc - 2, argv + 2);
  if (arg1 == "tune" && argc >= 3) return certretry::harness::cmd_tune(argc - 2, argv + 2);
  if (arg1 == "verify") return certretry::harness::cmd_verify(argc - 2, argv + 2);
  if (arg1 == "serve") return certretry::harness::cmd_serve(argc - 2, argv + 2);
  if (arg1 == "report") return certretry::harness::cmd_report(argc - 2, argv + 2);
  if (arg1 != "options" && arg1 != "simulate" && arg1 != "tune" && arg1 != "verify" &&
      arg1 != "serve" && !arg1.empty()) {
    std::fprintf(stderr,
                 "certretry-harness: unknown command '%s' (commands: replay, check, sweep, "
                 "simulate, serve, tune, verify, report, options; --help for usage)\n",
                 arg1.c_str());
    return 2;
  }
  std::fprintf(stderr, usage, names.c_str());
  return 2;
}
