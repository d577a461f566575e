#include "scenario.hpp"

#include "files.hpp"
#include "json_number.hpp"

#include "certretry/core/json_text.hpp"
#include "certretry/ledger/ledger_json.hpp"
#include "certretry/ledger/start_jitter.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <optional>

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
  const std::optional<double> n = number_of(e);
  if (!n) return fail(detail, std::string(where) + ".latency_s: must be a number of seconds");
  const double s = *n;
  if (!(s >= 0.0) || s > 1e7)
    return fail(detail, std::string(where) + ".latency_s: must be between 0 and 10000000");
  out = ms_of_seconds(s);
  return true;
}

// Where `body_file`s come from, and how many of their bytes have been read so far.
struct file_reader {
  const parse_options& options;
  std::size_t total = 0;
};

// A member of `path` as the messages name it: .name, or ["GET /x"] when it is not a name.
std::string member_path(const std::string& path, std::string_view key) {
  const bool plain = !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
  if (plain) return path.empty() ? std::string(key) : path + "." + std::string(key);
  std::string quoted;
  certretry::detail::append_json_string(quoted, key);
  return (path.empty() ? "scenario" : path) + "[" + quoted + "]";
}

// Every object of the scenario, at any depth, has each key once: first-wins and last-wins rules
// would otherwise pick silently between two values (RFC 8259 §4 leaves it open).
bool no_duplicate_keys(element e, const std::string& path, std::string& detail) {
  if (simdjson::dom::array a; !e.get_array().get(a)) {
    std::size_t i = 0;
    for (element x : a)
      if (!no_duplicate_keys(
              x, (path.empty() ? "scenario" : path) + "[" + std::to_string(i++) + "]", detail))
        return false;
    return true;
  }
  simdjson::dom::object o;
  if (e.get_object().get(o)) return true;
  std::vector<std::string_view> keys;
  for (auto [k, v] : o) keys.push_back(k);
  std::vector<std::string_view> sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  if (const auto d = std::adjacent_find(sorted.begin(), sorted.end()); d != sorted.end()) {
    std::string name;
    certretry::detail::append_json_string(name, *d);
    return fail(detail, (path.empty() ? "scenario" : path) + ": duplicate key " + name);
  }
  for (auto [k, v] : o)
    if (!no_duplicate_keys(v, member_path(path, k), detail)) return false;
  return true;
}

