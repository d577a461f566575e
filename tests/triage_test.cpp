// async_ca_triage: certctl's status-code table (docs/sources.md#certctl-async-polling-doc) row by
// row, every status string the four async CAs send (docs/sources.md#certctl-connectors), and each
// CA's collect stage.
#include "certretry/async_ca/poller.hpp"
#include "certretry/core/certificate_check.hpp"
#include "certretry/x509/key_match.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <cstddef>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace certretry;

constexpr std::string_view pem =
    "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUTest\n-----END CERTIFICATE-----\n";

// The order every test polls; Entrust also needs the CA id.
async_ca_order order_for(async_ca ca) { return {ca, "42", ca == async_ca::entrust ? "ca-1" : ""}; }

std::string ca_name(async_ca ca) { return std::string(profile_of(ca).name); }

// What a classification said, owned: triage views are valid only until its next call.
struct seen {
  certretry::verdict verdict;
  std::string why;
  std::string certificate;
  bool poll_now;
};

seen classify(async_ca_triage& t, int status, std::string_view body,
              std::span<const header_field> headers = {}) {
  const triage_result r = t.classify(response_view{status, headers, body});
  return {r.verdict, std::string(r.why), std::string(r.certificate), r.poll_now};
}

std::string target_of(const async_ca_triage& t) { return std::string(t.next_request().target); }

bool contains(std::string_view hay, std::string_view needle) {
  return hay.find(needle) != std::string_view::npos;
}

// A test-name fragment: letters and digits kept, everything else '_'.
std::string name_part(std::string_view s) {
  std::string out;
  for (char c : s) out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return out;
}

std::string json_string(std::string_view s) {
  std::string out = "\"";
  out += s;
  out += '"';
  return out;
}

// A status body that, with a ready status, lets every profile make progress: the PEM for the
// profiles that carry it in the status body, a certificate id for DigiCert, nothing for Sectigo.
std::string status_body(async_ca ca, std::string_view status) {
  std::string body = "{\"status\":" + json_string(status);
  switch (ca) {
    case async_ca::digicert: body += ",\"certificate\":{\"id\":1234}"; break;
    case async_ca::sectigo: break;
    case async_ca::entrust:
    case async_ca::globalsign:
    case async_ca::generic:
      body += ",\"certificate\":\"-----BEGIN CERTIFICATE-----\\nX\\n\"";
      break;
  }
  body += '}';
  return body;
}

constexpr async_ca all_cas[] = {async_ca::digicert, async_ca::sectigo, async_ca::entrust,
                                async_ca::globalsign, async_ca::generic};

// ---------------------------------------------------------------------------------------------
// certctl's 8-row table ("Status-code triage", docs/sources.md#certctl-async-polling-doc), per
// profile where the row applies.
// Network errors, the 8th row, belong to the poll machine (poll_test).

struct table_row {
  std::string name;
  async_ca ca;
  int status;
  std::string body;
  verdict expected;
};

void PrintTo(const table_row& r, std::ostream* os) {
  *os << r.name << " (" << r.status << " " << r.body.substr(0, 80) << ")";
}

std::vector<table_row> certctl_table() {
  std::vector<table_row> rows;
  auto add = [&](async_ca ca, std::string label, int status, std::string body, verdict v) {
    rows.push_back({ca_name(ca) + "_" + name_part(label), ca, status, std::move(body), v});
  };
  const std::string cert = ",\"certificate\":\"-----BEGIN CERTIFICATE-----\\nX\\n\"";

  // Row 1: 2xx + "issued"/"completed" -> done, for the profiles whose status body carries the
  // certificate (DigiCert and Sectigo go on to a download; tested below). "completed" is
  // certctl's generic word.
  for (async_ca ca : {async_ca::entrust, async_ca::globalsign, async_ca::generic})
    add(ca, "200_issued", 200, "{\"status\":\"issued\"" + cert + "}", verdict::done);
  add(async_ca::generic, "200_completed", 200, "{\"status\":\"completed\"" + cert + "}",
      verdict::done);
  add(async_ca::generic, "201_issued", 201, "{\"status\":\"issued\"" + cert + "}", verdict::done);

  // Row 2: 2xx + "pending"/"processing" -> pending. Sectigo documents no "processing".
  for (async_ca ca : all_cas)
    add(ca, "200_pending", 200, "{\"status\":\"pending\"}", verdict::pending);
  for (async_ca ca :
       {async_ca::digicert, async_ca::entrust, async_ca::globalsign, async_ca::generic})
    add(ca, "200_processing", 200, "{\"status\":\"processing\"}", verdict::pending);

  // Row 3: 2xx + "rejected"/"denied"/"failed" -> permanent, where the CA uses the word.
  for (async_ca ca : all_cas)
    add(ca, "200_rejected", 200, "{\"status\":\"rejected\"}", verdict::permanent);
  for (async_ca ca :
       {async_ca::digicert, async_ca::entrust, async_ca::globalsign, async_ca::generic})
    add(ca, "200_denied", 200, "{\"status\":\"denied\"}", verdict::permanent);
  for (async_ca ca : {async_ca::entrust, async_ca::globalsign, async_ca::generic})
    add(ca, "200_failed", 200, "{\"status\":\"failed\"}", verdict::permanent);

  // Row 4: 2xx + a body that cannot be read -> permanent. Each body would otherwise say issued,
  // so a lenient reader would turn a broken body into a success.
  const std::vector<std::pair<std::string, std::string>> broken = {
      {"not_json", "<html><body>Service Unavailable</body></html>"},
      {"plain_text", "issued"},
      {"empty", ""},
      {"truncated_string", "{\"status\":\"issued\",\"certificate\":\"-----BEGIN CERT"},
      {"truncated_after_value", "{\"status\":\"issued\""},
      {"truncated_after_comma", "{\"status\":\"issued\","},
      {"trailing_garbage", "{\"status\":\"issued\"" + cert + "} trailing"},
      {"trailing_brace", "{\"status\":\"issued\"" + cert + "}}"},
      {"trailing_second_object", "{\"status\":\"issued\"" + cert + "}{\"status\":\"x\"}"},
      {"json_array", "[{\"status\":\"issued\"" + cert + "}]"},
      {"json_string", "\"issued\""},
      {"missing_status", "{\"state\":\"issued\"" + cert + "}"},
      {"empty_object", "{}"},
      {"status_number", "{\"status\":1" + cert + "}"},
      {"status_null", "{\"status\":null" + cert + "}"},
      {"status_array", "{\"status\":[\"issued\"]" + cert + "}"},
      {"status_object", "{\"status\":{\"name\":\"issued\"}" + cert + "}"},
      {"status_bool", "{\"status\":true" + cert + "}"},
  };
  for (async_ca ca : all_cas)
    for (const auto& [label, body] : broken) add(ca, "200_" + label, 200, body, verdict::permanent);

  // Row 5: 4xx (400, 401, 403, 404) -> permanent. Row 6: 429 -> transient. Row 7: 5xx ->
  // transient. The status code decides even when the body claims the certificate is issued.
  const std::string issued_body = "{\"status\":\"issued\"" + cert + "}";
  for (async_ca ca : all_cas) {
    for (int s : {400, 401, 403, 404}) {
      add(ca, std::to_string(s), s, "", verdict::permanent);
      add(ca, std::to_string(s) + "_issued_body", s, issued_body, verdict::permanent);
    }
    add(ca, "429", 429, "", verdict::transient);
    add(ca, "429_issued_body", 429, issued_body, verdict::transient);
    for (int s : {500, 502, 503, 504}) {
      add(ca, std::to_string(s), s, "", verdict::transient);
      add(ca, std::to_string(s) + "_issued_body", s, issued_body, verdict::transient);
    }
  }
  return rows;
}

