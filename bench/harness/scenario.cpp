#include "scenario.hpp"

#include <simdjson.h>

#include <cmath>

namespace certretry::harness {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

bool fail(std::string& detail, std::string msg) {
  detail = std::move(msg);
  return false;
}

std::optional<std::error_code> transport_error_code(std::string_view name) {
  if (name == "timeout") return make_error_code(errc::transport_timeout);
  if (name == "connection_refused") return make_error_code(errc::connection_refused);
  if (name == "tls") return make_error_code(errc::tls_failure);
  if (name == "reset") return make_error_code(errc::connection_reset);
  if (name == "dns_failure") return make_error_code(errc::dns_failure);
  return std::nullopt;
}

bool parse_latency(element e, std::string_view where, duration& out, std::string& detail) {
  double s = 0;
  if (e.is_int64())
    s = static_cast<double>(e.get_int64().value());
  else if (e.is_uint64())
    s = static_cast<double>(e.get_uint64().value());
  else if (e.is_double())
    s = e.get_double().value();
  else
    return fail(detail, std::string(where) + ".latency_s: must be a number of seconds");
  if (!(s >= 0.0) || s > 1e7)
    return fail(detail, std::string(where) + ".latency_s: must be between 0 and 10000000");
  out = duration{static_cast<std::int64_t>(std::llround(s * 1000.0))};
  return true;
}

bool parse_reply(element e, const std::string& where, scripted_reply& out, std::string& detail) {
  simdjson::dom::object obj;
  if (e.get_object().get(obj)) return fail(detail, where + ": a response must be an object");
  // Unknown keys are errors here: a typo ("latency") would silently change the run.
  for (auto [k, v] : obj) {
    (void)v;
    if (k != "status" && k != "headers" && k != "body" && k != "latency_s" &&
        k != "transport_error" && k != "until_s")
      return fail(detail, where + "." + std::string(k) +
                              ": unknown field (status, headers, body, latency_s, "
                              "transport_error, until_s)");
  }
  if (element st; !obj["status"].get(st) && !obj["transport_error"].get(st))
    return fail(detail, where + ": give either status or transport_error, not both");
  duration latency{};
  if (element l; !obj["latency_s"].get(l) && !parse_latency(l, where, latency, detail))
    return false;
  if (element te; !obj["transport_error"].get(te)) {
    std::string_view name;
    if (te.get_string().get(name))
      return fail(detail, where + ".transport_error: must be a string");
    auto ec = transport_error_code(name);
    if (!ec)
      return fail(detail, where + ".transport_error: '" + std::string(name) +
                              "' is not one of timeout, connection_refused, tls, reset, "
                              "dns_failure");
    out = scripted_reply::fail(*ec, latency);
    return true;
  }
  element st;
  if (obj["status"].get(st))
    return fail(detail, where + ".status: missing (or give transport_error)");
  std::int64_t status = 0;
  if (st.get_int64().get(status) || status < 100 || status > 599)
    return fail(detail, where + ".status: must be an integer from 100 to 599");
  std::vector<header_field> headers;
  if (element h; !obj["headers"].get(h)) {
    simdjson::dom::object ho;
    if (h.get_object().get(ho))
      return fail(detail, where + ".headers: must be an object of name: value strings");
    for (auto [k, v] : ho) {
      std::string_view value;
      if (v.get_string().get(value))
        return fail(detail, where + ".headers." + std::string(k) + ": value must be a string");
      headers.push_back({std::string(k), std::string(value)});
    }
  }
  std::string body;
  if (element b; !obj["body"].get(b)) {
    std::string_view text;
    if (!b.get_string().get(text))
      body.assign(text);  // a string is sent byte for byte (malformed bodies can be scripted)
    else
      body = simdjson::minify(b);
  }
  out = scripted_reply::respond(static_cast<int>(status), std::move(body), std::move(headers),
                                latency);
  // Extension: served until this many virtual seconds have passed, then the next response.
  if (element u; !obj["until_s"].get(u)) {
    duration until{};
    if (!parse_latency(u, where, until, detail)) {
      detail.replace(detail.find("latency_s"), 9, "until_s");
      return false;
    }
    out.until = until;
  }
  return true;
}

}  // namespace

