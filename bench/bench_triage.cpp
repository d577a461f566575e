// bench/bench_triage.cpp — triage of realistic DigiCert and Sectigo status bodies:
// certretry::async_ca_triage (simdjson On-Demand, one pass, reused buffers) against the same
// classification written the way a typical client writes it with nlohmann::json (parse into a
// DOM, look fields up, compare the status against the same lists ignoring case).
//
// The floor: a bare simdjson On-Demand pass over the same body that reads the same fields
// (status, and the certificate id where the profile downloads by it) and classifies nothing.
// certretry's triage should cost little more than that pass (target: within 1.5x) and allocate
// nothing once warm (operator new is counted in this binary).
//
// All run in the same binary and the same run. Before any timing, both classify every body and
// must agree on the verdict, on "download now", and on the download target. After the run, one
// line gives nlohmann time / certretry time per body, from the median (or mean, or single) real
// time of each benchmark as reported.

#include "certretry/async_ca/poller.hpp"
#include "certretry/core/action.hpp"
#include "certretry/core/http.hpp"
#include "certretry/core/verdict.hpp"

#include <benchmark/benchmark.h>
#include <simdjson.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdlib>
#include <new>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

// Every allocation of the process, counted, so a benchmark can report its allocations per body.
std::atomic<std::uint64_t> allocations{0};

void* operator new(std::size_t n) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc{};
}
// g++ pairs each inlined `new` with this free() and warns; the pair is this file's own.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace {

using namespace certretry;

// ---------------------------------------------------------------------------------------------
// Bodies: GET /services/v2/order/certificate/{order_id} (DigiCert CertCentral) and
// GET /api/ssl/v1/{sslId} (Sectigo Certificate Manager), trimmed to the usual fields. In
// DigiCert's body the top-level status comes after a nested object and a nested request has a
// status of its own, as in real replies.

constexpr std::string_view digicert_pending =
    R"({"id":1234567,"certificate":{"id":10987654,"common_name":"www.example.com",)"
    R"("dns_names":["www.example.com","example.com","api.example.com"],)"
    R"("date_created":"2025-01-06T15:02:41+00:00","organization":{"id":112233},)"
    R"("server_platform":{"id":-1,"name":"OTHER"},"signature_hash":"sha256",)"
    R"("key_size":2048},"status":"pending","is_renewal":false,)"
    R"("date_created":"2025-01-06T15:02:41+00:00","organization":{"name":"Example Inc.",)"
    R"("city":"Lehi","state":"utah","country":"us"},"validity_years":1,)"
    R"("disable_renewal_notifications":false,"container":{"id":5,"name":"Example Inc."},)"
    R"("product":{"name_id":"ssl_plus","name":"Standard SSL","type":"ssl_certificate",)"
    R"("validation_type":"ov"},"user":{"id":25,"first_name":"Jane","last_name":"Doe",)"
    R"("email":"jane.doe@example.com"},"requests":[{"id":198,)"
    R"("date":"2025-01-06T15:02:41+00:00","type":"new_request","status":"pending",)"
    R"("comments":"Renewal for the web farm"}],"receipt_id":4321,"payment_method":"balance",)"
    R"("product_name_id":"ssl_plus"})";

constexpr std::string_view digicert_issued =
    R"({"id":1234567,"certificate":{"id":10987654,"serial_number":)"
    R"("0669D37ADA74C0C6C6F0D6F1A36D2B12","common_name":"www.example.com",)"
    R"("dns_names":["www.example.com","example.com","api.example.com"],)"
    R"("date_created":"2025-01-06T15:02:41+00:00","valid_till":"2026-01-06",)"
    R"("days_remaining":365,"organization":{"id":112233},"signature_hash":"sha256",)"
    R"("key_size":2048,"ca_cert":{"id":"0A4F1F2C9B4E5A7D","name":)"
    R"("DigiCert Global G2 TLS RSA SHA256 2020 CA1"}},"status":"issued",)"
    R"("is_renewal":false,"date_created":"2025-01-06T15:02:41+00:00","organization":{)"
    R"("name":"Example Inc.","city":"Lehi","state":"utah","country":"us"},)"
    R"("validity_years":1,"container":{"id":5,"name":"Example Inc."},"product":{)"
    R"("name_id":"ssl_plus","name":"Standard SSL","type":"ssl_certificate"},)"
    R"("user":{"id":25,"email":"jane.doe@example.com"},"requests":[{"id":198,)"
    R"("date":"2025-01-06T15:02:41+00:00","type":"new_request","status":"approved"}],)"
    R"("receipt_id":4321,"payment_method":"balance","product_name_id":"ssl_plus"})";