class CertctlTable : public ::testing::TestWithParam<table_row> {};

TEST_P(CertctlTable, RowGivesItsVerdict) {
  const table_row& row = GetParam();
  async_ca_triage t{order_for(row.ca)};
  const seen r = classify(t, row.status, row.body);
  EXPECT_EQ(to_string(r.verdict), to_string(row.expected)) << r.why;
  EXPECT_FALSE(r.why.empty());
  if (row.expected == verdict::done) {
    EXPECT_TRUE(contains(r.certificate, "-----BEGIN CERTIFICATE-----")) << r.certificate;
  } else {
    EXPECT_TRUE(r.certificate.empty());
    EXPECT_FALSE(r.poll_now);  // only a ready status moves to a download
  }
}

INSTANTIATE_TEST_SUITE_P(AsyncCa, CertctlTable, ::testing::ValuesIn(certctl_table()),
                         [](const auto& tp) { return tp.param.name; });

// ---------------------------------------------------------------------------------------------
// Every status string docs/sources.md#certctl-connectors lists, in every spelling a server might
// send.

enum class meaning { ready, pending, failed };

struct status_case {
  async_ca ca;
  std::string status;  // as the CA documents it
  meaning m;
};

void PrintTo(const status_case& c, std::ostream* os) {
  *os << profile_of(c.ca).name << " '" << c.status << "'";
}

std::vector<status_case> documented_statuses() {
  std::vector<status_case> out;
  auto add = [&](async_ca ca, meaning m, std::initializer_list<const char*> list) {
    for (const char* s : list) out.push_back({ca, s, m});
  };
  // DigiCert order statuses; waiting_pickup is issued once a certificate id is present.
  add(async_ca::digicert, meaning::ready, {"issued", "waiting_pickup"});
  add(async_ca::digicert, meaning::pending,
      {"pending", "processing", "needs_approval", "reissue_pending"});
  add(async_ca::digicert, meaning::failed,
      {"rejected", "denied", "canceled", "expired", "revoked"});
  // Sectigo SCM: Issued, then collect.
  add(async_ca::sectigo, meaning::ready, {"Issued"});
  add(async_ca::sectigo, meaning::pending, {"Requested", "Approved", "Applied", "Pending"});
  add(async_ca::sectigo, meaning::failed,
      {"Rejected", "Declined", "Invalid", "Revoked", "Expired", "Not Enrolled"});
  // Entrust.
  add(async_ca::entrust, meaning::ready, {"ISSUED"});
  add(async_ca::entrust, meaning::pending, {"PENDING", "PROCESSING", "AWAITING_APPROVAL"});
  add(async_ca::entrust, meaning::failed, {"REJECTED", "DENIED", "FAILED"});
  // GlobalSign HVCA: both cases of ISSUED occur.
  add(async_ca::globalsign, meaning::ready, {"ISSUED", "issued"});
  add(async_ca::globalsign, meaning::pending, {"pending", "processing"});
  add(async_ca::globalsign, meaning::failed, {"REVOKED", "rejected", "denied", "failed"});
  // certctl's generic rows.
  add(async_ca::generic, meaning::ready, {"issued", "completed"});
  add(async_ca::generic, meaning::pending, {"pending", "processing"});
  add(async_ca::generic, meaning::failed, {"rejected", "denied", "failed"});
  return out;
}

enum class spelling { original, lower, upper, spaced, tabbed };

std::string spell(std::string_view s, spelling sp) {
  std::string out(s);
  switch (sp) {
    case spelling::original: break;
    case spelling::lower:
      for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      break;
    case spelling::upper:
      for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      break;
    case spelling::spaced: out = "  " + out + " "; break;
    case spelling::tabbed: out = "\\t" + out + " \\t"; break;  // JSON escapes: a real tab
  }
  return out;
}

std::string_view spelling_name(spelling sp) {
  switch (sp) {
    case spelling::original: return "original";
    case spelling::lower: return "lower";
    case spelling::upper: return "upper";
    case spelling::spaced: return "spaced";
    case spelling::tabbed: return "tabbed";
  }
  return "?";
}

class DocumentedStatus : public ::testing::TestWithParam<std::tuple<status_case, spelling>> {};

TEST_P(DocumentedStatus, MapsAsTheCaDocuments) {
  const auto& [c, sp] = GetParam();
  async_ca_triage t{order_for(c.ca)};
  const std::string status_target = target_of(t);
  const std::string sent = spell(c.status, sp);
  const seen r = classify(t, 200, status_body(c.ca, sent));

  switch (c.m) {
    case meaning::ready:
      if (c.ca == async_ca::digicert) {
        // Ready, but the PEM is at the download endpoint: go there at once.
        EXPECT_EQ(r.verdict, verdict::pending) << r.why;
        EXPECT_TRUE(r.poll_now);
        EXPECT_TRUE(t.collecting());
        EXPECT_EQ(target_of(t), "/certificate/1234/download/format/pem_all");
      } else if (c.ca == async_ca::sectigo) {
        EXPECT_EQ(r.verdict, verdict::pending) << r.why;
        EXPECT_TRUE(r.poll_now);
        EXPECT_TRUE(t.collecting());
        EXPECT_EQ(target_of(t), "/ssl/v1/collect/42/pem");
      } else {
        EXPECT_EQ(r.verdict, verdict::done) << r.why;
        EXPECT_EQ(r.certificate, "-----BEGIN CERTIFICATE-----\nX\n");
      }
      break;
    case meaning::pending:
      EXPECT_EQ(r.verdict, verdict::pending) << r.why;
      EXPECT_FALSE(r.poll_now);
      EXPECT_FALSE(t.collecting());
      EXPECT_EQ(target_of(t), status_target);
      // A documented status is recognised, not merely tolerated as unknown.
      EXPECT_FALSE(contains(r.why, "unknown")) << r.why;
      break;
    case meaning::failed:
      EXPECT_EQ(r.verdict, verdict::permanent) << r.why;
      EXPECT_FALSE(r.poll_now);
      EXPECT_TRUE(r.certificate.empty());
      break;
  }
  if (c.m != meaning::ready || c.ca == async_ca::digicert || c.ca == async_ca::sectigo) {
    // The reason names the status the server sent (ignoring surrounding space and case).
    std::string lower_why = r.why, lower_status = c.status;
    for (char& ch : lower_why) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    for (char& ch : lower_status)
      ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    EXPECT_TRUE(contains(lower_why, lower_status)) << r.why;
  }
}