result<scenario> parse_scenario(std::string_view json, std::string& detail) {
  if (json.size() > max_scenario_bytes) {
    detail = "scenario: larger than " + std::to_string(max_scenario_bytes) + " bytes";
    return errc::scenario_malformed;
  }
  simdjson::dom::parser parser;
  const simdjson::padded_string padded(json);
  element root;
  if (auto err = parser.parse(padded).get(root)) {
    detail = std::string("scenario: not valid JSON (") + simdjson::error_message(err) + ")";
    return errc::scenario_malformed;
  }
  simdjson::dom::object top;
  if (root.get_object().get(top)) {
    detail = "scenario: the top level must be an object";
    return errc::scenario_malformed;
  }
  scenario s;
  auto bad = [&](std::string msg) -> result<scenario> {
    detail = std::move(msg);
    return errc::scenario_malformed;
  };

  std::string_view machine;
  if (element m; top["machine"].get(m))
    return bad("machine: missing (e.g. \"async-poll\")");
  else if (m.get_string().get(machine))
    return bad("machine: must be a string");
  s.machine.assign(machine);

  if (element o; !top["options"].get(o)) {
    simdjson::dom::object oo;
    if (o.get_object().get(oo)) return bad("options: must be an object");
    for (auto [k, v] : oo) {
      option_value ov;
      switch (v.type()) {
        case element_type::BOOL: ov.v = v.get_bool().value(); break;
        case element_type::INT64: ov.v = static_cast<double>(v.get_int64().value()); break;
        case element_type::UINT64: ov.v = static_cast<double>(v.get_uint64().value()); break;
        case element_type::DOUBLE: ov.v = v.get_double().value(); break;
        case element_type::STRING: ov.v = std::string(v.get_string().value()); break;
        default: ov.v = raw_json{simdjson::minify(v)}; break;
      }
      s.options.insert_or_assign(std::string(k), std::move(ov));
    }
  }

  if (element sd; !top["seed"].get(sd)) {
    std::uint64_t seed = 0;
    if (std::int64_t i; !sd.get_int64().get(i) && i >= 0)
      seed = static_cast<std::uint64_t>(i);
    else if (sd.get_uint64().get(seed))
      return bad("seed: must be a non-negative integer");
    s.seed = seed;
  }

  element server;
  if (top["server"].get(server))
    return bad("server: missing (an object of \"METHOD PATH\": [responses])");
  simdjson::dom::object so;
  if (server.get_object().get(so)) return bad("server: must be an object");
  for (auto [k, v] : so) {
    const std::string key(k);
    const std::string where = "server[\"" + key + "\"]";
    if (key != "*") {
      const auto space = key.find(' ');
      if (space == std::string::npos || space == 0 || space + 1 >= key.size() ||
          key[space + 1] != '/')
        return bad(where + ": key must be \"METHOD /path\" or \"*\"");
    }
    simdjson::dom::array list;
    if (v.get_array().get(list)) return bad(where + ": must be a list of responses");
    std::vector<scripted_reply> replies;
    std::size_t i = 0;
    for (element r : list) {
      scripted_reply reply;
      if (!parse_reply(r, where + "[" + std::to_string(i) + "]", reply, detail))
        return errc::scenario_malformed;
      replies.push_back(std::move(reply));
      ++i;
    }
    if (replies.empty()) return bad(where + ": the list of responses is empty");
    s.server.emplace_back(key, std::move(replies));
  }

  if (element e; !top["expect"].get(e)) {
    if (!e.is_object()) return bad("expect: must be an object");
    s.expect = simdjson::minify(e);
  }
  return s;
}

}  // namespace certretry::harness
