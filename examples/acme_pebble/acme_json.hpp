// acme_json.hpp — the few fields of ACME's directory, order and authorization objects (RFC 8555
// §7.1.1, §7.1.3, §7.1.4) the example follows, read with simdjson On-Demand into owned strings.
#pragma once

#include <simdjson.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace acme_pebble {

struct directory {
  std::string new_nonce;
  std::string new_account;
  std::string new_order;
  bool renewal_info = false;  // RFC 9773 §3: `replaces` is sent only when this is advertised
};

struct order {
  std::string status;
  std::vector<std::string> authorizations;
  std::string finalize;
  std::string certificate;  // once valid
};

struct authorization {
  std::string status;
  std::string identifier;
  std::string http01_url;  // the http-01 challenge's URL, if offered
};

class json_objects {
 public:
  std::optional<directory> read_directory(std::string_view body) {
    directory d;
    const bool ok = each_field(body, [&](std::string_view key, simdjson::ondemand::value v) {
      if (key == "newNonce") return string_into(v, d.new_nonce);
      if (key == "newAccount") return string_into(v, d.new_account);
      if (key == "newOrder") return string_into(v, d.new_order);
      if (key == "renewalInfo") d.renewal_info = true;
      return true;
    });
    if (!ok || d.new_nonce.empty() || d.new_account.empty() || d.new_order.empty())
      return std::nullopt;
    return d;
  }

  std::optional<order> read_order(std::string_view body) {
    order o;
    const bool ok = each_field(body, [&](std::string_view key, simdjson::ondemand::value v) {
      if (key == "status") return string_into(v, o.status);
      if (key == "finalize") return string_into(v, o.finalize);
      if (key == "certificate") return string_into(v, o.certificate);
      if (key == "authorizations") {
        simdjson::ondemand::array arr;
        if (v.get_array().get(arr)) return false;
        for (auto element : arr) {
          std::string_view s;
          if (element.get_string().get(s)) return false;
          o.authorizations.emplace_back(s);
        }
      }
      return true;
    });
    if (!ok || o.status.empty() || o.finalize.empty()) return std::nullopt;
    return o;
  }

  // The `status` of any ACME object; empty when unreadable.
  std::string read_status(std::string_view body) {
    std::string status;
    each_field(body, [&](std::string_view key, simdjson::ondemand::value v) {
      return key != "status" || string_into(v, status);
    });
    return status;
  }

  std::optional<authorization> read_authorization(std::string_view body) {
    authorization a;
    const bool ok = each_field(body, [&](std::string_view key, simdjson::ondemand::value v) {
      if (key == "status") return string_into(v, a.status);
      if (key == "identifier") {
        simdjson::ondemand::object id;
        std::string_view s;
        if (v.get_object().get(id) || id.find_field_unordered("value").get_string().get(s))
          return false;
        a.identifier = s;
      } else if (key == "challenges") {
        simdjson::ondemand::array arr;
        if (v.get_array().get(arr)) return false;
        for (auto element : arr) {
          simdjson::ondemand::object c;
          if (element.get_object().get(c)) return false;
          std::string type, url;
          for (auto f : c) {
            std::string_view k;
            simdjson::ondemand::value cv;
            if (f.unescaped_key().get(k) || f.value().get(cv)) return false;
            if (k == "type" && !string_into(cv, type)) return false;
            if (k == "url" && !string_into(cv, url)) return false;
          }
          if (type == "http-01") a.http01_url = url;
        }
      }
      return true;
    });
    if (!ok || a.status.empty()) return std::nullopt;
    return a;
  }

 private:
  static bool string_into(simdjson::ondemand::value v, std::string& out) {
    std::string_view s;
    if (v.get_string().get(s)) return false;
    out.assign(s);
    return true;
  }

  // Calls f(key, value) for each member of the top-level object; false when the body is not
  // one JSON object or f refuses a member.
  template <class F>
  bool each_field(std::string_view body, F&& f) {
    buffer_ = simdjson::padded_string(body);
    simdjson::ondemand::document doc;
    simdjson::ondemand::object obj;
    if (parser_.iterate(buffer_).get(doc) || doc.get_object().get(obj)) return false;
    for (auto field : obj) {
      std::string_view key;
      simdjson::ondemand::value v;
      if (field.unescaped_key().get(key) || field.value().get(v)) return false;
      if (!f(key, v)) return false;
    }
    return true;
  }

  simdjson::ondemand::parser parser_;
  simdjson::padded_string buffer_;
};

}  // namespace acme_pebble