INSTANTIATE_TEST_SUITE_P(AsyncCa, DocumentedStatus,
                         ::testing::Combine(::testing::ValuesIn(documented_statuses()),
                                            ::testing::Values(spelling::original, spelling::lower,
                                                              spelling::upper, spelling::spaced,
                                                              spelling::tabbed)),
                         [](const auto& tp) {
                           const status_case& c = std::get<0>(tp.param);
                           return ca_name(c.ca) + "_" + name_part(c.status) + "_" +
                                  std::string(spelling_name(std::get<1>(tp.param)));
                         });

// ---------------------------------------------------------------------------------------------
// Unknown statuses: pending (a CA adding a status must not fail renewals), named in `why`.

class UnknownStatus : public ::testing::TestWithParam<async_ca> {};

TEST_P(UnknownStatus, IsPendingWithTheStatusInWhy) {
  async_ca_triage t{order_for(GetParam())};
  const std::string status_target = target_of(t);
  for (std::string_view s : {"on_hold_for_review", "Validation Queued", "ISSUING"}) {
    const seen r = classify(t, 200, "{\"status\":" + json_string(s) + "}");
    EXPECT_EQ(r.verdict, verdict::pending) << s << ": " << r.why;
    EXPECT_TRUE(contains(r.why, s)) << r.why;
    EXPECT_FALSE(r.poll_now);
    EXPECT_EQ(target_of(t), status_target);
  }
}

TEST_P(UnknownStatus, HostileStatusGivesABoundedSanitisedWhy) {
  async_ca_triage t{order_for(GetParam())};
  // 1 MB of status text led by control characters (JSON escapes: ESC, BEL, CR, LF, NUL) that
  // could forge log lines or colour a terminal. The body stays under the default 1 MiB limit.
  std::string status = "\\u001b[31m\\u0007\\r\\nFAKE LOG LINE\\u0000";
  status.append(1'000'000, 'A');
  const std::string body = "{\"status\":\"" + status + "\"}";
  ASSERT_LT(body.size(), default_max_body_bytes);
  const seen r = classify(t, 200, body);
  EXPECT_EQ(r.verdict, verdict::pending) << r.why.substr(0, 200);
  EXPECT_LE(r.why.size(), 256u);
  for (char c : r.why) {
    const auto u = static_cast<unsigned char>(c);
    EXPECT_TRUE(u >= 0x20 && u != 0x7f) << "control character " << int{u} << " in why";
  }
  EXPECT_TRUE(contains(r.why, "FAKE LOG LINE")) << r.why;  // the readable part survives
}

INSTANTIATE_TEST_SUITE_P(AsyncCa, UnknownStatus, ::testing::ValuesIn(all_cas),
                         [](const auto& tp) { return ca_name(tp.param); });

// ---------------------------------------------------------------------------------------------
// DigiCert: the status says issued / waiting_pickup and names a certificate id; the PEM is at
// GET /certificate/{id}/download/format/pem_all.

TEST(DigiCert, IssuedWithNumericCertificateIdDownloadsAtOnce) {
  async_ca_triage t{order_for(async_ca::digicert)};
  const seen r = classify(t, 200, R"({"id":42,"status":"issued","certificate":{"id":987654}})");
  EXPECT_EQ(r.verdict, verdict::pending);
  EXPECT_TRUE(r.poll_now);
  EXPECT_EQ(t.next_request().method, "GET");
  EXPECT_EQ(target_of(t), "/certificate/987654/download/format/pem_all");
}

TEST(DigiCert, WaitingPickupWithStringCertificateIdDownloadsAtOnce) {
  async_ca_triage t{order_for(async_ca::digicert)};
  const seen r = classify(t, 200, R"({"certificate":{"id":"5678"},"status":"waiting_pickup"})");
  EXPECT_EQ(r.verdict, verdict::pending);
  EXPECT_TRUE(r.poll_now);
  EXPECT_EQ(target_of(t), "/certificate/5678/download/format/pem_all");
}

TEST(DigiCert, IssuedWithoutCertificateIdStaysOnStatus) {
  for (std::string_view body :
       {R"({"status":"issued"})", R"({"status":"issued","certificate":{}})",
        R"({"status":"waiting_pickup","certificate":{"common_name":"example.com"}})",
        R"({"status":"issued","certificate":{"id":null}})",
        R"({"status":"issued","certificate":"1234"})"}) {
    async_ca_triage t{order_for(async_ca::digicert)};
    const std::string status_target = target_of(t);
    const seen r = classify(t, 200, body);
    EXPECT_EQ(r.verdict, verdict::pending) << body;
    EXPECT_FALSE(r.poll_now) << body;
    EXPECT_FALSE(t.collecting()) << body;
    EXPECT_EQ(target_of(t), status_target) << body;
  }
}

// A certificate id comes from the server: it must never steer the request to another path.
struct hostile_id {
  std::string label;
  std::string id;  // as it appears inside the JSON string
};

void PrintTo(const hostile_id& h, std::ostream* os) { *os << h.label << " '" << h.id << "'"; }

class DigiCertHostileId : public ::testing::TestWithParam<hostile_id> {};

TEST_P(DigiCertHostileId, IsNotUsedAsAPath) {
  async_ca_triage t{order_for(async_ca::digicert)};
  const std::string status_target = target_of(t);
  const seen r = classify(
      t, 200, "{\"status\":\"issued\",\"certificate\":{\"id\":\"" + GetParam().id + "\"}}");
  EXPECT_EQ(r.verdict, verdict::pending) << r.why;
  EXPECT_FALSE(r.poll_now);
  EXPECT_FALSE(t.collecting());
  EXPECT_EQ(target_of(t), status_target);
  EXPECT_FALSE(contains(target_of(t), "download"));
}

// "." and ".." contain no separator, but as a path segment they are dot-segments that URL
// resolution (RFC 3986 §5.2.4) removes: /certificate/../download/... leaves the certificate.
INSTANTIATE_TEST_SUITE_P(
    AsyncCa, DigiCertHostileId,
    ::testing::Values(hostile_id{"slash", "12/34"}, hostile_id{"dot_dot_slash", "../../admin"},
                      hostile_id{"encoded_slash", "..%2f..%2fadmin"},
                      hostile_id{"encoded_slash_upper", "..%2F"}, hostile_id{"query", "a?b=c"},
                      hostile_id{"fragment", "a#frag"}, hostile_id{"backslash", "a\\\\b"},
                      hostile_id{"space", "a b"}, hostile_id{"newline", "a\\nb"},
                      hostile_id{"empty", ""}, hostile_id{"dot_dot", ".."}, hostile_id{"dot", "."},
                      hostile_id{"too_long", std::string(300, '7')}),
    [](const auto& tp) { return tp.param.label; });

TEST(DigiCert, DownloadOkIsDoneWithThePemBody) {
  async_ca_triage t{order_for(async_ca::digicert)};
  ASSERT_TRUE(classify(t, 200, R"({"status":"issued","certificate":{"id":7}})").poll_now);
  const seen r = classify(t, 200, pem);
  EXPECT_EQ(r.verdict, verdict::done) << r.why;
  EXPECT_EQ(r.certificate, pem);
}

