// Venafi TPP replies from a hostile server: tpp::reply_reader on each body (checked against a
// DOM parse), same_message / ends_with_message on split input (checked against a plain
// normalise-and-compare), then a whole tpp::enroll_machine run() against a transport that answers
// every request from the same bytes, with the enrollment's invariants checked on the wire:
// a bounded number of calls (from max_wait / min_delay, the watch's half-hold rule and the one
// reset), none after the deadline and no hold asked past it, at most one reset per enrollment
// (under reset-before-request only before the request; under reset-on-detection only right after
// a first retrieve's 500; none under query-only), every reset with "Restart":false, the DN TPP
// gave in every later body, outcome.sends = the calls the transport saw, and reasons and whys
// that are valid UTF-8 without control characters and bounded.
//
// Input layout (every field optional; missing bytes read as 0):
//   byte 0  bits 0-1 strategy (reset-on-detection, reset-before-request, query-only, and
//           reset-on-detection again), bit 2 poll mode, bit 3 click-retry detector, bits 4-5
//           max wait, bit 6 min delay 5 s instead of 1 s, bit 7 no certificate DN in the options
//   byte 1  bits 0-2 schedule, bits 3-5 jitter, bits 6-7 Retry-After mode
//   byte 2  bits 0-2 watch (WorkToDoTimeout), bits 3-7 attempt cap (0 = none)
//   byte 3  random seed; bit 6 also puts WorkToDoTimeout (the watch) into the request (the
//           separate reset step's request), bit 7 picks a small max_body_bytes (64) for the
//           reader
//   byte 4  where (b) splits the first body
//   then up to 16 replies, served in order to successive requests whatever their path, the
//   last one repeating; each:
//     status selector (1 byte, index into a table of TPP's statuses and boundary values)
//     flags (1 byte): bits 0-2 latency (some relative to the WorkToDoTimeout asked), bit 3
//                     transport error (kind in bits 4-5), bit 6 Retry-After header present,
//                     bit 7 canned body (one of TPP's documented bodies) instead of raw bytes
//     [Retry-After length (1 byte), value]
//     canned: body index (1 byte) | raw: body length (2 bytes, big-endian; cut to what is
//     left), body
#include "certretry/backoff/policy.hpp"
#include "certretry/machine/run.hpp"
#include "certretry/testing/scripted.hpp"
#include "certretry/tpp/enroll.hpp"
#include "certretry/tpp/reply.hpp"
#include "fuzz_support.hpp"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace certretry;
using fuzzing::byte_reader;

// TPP's own statuses first, then every boundary of triage_status and the int extremes.
constexpr std::array<int, 32> statuses{
    200, 202, 500, 400, 200, 202, 500, 400, 201, 503, 401, 403, 404, 429,   408,     204,
    0,   -1,  99,  100, 199, 299, 300, 302, 399, 499, 502, 599, 600, 65535, INT_MIN, INT_MAX};

// TPP's bodies as documented (docs/sources.md#tpp-request, #tpp-retrieve, #tpp-reset,
// #tpp-writeup) and a few near misses.
constexpr std::array<std::string_view, 24> canned_bodies{
    R"({"CertificateDN":"\\VED\\Policy\\certretry\\example.com","Guid":"{1}"})",
    R"({"Stage":500,"Status":"WebSDK CertRequest Module Requested Certificate"})",
    R"({"Stage":500,"Status":"This certificate cannot be processed while it is in an error state. Fix any errors, and then click Retry."})",
    R"({"Stage":500,"Status":"Post CSR"})",
    R"({"Stage":-1,"Status":"Queued for renewal"})",
    R"({"Stage":0,"Status":"Not yet available"})",
    R"({"Stage":-1,"Status":"Not yet available"})",
    R"({"CertificateData":"TUlJQ...","Format":"base64","Filename":"x.cer"})",
    R"({"ProcessingResetCompleted":true})",
    R"({"Error":"Reset is not completed. No reset is required for the certificate."})",
    R"({"Error":"Certificate \\VED\\Policy\\x does not exist or you do not have sufficient rights to the object."})",
    R"({"Error":"Reset is not completed. The certificate is locked."})",
    R"({"Stage":500,"Status":"Post CSR failed with error: Cannot connect to the certificate authority (CA)."})",
    R"({"ProcessingResetCompleted":true,"RestartCompleted":true})",
    R"({"CertificateDN":"\\VED\\Policy\\x","Error":"Certificate does not comply with policy."})",
    "",
    R"({"Stage":-1,"Status":"WebSDK CertRequest Module Requested Certificate"})",
    R"({"Stage":500,"Status":"  this CERTIFICATE cannot be processed while it is in an error state.\n Fix any errors, and then click Retry.  "})",
    R"({"Stage":500,"Status":"WebSDK CertRequest Module Requested Certificate, again"})",
    R"({"Error":"reset is not completed.  no reset is required for the certificate.\t"})",
    R"({"Error":"Certificate\n\\VED\\x does\u0000not exist or you do not have sufficient rights to the object."})",
    R"({"CertificateDN":"\u0001\\VED\\\"x\"\u007f\ud83d\ude00"})",
    R"({"CertificateData":""})",
    "<html><body>Service Unavailable</body></html>",
};

