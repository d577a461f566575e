// ACME replies: problem documents and their classes (RFC 8555 §6.7, RFC 9457), rejected
// `replaces` fields as each server sends them (docs/sources.md#boulder, #rfc9773-5), orders,
// authorizations and challenges (RFC 8555 §7.1), and renewalInfo (RFC 9773 §4.2).
#include "certretry/acme/reply.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <system_error>

namespace {

using namespace certretry;
using namespace certretry::acme;
using namespace std::chrono_literals;

std::string problem_body(std::string_view type, std::string_view detail = "", int status = 0) {
  std::string b = "{\"type\":\"" + std::string(type) + "\"";
  if (!detail.empty()) b += ",\"detail\":\"" + std::string(detail) + "\"";
  if (status != 0) b += ",\"status\":" + std::to_string(status);
  return b + "}";
}

// The views stay in the shared reader: valid until the next parsed().
problem parsed(std::string_view body) {
  static problem_reader r;
  const auto p = r.read(body);
  EXPECT_TRUE(p.has_value()) << body;
  return p.value_or(problem{});
}

// --- classification of every registered type ---------------------------------------------

struct type_case {
  std::string_view name;
  problem_class cls;
  friend std::ostream& operator<<(std::ostream& os, const type_case& c) { return os << c.name; }
};

class ProblemType : public ::testing::TestWithParam<type_case> {};

TEST_P(ProblemType, FullUrnAndBareNameClassifyAlikeWhateverTheStatus) {
  const type_case c = GetParam();
  const std::string urn = std::string(error_urn_prefix) + std::string(c.name);
  problem_reader r;
  for (const std::string& type : {urn, std::string(c.name)}) {
    const auto p = r.read(problem_body(type, "d", 400));
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(p->type, type);
    EXPECT_EQ(p->type_name, c.name);
    // A known type decides, whatever status the response carries.
    for (int status : {400, 403, 404, 409, 429, 500, 503})
      EXPECT_EQ(classify(*p, status), c.cls) << type << " " << status;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Rfc8555AndRfc9773, ProblemType,
    ::testing::Values(type_case{"badNonce", problem_class::retry_with_new_nonce},
                      type_case{"rateLimited", problem_class::wait_retry_after},
                      type_case{"serverInternal", problem_class::transient},
                      type_case{"accountDoesNotExist", problem_class::permanent},
                      type_case{"alreadyRevoked", problem_class::permanent},
                      type_case{"badCSR", problem_class::permanent},
                      type_case{"badPublicKey", problem_class::permanent},
                      type_case{"badRevocationReason", problem_class::permanent},
                      type_case{"badSignatureAlgorithm", problem_class::permanent},
                      type_case{"caa", problem_class::permanent},
                      type_case{"compound", problem_class::permanent},
                      type_case{"connection", problem_class::permanent},
                      type_case{"dns", problem_class::permanent},
                      type_case{"externalAccountRequired", problem_class::permanent},
                      type_case{"incorrectResponse", problem_class::permanent},
                      type_case{"invalidContact", problem_class::permanent},
                      type_case{"malformed", problem_class::permanent},
                      type_case{"orderNotReady", problem_class::permanent},
                      type_case{"rejectedIdentifier", problem_class::permanent},
                      type_case{"tls", problem_class::permanent},
                      type_case{"unauthorized", problem_class::permanent},
                      type_case{"unsupportedContact", problem_class::permanent},
                      type_case{"unsupportedIdentifier", problem_class::permanent},
                      type_case{"userActionRequired", problem_class::permanent},
                      type_case{"alreadyReplaced", problem_class::permanent},
                      type_case{"conflict", problem_class::permanent}),
    [](const auto& c) { return std::string(c.param.name); });

struct status_case {
  std::string_view type;
  int status;
  problem_class cls;
};

class UnknownType : public ::testing::TestWithParam<status_case> {};

TEST_P(UnknownType, FallsBackOnTheHttpStatus) {
  const status_case c = GetParam();
  const problem p = parsed(problem_body(c.type));
  EXPECT_EQ(classify(p, c.status), c.cls) << c.type << " " << c.status;
}

INSTANTIATE_TEST_SUITE_P(
    ByStatus, UnknownType,
    ::testing::Values(
        status_case{"urn:ietf:params:acme:error:somethingNew", 429,
                    problem_class::wait_retry_after},
        status_case{"urn:ietf:params:acme:error:somethingNew", 500, problem_class::transient},
        status_case{"urn:ietf:params:acme:error:somethingNew", 503, problem_class::transient},
        status_case{"urn:ietf:params:acme:error:somethingNew", 599, problem_class::transient},
        // 408: the server gave up waiting for the request; try again (as certctl's table does).
        status_case{"urn:ietf:params:acme:error:somethingNew", 408, problem_class::transient},
        status_case{"about:blank", 408, problem_class::transient},
        status_case{"urn:ietf:params:acme:error:somethingNew", 400, problem_class::permanent},
        status_case{"urn:ietf:params:acme:error:somethingNew", 404, problem_class::permanent},
        status_case{"urn:ietf:params:acme:error:somethingNew", 600, problem_class::permanent},
        status_case{"about:blank", 503, problem_class::transient},
        status_case{"about:blank", 429, problem_class::wait_retry_after},
        status_case{"https://example.com/probs/out-of-credit", 403, problem_class::permanent},
        // Names are case-sensitive: a near miss is unknown.
        status_case{"urn:ietf:params:acme:error:badnonce", 400, problem_class::permanent},
        status_case{"urn:ietf:params:acme:error:RATELIMITED", 503, problem_class::transient},
        status_case{"", 429, problem_class::wait_retry_after}));

TEST(ProblemReader, TypeNameOfOtherUrisIsEmpty) {
  EXPECT_EQ(type_name_of("about:blank"), "");
  EXPECT_EQ(type_name_of("urn:ietf:params:acme:error:"), "");
  EXPECT_EQ(type_name_of("URN:IETF:PARAMS:ACME:ERROR:badNonce"), "badNonce");
  EXPECT_EQ(type_name_of("badNonce"), "badNonce");
  EXPECT_EQ(type_name_of("urn:ietf:params:other:badNonce"), "");
}

// --- rejected `replaces` ------------------------------------------------------------------

struct replaces_case {
  std::string_view label;
  int status;
  std::string body;
  bool rejection;
  friend std::ostream& operator<<(std::ostream& os, const replaces_case& c) {
    return os << c.label;
  }
};

class ReplacesRejection : public ::testing::TestWithParam<replaces_case> {};

TEST_P(ReplacesRejection, FromTheWholeResponse) {
  const replaces_case& c = GetParam();
  const problem p = parsed(c.body);
  EXPECT_EQ(is_replacement_rejection(p, c.status), c.rejection) << c.body;
}

const std::string boulder_detail = "Could not validate ARI 'replaces' field :: ";

INSTANTIATE_TEST_SUITE_P(
    ServerVariants, ReplacesRejection,
    ::testing::Values(
        replaces_case{"rfc9773_already_replaced", 409,
                      problem_body("urn:ietf:params:acme:error:alreadyReplaced",
                                   "certificate already replaced", 409),
                      true},
        replaces_case{"boulder_conflict", 409,
                      problem_body("urn:ietf:params:acme:error:conflict",
                                   "cannot indicate an order replaces a certificate which "
                                   "already has a replacement order",
                                   409),
                      true},
        replaces_case{"boulder_malformed_unknown_serial", 404,
                      problem_body("urn:ietf:params:acme:error:malformed",
                                   boulder_detail + "path contained an Authority Key Identifier "
                                                    "that did not match a known issuer",
                                   404),
                      true},
        replaces_case{"boulder_malformed_identifiers", 400,
                      problem_body("urn:ietf:params:acme:error:malformed",
                                   boulder_detail + "identifiers in this order do not match any "
                                                    "identifiers in the certificate being replaced",
                                   400),
                      true},
        replaces_case{"malformed_replaces_any_case", 400,
                      problem_body("malformed", "bad REPLACES value"), true},
        replaces_case{"bad_nonce", 400,
                      problem_body("urn:ietf:params:acme:error:badNonce",
                                   "JWS has an invalid anti-replay nonce; replaces kept", 400),
                      false},
        replaces_case{"rate_limited", 429,
                      problem_body("urn:ietf:params:acme:error:rateLimited",
                                   "too many new orders with replaces", 429),
                      false},
        replaces_case{"server_internal", 500,
                      problem_body("urn:ietf:params:acme:error:serverInternal",
                                   "error checking replaces", 500),
                      false},
        replaces_case{"conflict_on_503", 503,
                      problem_body("urn:ietf:params:acme:error:conflict", "", 503), false},
        replaces_case{"already_replaced_on_500", 500,
                      problem_body("urn:ietf:params:acme:error:alreadyReplaced"), false},
        replaces_case{"malformed_replaces_on_503", 503,
                      problem_body("urn:ietf:params:acme:error:malformed", boulder_detail), false},
        replaces_case{"malformed_without_replaces", 400,
                      problem_body("urn:ietf:params:acme:error:malformed",
                                   "Unable to validate JWS :: Invalid Content-Type header"),
                      false},
        replaces_case{"malformed_no_detail", 400,
                      problem_body("urn:ietf:params:acme:error:malformed"), false},
        // The claim itself is refused (RFC 9773 §5: the same account must hold the
        // certificate): the order without `replaces` may succeed.
        replaces_case{"unauthorized_naming_replaces", 403,
                      problem_body("urn:ietf:params:acme:error:unauthorized",
                                   "replaces names a certificate of another account"),
                      true},
        replaces_case{
            "unauthorized_without_replaces", 403,
            problem_body("urn:ietf:params:acme:error:unauthorized", "account is deactivated"),
            false},
        // New-order creates nothing else a 409 could conflict with.
        replaces_case{"unknown_409", 409, problem_body("about:blank"), true},
        replaces_case{"subproblem_names_replacement", 400,
                      R"({"type":"urn:ietf:params:acme:error:compound","detail":"order refused",)"
                      R"("subproblems":[{"type":"urn:ietf:params:acme:error:malformed",)"
                      R"("detail":"certificate was already replaced"}]})",
                      true},
        replaces_case{"conflict_on_429", 429,
                      problem_body("urn:ietf:params:acme:error:conflict", "slow down", 429), false},
        replaces_case{"bad_nonce_on_409", 409,
                      problem_body("urn:ietf:params:acme:error:badNonce", "stale nonce", 409),
                      false}),
    [](const auto& c) { return std::string(c.param.label); });

// --- problem documents --------------------------------------------------------------------

TEST(ProblemReader, Rfc8555Subproblems) {
  // RFC 8555 §6.7.1's example.
  const std::string body = R"({
    "type": "urn:ietf:params:acme:error:malformed",
    "detail": "Some of the identifiers requested were rejected",
    "subproblems": [
        {
            "type": "urn:ietf:params:acme:error:malformed",
            "detail": "Invalid underscore in DNS name \"_example.org\"",
            "identifier": {
                "type": "dns",
                "value": "_example.org"
            }
        },
        {
            "type": "urn:ietf:params:acme:error:rejectedIdentifier",
            "detail": "This CA will not issue for \"example.net\"",
            "identifier": {
                "type": "dns",
                "value": "example.net"
            }
        }
    ]
})";
  const problem p = parsed(body);
  EXPECT_EQ(p.type_name, "malformed");
  EXPECT_FALSE(p.status.has_value());
  ASSERT_EQ(p.subproblem_count, 2u);
  ASSERT_EQ(p.kept_subproblems(), 2u);
  EXPECT_EQ(p.subproblems[0].type_name, "malformed");
  EXPECT_EQ(p.subproblems[0].detail, "Invalid underscore in DNS name \"_example.org\"");
  EXPECT_EQ(p.subproblems[0].identifier_type, "dns");
  EXPECT_EQ(p.subproblems[0].identifier_value, "_example.org");
  EXPECT_EQ(p.subproblems[1].type, "urn:ietf:params:acme:error:rejectedIdentifier");
  EXPECT_EQ(p.subproblems[1].type_name, "rejectedIdentifier");
  EXPECT_EQ(p.subproblems[1].identifier_value, "example.net");
}