constexpr std::string_view sectigo_applied =
    R"({"commonName":"www.example.com","sslId":1873245,"id":1873245,"orgId":4321,)"
    R"("status":"Applied","orderNumber":987654321,"backendCertId":"2109876543",)"
    R"("vendor":"Sectigo Limited","certType":{"id":423,"name":"Sectigo OV SSL",)"
    R"("description":"Sectigo Organization Validated SSL","terms":[365],)"
    R"("keyTypes":{"RSA":["2048","3072","4096"],"EC":["P-256","P-384"]},)"
    R"("useSecondaryOrgName":false},"term":365,"owner":"Jane Doe","ownerId":55,)"
    R"("requester":"api-client","requestedVia":"REST API","comments":"",)"
    R"("requested":"2025-01-06","approved":"2025-01-06","serialNumber":"","expires":"",)"
    R"("renewed":false,"suspendNotifications":false,)"
    R"("subjectAlternativeNames":["www.example.com","example.com","api.example.com"],)"
    R"("keyAlgorithm":"RSA","keySize":2048,"keyType":"RSA - 2048",)"
    R"("customFields":[{"name":"Cost Center","value":"IT-42"}],)"
    R"("autoRenewDetails":{"state":"not scheduled"}})";

constexpr std::string_view sectigo_issued =
    R"({"commonName":"www.example.com","sslId":1873245,"id":1873245,"orgId":4321,)"
    R"("status":"Issued","orderNumber":987654321,"backendCertId":"2109876543",)"
    R"("vendor":"Sectigo Limited","certType":{"id":423,"name":"Sectigo OV SSL",)"
    R"("terms":[365],"useSecondaryOrgName":false},"term":365,"owner":"Jane Doe",)"
    R"("ownerId":55,"requester":"api-client","requestedVia":"REST API","comments":"",)"
    R"("requested":"2025-01-06","approved":"2025-01-06","issued":"2025-01-06",)"
    R"("expires":"2026-01-06","serialNumber":"00B3A5E1F4C8D2760912AB34CD56EF7801",)"
    R"("renewed":false,"suspendNotifications":false,)"
    R"("subjectAlternativeNames":["www.example.com","example.com","api.example.com"],)"
    R"("keyAlgorithm":"RSA","keySize":2048,"keyType":"RSA - 2048",)"
    R"("certificateDetails":{"issuer":"CN=Sectigo RSA Organization Validation Secure )"
    R"(Server CA,O=Sectigo Limited,L=Salford,ST=Greater Manchester,C=GB",)"
    R"("subject":"CN=www.example.com,O=Example Inc.,ST=Utah,C=US",)"
    R"("sha1Hash":"3C1E7A2F9B0D4E6A8C5F1B3D7E9A0C2F4B6D8E1A"},)"
    R"("autoRenewDetails":{"state":"not scheduled"}})";

static_assert(digicert_pending.size() <= 1024 && digicert_issued.size() <= 1024 &&
              sectigo_applied.size() <= 1024 && sectigo_issued.size() <= 1024);

std::map<std::string_view, double> allocs_per_body;  // certretry's triage, per sample

struct sample {
  std::string_view name;
  async_ca ca;
  std::string_view order_id;
  std::string_view body;
  bool verdicts_agree = false;  // set by the check before the run
};

std::array<sample, 4> samples{{
    {"digicert_pending", async_ca::digicert, "1234567", digicert_pending},
    {"digicert_issued", async_ca::digicert, "1234567", digicert_issued},
    {"sectigo_applied", async_ca::sectigo, "1873245", sectigo_applied},
    {"sectigo_issued", async_ca::sectigo, "1873245", sectigo_issued},
}};

// ---------------------------------------------------------------------------------------------
// The same classification with nlohmann::json, as a client would write it.