TEST(DigiCert, DownloadServerErrorIsTransientAndStaysOnDownload) {
  for (int s : {500, 502, 503, 504}) {
    async_ca_triage t{order_for(async_ca::digicert)};
    ASSERT_TRUE(classify(t, 200, R"({"status":"issued","certificate":{"id":7}})").poll_now);
    const seen r = classify(t, s, "");
    EXPECT_EQ(r.verdict, verdict::transient) << s;
    EXPECT_FALSE(r.poll_now);
    // The retry goes back to the download, not to the status.
    EXPECT_EQ(target_of(t), "/certificate/7/download/format/pem_all");
  }
}

TEST(DigiCert, DownloadNotFoundIsPermanent) {
  async_ca_triage t{order_for(async_ca::digicert)};
  ASSERT_TRUE(classify(t, 200, R"({"status":"issued","certificate":{"id":7}})").poll_now);
  EXPECT_EQ(classify(t, 404, "").verdict, verdict::permanent);
}

TEST(DigiCert, DownloadBadRequestIsPermanent) {
  // Only Sectigo's collect treats 400 as "not ready"; for DigiCert it is an ordinary 4xx.
  async_ca_triage t{order_for(async_ca::digicert)};
  ASSERT_TRUE(classify(t, 200, R"({"status":"issued","certificate":{"id":7}})").poll_now);
  EXPECT_EQ(classify(t, 400, "").verdict, verdict::permanent);
}

TEST(DigiCert, RateLimitBodyIsTransientWithTheCodeInWhy) {
  // DigiCert's 429 carries {"errors":[{"code":"request_limit_exceeded",...}]} and no Retry-After
  // (docs/sources.md#digicert-rate-limits).
  async_ca_triage t{order_for(async_ca::digicert)};
  const seen r = classify(
      t, 429,
      R"({"errors":[{"code":"request_limit_exceeded","message":"Too many requests; 1000 per 5 minutes"}]})");
  EXPECT_EQ(r.verdict, verdict::transient);
  EXPECT_TRUE(contains(r.why, "request_limit_exceeded")) << r.why;
  EXPECT_FALSE(t.collecting());
}

// ---------------------------------------------------------------------------------------------
// Sectigo: Issued, then GET /ssl/v1/collect/{id}/pem; a collect answering 400 with code -183 is
// not ready yet ("Sectigo collectNotReady sentinel", docs/sources.md#certctl-async-polling-doc,
// docs/sources.md#sectigo-collect-codes); other codes are errors.

TEST(Sectigo, IssuedThenCollectNotReadyThenCollected) {
  async_ca_triage t{order_for(async_ca::sectigo)};
  const std::string status_target = target_of(t);
  EXPECT_TRUE(contains(status_target, "42"));

  const seen issued = classify(t, 200, R"({"status":"Issued","sslId":42})");
  EXPECT_EQ(issued.verdict, verdict::pending);
  EXPECT_TRUE(issued.poll_now);
  EXPECT_EQ(t.next_request().method, "GET");
  EXPECT_EQ(target_of(t), "/ssl/v1/collect/42/pem");

  const seen not_ready =
      classify(t, 400, R"({"code":-183,"description":"Certificate is not collectable"})");
  EXPECT_EQ(not_ready.verdict, verdict::pending) << not_ready.why;
  EXPECT_FALSE(not_ready.poll_now);  // waits on the schedule like any pending
  EXPECT_TRUE(contains(not_ready.why, "code -183: Certificate is not collectable"))
      << not_ready.why;
  EXPECT_EQ(t.wait_at_least(), duration::zero());  // no collect interval unless asked for
  EXPECT_EQ(target_of(t), "/ssl/v1/collect/42/pem");

  const seen done = classify(t, 200, pem);
  EXPECT_EQ(done.verdict, verdict::done) << done.why;
  EXPECT_EQ(done.certificate, pem);
}

TEST(Sectigo, StatusEndpointBadRequestIsStillPermanent) {
  // The 400-means-not-ready rule belongs to the collect endpoint only.
  async_ca_triage t{order_for(async_ca::sectigo)};
  EXPECT_EQ(classify(t, 400, R"({"code":-16,"description":"Invalid ssl id"})").verdict,
            verdict::permanent);
}

TEST(Sectigo, ServerWordsReachWhy) {
  async_ca_triage t{order_for(async_ca::sectigo)};
  const seen r = classify(t, 403, R"({"code":-16,"description":"Unknown user"})");
  EXPECT_EQ(r.verdict, verdict::permanent);
  EXPECT_TRUE(contains(r.why, "Unknown user")) << r.why;
}

// ---------------------------------------------------------------------------------------------
// Entrust: GET /v1/certificate-authorities/{ca}/enrollments/{id}; the PEM is in the status body.

TEST(Entrust, StatusPathNamesCaAndEnrollment) {
  async_ca_triage t{async_ca_order{async_ca::entrust, "e-42", "ca-1"}};
  EXPECT_EQ(t.next_request().method, "GET");
  EXPECT_EQ(target_of(t), "/v1/certificate-authorities/ca-1/enrollments/e-42");
}

TEST(Entrust, IssuedWithCertificateIsDoneWithThatPem) {
  async_ca_triage t{order_for(async_ca::entrust)};
  const seen r = classify(t, 200,
                          "{\"status\":\"ISSUED\",\"certificate\":\"-----BEGIN "
                          "CERTIFICATE-----\\nMIIE\\n-----END CERTIFICATE-----\\n\"}");
  EXPECT_EQ(r.verdict, verdict::done) << r.why;
  EXPECT_EQ(r.certificate, "-----BEGIN CERTIFICATE-----\nMIIE\n-----END CERTIFICATE-----\n");
}

TEST(Entrust, IssuedWithoutCertificateIsPending) {
  for (std::string_view body : {R"({"status":"ISSUED"})", R"({"status":"ISSUED","certificate":""})",
                                R"({"status":"ISSUED","certificate":null})"}) {
    async_ca_triage t{order_for(async_ca::entrust)};
    const seen r = classify(t, 200, body);
    EXPECT_EQ(r.verdict, verdict::pending) << body;
    EXPECT_TRUE(r.certificate.empty()) << body;
  }
}

TEST(Entrust, AwaitingApprovalIsPending) {
  // Humans approve Entrust enrollments; this may take a day (certctl's failure modes:
  // docs/sources.md#certctl-async-polling-doc).
  async_ca_triage t{order_for(async_ca::entrust)};
  const seen r = classify(t, 200, R"({"status":"AWAITING_APPROVAL"})");
  EXPECT_EQ(r.verdict, verdict::pending);
  EXPECT_TRUE(contains(r.why, "AWAITING_APPROVAL")) << r.why;
}

// ---------------------------------------------------------------------------------------------
// GlobalSign HVCA: 202 = accepted, not ready; ISSUED / issued with the PEM.

TEST(GlobalSign, AcceptedIsPending) {
  for (std::string_view body : {"", R"({"status":"accepted"})", "not json"}) {
    async_ca_triage t{order_for(async_ca::globalsign)};
    const seen r = classify(t, 202, body);
    EXPECT_EQ(r.verdict, verdict::pending) << body << ": " << r.why;
  }
}