TEST(ProblemReader, ManySubproblemsAreCountedAndTheFirstKept) {
  std::string body = R"({"type":"urn:ietf:params:acme:error:compound","subproblems":[)";
  for (int i = 0; i < 10; ++i) {
    if (i) body += ',';
    body += R"({"type":"caa","identifier":{"type":"dns","value":"n)" + std::to_string(i) +
            R"(.example"}})";
  }
  body += R"(,7,"x",null]})";  // non-objects are not problems: not counted
  const problem p = parsed(body);
  EXPECT_EQ(p.subproblem_count, 10u);
  ASSERT_EQ(p.kept_subproblems(), max_kept_subproblems);
  for (std::size_t i = 0; i < max_kept_subproblems; ++i)
    EXPECT_EQ(p.subproblems[i].identifier_value, "n" + std::to_string(i) + ".example");
  EXPECT_EQ(classify(p, 403), problem_class::permanent);
}

TEST(ProblemReader, BoulderRateLimitAndStatusMember) {
  const problem p = parsed(
      R"({"type":"urn:ietf:params:acme:error:rateLimited","detail":"too many certificates (5) already issued for this exact set of identifiers in the last 168h0m0s, retry after 2025-01-02 03:04:05 UTC","status":429})");
  EXPECT_EQ(p.status, 429);
  EXPECT_EQ(classify(p, 429), problem_class::wait_retry_after);
}