struct plain_triage {
  certretry::verdict verdict = certretry::verdict::permanent;
  bool poll_now = false;  // the status says ready: download now
  std::string why;
  std::string collect_target;  // where to download from, when poll_now
};

std::string lowercase(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string trimmed(const std::string& s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

bool listed(std::span<const std::string_view> list, const std::string& lowered) {
  return std::find(list.begin(), list.end(), lowered) != list.end();
}

std::string replace_all(std::string s, const std::string& key, const std::string& value) {
  for (auto pos = s.find(key); pos != std::string::npos; pos = s.find(key, pos + value.size()))
    s.replace(pos, key.size(), value);
  return s;
}

plain_triage classify_with_nlohmann(const async_ca_profile& p, const std::string& order_id,
                                    std::string_view body) {
  const nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded()) return {verdict::permanent, false, "2xx body is not valid JSON", {}};
  if (!j.is_object()) return {verdict::permanent, false, "2xx body is not a JSON object", {}};
  const auto st = j.find("status");
  if (st == j.end()) return {verdict::permanent, false, "2xx body has no status field", {}};
  if (!st->is_string()) return {verdict::permanent, false, "2xx body: status is not a string", {}};
  const std::string status = trimmed(st->get<std::string>());
  const std::string lowered = lowercase(status);

  if (listed(p.failed, lowered)) return {verdict::permanent, false, "status " + status, {}};
  if (listed(p.pending, lowered)) return {verdict::pending, false, "status " + status, {}};
  if (!listed(p.done, lowered))
    return {verdict::pending, false, "unknown status '" + status + "' treated as pending", {}};

  std::string path(p.collect_path);
  switch (p.collect) {
    case collect_kind::in_status_body: {
      const auto c = j.find(std::string(p.certificate_field));
      if (c == j.end() || !c->is_string() || c->get<std::string>().empty())
        return {verdict::pending,
                false,
                "status " + status + " but no certificate in the body yet",
                {}};
      return {verdict::done, false, "issued", {}};
    }
    case collect_kind::by_order_id:
      return {verdict::pending, true, "status " + status + ": downloading",
              replace_all(path, "{id}", order_id)};
    case collect_kind::by_certificate_id: {
      std::string cert_id;
      const auto obj = j.find(std::string(p.cert_id_object));
      if (obj != j.end() && obj->is_object()) {
        const auto id = obj->find(std::string(p.cert_id_field));
        if (id != obj->end() && id->is_number_unsigned())
          cert_id = std::to_string(id->get<std::uint64_t>());
        else if (id != obj->end() && id->is_string())
          cert_id = id->get<std::string>();
      }
      // The id goes into a URL path: it must stay one segment.
      const bool safe = !cert_id.empty() && cert_id.size() <= 128 &&
                        cert_id.find_first_of("/?#%\\ ") == std::string::npos &&
                        std::all_of(cert_id.begin(), cert_id.end(),
                                    [](unsigned char c) { return c > 0x20 && c < 0x7f; });
      if (!safe)
        return {verdict::pending, false, "status " + status + " but no usable certificate id", {}};
      return {verdict::pending, true, "status " + status + ": downloading",
              replace_all(path, "{cert_id}", cert_id)};
    }
  }
  return {verdict::pending, false, "unreachable", {}};
}

// ---------------------------------------------------------------------------------------------

// Both implementations on one body, outside any timing: same verdict, same "download now", same
// download target.
bool check_agreement(const sample& s) {
  async_ca_triage triage{{s.ca, std::string(s.order_id), ""}};
  const triage_result mine = triage.classify(response_view{200, {}, s.body});
  const std::string_view target = triage.collecting() ? triage.next_request().target : "";
  const plain_triage theirs =
      classify_with_nlohmann(profile_of(s.ca), std::string(s.order_id), s.body);
  const bool agree = mine.verdict == theirs.verdict && mine.poll_now == theirs.poll_now &&
                     target == theirs.collect_target;
  std::printf("verdict %-17s certretry: %s%s%.*s | nlohmann: %s%s%s -> %s\n",
              std::string(s.name).c_str(), std::string(to_string(mine.verdict)).c_str(),
              mine.poll_now ? ", download " : "", static_cast<int>(target.size()), target.data(),
              std::string(to_string(theirs.verdict)).c_str(), theirs.poll_now ? ", download " : "",
              theirs.collect_target.c_str(), agree ? "agree" : "DIFFER");
  return agree;
}

void set_bytes(benchmark::State& state, const sample& s) {
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(s.body.size()));
}