TEST(GlobalSign, IssuedInEitherCaseWithCertificateIsDone) {
  for (std::string_view status : {"ISSUED", "issued"}) {
    async_ca_triage t{order_for(async_ca::globalsign)};
    const seen r = classify(t, 200,
                            "{\"status\":\"" + std::string(status) +
                                "\",\"certificate\":\"-----BEGIN CERTIFICATE-----\\nGS\\n\"}");
    EXPECT_EQ(r.verdict, verdict::done) << status;
    EXPECT_EQ(r.certificate, "-----BEGIN CERTIFICATE-----\nGS\n");
  }
}

TEST(GlobalSign, AcceptedIsOnlyGlobalSigns) {
  // For the others a 202 is an ordinary 2xx: the body decides, and an empty body is unreadable.
  async_ca_triage t{order_for(async_ca::generic)};
  EXPECT_EQ(classify(t, 202, "").verdict, verdict::permanent);
  EXPECT_EQ(classify(t, 202, R"({"status":"pending"})").verdict, verdict::pending);
}

// ---------------------------------------------------------------------------------------------
// Generic (certctl's rows): GET /orders/{id}; "completed" counts as issued.

TEST(Generic, StatusPathIsOrdersId) {
  async_ca_triage t{async_ca_order{async_ca::generic, "ord-7", {}}};
  EXPECT_EQ(t.next_request().method, "GET");
  EXPECT_EQ(target_of(t), "/orders/ord-7");
}

TEST(Generic, CompletedCountsAsIssued) {
  async_ca_triage t{order_for(async_ca::generic)};
  const seen r =
      classify(t, 200, R"({"status":"Completed","certificate":"-----BEGIN CERTIFICATE-----"})");
  EXPECT_EQ(r.verdict, verdict::done);
  EXPECT_EQ(r.certificate, "-----BEGIN CERTIFICATE-----");
}

TEST(Generic, TrailingWhitespaceIsNotGarbage) {
  async_ca_triage t{order_for(async_ca::generic)};
  const seen r = classify(
      t, 200, "{\"status\":\"issued\",\"certificate\":\"-----BEGIN CERTIFICATE-----\"}\r\n\t ");
  EXPECT_EQ(r.verdict, verdict::done) << r.why;
}

TEST(Generic, ServerWordsReachWhyOnPermanentError) {
  async_ca_triage t{order_for(async_ca::generic)};
  const seen r = classify(t, 403, R"({"message":"order belongs to another account"})");
  EXPECT_EQ(r.verdict, verdict::permanent);
  EXPECT_TRUE(contains(r.why, "order belongs to another account")) << r.why;
}

// ---------------------------------------------------------------------------------------------
// Limits, reset, names, and the status codes outside certctl's table.

TEST(Triage, BodyLargerThanLimitIsPermanentWithAMessage) {
  async_ca_triage t{order_for(async_ca::generic), 64};
  std::string body = R"({"status":"issued","certificate":")";
  body.append(100, 'X');
  body += "\"}";
  const seen r = classify(t, 200, body);
  EXPECT_EQ(r.verdict, verdict::permanent);
  EXPECT_FALSE(r.why.empty());
  EXPECT_TRUE(contains(r.why, "larger")) << r.why;
}

TEST(Triage, BodyExactlyAtLimitIsRead) {
  std::string body = R"({"status":"issued","certificate":"-----BEGIN CERTIFICATE-----)";
  const std::size_t tail = 2;  // "}
  body.append(64 - body.size() - tail, 'X');
  body += "\"}";
  ASSERT_EQ(body.size(), 64u);
  async_ca_triage t{order_for(async_ca::generic), 64};
  EXPECT_EQ(classify(t, 200, body).verdict, verdict::done);
}

TEST(Triage, DownloadLargerThanLimitIsPermanent) {
  async_ca_triage t{order_for(async_ca::sectigo), 64};
  ASSERT_TRUE(classify(t, 200, R"({"status":"Issued"})").poll_now);
  const seen r = classify(t, 200, std::string(100, 'P'));
  EXPECT_EQ(r.verdict, verdict::permanent);
  EXPECT_FALSE(r.why.empty());
}

TEST(Triage, HugeErrorBodyKeepsTheStatusVerdict) {
  // An oversized 429/5xx body is not read, but the status code still decides.
  async_ca_triage t{order_for(async_ca::digicert), 64};
  EXPECT_EQ(classify(t, 429, std::string(1000, '{')).verdict, verdict::transient);
  EXPECT_EQ(classify(t, 503, std::string(1000, 'x')).verdict, verdict::transient);
}

TEST(Triage, ResetReturnsToTheStatusStage) {
  async_ca_triage t{order_for(async_ca::sectigo)};
  const std::string status_target = target_of(t);
  ASSERT_TRUE(classify(t, 200, R"({"status":"Issued"})").poll_now);
  ASSERT_TRUE(t.collecting());
  ASSERT_NE(target_of(t), status_target);
  t.reset();
  EXPECT_FALSE(t.collecting());
  EXPECT_EQ(target_of(t), status_target);
  // And a status body is read as a status again (not as a downloaded PEM).
  EXPECT_EQ(classify(t, 200, R"({"status":"Pending"})").verdict, verdict::pending);
}

TEST(Triage, ResetAfterDigiCertDownloadStage) {
  async_ca_triage t{order_for(async_ca::digicert)};
  const std::string status_target = target_of(t);
  ASSERT_TRUE(classify(t, 200, R"({"status":"issued","certificate":{"id":9}})").poll_now);
  t.reset();
  EXPECT_EQ(target_of(t), status_target);
  EXPECT_EQ(classify(t, 200, R"({"status":"rejected"})").verdict, verdict::permanent);
}

TEST(Triage, RebindIsTheTriageOfTheNewOrder) {
  // Rebound mid-download, to another CA's order: every trace of the first order is gone.
  async_ca_triage t{order_for(async_ca::digicert)};
  ASSERT_TRUE(classify(t, 200, R"({"status":"issued","certificate":{"id":9}})").poll_now);
  ASSERT_TRUE(t.collecting());
  t.rebind({async_ca::entrust, "e/7", "ca 2"});
  const async_ca_triage fresh{async_ca_order{async_ca::entrust, "e/7", "ca 2"}};
  EXPECT_FALSE(t.collecting());
  EXPECT_EQ(t.profile().name, "entrust");
  EXPECT_EQ(target_of(t), target_of(fresh));
  EXPECT_EQ(target_of(t), "/v1/certificate-authorities/ca%202/enrollments/e%2F7");
  EXPECT_EQ(classify(t, 200, R"({"status":"AWAITING_APPROVAL"})").verdict, verdict::pending);
}

TEST(Triage, RebindKeepsRefusingAnIdThatCannotBeAPath) {
  async_ca_triage t{order_for(async_ca::generic)};
  EXPECT_FALSE(t.request_problem());
  t.rebind({async_ca::generic, "..", ""});
  EXPECT_EQ(t.request_problem().field, "async_ca_order.id");
  // And the next good order clears it.
  t.rebind({async_ca::generic, "43", ""});
  EXPECT_FALSE(t.request_problem());
  EXPECT_EQ(target_of(t), "/orders/43");
}

