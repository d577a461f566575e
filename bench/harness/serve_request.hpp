// serve's request path without the socket: a request Beast parsed (or refused) → the model's
// reply. serve.cpp reads requests from connections with it; the fuzzer (fuzz_serve_request)
// feeds it bytes directly, under the same limits.
#pragma once

#include "serve_model.hpp"

#include <certretry/core/http.hpp>
#include <certretry/core/time.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace certretry::harness::serve {

// The status serve answers a request Beast refused with (then closes the connection): 413 over
// --max-body, 431 over the header limit, 400 for anything else Beast's parser rejects; 0 when
// the error is not a refusal (the client closed, the stream ended mid-message, a timeout).
inline int refusal_status(const boost::beast::error_code& ec) {
  namespace http = boost::beast::http;
  if (!ec || ec.category() != http::make_error_code(http::error::bad_target).category() ||
      ec == http::error::end_of_stream || ec == http::error::partial_message)
    return 0;
  return ec == http::error::body_limit ? 413 : ec == http::error::header_limit ? 431 : 400;
}

// The request as the models see it: views into `req`, its fields copied into `fields`.
inline request_view model_request(
    const boost::beast::http::request<boost::beast::http::string_body>& req,
    std::vector<header_field>& fields) {
  fields.clear();
  for (const auto& f : req.base())
    fields.push_back({std::string(f.name_string()), std::string(f.value())});
  return {
      .method = req.method_string(), .target = req.target(), .headers = fields, .body = req.body()};
}

// One request read from `bytes` as serve reads it from a connection (Beast's parser under the
// config's header and body limits), answered by the model at `now`.
struct answered {
  enum class kind : std::uint8_t { reply, refused, incomplete } what = kind::incomplete;
  std::size_t used = 0;  // bytes of `bytes` the request took
  int refusal = 0;       // refused: the status serve answers (refusal_status)
  std::string why;       // refused: Beast's words, as serve logs them
  reply r;               // reply: the model's answer
};

inline answered answer_bytes(model& m, const config& cfg, std::string_view bytes, time_point now) {
  namespace http = boost::beast::http;
  answered out;
  http::request_parser<http::string_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(cfg.max_header));
  parser.body_limit(cfg.max_body);
  parser.eager(true);
  boost::beast::error_code ec;
  while (!parser.is_done()) {
    const std::size_t n =
        parser.put(boost::asio::buffer(bytes.data() + out.used, bytes.size() - out.used), ec);
    out.used += n;
    if (ec == http::error::need_more || (!ec && n == 0)) {
      // All that is left is given: a connection closing here ends the message. Before its first
      // byte there is no message (a keep-alive connection closed between requests), and Beast's
      // put_eof requires one (it asserts got_some()).
      if (!parser.got_some()) {
        ec = http::error::partial_message;
        break;
      }
      ec = {};
      parser.put_eof(ec);
      if (!ec && !parser.is_done()) ec = http::error::partial_message;
      break;
    }
    if (ec) break;
  }
  if (ec) {
    out.refusal = refusal_status(ec);
    out.what = out.refusal ? answered::kind::refused : answered::kind::incomplete;
    out.why = ec.message();
    return out;
  }
  std::vector<header_field> fields;
  const http::request<http::string_body>& req = parser.get();
  out.r = m.handle(model_request(req, fields), now);
  out.what = answered::kind::reply;
  return out;
}

}  // namespace certretry::harness::serve