TEST(ProblemReader, MembersOfTheWrongTypeAreIgnored) {
  // RFC 9457 §3.1: ignored, not fatal.
  const problem p = parsed(
      R"({"type":7,"detail":["x"],"status":"400","subproblems":{"type":"dns"},"extra":{"a":[1,2]}})");
  EXPECT_EQ(p.type, "");
  EXPECT_EQ(p.detail, "");
  EXPECT_FALSE(p.status.has_value());
  EXPECT_EQ(p.subproblem_count, 0u);
  EXPECT_EQ(classify(p, 503), problem_class::transient);
  EXPECT_FALSE(parsed(R"({"status":1000})").status.has_value());
  EXPECT_FALSE(parsed(R"({"status":400.5})").status.has_value());
  EXPECT_FALSE(parsed(R"({"status":99})").status.has_value());
  EXPECT_EQ(parsed(R"({"status":599})").status, 599);
  EXPECT_EQ(parsed(R"({})").type, "");
}

TEST(ProblemReader, EscapedStringsAreUnescaped) {
  const problem p = parsed(R"({"type":"urn:ietf:params:acme:error:bad\u004eonce"})");
  EXPECT_EQ(p.type_name, "badNonce");
}

TEST(ProblemReader, ViewsStayValidUntilTheNextRead) {
  problem_reader r;
  std::string body = problem_body("urn:ietf:params:acme:error:badNonce", "stale");
  const auto p = r.read(body);
  body.assign(body.size(), ' ');  // the views point into the reader, not the caller's body
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->type_name, "badNonce");
  EXPECT_EQ(p->detail, "stale");
}

