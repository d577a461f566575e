#include "simulate.hpp"

#include "fleet_file.hpp"

#include "certretry/sim/fleet.hpp"
#include "certretry/sim/model_clients.hpp"
#include "certretry/sim/model_fleet.hpp"
#include "certretry/sim/report.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace certretry::harness {
namespace {

// A progress bar on stderr, shown only once a run has taken 2 s and only on a terminal.
class progress_bar {
 public:
  progress_bar() : tty_(isatty(2) == 1), start_(std::chrono::steady_clock::now()) {}

  void update(std::string_view policy, std::size_t run, std::size_t runs, double fraction) {
    if (!tty_) return;
    const auto elapsed = std::chrono::steady_clock::now() - start_;
    if (elapsed < std::chrono::seconds{2}) return;
    constexpr int width = 30;
    const double total = (static_cast<double>(run) + fraction) / static_cast<double>(runs);
    const int filled = static_cast<int>(total * width);
    std::string bar(static_cast<std::size_t>(filled), '#');
    bar.resize(width, ' ');
    std::fprintf(stderr, "\r[%s] %3d%% %zu/%zu %.*s\x1b[K", bar.c_str(),
                 static_cast<int>(total * 100), run + 1, runs, static_cast<int>(policy.size()),
                 policy.data());
    shown_ = true;
  }
  void done() {
    if (shown_) std::fprintf(stderr, "\r\x1b[K");
  }

 private:
  bool tty_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point start_;
};

bool write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return false;
  out << text;
  return static_cast<bool>(out.flush());
}

}  // namespace

int cmd_simulate(int argc, char** argv) {
  const char* fleet_path = nullptr;
  std::string json_path, svg_path;
  for (int i = 0; i < argc; ++i) {
    const std::string_view a = argv[i];
    if ((a == "--json" || a == "--svg") && i + 1 < argc) {
      (a == "--json" ? json_path : svg_path) = argv[++i];
    } else if (!a.starts_with("--") && fleet_path == nullptr) {
      fleet_path = argv[i];
    } else {
      std::fprintf(stderr,
                   "simulate: unexpected argument '%s' (usage: certretry-harness "
                   "simulate FLEET.json [--json FILE] [--svg FILE])\n",
                   argv[i]);
      return 2;
    }
  }
  if (fleet_path == nullptr) {
    std::fprintf(stderr,
                 "simulate: no fleet file (usage: certretry-harness simulate "
                 "FLEET.json [--json FILE] [--svg FILE])\n");
    return 2;
  }
  std::string text, detail;
  if (!load_file(fleet_path, max_fleet_bytes, text, detail)) {
    std::fprintf(stderr, "%s\n", detail.c_str());
    return 2;
  }
  const std::string p(fleet_path);
  const auto slash = p.find_last_of('/');
  const std::string base = slash == std::string::npos ? "." : p.substr(0, slash == 0 ? 1 : slash);
  auto parsed = parse_fleet(text, base, load_file, detail);
  if (!parsed) {
    std::fprintf(stderr, "%s: %s\n", fleet_path, detail.c_str());
    return 2;
  }
  const fleet_file& f = parsed.value();

  progress_bar bar;
  std::vector<sim::fleet_result> runs;
  for (std::size_t i = 0; i < f.policies.size(); ++i) {
    const auto& pol = f.policies[i];
    const auto progress = [&](double fraction) {
      bar.update(pol.name, i, f.policies.size(), fraction);
    };
    switch (f.model) {
      case fleet_model::async_ca:
        runs.push_back(sim::simulate_fleet(f.plan, f.ca, pol, f.run, progress));
        break;
      case fleet_model::tpp: {
        const sim::tpp_fleet_options& o = f.tpp_clients[i];
        model::tpp_server_options so = f.tpp;
        so.seed ^= f.run.seed;
        sim::model_fleet<model::tpp_server> fleet{
            f.plan, sim::tpp_fleet_client(pol.name, pol.backoff, o, f.run.seed, pol.requeue_after),
            f.run, [so](virtual_clock& c) {
              return model::tpp_server{c, so};
            }};
        fleet.on_progress(progress);
        runs.push_back(fleet.run());
        break;
      }
      case fleet_model::acme: {
        model::acme_server_options so = f.acme;
        so.seed ^= f.run.seed;
        sim::model_fleet<model::acme_server> fleet{
            f.plan, sim::acme_fleet_client(pol.name, pol.backoff, pol.requeue_after), f.run,
            [so](virtual_clock& c) {
              return model::acme_server{c, so};
            }};
        fleet.on_progress(progress);
        runs.push_back(fleet.run());
        break;
      }
    }
  }
  bar.done();

  std::printf("%s", sim::summary_header().c_str());
  for (const auto& r : runs) std::printf("%s\n", sim::summary_row(r, f.run.peak_window).c_str());
  if (!json_path.empty() && !write_file(json_path, sim::fleet_json(runs, f.run.peak_window))) {
    std::fprintf(stderr, "%s: cannot write\n", json_path.c_str());
    return 2;
  }
  if (!svg_path.empty() && !write_file(svg_path, sim::fleet_chart(fleet_path, runs))) {
    std::fprintf(stderr, "%s: cannot write\n", svg_path.c_str());
    return 2;
  }
  return 0;
}

}  // namespace certretry::harness