TEST(Triage, AsyncCaFromNameIsCaseInsensitive) {
  const std::pair<std::string_view, async_ca> names[] = {
      {"digicert", async_ca::digicert},     {"DigiCert", async_ca::digicert},
      {"SECTIGO", async_ca::sectigo},       {"sectigo", async_ca::sectigo},
      {"Entrust", async_ca::entrust},       {"ENTRUST", async_ca::entrust},
      {"globalsign", async_ca::globalsign}, {"GlobalSign", async_ca::globalsign},
      {"generic", async_ca::generic},       {"Generic", async_ca::generic},
  };
  for (const auto& [name, ca] : names) {
    const auto got = async_ca_from_name(name);
    ASSERT_TRUE(got.has_value()) << name;
    EXPECT_EQ(*got, ca) << name;
  }
  for (std::string_view unknown : {"", "venafi", "digicert ", "digi", "globalsign-hvca", "acme"})
    EXPECT_FALSE(async_ca_from_name(unknown).has_value()) << "'" << unknown << "'";
}

TEST(Triage, InformationalAndRedirectAreUnexpectedAndPermanent) {
  for (async_ca ca : all_cas)
    for (int s : {100, 101, 103, 300, 301, 302, 304, 307, 308, 0, 99, 600, 999}) {
      async_ca_triage t{order_for(ca)};
      EXPECT_EQ(classify(t, s, R"({"status":"issued"})").verdict, verdict::permanent)
          << ca_name(ca) << " " << s;
    }
}

TEST(Triage, RequestTimeoutIsTransient) {
  // 408: the server gave up waiting for the request; unlike other 4xx, retrying can work.
  for (async_ca ca : all_cas) {
    async_ca_triage t{order_for(ca)};
    EXPECT_EQ(classify(t, 408, "").verdict, verdict::transient) << ca_name(ca);
  }
}

TEST(Triage, OtherClientErrorsArePermanent) {
  for (int s : {402, 405, 409, 410, 413, 422, 451, 499}) {
    async_ca_triage t{order_for(async_ca::generic)};
    EXPECT_EQ(classify(t, s, "").verdict, verdict::permanent) << s;
  }
}

// ---------------------------------------------------------------------------------------------
// Sectigo collect error codes: only -183 means "not ready".

struct collect_code_case {
  const char* body;
  verdict expected;
  const char* why;
};

class SectigoCollectCode : public ::testing::TestWithParam<collect_code_case> {};

TEST_P(SectigoCollectCode, OnlyNotCollectableIsPending) {
  async_ca_triage t{order_for(async_ca::sectigo)};
  ASSERT_TRUE(classify(t, 200, R"({"status":"Issued"})").poll_now);
  const seen r = classify(t, 400, GetParam().body);
  EXPECT_EQ(r.verdict, GetParam().expected) << r.why;
  EXPECT_TRUE(contains(r.why, GetParam().why)) << r.why;
}

INSTANTIATE_TEST_SUITE_P(
    Codes, SectigoCollectCode,
    ::testing::Values(
        collect_code_case{R"({"code":-183,"description":"Certificate is not collectable"})",
                          verdict::pending, "collect not ready (400) code -183"},
        collect_code_case{
            R"({"code":-110,"description":"Certificate has been revoked and cannot be downloaded"})",
            verdict::permanent,
            "collect refused (400) code -110: Certificate has been revoked and cannot be "
            "downloaded"},
        collect_code_case{R"({"code":-126,"description":"Unknown format"})", verdict::permanent,
                          "code -126: Unknown format"},
        collect_code_case{R"({"description":"Certificate is not collectable","code":-183})",
                          verdict::pending, "code -183"},
        collect_code_case{R"({"code":"-183"})", verdict::permanent, "without the not-ready code"},
        collect_code_case{R"({"code":-183.5})", verdict::permanent, "without the not-ready code"},
        collect_code_case{"", verdict::permanent, "without the not-ready code -183"},
        collect_code_case{"<html>proxy</html>", verdict::permanent, "without the not-ready code"},
        collect_code_case{R"({"code":-1400,"description":"x"})", verdict::permanent,
                          "code -1400: x"}),
    [](const auto& p) { return "c" + std::to_string(p.index); });

TEST(SectigoCollectCode, OtherCollectStatusesKeepTheirRows) {
  async_ca_triage t{order_for(async_ca::sectigo)};
  ASSERT_TRUE(classify(t, 200, R"({"status":"Issued"})").poll_now);
  EXPECT_EQ(classify(t, 503, R"({"code":-183})").verdict, verdict::transient);
  EXPECT_EQ(classify(t, 404, R"({"code":-183})").verdict, verdict::permanent);
}

TEST(SectigoCollectCode, CollectIntervalAppliesOnlyToNotReady) {
  async_ca_triage t{order_for(async_ca::sectigo),
                    async_ca_triage_options{.collect_interval = sectigo_collect_guidance}};
  ASSERT_TRUE(classify(t, 200, R"({"status":"Issued"})").poll_now);
  EXPECT_EQ(t.wait_at_least(), duration::zero());
  EXPECT_EQ(classify(t, 400, R"({"code":-183})").verdict, verdict::pending);
  EXPECT_EQ(t.wait_at_least(), std::chrono::hours{3});
  EXPECT_EQ(classify(t, 503, "").verdict, verdict::transient);
  EXPECT_EQ(t.wait_at_least(), duration::zero());
}

TEST(SectigoCollectCode, OtherProfilesHaveNoNotReadyCode) {
  async_ca_triage t{order_for(async_ca::digicert)};
  ASSERT_TRUE(classify(t, 200, R"({"status":"issued","certificate":{"id":5}})").poll_now);
  EXPECT_EQ(classify(t, 400, R"({"code":-183})").verdict, verdict::permanent);
}

// ---------------------------------------------------------------------------------------------
// Entrust's chain, DigiCert reissues, GlobalSign issued without a certificate.

TEST(Entrust, ChainIsKeptAfterTheCertificate) {
  async_ca_triage t{order_for(async_ca::entrust)};
  const seen r = classify(
      t, 200,
      R"({"status":"ISSUED","certificate":"-----BEGIN CERTIFICATE-----\nLEAF\n-----END CERTIFICATE-----","chain":"-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n"})");
  EXPECT_EQ(r.verdict, verdict::done) << r.why;
  EXPECT_EQ(r.certificate,
            "-----BEGIN CERTIFICATE-----\nLEAF\n-----END CERTIFICATE-----\n"
            "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n");
}

TEST(Entrust, NoChainLeavesTheCertificateAsItIs) {
  for (const char* body :
       {R"({"status":"ISSUED","certificate":"-----BEGIN CERTIFICATE-----\nL\n"})",
        R"({"status":"ISSUED","certificate":"-----BEGIN CERTIFICATE-----\nL\n","chain":""})",
        R"({"status":"ISSUED","certificate":"-----BEGIN CERTIFICATE-----\nL\n","chain":null})"}) {
    async_ca_triage t{order_for(async_ca::entrust)};
    const seen r = classify(t, 200, body);
    EXPECT_EQ(r.verdict, verdict::done) << body;
    EXPECT_EQ(r.certificate, "-----BEGIN CERTIFICATE-----\nL\n") << body;
  }
}