// --- hostile bodies, every reader -----------------------------------------------------------

class BadBody : public ::testing::TestWithParam<std::string_view> {};

TEST_P(BadBody, EveryReaderRefuses) {
  const std::string_view body = GetParam();
  problem_reader pr;
  object_reader orr;
  renewal_info_reader rr;
  EXPECT_FALSE(pr.read(body).has_value()) << body;
  EXPECT_FALSE(orr.read(body).has_value()) << body;
  EXPECT_FALSE(rr.read(body).has_value()) << body;
}

INSTANTIATE_TEST_SUITE_P(
    Malformed, BadBody,
    ::testing::Values("", " ", "null", "[]", "\"badNonce\"", "42", "<html>503</html>",
                      R"({"type":"badNonce")",                    // truncated
                      R"({"type":"badNonce","status":4)",         // truncated in a number
                      R"({"type":"badNon)",                       // truncated in a string
                      R"({"status":"valid"}{"status":"valid"})",  // trailing bytes
                      R"({"status":"valid"} x)", R"({"status":"valid"},)", R"({"status":"valid"}])",
                      R"({"status" "valid"})",
                      "{\"type\":\"\xff\xfe\"}"));  // not UTF-8

TEST(BadBody, TrailingWhiteSpaceIsFine) {
  problem_reader pr;
  EXPECT_TRUE(pr.read("{\"type\":\"badNonce\"} \r\n\t").has_value());
}