void bm_certretry(benchmark::State& state, const sample* s) {
  if (!s->verdicts_agree) {
    state.SkipWithError("certretry and nlohmann verdicts differ on this body");
    return;
  }
  async_ca_triage triage{{s->ca, std::string(s->order_id), ""}};
  const response_view r{200, {}, s->body};
  benchmark::DoNotOptimize(triage.classify(r));  // sizes the parser once, as a warm client has
  triage.reset();
  const std::uint64_t before = allocations.load(std::memory_order_relaxed);
  for (auto _ : state) {
    const triage_result t = triage.classify(r);
    benchmark::DoNotOptimize(t);
    // An issued status moves the triage to its download stage; start each body afresh.
    triage.reset();
  }
  const std::uint64_t after = allocations.load(std::memory_order_relaxed);
  state.counters["allocs_per_body"] = benchmark::Counter(
      static_cast<double>(after - before) / static_cast<double>(std::max<std::int64_t>(
                                                1, static_cast<std::int64_t>(state.iterations()))));
  allocs_per_body[s->name] =
      static_cast<double>(after - before) /
      static_cast<double>(std::max<benchmark::IterationCount>(1, state.iterations()));
  set_bytes(state, *s);
}

// The bare On-Demand pass: copy the body into a padded buffer (a response body is not padded),
// iterate, read the status string and, where the profile downloads by certificate id, that id.
struct bare_fields {
  std::string_view status;
  std::uint64_t cert_id = 0;
};

class bare_pass {
 public:
  explicit bare_pass(const async_ca_profile& p)
      : profile_(&p), buf_(4096 + simdjson::SIMDJSON_PADDING) {}

  bool read(std::string_view body, bare_fields& out) {
    std::copy(body.begin(), body.end(), buf_.begin());
    simdjson::ondemand::document doc;
    if (parser_.iterate(simdjson::padded_string_view(buf_.data(), body.size(), buf_.size()))
            .get(doc))
      return false;
    simdjson::ondemand::object obj;
    if (doc.get_object().get(obj)) return false;
    for (auto field : obj) {
      std::string_view key;
      if (field.unescaped_key().get(key)) return false;
      if (key == "status") {
        if (field.value().get_string().get(out.status)) return false;
      } else if (!profile_->cert_id_object.empty() && key == profile_->cert_id_object) {
        simdjson::ondemand::object inner;
        if (field.value().get_object().get(inner)) continue;
        for (auto f : inner) {
          std::string_view k;
          if (f.unescaped_key().get(k)) return false;
          if (k == profile_->cert_id_field && f.value().get_uint64().get(out.cert_id)) return false;
        }
      }
    }
    return true;
  }

 private:
  const async_ca_profile* profile_;
  simdjson::ondemand::parser parser_;
  std::vector<char> buf_;
};

void bm_simdjson_bare(benchmark::State& state, const sample* s) {
  bare_pass pass(profile_of(s->ca));
  bare_fields f;
  if (!pass.read(s->body, f) || f.status.empty()) {
    state.SkipWithError("the bare pass could not read the body");
    return;
  }
  for (auto _ : state) {
    bare_fields out;
    benchmark::DoNotOptimize(pass.read(s->body, out));
    benchmark::DoNotOptimize(out);
  }
  set_bytes(state, *s);
}

void bm_nlohmann(benchmark::State& state, const sample* s) {
  if (!s->verdicts_agree) {
    state.SkipWithError("certretry and nlohmann verdicts differ on this body");
    return;
  }
  const async_ca_profile& profile = profile_of(s->ca);
  const std::string order_id(s->order_id);
  for (auto _ : state) {
    plain_triage t = classify_with_nlohmann(profile, order_id, s->body);
    benchmark::DoNotOptimize(t);
  }
  set_bytes(state, *s);
}