constexpr std::array<errc, 4> transport_errors{errc::transport_timeout, errc::connection_refused,
                                               errc::tls_failure, errc::connection_reset};

constexpr std::array<std::string_view, 7> schedule_list{
    "certctl", "certctl-documented", "vcert", "lego", "certbot", "acme-sh", "acmez"};
constexpr std::array<std::string_view, 6> jitter_list{"none",  "pct",          "full",
                                                      "equal", "decorrelated", "decorrelated-v2"};

bool has_control(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return true;
  return false;
}

bool valid_utf8(std::string_view s) { return simdjson::validate_utf8(s.data(), s.size()); }

// Text meant for logs and callers: valid UTF-8, no control characters, bounded.
void check_text(std::string_view s) {
  FUZZ_CHECK(s.size() <= 512);
  FUZZ_CHECK(!has_control(s));
  FUZZ_CHECK(valid_utf8(s));
}

// --- (a) reply_reader -------------------------------------------------------------------

// The reader against a DOM parse of the same bytes: whenever the body is one well-formed JSON
// object within the limit, the reader must say json and find the same fields (a repeated key:
// its last value of the right type wins, as the reader reads them in order).
void check_reader(tpp::reply_reader& reader, simdjson::dom::parser& dom, std::string_view body) {
  const tpp::reply rep = reader.read(body);
  if (!rep.json) {
    FUZZ_CHECK(!rep.stage && rep.status.empty() && rep.certificate_data.empty() &&
               rep.certificate_dn.empty() && rep.error.empty() && !rep.processing_reset_completed &&
               !rep.restart_completed);
  }
  for (std::string_view s : {rep.status, rep.certificate_data, rep.certificate_dn, rep.error})
    FUZZ_CHECK(valid_utf8(s));
  if (body.size() > reader.max_bytes()) {
    FUZZ_CHECK(!rep.json);
    return;
  }
  // Copy the views out: the DOM parse must not disturb the reader's buffer, but be explicit.
  const std::string status(rep.status), data(rep.certificate_data), dn(rep.certificate_dn),
      error(rep.error);
  simdjson::dom::object obj;
  if (dom.parse(body.data(), body.size()).get_object().get(obj)) return;
  FUZZ_CHECK(rep.json);
  std::optional<std::int64_t> stage;
  std::string_view want_status, want_data, want_dn, want_error;
  bool prc = false, rc = false;
  for (auto field : obj) {
    std::string_view s;
    std::int64_t n = 0;
    bool b = false;
    if (field.key == "Stage") {
      if (field.value.is_int64() && !field.value.get_int64().get(n)) stage = n;
    } else if (field.key == "Status") {
      if (!field.value.get_string().get(s)) want_status = s;
    } else if (field.key == "CertificateData") {
      if (!field.value.get_string().get(s)) want_data = s;
    } else if (field.key == "CertificateDN") {
      if (!field.value.get_string().get(s)) want_dn = s;
    } else if (field.key == "Error") {
      if (!field.value.get_string().get(s)) want_error = s;
    } else if (field.key == "ProcessingResetCompleted") {
      if (!field.value.get_bool().get(b)) prc = b;
    } else if (field.key == "RestartCompleted") {
      if (!field.value.get_bool().get(b)) rc = b;
    }
  }
  FUZZ_CHECK(rep.stage == stage);
  FUZZ_CHECK(status == want_status);
  FUZZ_CHECK(data == want_data);
  FUZZ_CHECK(dn == want_dn);
  FUZZ_CHECK(error == want_error);
  FUZZ_CHECK(rep.processing_reset_completed == prc);
  FUZZ_CHECK(rep.restart_completed == rc);
}