bool parse_reply(element e, const std::string& where, scripted_reply& out, std::string& detail,
                 file_reader& files) {
  simdjson::dom::object obj;
  if (e.get_object().get(obj)) return fail(detail, where + ": a response must be an object");
  // Unknown keys are errors here: a typo ("latency") would silently change the run.
  for (auto [k, v] : obj) {
    (void)v;
    if (k != "status" && k != "headers" && k != "body" && k != "latency_s" &&
        k != "transport_error" && k != "until_s" && k != "body_file")
      return fail(detail, where + "." + std::string(k) +
                              ": unknown field (status, headers, body, body_file, latency_s, "
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
  // Extension: the body's bytes from a file, relative to the scenario's folder (bodies larger
  // than a scenario may be, or bytes that are not UTF-8).
  if (element bf; !obj["body_file"].get(bf)) {
    std::string_view name;
    if (bf.get_string().get(name) || name.empty())
      return fail(detail, where + ".body_file: must be a file name");
    if (element b; !obj["body"].get(b))
      return fail(detail, where + ": give either body or body_file, not both");
    if (!files.options.base_dir)
      return fail(detail, where + ".body_file: files are read only from a scenario file");
    const std::string path =
        name.front() == '/' ? std::string(name) : *files.options.base_dir + "/" + std::string(name);
    std::string error;
    if (!read_file_bounded(path, max_body_file_bytes - files.total,
                           "body_file (64 MiB for all of a scenario's files together)", body,
                           error))
      return fail(detail, where + ".body_file: " + error);
    files.total += body.size();
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

result<scenario> parse_scenario(std::string_view json, std::string& detail,
                                const parse_options& options) {
  if (json.size() > max_scenario_bytes) {
    detail = "scenario: larger than the " + size_text(max_scenario_bytes) + " limit of a scenario";
    return errc::scenario_malformed;
  }
  simdjson::dom::parser parser;
  const simdjson::padded_string padded(json);
  element root;
  if (auto err = parser.parse(padded).get(root)) {
    detail = "scenario: not valid JSON";
    // simdjson does not say where; the library's own checker does.
    if (const json_syntax j = check_json(json); !j.ok()) {
      std::size_t line = 1, column = 1;
      for (std::size_t i = 0; i < j.error_at && i < json.size(); ++i) {
        if (json[i] == '\n') {
          ++line;
          column = 1;
        } else if ((static_cast<unsigned char>(json[i]) & 0xC0) != 0x80) {
          ++column;  // columns count characters, not UTF-8 continuation bytes
        }
      }
      detail += " at line " + std::to_string(line) + ", column " + std::to_string(column) + ": " +
                std::string(j.what);
    } else {
      detail += std::string(" (") + simdjson::error_message(err) + ")";
    }
    return errc::scenario_malformed;
  }
  if (!no_duplicate_keys(root, "", detail)) return errc::scenario_malformed;
  file_reader files{options};
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
      s.options.emplace(std::string(k), std::move(ov));
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
  std::size_t conditions = 0;
  for (auto [k, v] : so) {
    const std::string key(k);
    const std::string where = "server[\"" + key + "\"]";
    if (key != "*") {
      const auto space = key.find(' ');
      if (space == std::string::npos || space == 0 || space + 1 >= key.size() ||
          key[space + 1] != '/')
        return bad(where + ": key must be \"METHOD /path\" or \"*\"");
      // Extension: a key that depends on the request's body (docs/harness.md).
      if (const auto cond = key.find(" if-body-"); cond != std::string::npos) {
        const std::string_view rest = std::string_view(key).substr(cond);
        const bool known = rest.substr(0, scripted_transport::if_body_contains.size()) ==
                               scripted_transport::if_body_contains ||
                           rest.substr(0, scripted_transport::if_body_lacks.size()) ==
                               scripted_transport::if_body_lacks;
        const std::size_t word = rest.substr(0, scripted_transport::if_body_contains.size()) ==
                                         scripted_transport::if_body_contains
                                     ? scripted_transport::if_body_contains.size()
                                     : scripted_transport::if_body_lacks.size();
        if (!known || rest.size() <= word || key.find(' ', space + 1) != cond)
          return bad(where +
                     ": a condition must be \"METHOD /path if-body-contains TEXT\" or "
                     "\"METHOD /path if-body-lacks TEXT\" (TEXT not empty)");
        if (++conditions > scripted_transport::max_conditions)
          return bad(where + ": more than 64 keys with a body condition");
      }
    }
    simdjson::dom::array list;
    if (v.get_array().get(list)) return bad(where + ": must be a list of responses");
    std::vector<scripted_reply> replies;
    std::size_t i = 0;
    for (element r : list) {
      scripted_reply reply;
      if (!parse_reply(r, where + "[" + std::to_string(i) + "]", reply, detail, files))
        return errc::scenario_malformed;
      replies.push_back(std::move(reply));
      ++i;
    }
    if (replies.empty()) return bad(where + ": the list of responses is empty");
    s.server.emplace_back(key, std::move(replies));
  }

  // Extension: the step cap.
  if (element m; !top["max_steps"].get(m)) {
    std::uint64_t n = 0;
    if (m.get_uint64().get(n) || n == 0 || n > max_max_steps)
      return bad("max_steps: must be a whole number from 1 to " + std::to_string(max_max_steps));
    s.max_steps = n;
  }

  // Extension: the ledger the run starts with, exactly as a caller saves it (to_json): read by
  // the library's own strict reader, so its errors name the member ("ledger: consecutive: …").
  if (element l; !top["ledger"].get(l)) {
    if (!l.is_object())
      return bad("ledger: must be an object, a saved failure ledger (docs/operations.md)");
    std::string why;
    auto ledger = parse_ledger(simdjson::minify(l), why);
    if (!ledger) return bad(why);
    s.ledger = std::move(ledger).value();
  }

  // Extension: the ledger's escalation policy, for a caller whose steps or give_up_after are not
  // the library's defaults.
  if (element e; !top["escalation"].get(e)) {
    simdjson::dom::object eo;
    if (e.get_object().get(eo))
      return bad("escalation: must be an object: {\"steps_s\": [4 seconds], \"give_up_after\": N}");
    if (!s.ledger) return bad("escalation: the ledger's policy: give a \"ledger\" too");
    for (auto [k, v] : eo) {
      if (k == "steps_s") {
        simdjson::dom::array steps;
        const std::string rule =
            "escalation.steps_s: must be a list of 4 numbers of seconds, each from 0 to 31536000 "
            "(the waits after the 1st, 2nd, 3rd and later failures)";
        if (v.get_array().get(steps) || steps.size() != s.escalation.steps.size()) return bad(rule);
        std::size_t i = 0;
        for (element step : steps) {
          const double secs = number_of(step).value_or(-1.0);
          if (!(secs >= 0.0 && secs <= 31536000.0)) return bad(rule);
          s.escalation.steps[i++] = ms_of_seconds(secs);
        }
      } else if (k == "give_up_after") {
        std::uint64_t n = 0;
        if (v.get_uint64().get(n) || n > UINT32_MAX)
          return bad(
              "escalation.give_up_after: must be a whole number from 0 (never) to 4294967295");
        s.escalation.give_up_after = static_cast<std::uint32_t>(n);
      } else {
        return bad(member_path("escalation", k) +
                   ": unknown member (known: steps_s, give_up_after)");
      }
    }
  }

  // Extension: start jitter, bounded as the library bounds it (start_jitter::validate: 24 h).
  if (element j; !top["start_jitter_s"].get(j)) {
    const double secs = number_of(j).value_or(-1.0);
    const start_jitter jitter{ms_of_seconds(std::clamp(secs, -1.0, 1e7))};
    if (!(secs >= 0.0 && secs <= 86400.0) || !jitter.validate())
      return bad("start_jitter_s: must be a number of seconds from 0 to 86400 (24 h)");
    s.start_jitter = jitter.max_delay;
  }

  if (element e; !top["expect"].get(e)) {
    if (!e.is_object()) return bad("expect: must be an object");
    s.expect = simdjson::minify(e);
  }
  return s;
}

}  // namespace certretry::harness