// The console output, plus each benchmark's real time in ns: the median when repetitions give
// one, else the mean, else the single run.
class time_collector : public benchmark::ConsoleReporter {
 public:
  using benchmark::ConsoleReporter::ConsoleReporter;

  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      if (r.error_occurred) continue;
      int rank = 0;
      if (r.run_type == Run::RT_Iteration)
        rank = 1;
      else if (r.aggregate_name == "mean")
        rank = 2;
      else if (r.aggregate_name == "median")
        rank = 3;
      if (rank == 0) continue;
      entry& e = times_[r.run_name.function_name];
      if (rank >= e.rank)
        e = {rank, r.GetAdjustedRealTime() / benchmark::GetTimeUnitMultiplier(r.time_unit) * 1e9};
    }
    ConsoleReporter::ReportRuns(runs);
  }

  // Real time in ns, or a negative number when the benchmark did not run.
  double ns(const std::string& name) const {
    const auto it = times_.find(name);
    return it == times_.end() ? -1.0 : it->second.ns;
  }

 private:
  struct entry {
    int rank = 0;
    double ns = 0.0;
  };
  std::map<std::string, entry> times_;
};

std::string name_of(std::string_view impl, const sample& s) {
  return "triage/" + std::string(impl) + "/" + std::string(s.name);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;

  for (sample& s : samples) s.verdicts_agree = check_agreement(s);
  for (const sample& s : samples) {
    benchmark::RegisterBenchmark(name_of("certretry", s).c_str(), bm_certretry, &s);
    benchmark::RegisterBenchmark(name_of("nlohmann", s).c_str(), bm_nlohmann, &s);
    benchmark::RegisterBenchmark(name_of("simdjson-bare", s).c_str(), bm_simdjson_bare, &s);
  }

  time_collector reporter(isatty(STDOUT_FILENO) != 0 ? benchmark::ConsoleReporter::OO_Color
                                                     : benchmark::ConsoleReporter::OO_None);
  benchmark::RunSpecifiedBenchmarks(&reporter);

  std::string line = "ratio nlohmann/certretry real time (target >= 4x):";
  for (const sample& s : samples) {
    const double mine = reporter.ns(name_of("certretry", s));
    const double theirs = reporter.ns(name_of("nlohmann", s));
    char buf[128];
    if (mine > 0.0 && theirs > 0.0)
      std::snprintf(buf, sizeof buf, " %s %.1fx (%.0f/%.0f ns);", std::string(s.name).c_str(),
                    theirs / mine, theirs, mine);
    else
      std::snprintf(buf, sizeof buf, " %s n/a;", std::string(s.name).c_str());
    line += buf;
  }
  line.pop_back();
  std::printf("%s\n", line.c_str());

  // Against the floor: the bare On-Demand pass over the same body, and allocations per body.
  line = "ratio certretry/simdjson-bare real time (target <= 1.5x):";
  bool within = true, no_allocations = true;
  for (const sample& s : samples) {
    const double mine = reporter.ns(name_of("certretry", s));
    const double bare = reporter.ns(name_of("simdjson-bare", s));
    char buf[160];
    if (mine > 0.0 && bare > 0.0) {
      within = within && mine <= 1.5 * bare;
      std::snprintf(buf, sizeof buf, " %s %.2fx (%.0f/%.0f ns);", std::string(s.name).c_str(),
                    mine / bare, mine, bare);
    } else {
      std::snprintf(buf, sizeof buf, " %s n/a;", std::string(s.name).c_str());
    }
    line += buf;
    const auto a = allocs_per_body.find(s.name);
    if (a != allocs_per_body.end() && a->second > 0.0) no_allocations = false;
  }
  line.pop_back();
  std::printf("%s -> %s\n", line.c_str(), within ? "holds" : "MISSED");
  line = "allocations per body in certretry's triage (target 0):";
  for (const sample& s : samples) {
    const auto a = allocs_per_body.find(s.name);
    char buf[96];
    std::snprintf(buf, sizeof buf, " %s %.3g;", std::string(s.name).c_str(),
                  a == allocs_per_body.end() ? -1.0 : a->second);
    line += buf;
  }
  line.pop_back();
  std::printf("%s -> %s\n", line.c_str(), no_allocations ? "holds" : "MISSED");
  std::fflush(stdout);
  benchmark::Shutdown();
  return 0;
}