TEST(Generic, ChainFieldIsNotReadOutsideEntrust) {
  async_ca_triage t{order_for(async_ca::generic)};
  const seen r = classify(
      t, 200,
      R"({"status":"issued","certificate":"-----BEGIN CERTIFICATE-----\nL\n","chain":"C"})");
  EXPECT_EQ(r.certificate, "-----BEGIN CERTIFICATE-----\nL\n");
}

TEST(DigiCertReissue, IssuedWithTheReplacedCertificateFails) {
  async_ca_triage t{order_for(async_ca::digicert),
                    async_ca_triage_options{.replaced_certificate_id = "700"}};
  EXPECT_EQ(classify(t, 200, R"({"status":"reissue_pending","certificate":{"id":700}})").verdict,
            verdict::pending);
  const seen r = classify(t, 200, R"({"status":"issued","certificate":{"id":700}})");
  EXPECT_EQ(r.verdict, verdict::permanent);
  EXPECT_TRUE(contains(r.why, "reissue was canceled or rejected")) << r.why;
  EXPECT_FALSE(t.collecting());
}

TEST(DigiCertReissue, IssuedWithANewCertificateDownloadsIt) {
  async_ca_triage t{order_for(async_ca::digicert),
                    async_ca_triage_options{.replaced_certificate_id = "700"}};
  const seen r = classify(t, 200, R"({"status":"issued","certificate":{"id":"701"}})");
  EXPECT_TRUE(r.poll_now) << r.why;
  EXPECT_EQ(target_of(t), "/certificate/701/download/format/pem_all");
}

TEST(DigiCertReissue, WithoutTheOptionTheSameIdIsDownloaded) {
  async_ca_triage t{order_for(async_ca::digicert)};
  EXPECT_TRUE(classify(t, 200, R"({"status":"issued","certificate":{"id":700}})").poll_now);
}

TEST(GlobalSign, IssuedWithoutCertificateIsPendingSayingSo) {
  for (const char* body : {R"({"status":"ISSUED"})", R"({"status":"issued","certificate":""})",
                           R"({"status":"ISSUED","certificate":null})"}) {
    async_ca_triage t{order_for(async_ca::globalsign)};
    const seen r = classify(t, 200, body);
    EXPECT_EQ(r.verdict, verdict::pending) << body;
    EXPECT_TRUE(contains(r.why, "but no certificate in the body yet")) << r.why;
  }
}

// ---------------------------------------------------------------------------------------------
// The certificate check (core/certificate_check.hpp, x509/key_match.hpp).

// An EC P-256 CSR, a certificate for its key (v1, no extensions), and a v3 certificate for
// another key: tests/scenarios/data/order-csr.pem, order-cert.pem, other-key-cert.pem.
constexpr std::string_view order_csr = R"(-----BEGIN CERTIFICATE REQUEST-----
MIHRMHoCAQAwGDEWMBQGA1UEAwwNb3JkZXIuZXhhbXBsZTBZMBMGByqGSM49AgEG
CCqGSM49AwEHA0IABCqXRGHtxXgEIwONQ3LH2K8t+YI+/7dYDm+9g2lmygN7jVoT
cy5iNev+ZqOPSLCwP9hNnYqoQPdnOoKDOo3pl8KgADAKBggqhkjOPQQDAgNHADBE
AiBiKc1hEaBwqkAp76zf7E45XhvfrnHY+OV6anv83U/7vgIgKnM0AwzRMjg7CTHx
tfl4sW6+5uPbJcXp5FVrdmFXhhg=
-----END CERTIFICATE REQUEST-----
)";
constexpr std::string_view order_cert = R"(-----BEGIN CERTIFICATE-----
MIIBGTCBvwICEjQwCgYIKoZIzj0EAwIwGDEWMBQGA1UEAwwNb3JkZXIuZXhhbXBs
ZTAeFw0yNjExMzAwNTQ4NThaFw0zNjExMjcwNTQ4NThaMBgxFjAUBgNVBAMMDW9y
ZGVyLmV4YW1wbGUwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAQql0Rh7cV4BCMD
jUNyx9ivLfmCPv+3WA5vvYNpZsoDe41aE3MuYjXr/majj0iwsD/YTZ2KqED3ZzqC
gzqN6ZfCMAoGCCqGSM49BAMCA0kAMEYCIQCUHXmt99KUIXMOEd7i+F6tFfIZRnhD
MmzEShvmi2KlBQIhAKd8pYY0uJLbN3dfK+wzxP8goRdlg2EcCPolyvlD6N2B
-----END CERTIFICATE-----
)";
constexpr std::string_view other_cert = R"(-----BEGIN CERTIFICATE-----
MIIBczCCARmgAwIBAgICAJkwCgYIKoZIzj0EAwIwGDEWMBQGA1UEAwwNb3RoZXIu
ZXhhbXBsZTAeFw0yNjExMzAwNTQ4NThaFw0zNjExMjcwNTQ4NThaMBgxFjAUBgNV
BAMMDW90aGVyLmV4YW1wbGUwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAARsGcPn
pg6SV264Y3LuVT9EBwc18V9b73Ujt6QRuG8YZnHq/jwQf6nXrzG/jKRJCO4TQLrV
X4AKrGcvBOyq9zxDo1MwUTAdBgNVHQ4EFgQUHn7G1DrnjuDmE32W5VBPnkhEwcYw
HwYDVR0jBBgwFoAUHn7G1DrnjuDmE32W5VBPnkhEwcYwDwYDVR0TAQH/BAUwAwEB
/zAKBggqhkjOPQQDAgNIADBFAiBdWwBqZ8/aMemgHqD6HNDZPHJJOmiBJXsjKRd8
8zydYwIhAMMASB6u/WZXpKSC5FjiCbvg+7XZrExOBwFOWIWevZSh
-----END CERTIFICATE-----
)";

std::string der_of(std::string_view pem_text) {
  std::vector<std::uint8_t> der;
  const auto body = detail::first_pem_certificate(pem_text);
  EXPECT_TRUE(body && detail::decode_base64(*body, der));
  return {der.begin(), der.end()};
}

TEST(CertificateCheck, DefaultTellsACertificateFromALoginPage) {
  certificate_checker c;
  EXPECT_EQ(c.check(order_cert), "");
  EXPECT_EQ(c.check(der_of(order_cert)), "");
  EXPECT_EQ(c.check("-----BEGIN CERTIFICATE-----\nMIIBorder\n"), "");  // lenient default
  for (std::string_view page : {"<html><body>Please log in</body></html>", "", "OK", "{}",
                                "-----BEGIN CERTIFICATE REQUEST-----\nx\n", "0 errors", "0",
                                "0\x05"
                                "abc"}) {
    const std::string_view why = c.check(page);
    EXPECT_TRUE(contains(why, "no PEM CERTIFICATE block")) << page;
  }
}

TEST(CertificateCheck, NoneTakesAnything) {
  certificate_checker c{certificate_check::none()};
  EXPECT_EQ(c.check("<html>"), "");
  EXPECT_EQ(c.check(""), "");
}

