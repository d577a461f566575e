// certretry/sim/model_clients.hpp — the clients a model fleet runs (model_fleet.hpp): a TPP
// enrollment per certificate against the TPP model, and an ACME order per certificate
// (new-order, finalize, polling the order) against the ACME model, each stage one of the
// library's machines with the fleet's policy.
#pragma once

#include "certretry/acme/exchange.hpp"
#include "certretry/acme/new_order.hpp"
#include "certretry/acme/poll.hpp"
#include "certretry/backoff/policy.hpp"
#include "certretry/core/random.hpp"
#include "certretry/sim/model_fleet.hpp"
#include "certretry/testing/acme/server.hpp"
#include "certretry/testing/tpp_server.hpp"
#include "certretry/tpp/enroll.hpp"

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace certretry::sim {

/// The TPP client of a fleet: how each enrollment is run, and how many objects are stuck.
/// Thread safety: an immutable value, safe to share.
struct tpp_fleet_options {
  /// The share of objects whose last enrollment failed ("click Retry"): the stuck renewals.
  double stuck = 0.0;
  tpp::reset_strategy strategy = tpp::reset_strategy::reset_on_detection;  ///< when to reset
  tpp::retrieve_mode mode = tpp::retrieve_mode::watch;  ///< watch (WorkToDoTimeout) or poll
  duration watch = std::chrono::seconds{30};            ///< WorkToDoTimeout of a watched retrieve
};

namespace detail {

inline std::string fleet_object_name(std::uint64_t cert) {
  return "host-" + std::to_string(cert) + ".example.com";
}

}  // namespace detail

/// The DN of certificate `cert` in a TPP fleet.
inline std::string tpp_fleet_dn(std::uint64_t cert) {
  return "\\VED\\Policy\\Fleet\\" + detail::fleet_object_name(cert);
}

/// One tpp::enroll_machine per certificate (a renewal: the object holds a certificate), run
/// again with resume_dn after still_pending, as cert-manager keeps the pickup ID.
inline model_client<model::tpp_server> tpp_fleet_client(
    std::string name, backoff_policy<any_schedule, any_jitter> policy, tpp_fleet_options o,
    std::uint64_t seed, duration requeue_after = std::chrono::minutes{1}) {
  model_client<model::tpp_server> c;
  c.name = std::move(name);
  c.requeue_after = requeue_after;
  c.prepare = [o, seed](model::tpp_server& server, std::uint64_t cert) {
    splitmix64 draw{seed ^ (cert + 1) * 0x9e3779b97f4a7c15ULL};
    const bool stuck = uniform_unit(draw) < o.stuck;
    server.add_certificate(tpp_fleet_dn(cert),
                           stuck ? model::tpp_prior::failed : model::tpp_prior::issued);
  };
  c.stage = [o, policy](std::uint64_t cert, std::uint32_t k, const stage_end*,
                        const stage_end* again, splitmix64 rng) -> fleet_machine_ptr {
    if (k > 0) return nullptr;
    tpp::enroll_options e;
    e.strategy = o.strategy;
    e.mode = o.mode;
    e.watch = o.watch;
    e.certificate_dn = tpp_fleet_dn(cert);
    e.request_body = R"({"PolicyDN":"\\VED\\Policy\\Fleet","ObjectName":")" +
                     detail::fleet_object_name(cert) + R"(","PKCS10":"MIIBsim","Reenable":true})";
    if (again) e.resume_dn = e.certificate_dn;
    return make_fleet_machine(
        tpp::enroll_machine<tpp::stale_enrollment_detector, any_schedule, any_jitter, splitmix64>{
            std::move(e), policy, std::move(rng)});
  };
  return c;
}

namespace detail {

// Stage k of an ACME certificate's order (acme_fleet_client).
inline fleet_machine_ptr acme_stage(const backoff_policy<any_schedule, any_jitter>& policy,
                                    std::uint64_t cert, std::uint32_t k, const stage_end* before,
                                    splitmix64 rng) {
  using any_post = acme::post_machine<any_schedule, any_jitter, splitmix64>;
  if (k == 0) {
    acme::new_order_options o;
    o.identifiers_json = R"([{"type":"dns","value":")" + detail::fleet_object_name(cert) + R"("}])";
    return make_fleet_machine(
        acme::new_order_machine<any_schedule, any_jitter, splitmix64>{o, policy, rng});
  }
  // The order's path and number, from the new order's Location (origin + path).
  std::string_view url = before->created;
  if (const auto scheme = url.find("://"); scheme != std::string_view::npos) {
    const auto path = url.find('/', scheme + 3);
    url = path == std::string_view::npos ? std::string_view{} : url.substr(path);
  }
  const auto slash = url.rfind('/');
  std::uint64_t id = 0;
  const std::string_view digits = url.substr(slash == std::string_view::npos ? 0 : slash + 1);
  std::from_chars(digits.data(), digits.data() + digits.size(), id);
  if (k == 1) {
    acme::post_options o;
    o.url = model::acme_server::finalize_path(id);
    o.payload = R"({"csr":"MIIBsim"})";
    o.kind = acme::post_kind::finalize;
    o.resource_url = model::acme_server::order_path(id);
    o.nonce.initial = before->nonce;
    return make_fleet_machine(any_post{std::move(o), policy, rng});
  }
  if (k == 2) {
    acme::poll_options o;
    o.url = model::acme_server::order_path(id);
    o.kind = acme::resource_kind::order;
    o.nonce.initial = before->nonce;
    o.wait_first = true;
    o.first_retry_after = before->retry_after;
    return make_fleet_machine(
        acme::resource_poll_machine<any_schedule, any_jitter, splitmix64>{o, policy, rng});
  }
  return nullptr;
}

}  // namespace detail

/// One ACME order per certificate, from new-order to `valid`: acme::new_order_machine, then
/// acme::post_machine for the finalize, then acme::resource_poll_machine on the order (the
/// finalize reply's nonce and Retry-After handed on). Authorizations are valid already (the
/// model's orders are created ready) and the download is left out: both cost every client the
/// same. After still_pending the order is polled again.
inline model_client<model::acme_server> acme_fleet_client(
    std::string name, backoff_policy<any_schedule, any_jitter> policy,
    duration requeue_after = std::chrono::minutes{1}) {
  model_client<model::acme_server> c;
  c.name = std::move(name);
  c.requeue_after = requeue_after;
  c.stage = [policy](std::uint64_t cert, std::uint32_t k, const stage_end* before, const stage_end*,
                     splitmix64 rng) {
    return detail::acme_stage(policy, cert, k, before, std::move(rng));
  };
  return c;
}

}  // namespace certretry::sim