TEST(BadBody, OversizedBodiesAreRefusedAtAnyLimit) {
  const std::string body = problem_body("urn:ietf:params:acme:error:badNonce", "x", 400);
  problem_reader exact{body.size()}, small{body.size() - 1};
  EXPECT_TRUE(exact.read(body).has_value());
  EXPECT_FALSE(small.read(body).has_value());
  EXPECT_EQ(small.max_bytes(), body.size() - 1);
  object_reader o{8};
  EXPECT_FALSE(o.read(R"({"status":"valid"})").has_value());
  renewal_info_reader r{8};
  std::string why;
  const auto ri = r.read(R"({"suggestedWindow":{}})", &why);
  ASSERT_FALSE(ri.has_value());
  EXPECT_EQ(ri.error(), errc::body_too_large);
  EXPECT_FALSE(why.empty());
  // The default is the library's.
  EXPECT_EQ(problem_reader{}.max_bytes(), default_max_body_bytes);
  std::string big(default_max_body_bytes + 1, ' ');
  big.front() = '{';
  big.back() = '}';
  EXPECT_FALSE(problem_reader{}.read(big).has_value());
}

// --- orders, authorizations, challenges -----------------------------------------------------

struct status_name {
  std::string_view text;
  resource_status status;
};

class ObjectStatus : public ::testing::TestWithParam<status_name> {};

TEST_P(ObjectStatus, EachStatusIsRecognised) {
  const status_name c = GetParam();
  object_reader r;
  const auto o = r.read(R"({"status":")" + std::string(c.text) + R"("})");
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->status, c.text);
  EXPECT_EQ(o->state(), c.status);
  EXPECT_EQ(parse_resource_status(c.text), c.status);
}

INSTANTIATE_TEST_SUITE_P(Rfc8555, ObjectStatus,
                         ::testing::Values(status_name{"pending", resource_status::pending},
                                           status_name{"ready", resource_status::ready},
                                           status_name{"processing", resource_status::processing},
                                           status_name{"valid", resource_status::valid},
                                           status_name{"invalid", resource_status::invalid},
                                           status_name{"deactivated", resource_status::deactivated},
                                           status_name{"expired", resource_status::expired},
                                           status_name{"revoked", resource_status::revoked},
                                           status_name{"Valid", resource_status::unknown},
                                           status_name{"", resource_status::unknown},
                                           status_name{"issued", resource_status::unknown}));

TEST(ObjectReader, Rfc8555Order) {
  // RFC 8555 §7.1.3's example order.
  const std::string body = R"({
     "status": "valid",
     "expires": "2016-01-20T14:09:07.99Z",
     "identifiers": [
       { "type": "dns", "value": "www.example.org" },
       { "type": "dns", "value": "example.org" }
     ],
     "notBefore": "2016-01-01T00:00:00Z",
     "notAfter": "2016-01-08T00:00:00Z",
     "authorizations": [
       "https://example.com/acme/authz/PAniVnsZcis",
       "https://example.com/acme/authz/r4HqLzrSrpI"
     ],
     "finalize": "https://example.com/acme/order/TOlocE8rfgo/finalize",
     "certificate": "https://example.com/acme/cert/mAt3xBGaobw"
   })";
  object_reader r;
  const auto o = r.read(body);
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->state(), resource_status::valid);
  EXPECT_EQ(o->expires, parse_rfc3339("2016-01-20T14:09:07.99Z"));
  EXPECT_EQ(o->authorization_count, 2u);
  EXPECT_EQ(o->first_authorization, "https://example.com/acme/authz/PAniVnsZcis");
  EXPECT_EQ(o->finalize, "https://example.com/acme/order/TOlocE8rfgo/finalize");
  EXPECT_EQ(o->certificate, "https://example.com/acme/cert/mAt3xBGaobw");
  EXPECT_FALSE(o->error.has_value());
}

TEST(ObjectReader, Rfc8555AuthorizationAndChallenges) {
  // RFC 8555 §7.1.4's example authorization.
  const std::string body = R"({
     "status": "valid",
     "expires": "2015-03-01T14:09:07.99Z",
     "identifier": { "type": "dns", "value": "www.example.org" },
     "challenges": [
       {
         "url": "https://example.com/acme/chall/prV_B7yEyA4",
         "type": "http-01",
         "status": "valid",
         "token": "DGyRejmCefe7v4NfDGDKfA",
         "validated": "2014-12-01T12:05:58.16Z"
       }
     ],
     "wildcard": false
   })";
  object_reader r;
  const auto o = r.read(body);
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->challenge_count, 1u);
  EXPECT_EQ(o->authorization_count, 0u);
  EXPECT_FALSE(o->validated.has_value());  // the challenge's, not the authorization's
}

