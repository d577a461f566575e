// certretry/json/reader.hpp — bounded simdjson On-Demand reading of server bodies.
//
// Server input is hostile: bodies are size-checked before parsing, copied once into a reused,
// padded buffer (no allocation once warm), and every access returns an error value. Only the
// triage headers include this; core/, backoff/ and poll/ never compile simdjson.
#pragma once

#include "certretry/core/errc.hpp"
#include "certretry/core/http.hpp"
#include "certretry/core/text.hpp"

#include <simdjson.h>

#include <cstddef>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace certretry {

/// The default body limit: 1 MiB holds any certificate chain a CA returns many times over.
inline constexpr std::size_t default_max_body_bytes = std::size_t{1} << 20;

namespace detail {

class json_reader {
 public:
  explicit json_reader(std::size_t max_bytes = default_max_body_bytes) : max_(max_bytes) {}

  std::size_t max_bytes() const noexcept { return max_; }

  // Starts reading `body` as a JSON document; the document lives until the next call.
  result<simdjson::ondemand::document*> open(std::string_view body) {
    if (body.size() > max_) return errc::body_too_large;
    const std::size_t need = body.size() + simdjson::SIMDJSON_PADDING;
    if (buf_.size() < need) buf_.resize(need);
    if (!body.empty()) std::memcpy(buf_.data(), body.data(), body.size());
    std::memset(buf_.data() + body.size(), 0, simdjson::SIMDJSON_PADDING);
    if (parser_.iterate(simdjson::padded_string_view(buf_.data(), body.size(), buf_.size()))
            .get(doc_))
      return errc::body_not_json;
    return &doc_;
  }

  // Starts reading `body` as one JSON object: nothing when it is over the limit, not JSON, or
  // not an object.
  std::optional<simdjson::ondemand::object> open_object(std::string_view body) {
    auto doc = open(body);
    if (!doc) return std::nullopt;
    simdjson::ondemand::object obj;
    if (doc_.get_object().get(obj)) return std::nullopt;
    return obj;
  }

  // After a full pass over the document: whether nothing follows it. On-Demand parses lazily, so
  // trailing bytes are found only here (it reports a location only when not at the end).
  bool at_end() noexcept { return doc_.current_location().error() == simdjson::OUT_OF_BOUNDS; }

 private:
  std::size_t max_;
  std::string buf_;
  simdjson::ondemand::parser parser_;
  simdjson::ondemand::document doc_;
};

// A string field at the top level of an object document; nothing if absent or not a string.
inline std::optional<std::string_view> string_field(simdjson::ondemand::document& doc,
                                                    std::string_view key) {
  std::string_view out;
  if (doc.find_field_unordered(key).get_string().get(out)) return std::nullopt;
  return out;
}

}  // namespace detail
}  // namespace certretry
