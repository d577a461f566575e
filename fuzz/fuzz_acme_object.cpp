// ACME orders, authorizations and challenges from a hostile server (RFC 8555 §7.1):
// acme::object_reader on the raw input, checked against a DOM parse of the same bytes under the
// reader's strict rules (a known field of the wrong type or an unparsable timestamp refuses the
// whole body; the nested error is read like any problem document).
//
// Input: the whole input is the body. It is read at the default limit, at exactly its size
// (same answer) and one byte under (refused).
#include "certretry/acme/reply.hpp"
#include "fuzz_support.hpp"

#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace {

using namespace certretry;
using namespace certretry::acme;

bool valid_utf8(std::string_view s) { return simdjson::validate_utf8(s.data(), s.size()); }

void check_view(std::string_view s, std::size_t body_size) {
  FUZZ_CHECK(s.size() <= body_size);
  FUZZ_CHECK(valid_utf8(s));
}

void check_object(const acme_object& o, std::size_t body_size) {
  for (std::string_view s : {o.status, o.url, o.finalize, o.certificate, o.first_authorization})
    check_view(s, body_size);
  FUZZ_CHECK(o.state() == parse_resource_status(o.status));
  if (o.state() == resource_status::unknown) {
    for (std::string_view s : {"pending", "ready", "processing", "valid", "invalid", "deactivated",
                               "expired", "revoked"})
      FUZZ_CHECK(o.status != s);
  }
  if (o.authorization_count == 0) FUZZ_CHECK(o.first_authorization.empty());
  FUZZ_CHECK(o.kept_challenges() <= max_kept_challenges);
  for (std::size_t i = 0; i < o.kept_challenges(); ++i) {
    const challenge_ref& c = o.challenges[i];
    for (std::string_view s : {c.type, c.url, c.status, c.token}) check_view(s, body_size);
    if (c.error) check_view(c.error->detail, body_size);
    if (!c.type.empty()) FUZZ_CHECK(o.challenge(c.type) != nullptr);
  }
  if (const problem* p = o.first_error(); p && !o.error) FUZZ_CHECK(o.kept_challenges() > 0);
  // Each counted element takes at least two bytes ("{}" or "\"\"").
  FUZZ_CHECK(o.authorization_count <= body_size / 2 && o.challenge_count <= body_size / 2);
  if (o.error) {
    const problem& p = *o.error;
    check_view(p.type, body_size);
    check_view(p.detail, body_size);
    FUZZ_CHECK(p.type_name == type_name_of(p.type));
    FUZZ_CHECK(p.kept_subproblems() <= max_kept_subproblems);
    FUZZ_CHECK(!is_replacement_rejection(p, 503) && !is_replacement_rejection(p, 200));
  }
}

// Whether the DOM view of the body passes the reader's rules, and what it should have read.
struct expected {
  bool ok = true;
  std::string_view status, url, first_authorization, error_type;
  bool has_error = false;
  std::optional<time_point> expires;
  std::size_t authorizations = 0, challenges = 0;
};

expected refused() {
  expected e;
  e.ok = false;
  return e;
}

expected reference(simdjson::dom::object obj) {
  expected e;
  for (auto field : obj) {
    const std::string_view k = field.key;
    const simdjson::dom::element v = field.value;
    std::string_view s;
    if (k == "status" || k == "url" || k == "finalize" || k == "certificate" || k == "token") {
      if (v.get_string().get(s)) return refused();
      if (k == "status") e.status = s;
      if (k == "url") e.url = s;
    } else if (k == "expires" || k == "validated") {
      if (v.get_string().get(s)) return refused();
      const auto t = parse_rfc3339(s);
      if (!t) return refused();
      if (k == "expires") e.expires = t;
    } else if (k == "error") {
      simdjson::dom::object p;
      if (v.get_object().get(p)) return refused();
      e.has_error = true;
      e.error_type = {};
      for (auto pf : p)
        if (pf.key == "type" && !pf.value.get_string().get(s)) e.error_type = s;
    } else if (k == "authorizations") {
      simdjson::dom::array arr;
      if (v.get_array().get(arr)) return refused();
      e.authorizations = 0;
      e.first_authorization = {};
      for (auto a : arr) {
        if (a.get_string().get(s)) return refused();
        if (e.authorizations++ == 0) e.first_authorization = s;
      }
    } else if (k == "challenges") {
      simdjson::dom::array arr;
      if (v.get_array().get(arr)) return refused();
      e.challenges = 0;
      for (auto c : arr) {
        simdjson::dom::object co;
        if (c.get_object().get(co)) return refused();
        // A listed challenge is as strict as the object: its known fields have their types.
        for (auto cf : co) {
          if (cf.key == "type" || cf.key == "url" || cf.key == "status" || cf.key == "token") {
            if (!cf.value.is_string()) return refused();
          } else if (cf.key == "error") {
            if (!cf.value.is_object()) return refused();
          }
        }
        ++e.challenges;
      }
    }
  }
  return e;
}

void check_against_dom(const std::optional<acme_object>& got, std::string_view body) {
  static simdjson::dom::parser dom;
  simdjson::dom::object obj;
  if (dom.parse(body.data(), body.size()).get_object().get(obj)) return;
  const expected e = reference(obj);
  FUZZ_CHECK(got.has_value() == e.ok);
  if (!got) return;
  FUZZ_CHECK(got->status == e.status);
  FUZZ_CHECK(got->url == e.url);
  FUZZ_CHECK(got->expires == e.expires);
  FUZZ_CHECK(got->authorization_count == e.authorizations);
  FUZZ_CHECK(got->first_authorization == e.first_authorization);
  FUZZ_CHECK(got->challenge_count == e.challenges);
  FUZZ_CHECK(got->error.has_value() == e.has_error);
  if (got->error) FUZZ_CHECK(got->error->type == e.error_type);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body{reinterpret_cast<const char*>(data), size};
  static object_reader reader;
  const std::optional<acme_object> got = reader.read(body);
  if (got) check_object(*got, body.size());

  object_reader exact{size};
  const std::optional<acme_object> again = exact.read(body);
  FUZZ_CHECK(again.has_value() == got.has_value());
  if (got) {
    FUZZ_CHECK(again->status == got->status && again->expires == got->expires &&
               again->authorization_count == got->authorization_count &&
               again->error.has_value() == got->error.has_value());
  }
  if (size > 0) {
    object_reader under{size - 1};
    FUZZ_CHECK(!under.read(body).has_value());
  }
  check_against_dom(got, body);
  return 0;
}