TEST(ObjectReader, ChallengeProcessingWithError) {
  // RFC 8555 §8.2: the server keeps retrying; the error says why.
  object_reader r;
  const auto o = r.read(R"({"type":"http-01","url":"https://example.com/acme/chall/1",
    "status":"processing","token":"t",
    "error":{"type":"urn:ietf:params:acme:error:connection","detail":"Timeout during connect","status":400}})");
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->state(), resource_status::processing);
  EXPECT_EQ(o->url, "https://example.com/acme/chall/1");
  ASSERT_TRUE(o->error.has_value());
  EXPECT_EQ(o->error->type_name, "connection");
  EXPECT_EQ(o->error->detail, "Timeout during connect");
  EXPECT_EQ(o->error->status, 400);
  EXPECT_EQ(classify(*o->error, 200), problem_class::permanent);
}

TEST(ObjectReader, InvalidOrderWithCompoundError) {
  object_reader r;
  const auto o =
      r.read(R"({"status":"invalid","error":{"type":"urn:ietf:params:acme:error:compound",
    "subproblems":[{"type":"urn:ietf:params:acme:error:dns","detail":"NXDOMAIN","identifier":{"type":"dns","value":"a.example"}}]},
    "validated":"2025-01-02T03:04:05+01:00"})");
  ASSERT_TRUE(o.has_value());
  ASSERT_TRUE(o->error.has_value());
  EXPECT_EQ(o->error->subproblem_count, 1u);
  EXPECT_EQ(o->error->subproblems[0].type_name, "dns");
  EXPECT_EQ(o->error->subproblems[0].identifier_value, "a.example");
  EXPECT_EQ(o->validated, parse_rfc3339("2025-01-02T02:04:05Z"));
}

class BadObject : public ::testing::TestWithParam<std::string_view> {};

TEST_P(BadObject, IsRefused) {
  object_reader r;
  EXPECT_FALSE(r.read(GetParam()).has_value()) << GetParam();
}

INSTANTIATE_TEST_SUITE_P(WrongFields, BadObject,
                         ::testing::Values(R"({"status":"valid","expires":"2016-01-20"})",
                                           R"({"status":"valid","expires":"2016-02-30T00:00:00Z"})",
                                           R"({"status":"valid","expires":"2016-01-20T14:09:07"})",
                                           R"({"status":"valid","expires":1453298947})",
                                           R"({"status":"valid","validated":"yesterday"})",
                                           R"({"status":7})", R"({"status":null})",
                                           R"({"status":"valid","url":1})",
                                           R"({"status":"valid","finalize":{}})",
                                           R"({"status":"valid","certificate":[]})",
                                           R"({"status":"valid","authorizations":"https://x"})",
                                           R"({"status":"valid","authorizations":["https://x",7]})",
                                           R"({"status":"valid","challenges":{}})",
                                           R"({"status":"valid","challenges":["http-01"]})",
                                           R"({"status":"invalid","error":"boom"})",
                                           R"({"status":"invalid","error":{"type":"dns")"));

TEST(ObjectReader, UnknownFieldsAndMissingStatus) {
  object_reader r;
  const auto o =
      r.read(R"({"identifiers":[{"type":"dns","value":"x"}],"profile":{"a":[1,{"b":null}]}})");
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->state(), resource_status::unknown);
  EXPECT_FALSE(o->expires.has_value());
}

// --- renewalInfo --------------------------------------------------------------------------

TEST(RenewalInfo, Rfc9773Example) {
  // RFC 9773 §4.2's example.
  renewal_info_reader r;
  const auto ri = r.read(R"({
     "suggestedWindow": {
       "start": "2025-01-02T04:00:00Z",
       "end": "2025-01-03T04:00:00Z"
     },
     "explanationURL": "https://acme.example.com/docs/ari"
   })");
  ASSERT_TRUE(ri.has_value()) << ri.error().message();
  EXPECT_EQ(ri.value().window_start, parse_rfc3339("2025-01-02T04:00:00Z"));
  EXPECT_EQ(ri.value().window_end - ri.value().window_start, duration{24h});
  EXPECT_EQ(ri.value().explanation_url, "https://acme.example.com/docs/ari");
}