TEST(CertificateCheck, X509ParsesTheFirstCertificate) {
  certificate_checker c{certificate_check::parses_as_x509()};
  EXPECT_EQ(c.check(order_cert), "");
  EXPECT_EQ(c.check(other_cert), "");
  EXPECT_EQ(c.check(std::string(order_cert) + std::string(other_cert)), "");  // with its chain
  EXPECT_EQ(c.check(der_of(other_cert)), "");
}

TEST(CertificateCheck, X509RefusesWhatIsNotOne) {
  certificate_checker c{certificate_check::parses_as_x509()};
  const std::string good_der = der_of(order_cert);
  struct bad_case {
    std::string bytes;
    std::string_view why;
  };
  const std::vector<bad_case> cases{
      {"-----BEGIN CERTIFICATE-----\nMIIBordr\n-----END CERTIFICATE-----\n", "not an X.509"},
      {"-----BEGIN CERTIFICATE-----\nMIIBorder\n-----END CERTIFICATE-----\n", "not valid base64"},
      {"-----BEGIN CERTIFICATE-----\nMIIB==rd\n-----END CERTIFICATE-----\n", "not valid base64"},
      {"-----BEGIN CERTIFICATE-----\nMIIB*rder\n-----END CERTIFICATE-----\n", "not valid base64"},
      {"-----BEGIN CERTIFICATE-----\nMIIBorder\n", "no END line"},
      {"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n", "empty"},
      // DER that is not one SEQUENCE spanning the body is not DER at all.
      {good_der.substr(0, good_der.size() - 1), "not DER"},
      {good_der + "x", "not DER"},
      {std::string("\x30\x80\x00\x00", 4), "not DER"},              // indefinite length
      {std::string("\x30\x85\xff\xff\xff\xff\xff", 7), "not DER"},  // 5 length bytes
      {std::string("\x30\x00", 2), "tbsCertificate"},
      {std::string("\x30", 1), "not DER"},
  };
  for (const auto& bc : cases) {
    const std::string why{c.check(bc.bytes)};
    EXPECT_TRUE(contains(why, bc.why)) << "[" << bc.bytes.size() << " bytes] " << why;
  }
}

TEST(CertificateCheck, X509FindsTheSubjectPublicKeyInfo) {
  const std::string der = der_of(order_cert);
  const auto [leaf, why] =
      detail::parse_x509({reinterpret_cast<const std::uint8_t*>(der.data()), der.size()});
  ASSERT_TRUE(leaf) << why;
  EXPECT_EQ(leaf->der.size(), der.size());
  ASSERT_GE(leaf->spki.size(), 2u);
  EXPECT_EQ(leaf->spki[0], 0x30);
  EXPECT_EQ(leaf->spki.size(), 91u);  // a P-256 SubjectPublicKeyInfo
}

TEST(CertificateCheck, KeyMatchAcceptsTheCsrsKeyOnly) {
  auto key = expected_public_key::from_csr(order_csr);
  ASSERT_TRUE(key) << key.error().message();
  certificate_checker c{key_match_check(key.value())};
  EXPECT_EQ(c.check(order_cert), "");
  EXPECT_EQ(c.check(der_of(order_cert)), "");
  EXPECT_TRUE(contains(c.check(other_cert), "its public key is not the CSR's"));
  EXPECT_TRUE(contains(c.check("<html>"), "no PEM CERTIFICATE block"));
  EXPECT_TRUE(contains(c.check("-----BEGIN CERTIFICATE-----\nMIIB\n"), "no END line"));
}

TEST(CertificateCheck, KeyMatchFromAPublicKey) {
  const std::string pub =
      "-----BEGIN PUBLIC KEY-----\n"
      "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEKpdEYe3FeAQjA41DcsfYry35gj7/\n"
      "t1gOb72DaWbKA3uNWhNzLmI16/5mo49IsLA/2E2diqhA92c6goM6jemXwg==\n"
      "-----END PUBLIC KEY-----\n";
  auto key = expected_public_key::from_pem_key(pub);
  ASSERT_TRUE(key) << key.error().message();
  certificate_checker c{key_match_check(key.value())};
  EXPECT_EQ(c.check(order_cert), "");
  EXPECT_FALSE(c.check(other_cert).empty());
}

TEST(CertificateCheck, UnreadableKeySourcesAreRefused) {
  for (std::string_view bad : {std::string_view{}, std::string_view{"not a csr"},
                               std::string_view{"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n"
                                                "-----END CERTIFICATE REQUEST-----\n"}}) {
    const auto key = expected_public_key::from_csr(bad);
    ASSERT_FALSE(key);
    EXPECT_EQ(key.error(), errc::key_source_unreadable);
  }
  EXPECT_FALSE(expected_public_key::from_pem_key("-----BEGIN PRIVATE KEY-----\nAA\n"));
  EXPECT_FALSE(expected_public_key::from_csr(std::string(max_key_source_bytes + 1, 'A')));
}

TEST(CertificateCheck, TriageFailsADownloadThatIsALoginPage) {
  async_ca_triage t{order_for(async_ca::sectigo)};
  ASSERT_TRUE(classify(t, 200, R"({"status":"Issued"})").poll_now);
  const seen r = classify(t, 200, "<html><form>Sign in to the proxy</form></html>");
  EXPECT_EQ(r.verdict, verdict::permanent);
  EXPECT_TRUE(contains(r.why, "download is not a certificate: no PEM CERTIFICATE block")) << r.why;
}

TEST(CertificateCheck, TriageFailsACertificateFieldThatIsNotOne) {
  for (async_ca ca : {async_ca::entrust, async_ca::globalsign, async_ca::generic}) {
    async_ca_triage t{order_for(ca)};
    const std::string done = std::string(profile_of(ca).done.front());
    const seen r = classify(t, 200, R"({"status":")" + done + R"(","certificate":"see portal"})");
    EXPECT_EQ(r.verdict, verdict::permanent) << ca_name(ca);
    EXPECT_TRUE(contains(r.why, "the certificate field is not a certificate")) << r.why;
  }
}

TEST(CertificateCheck, TriageWithKeyMatchRefusesAnotherKeysCertificate) {
  auto key = expected_public_key::from_csr(order_csr);
  ASSERT_TRUE(key);
  async_ca_triage t{order_for(async_ca::digicert),
                    async_ca_triage_options{.check = key_match_check(key.value())}};
  ASSERT_TRUE(classify(t, 200, R"({"status":"issued","certificate":{"id":5}})").poll_now);
  const seen wrong = classify(t, 200, other_cert);
  EXPECT_EQ(wrong.verdict, verdict::permanent);
  EXPECT_TRUE(contains(wrong.why, "is not the CSR's")) << wrong.why;

  async_ca_triage u{order_for(async_ca::digicert),
                    async_ca_triage_options{.check = key_match_check(key.value())}};
  ASSERT_TRUE(classify(u, 200, R"({"status":"issued","certificate":{"id":5}})").poll_now);
  const seen right = classify(u, 200, std::string(order_cert) + std::string(other_cert));
  EXPECT_EQ(right.verdict, verdict::done) << right.why;
}

TEST(Triage, SatisfiesThePollTriageConcept) {
  static_assert(poll_triage<async_ca_triage>);
  async_ca_triage t{order_for(async_ca::generic)};
  EXPECT_EQ(t.profile().name, "generic");
}

}  // namespace
