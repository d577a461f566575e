// renewalInfo from a hostile server (RFC 9773 §4.2): acme::renewal_info_reader on the raw input.
// Whenever it succeeds the window's end is after its start; every failure is one of the four
// body errors with a reason; and against a DOM parse of the same bytes the reader gives exactly
// the answer its rules give (fields read in order, the last suggestedWindow winning).
//
// Input: the whole input is the body. It is read at the default limit, at exactly its size
// (same answer) and one byte under (body_too_large).
#include "certretry/acme/reply.hpp"
#include "fuzz_support.hpp"

#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace {

using namespace certretry;
using namespace certretry::acme;

struct expected {
  std::optional<errc> error;
  time_point start{}, end{};
  std::string_view explanation;
};

expected fail(errc e) {
  expected out;
  out.error = e;
  return out;
}

expected reference(simdjson::dom::element root) {
  simdjson::dom::object obj;
  if (root.get_object().get(obj)) return fail(errc::body_wrong_type);
  expected e;
  bool have_window = false;
  std::optional<time_point> start, end;
  for (auto field : obj) {
    std::string_view s;
    if (field.key == "suggestedWindow") {
      simdjson::dom::object w;
      if (field.value.get_object().get(w)) return fail(errc::body_wrong_type);
      have_window = true;
      start.reset();
      end.reset();
      for (auto f : w) {
        if (f.key != "start" && f.key != "end") continue;
        if (f.value.get_string().get(s)) return fail(errc::body_wrong_type);
        const auto t = parse_rfc3339(s);
        if (!t) return fail(errc::body_wrong_type);
        (f.key == "start" ? start : end) = t;
      }
    } else if (field.key == "explanationURL") {
      if (field.value.get_string().get(s)) return fail(errc::body_wrong_type);
      e.explanation = s;
    }
  }
  if (!have_window || !start || !end) return fail(errc::body_missing_field);
  if (*end <= *start) return fail(errc::body_wrong_type);
  e.start = *start;
  e.end = *end;
  return e;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body{reinterpret_cast<const char*>(data), size};
  static renewal_info_reader reader;
  std::string why;
  const auto got = reader.read(body, &why);
  if (got) {
    const renewal_info& ri = got.value();
    FUZZ_CHECK(ri.window_end > ri.window_start);
    FUZZ_CHECK(ri.explanation_url.size() <= size);
    FUZZ_CHECK(simdjson::validate_utf8(ri.explanation_url.data(), ri.explanation_url.size()));
    FUZZ_CHECK(why.empty());
  } else {
    const std::error_code ec = got.error();
    FUZZ_CHECK(ec == errc::body_not_json || ec == errc::body_missing_field ||
               ec == errc::body_wrong_type);  // never too large at the default limit here
    FUZZ_CHECK(!why.empty());
  }

  renewal_info_reader exact{size};
  const auto again = exact.read(body);
  FUZZ_CHECK(again.has_value() == got.has_value());
  if (got) {
    FUZZ_CHECK(again.value().window_start == got.value().window_start &&
               again.value().window_end == got.value().window_end);
  } else {
    FUZZ_CHECK(again.error() == got.error());
  }
  if (size > 0) {
    renewal_info_reader under{size - 1};
    const auto refused = under.read(body);
    FUZZ_CHECK(!refused.has_value() && refused.error() == errc::body_too_large);
  }

  static simdjson::dom::parser dom;
  simdjson::dom::element root;
  if (dom.parse(body.data(), body.size()).get(root)) return 0;
  const expected e = reference(root);
  if (e.error) {
    FUZZ_CHECK(!got.has_value() && got.error() == *e.error);
  } else {
    FUZZ_CHECK(got.has_value());
    FUZZ_CHECK(got.value().window_start == e.start && got.value().window_end == e.end);
    FUZZ_CHECK(got.value().explanation_url == e.explanation);
  }
  return 0;
}