// --- (b) message comparison -------------------------------------------------------------

bool ref_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// ASCII lower case, white-space runs as one space, none at either end.
std::string normalised(std::string_view s) {
  std::string out;
  bool pending_space = false;
  for (char c : s) {
    if (ref_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return out;
}

bool ref_same(std::string_view a, std::string_view b) { return normalised(a) == normalised(b); }

bool ref_ends_with(std::string_view text, std::string_view suffix) {
  const std::string t = normalised(text), s = normalised(suffix);
  if (s.size() > t.size() || t.compare(t.size() - s.size(), s.size(), s) != 0) return false;
  return s.size() == t.size() || t[t.size() - s.size() - 1] == ' ';
}

void check_messages(std::string_view a, std::string_view b) {
  FUZZ_CHECK(tpp::same_message(a, b) == ref_same(a, b));
  FUZZ_CHECK(tpp::same_message(a, b) == tpp::same_message(b, a));
  FUZZ_CHECK(tpp::same_message(a, a));
  FUZZ_CHECK(tpp::ends_with_message(a, b) == ref_ends_with(a, b));
  FUZZ_CHECK(tpp::ends_with_message(b, a) == ref_ends_with(b, a));
  if (tpp::same_message(a, b)) FUZZ_CHECK(tpp::ends_with_message(a, b));
  for (std::string_view m : {tpp::click_retry_message, tpp::websdk_requested_message,
                             tpp::not_yet_available_message, tpp::no_reset_required_message}) {
    FUZZ_CHECK(tpp::same_message(a, m) == ref_same(a, m));
  }
  FUZZ_CHECK(tpp::ends_with_message(a, tpp::not_found_suffix) ==
             ref_ends_with(a, tpp::not_found_suffix));
  const bool both = tpp::stale_enrollment_detector{}(a);
  const bool click = tpp::click_retry_detector{}(a);
  if (click) FUZZ_CHECK(both);  // the weaker detector sees a subset
}

// --- (c) a whole enrollment ---------------------------------------------------------------

enum class latency_kind : std::uint8_t { fixed, held, half_held };

struct fuzz_reply {
  int status = 200;
  std::string body;
  std::vector<header_field> headers;
  std::optional<errc> transport_error;
  latency_kind lk = latency_kind::fixed;
  duration latency{};
};

fuzz_reply read_reply(byte_reader& in) {
  constexpr std::array<duration, 8> fixed{0ms, 0ms, 300ms, 1s, 7s, 0ms, 0ms, 45s};
  fuzz_reply r;
  r.status = statuses[in.u8() % statuses.size()];
  const std::uint8_t flags = in.u8();
  const unsigned l = flags & 7u;
  r.lk = l == 5 ? latency_kind::held : l == 6 ? latency_kind::half_held : latency_kind::fixed;
  r.latency = fixed[l];
  if (flags & 0x08u) r.transport_error = transport_errors[(flags >> 4) & 3u];
  if (flags & 0x40u) {
    const std::size_t n = in.u8();
    r.headers.push_back({"Retry-After", std::string(in.bytes(n))});
  }
  if (flags & 0x80u) {
    r.body = canned_bodies[in.u8() % canned_bodies.size()];
  } else {
    const std::size_t hi = in.u8();
    const std::size_t n = hi << 8 | in.u8();
    r.body = in.bytes(n);
  }
  return r;
}

// The WorkToDoTimeout a request body asks for, in whole seconds, if any.
std::optional<std::int64_t> work_to_do_timeout(simdjson::dom::object obj) {
  std::string_view s;
  if (obj["WorkToDoTimeout"].get_string().get(s)) return std::nullopt;
  FUZZ_CHECK(!s.empty() && s.size() <= 10);
  std::int64_t v = 0;
  for (char c : s) {
    FUZZ_CHECK(c >= '0' && c <= '9');  // whole seconds, as a string (VCert)
    v = v * 10 + (c - '0');
  }
  return v;
}

struct run_config {
  tpp::reset_strategy strategy;
  tpp::retrieve_mode mode;
  duration watch;
  duration max_wait;
  duration min_delay;
  std::uint32_t max_attempts;
  std::string request_body;       // as the caller builds it
  bool request_timeout = false;   // request_work_to_do_timeout = watch
  std::string sent_request_body;  // what must go out
  std::string dn;
};

// Answers each request from the fuzz input and checks each one against the enrollment's rules
// before answering.
class checked_transport {
 public:
  checked_transport(const run_config& cfg, std::vector<fuzz_reply> replies, virtual_clock& clock,
                    std::uint32_t max_sends)
      : cfg_(&cfg),
        replies_(std::move(replies)),
        clock_(&clock),
        max_sends_(max_sends),
        deadline_(clock.now() + cfg.max_wait),
        dn_(cfg.dn) {
    // The DN a request creates (PolicyDN\ObjectName, or Subject), where the machine looks when
    // the request's reply is lost; the options' DN when the body names none.
    const tpp::reply own = reader_.read(cfg.sent_request_body);
    const std::string_view name = !own.object_name.empty() ? own.object_name : own.subject;
    if (!own.certificate_dn.empty())
      look_dn_.assign(own.certificate_dn);
    else if (!own.policy_dn.empty() && !name.empty())
      look_dn_ = std::string(own.policy_dn) + "\\" + std::string(name);
    if (look_dn_.empty()) look_dn_ = cfg.dn;
  }

  result<response> send(const request_view& req) {
    ++sends_;
    FUZZ_CHECK(sends_ <= max_sends_);        // bounded, whatever the server answers
    FUZZ_CHECK(clock_->now() <= deadline_);  // nothing goes out after the deadline
    FUZZ_CHECK(req.method == "POST");
    FUZZ_CHECK(req.target == tpp::request_path || req.target == tpp::retrieve_path ||
               req.target == tpp::reset_path);
    std::optional<std::int64_t> asked;
    if (req.target == tpp::request_path)
      check_request(req);
    else if (req.target == tpp::reset_path)
      check_reset(req);
    else
      asked = check_retrieve(req);
    last_target_ = req.target;

    const fuzz_reply& r = replies_[std::min(next_, replies_.size() - 1)];
    ++next_;
    duration latency = r.latency;
    if (r.lk == latency_kind::held) latency = std::chrono::seconds{asked.value_or(0)};
    if (r.lk == latency_kind::half_held) latency = std::chrono::seconds{asked.value_or(0)} / 2;
    clock_->advance(latency);
    last_status_ = r.transport_error ? 0 : r.status;
    if (req.target == tpp::request_path && r.transport_error &&
        (*r.transport_error == errc::transport_timeout ||
         *r.transport_error == errc::connection_reset)) {
      lost_request_ = true;  // TPP may have taken it: the machine looks before requesting again
      dn_ = look_dn_;
    }
    if (req.target == tpp::reset_path && !r.transport_error &&
        triage_status(r.status).verdict != verdict::transient)
      reset_closed_ = true;
    if (r.transport_error) return *r.transport_error;
    if (req.target == tpp::request_path && r.status >= 200 && r.status <= 299) {
      const tpp::reply rep = reader_.read(r.body);
      // A 202 to a request with WorkToDoTimeout names its DN beside TPP's "took longer" text.
      if ((rep.error.empty() || r.status == 202) && !rep.certificate_dn.empty()) {
        dn_.assign(rep.certificate_dn);
        named_dns_.push_back(dn_);
      }
    }
    return response{r.status, r.headers, r.body};
  }

  std::uint32_t sends() const { return sends_; }
  std::uint32_t resets() const { return resets_; }

 private:
  // A reset or retrieve body: one JSON object naming the certificate the enrollment is about
  // (the options' DN, or the one TPP's last accepted request reply gave).
  simdjson::dom::object parse_body(const request_view& req) {
    simdjson::dom::object obj;
    FUZZ_CHECK(!parser_.parse(req.body.data(), req.body.size()).get_object().get(obj));
    std::string_view dn;
    FUZZ_CHECK(!obj["CertificateDN"].get_string().get(dn));
    // The DN is one the run has a reason to name: TPP's answers to its requests, the
    // options' DN, or the one a request whose reply was lost would create (its look, and the
    // retrieves after it when TPP had taken it).
    FUZZ_CHECK(dn == dn_ || dn == cfg_->dn || dn == look_dn_ ||
               std::find(named_dns_.begin(), named_dns_.end(), dn) != named_dns_.end());
    return obj;
  }

  void check_request(const request_view& req) {
    FUZZ_CHECK(req.body == cfg_->sent_request_body);
    if (cfg_->strategy == tpp::reset_strategy::reset_before_request)
      FUZZ_CHECK(reset_closed_);  // the reset went first and was answered
    // A request again only repeats one TPP did not answer, follows the one reset, or follows
    // the look at the DN of a request whose reply was lost.
    if (requests_ > 0)
      FUZZ_CHECK(last_target_ == tpp::request_path || last_target_ == tpp::reset_path ||
                 (lost_request_ && last_target_ == tpp::retrieve_path));
    if (lost_request_) dn_ = cfg_->dn;  // not taken: the request goes out as at the start
    lost_request_ = false;
    ++requests_;
  }

  void check_reset(const request_view& req) {
    ++resets_;
    FUZZ_CHECK(cfg_->strategy != tpp::reset_strategy::query_only);
    // One reset per enrollment: once TPP answered one (not a 5xx/429/408 or a transport
    // error, which repeat the same reset), no other goes out.
    FUZZ_CHECK(!reset_closed_);
    if (cfg_->strategy == tpp::reset_strategy::reset_before_request) {
      FUZZ_CHECK(requests_ == 0);  // only before the request, never after it
    } else {
      // Only right after a first retrieve answered 500, or repeating a reset TPP did not answer.
      FUZZ_CHECK(requests_ >= 1);
      FUZZ_CHECK((last_target_ == tpp::retrieve_path && last_status_ == 500) ||
                 last_target_ == tpp::reset_path);
    }
    const simdjson::dom::object obj = parse_body(req);
    bool restart = true;
    FUZZ_CHECK(!obj["Restart"].get_bool().get(restart));
    FUZZ_CHECK(!restart);  // never Restart=true: it races a fresh request inside TPP
    FUZZ_CHECK(req.body.find("\"Restart\":false") != std::string_view::npos);
    FUZZ_CHECK(req.body.find("\"Restart\":true") == std::string_view::npos);
  }

  std::optional<std::int64_t> check_retrieve(const request_view& req) {
    FUZZ_CHECK(requests_ >= 1);  // nothing to retrieve before a request
    const simdjson::dom::object obj = parse_body(req);
    const auto asked = work_to_do_timeout(obj);
    if (cfg_->mode == tpp::retrieve_mode::poll) {
      FUZZ_CHECK(!asked);
    } else if (!asked) {
      // The look after a lost request is a plain retrieve: its answer must come at once.
      FUZZ_CHECK(lost_request_);
    } else {
      FUZZ_CHECK(asked.has_value());
      const auto watch_s = std::chrono::duration_cast<std::chrono::seconds>(cfg_->watch).count();
      FUZZ_CHECK(*asked >= 1 && *asked <= std::max<std::int64_t>(watch_s, 1));
      // Never a hold past the deadline (1 s at least, the smallest WorkToDoTimeout).
      FUZZ_CHECK(std::chrono::seconds{*asked} <= std::max(deadline_ - clock_->now(), duration{1s}));
    }
    return asked;
  }

  const run_config* cfg_;
  std::vector<fuzz_reply> replies_;
  std::size_t next_ = 0;
  virtual_clock* clock_;
  std::uint32_t max_sends_;
  time_point deadline_;
  simdjson::dom::parser parser_;
  tpp::reply_reader reader_;
  std::string dn_;
  std::uint32_t sends_ = 0;
  std::uint32_t requests_ = 0;
  std::uint32_t resets_ = 0;
  bool reset_closed_ = false;
  bool lost_request_ = false;
  std::string look_dn_;
  std::vector<std::string> named_dns_;  // every CertificateDN TPP answered a request with
  std::string_view last_target_{};
  int last_status_ = 0;
};

// Checks every event: verdict whys and the outcome's reason are bounded, clean text; waits are
// real waits; reset events are counted (one means a reset went out).
struct checking_sink {
  std::uint32_t* reset_events;
  void operator()(const event& e) const {
    if (e.kind == event_kind::verdict || e.kind == event_kind::finish) check_text(e.why);
    if (e.kind == event_kind::reset) ++*reset_events;
    if (e.kind == event_kind::wait) FUZZ_CHECK(e.delay > duration::zero());
  }
};

template <class Detector>
void run_enrollment(const run_config& cfg, const backoff_policy<any_schedule, any_jitter>& policy,
                    std::uint8_t seed, std::vector<fuzz_reply> replies) {
  const time_point start =
      time_point{std::chrono::sys_days{std::chrono::year{2025} / std::chrono::January / 1}};
  virtual_clock clock{start};
  virtual_sleeper sleeper{clock};
  // Every wait is at least min_delay and all of them fit before the deadline; a watched
  // retrieve is re-sent without a wait only when TPP held it at least half its
  // WorkToDoTimeout (never asked below 1 s); each enrollment sends at most 4 calls that follow
  // an answer at once (retrieve after each of at most two accepted requests, the one reset
  // after a detection, the request after the one reset).
  const duration per_round = cfg.mode == tpp::retrieve_mode::watch
                                 ? std::min(cfg.min_delay, duration{500})
                                 : cfg.min_delay;
  std::uint32_t bound = static_cast<std::uint32_t>(cfg.max_wait / per_round) + 1 + 4;
  if (cfg.max_attempts != 0 && cfg.mode == tpp::retrieve_mode::poll)
    bound = std::min(bound, cfg.max_attempts + 4);
  checked_transport transport{cfg, std::move(replies), clock, bound};

  tpp::enroll_options o;
  o.strategy = cfg.strategy;
  o.mode = cfg.mode;
  o.watch = cfg.watch;
  o.certificate_dn = cfg.dn;
  o.request_body = cfg.request_body;
  if (cfg.request_timeout) o.request_work_to_do_timeout = cfg.watch;
  std::uint32_t reset_events = 0;
  tpp::enroll_machine m{std::move(o), policy, splitmix64{seed}, checking_sink{&reset_events},
                        Detector{}};
  const outcome out = run(m, transport, clock, sleeper);

  FUZZ_CHECK(out.sends == transport.sends());
  FUZZ_CHECK(m.state() == tpp::enroll_state::finished);
  if (cfg.strategy == tpp::reset_strategy::query_only) FUZZ_CHECK(transport.resets() == 0);
  // The reset event says a reset is issued: exactly once when the detection's reset went out,
  // never when none did (a detection at the deadline sends none).
  if (cfg.strategy == tpp::reset_strategy::reset_on_detection)
    FUZZ_CHECK(reset_events == (transport.resets() > 0 ? 1u : 0u));
  switch (out.kind) {
    case outcome_kind::issued: FUZZ_CHECK(!out.certificate.empty() && out.reason.empty()); break;
    case outcome_kind::needs_reset:
      FUZZ_CHECK(cfg.strategy == tpp::reset_strategy::query_only);
      [[fallthrough]];
    case outcome_kind::still_pending:
    case outcome_kind::failed: FUZZ_CHECK(!out.reason.empty() && out.certificate.empty()); break;
    case outcome_kind::needs_person:  // a rights error: says what the person must do
      FUZZ_CHECK(!out.reason.empty() && !out.action.empty() && out.certificate.empty());
      break;
    default: FUZZ_CHECK(false);  // nothing cancels this run
  }
  if (cfg.dn.empty() && cfg.strategy == tpp::reset_strategy::reset_before_request)
    FUZZ_CHECK(out.kind == outcome_kind::failed && out.sends == 0);
  else
    FUZZ_CHECK(out.sends >= 1);
  check_text(out.reason);
  // Nothing goes out after the deadline, so only the last call's latency (at most 45 s, or a
  // hold of at most the time that was left) runs past it.
  FUZZ_CHECK(clock.now() - start <= 2 * cfg.max_wait + duration{45s});
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  byte_reader in{data, size};
  const std::uint8_t b0 = in.u8(), b1 = in.u8(), b2 = in.u8(), b3 = in.u8(), split = in.u8();

  std::vector<fuzz_reply> replies;
  do replies.push_back(read_reply(in));
  while (!in.empty() && replies.size() < 16);

  // (a) and (b) on every body.
  static simdjson::dom::parser dom;
  tpp::reply_reader reader{(b3 & 0x80u) ? std::size_t{64} : default_max_body_bytes};
  for (const auto& r : replies) check_reader(reader, dom, r.body);
  {
    const std::string_view body = replies.front().body;
    const std::size_t at = body.empty() ? 0 : split % (body.size() + 1);
    check_messages(body.substr(0, at), body.substr(at));
    // The parsed Status and Error against the messages, as the machine compares them.
    const tpp::reply rep = reader.read(body);
    const std::string status(rep.status), error(rep.error);
    check_messages(status, error);
  }

  // (c) a whole enrollment.
  constexpr std::array<tpp::reset_strategy, 4> strategies{
      tpp::reset_strategy::reset_on_detection, tpp::reset_strategy::reset_before_request,
      tpp::reset_strategy::query_only, tpp::reset_strategy::reset_on_detection};
  constexpr std::array<duration, 4> max_waits{30s, 120s, 600s, 10s};
  constexpr std::array<duration, 8> watches{30s, 1s, 2s, 5s, 10s, 60s, 3600s, 1500ms};
  constexpr std::array<retry_after_mode, 4> ra_modes{
      retry_after_mode::at_least_schedule, retry_after_mode::hint_replaces,
      retry_after_mode::ignore, retry_after_mode::at_least_schedule};
  run_config cfg;
  cfg.strategy = strategies[b0 & 3u];
  cfg.mode = (b0 & 0x04u) ? tpp::retrieve_mode::poll : tpp::retrieve_mode::watch;
  cfg.max_wait = max_waits[(b0 >> 4) & 3u];
  cfg.min_delay = (b0 & 0x40u) ? 5s : 1s;
  cfg.dn = (b0 & 0x80u) ? "" : "\\VED\\Policy\\certretry\\example.com";
  cfg.watch = watches[b2 & 7u];
  cfg.max_attempts = b2 >> 3;
  cfg.request_body =
      R"({"PolicyDN":"\\VED\\Policy\\certretry","ObjectName":"example.com","Reenable":true})";
  cfg.request_timeout = (b3 & 0x40u) != 0;
  if (cfg.request_timeout) {
    cfg.sent_request_body =
        cfg.request_body.substr(0, cfg.request_body.size() - 1) + ",\"WorkToDoTimeout\":\"" +
        std::to_string(std::chrono::duration_cast<std::chrono::seconds>(cfg.watch).count()) + "\"}";
  } else {
    cfg.sent_request_body = cfg.request_body;
  }

  limits lim;
  lim.max_wait = cfg.max_wait;
  lim.min_delay = cfg.min_delay;
  lim.max_attempts = cfg.max_attempts;
  retry_after_policy ra;
  ra.mode = ra_modes[(b1 >> 6) & 3u];
  const auto sched = named_schedule(schedule_list[(b1 & 7u) % schedule_list.size()]);
  const auto jit = named_jitter(jitter_list[((b1 >> 3) & 7u) % jitter_list.size()], 0.2, 5min);
  FUZZ_CHECK(sched.has_value() && jit.has_value());
  const backoff_policy<any_schedule, any_jitter> policy{*sched, *jit, lim, ra};

  if (b0 & 0x08u)
    run_enrollment<tpp::click_retry_detector>(cfg, policy, b3, std::move(replies));
  else
    run_enrollment<tpp::stale_enrollment_detector>(cfg, policy, b3, std::move(replies));
  return 0;
}
