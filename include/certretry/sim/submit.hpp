// certretry/sim/submit.hpp — the submit step of an asynchronous CA order as a poll_triage, so
// the library's own poll_machine sends it: the same backoff, jitter, Retry-After, deadline and
// attempt cap as the poller that follows. The machine finishes `issued` with the order id as
// its outcome's bytes.
//
// Triage: 2xx with the id field (a number or a string) -> done; 2xx without it -> permanent;
// the rest is certctl's status table (429, 5xx, 408, network -> transient; other 4xx ->
// permanent).
#pragma once

#include "certretry/async_ca/triage.hpp"
#include "certretry/core/http.hpp"
#include "certretry/core/verdict.hpp"
#include "certretry/json/reader.hpp"
#include "certretry/poll/machine.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace certretry::sim {

/// Submits an order to the simulated CA: POST, then done with the order id the reply carries.
///
/// Thread safety: part of one machine: never shared between threads.
class order_submit_triage {
 public:
  /// POSTs `body` to `path`; the reply's `id_field` holds the order id.
  order_submit_triage(std::string path, std::string body, std::string id_field)
      : path_(std::move(path)),
        body_(std::move(body)),
        id_field_(std::move(id_field)),
        json_(4096) {}

  /// The POST.
  request_view next_request() const noexcept { return {"POST", path_, {}, body_}; }
  /// Nothing to reset.
  void reset() {}
  /// The same triage for another order's `body`, keeping its buffers (as
  /// async_ca_triage::rebind): a fleet submitting order after order allocates them once.
  void rebind(std::string_view body) {
    body_.assign(body);
    id_.clear();
  }

  /// Done with the order id; a non-2xx status as triage_status() says; a body without a usable id
  /// permanent.
  triage_result classify(const response_view& r) {
    if (classify_status(r.status) != status_class::success) {
      const status_verdict st = triage_status(r.status);
      return {st.verdict, st.why};
    }
    auto obj = json_.open_object(r.body);
    if (!obj) return {verdict::permanent, "submit reply is not a JSON object"};
    for (auto field : *obj) {
      std::string_view key;
      if (field.unescaped_key().get(key)) break;
      if (key != id_field_) continue;
      auto value = field.value();
      if (std::uint64_t n; !value.get_uint64().get(n)) {
        id_ = std::to_string(n);
      } else if (std::string_view s;
                 !value.get_string().get(s) && certretry::detail::safe_path_segment(s)) {
        id_.assign(s);
      } else {
        break;
      }
      return {verdict::done, "order accepted", id_};
    }
    return {verdict::permanent, "submit reply carries no order id"};
  }

 private:
  std::string path_;
  std::string body_;
  std::string id_field_;
  certretry::detail::json_reader json_;
  std::string id_;
};

/// The poll machine over order_submit_triage: submits one order, retrying as its policy says.
template <schedule S = any_schedule, jitter J = any_jitter, random_source R = splitmix64,
          event_sink Sink = null_sink>
using order_submitter = poll_machine<order_submit_triage, S, J, R, Sink>;

}  // namespace certretry::sim