TEST(RenewalInfo, ExplanationUrlIsOptional) {
  renewal_info_reader r;
  const auto ri = r.read(
      R"({"suggestedWindow":{"end":"2025-01-03T04:00:00.5+02:00","start":"2025-01-03T02:00:00Z","x":1},"y":[]})");
  ASSERT_TRUE(ri.has_value());
  EXPECT_EQ(ri.value().explanation_url, "");
  EXPECT_EQ(ri.value().window_end - ri.value().window_start, duration{500ms});
}

struct ri_case {
  std::string_view label;
  std::string_view body;
  errc code;
  friend std::ostream& operator<<(std::ostream& os, const ri_case& c) { return os << c.label; }
};

class BadRenewalInfo : public ::testing::TestWithParam<ri_case> {};

TEST_P(BadRenewalInfo, SaysWhy) {
  const ri_case& c = GetParam();
  renewal_info_reader r;
  std::string why;
  const auto ri = r.read(c.body, &why);
  ASSERT_FALSE(ri.has_value()) << c.body;
  EXPECT_EQ(ri.error(), make_error_code(c.code)) << why;
  EXPECT_FALSE(why.empty());
  EXPECT_FALSE(r.read(c.body).has_value());  // no out-parameter: same answer
}

INSTANTIATE_TEST_SUITE_P(
    Rfc9773, BadRenewalInfo,
    ::testing::Values(
        ri_case{
            "end_equals_start",
            R"({"suggestedWindow":{"start":"2025-01-02T04:00:00Z","end":"2025-01-02T04:00:00Z"}})",
            errc::body_wrong_type},
        ri_case{
            "end_before_start",
            R"({"suggestedWindow":{"start":"2025-01-03T04:00:00Z","end":"2025-01-02T04:00:00Z"}})",
            errc::body_wrong_type},
        ri_case{
            "equal_across_offsets",
            R"({"suggestedWindow":{"start":"2025-01-02T04:00:00Z","end":"2025-01-02T06:00:00+02:00"}})",
            errc::body_wrong_type},
        ri_case{"no_window", R"({"explanationURL":"https://x"})", errc::body_missing_field},
        ri_case{"empty_object", R"({})", errc::body_missing_field},
        ri_case{"no_end", R"({"suggestedWindow":{"start":"2025-01-02T04:00:00Z"}})",
                errc::body_missing_field},
        ri_case{"no_start", R"({"suggestedWindow":{"end":"2025-01-02T04:00:00Z"}})",
                errc::body_missing_field},
        ri_case{"window_not_object", R"({"suggestedWindow":"soon"})", errc::body_wrong_type},
        ri_case{"start_number",
                R"({"suggestedWindow":{"start":1735790400,"end":"2025-01-03T04:00:00Z"}})",
                errc::body_wrong_type},
        ri_case{"start_date_only",
                R"({"suggestedWindow":{"start":"2025-01-02","end":"2025-01-03T04:00:00Z"}})",
                errc::body_wrong_type},
        ri_case{
            "end_no_offset",
            R"({"suggestedWindow":{"start":"2025-01-02T04:00:00Z","end":"2025-01-03T04:00:00"}})",
            errc::body_wrong_type},
        ri_case{
            "end_bad_day",
            R"({"suggestedWindow":{"start":"2025-01-02T04:00:00Z","end":"2025-02-30T04:00:00Z"}})",
            errc::body_wrong_type},
        ri_case{
            "explanation_not_string",
            R"({"suggestedWindow":{"start":"2025-01-02T04:00:00Z","end":"2025-01-03T04:00:00Z"},"explanationURL":7})",
            errc::body_wrong_type},
        ri_case{"array", R"([])", errc::body_wrong_type},
        ri_case{"not_json", "Service Unavailable", errc::body_not_json},
        ri_case{"truncated", R"({"suggestedWindow":{"start":"2025-01-02T04:00:00Z")",
                errc::body_not_json},
        ri_case{
            "trailing",
            R"({"suggestedWindow":{"start":"2025-01-02T04:00:00Z","end":"2025-01-03T04:00:00Z"}} {})",
            errc::body_not_json}),
    [](const auto& c) { return std::string(c.param.label); });

TEST(RenewalInfo, ReaderIsReusable) {
  renewal_info_reader r;
  EXPECT_FALSE(r.read("{").has_value());
  const auto ri = r.read(
      R"({"suggestedWindow":{"start":"2025-01-02T04:00:00Z","end":"2025-01-03T04:00:00Z"}})");
  EXPECT_TRUE(ri.has_value());
}

}  // namespace
