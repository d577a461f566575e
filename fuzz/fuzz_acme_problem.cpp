// ACME problem documents from a hostile server (RFC 8555 §6.7, RFC 9457): acme::problem_reader
// on the raw input, checked against a DOM parse of the same bytes, then classify() and
// is_replacement_rejection() under every boundary HTTP status.
//
// Input: the whole input is the body. It is read at the default limit, at exactly its size
// (same answer) and one byte under (refused).
#include "certretry/acme/reply.hpp"
#include "fuzz_support.hpp"

#include <simdjson.h>

#include <array>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace {

using namespace certretry;
using namespace certretry::acme;

constexpr std::array<int, 19> statuses{0,   -1,  200, 399, 400, 403, 404,     408,     409, 429,
                                       499, 500, 503, 599, 600, 999, INT_MIN, INT_MAX, 100};

bool valid_utf8(std::string_view s) { return simdjson::validate_utf8(s.data(), s.size()); }

// A view the reader returned: well-formed text no longer than the body it came from.
void check_view(std::string_view s, std::size_t body_size) {
  FUZZ_CHECK(s.size() <= body_size);
  FUZZ_CHECK(valid_utf8(s));
}

bool known(std::string_view name) {
  for (std::string_view t : acme::detail::permanent_types)
    if (name == t) return true;
  return name == "badNonce" || name == "rateLimited" || name == "serverInternal";
}

void check_problem(const problem& p, std::size_t body_size) {
  for (std::string_view s : {p.type, p.type_name, p.detail}) check_view(s, body_size);
  FUZZ_CHECK(p.type_name == type_name_of(p.type));
  // The name is the type's own tail, not a copy.
  if (!p.type_name.empty())
    FUZZ_CHECK(p.type_name.data() + p.type_name.size() == p.type.data() + p.type.size());
  if (p.status) FUZZ_CHECK(*p.status >= 100 && *p.status <= 599);
  FUZZ_CHECK(p.kept_subproblems() <= max_kept_subproblems);
  FUZZ_CHECK(p.kept_subproblems() <= p.subproblem_count);
  for (std::size_t i = 0; i < max_kept_subproblems; ++i) {
    const subproblem& s = p.subproblems[i];
    for (std::string_view v :
         {s.type, s.type_name, s.detail, s.identifier_type, s.identifier_value})
      check_view(v, body_size);
    FUZZ_CHECK(s.type_name == type_name_of(s.type));
    if (i >= p.kept_subproblems())
      FUZZ_CHECK(s.type.empty() && s.detail.empty() && s.identifier_value.empty());
  }

  const std::string_view n = p.type_name;
  for (int status : statuses) {
    const problem_class c = classify(p, status);
    if (known(n)) {
      FUZZ_CHECK(c == classify(p, 400));  // a known type decides alone
      FUZZ_CHECK((c == problem_class::retry_with_new_nonce) == (n == "badNonce"));
      FUZZ_CHECK((c == problem_class::wait_retry_after) == (n == "rateLimited"));
      FUZZ_CHECK((c == problem_class::transient) == (n == "serverInternal"));
    } else if (status == 429) {
      FUZZ_CHECK(c == problem_class::wait_retry_after);
    } else if (status == 408 || (status >= 500 && status <= 599)) {
      FUZZ_CHECK(c == problem_class::transient);
    } else {
      FUZZ_CHECK(c == problem_class::permanent);
    }
    const bool rejection = is_replacement_rejection(p, status);
    if (rejection) {
      FUZZ_CHECK(status >= 400 && status <= 499 && status != 429 && status != 408);
      FUZZ_CHECK(n == "alreadyReplaced" || n == "conflict" || status == 409 ||
                 mentions_replacement(p));
      FUZZ_CHECK(c == problem_class::permanent);
    }
    if (status >= 400 && status <= 499 && status != 429 && status != 408 &&
        (n == "alreadyReplaced" || n == "conflict"))
      FUZZ_CHECK(rejection);
  }
}

// The reader against a DOM parse: whenever the body is one JSON object within the limit, the
// reader must accept it, and a member's last value of the right type wins.
void check_against_dom(const std::optional<problem>& got, std::string_view body) {
  static simdjson::dom::parser dom;
  simdjson::dom::object obj;
  if (dom.parse(body.data(), body.size()).get_object().get(obj)) return;
  FUZZ_CHECK(got.has_value());
  std::string_view type, detail, s;
  std::optional<int> status;
  std::size_t subs = 0;
  for (auto field : obj) {
    if (field.key == "type") {
      if (!field.value.get_string().get(s)) type = s;
    } else if (field.key == "detail") {
      if (!field.value.get_string().get(s)) detail = s;
    } else if (field.key == "status") {
      std::int64_t v = 0;
      if (field.value.is_int64() && !field.value.get_int64().get(v) && v >= 100 && v <= 599)
        status = static_cast<int>(v);
    } else if (field.key == "subproblems") {
      simdjson::dom::array arr;
      if (field.value.get_array().get(arr)) continue;
      subs = 0;
      for (auto e : arr)
        if (e.is_object()) ++subs;
    }
  }
  FUZZ_CHECK(got->type == type);
  FUZZ_CHECK(got->detail == detail);
  FUZZ_CHECK(got->status == status);
  FUZZ_CHECK(got->subproblem_count == subs);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body{reinterpret_cast<const char*>(data), size};
  static problem_reader reader;
  const std::optional<problem> got = reader.read(body);
  if (got) check_problem(*got, body.size());

  // Same answer at exactly the body's size; refused one byte under.
  problem_reader exact{size};
  const std::optional<problem> again = exact.read(body);
  FUZZ_CHECK(again.has_value() == got.has_value());
  if (got) {
    FUZZ_CHECK(again->type == got->type && again->detail == got->detail &&
               again->status == got->status && again->subproblem_count == got->subproblem_count);
  }
  if (size > 0) {
    problem_reader under{size - 1};
    FUZZ_CHECK(!under.read(body).has_value());
  }
  check_against_dom(got, body);
  return 0;
}
