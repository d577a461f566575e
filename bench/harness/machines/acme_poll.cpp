// acme-poll: an ACME order, authorization or challenge polled with POST-as-GET (RFC 8555 §6.3)
// at the server's Retry-After pace (docs/acme.md).
#include "machines.hpp"
#include "shared.hpp"

#include "certretry/acme/poll.hpp"

namespace certretry::harness {
namespace {

struct acme_poll {
  static constexpr std::string_view name = "acme-poll";
  static constexpr std::string_view summary =
      "polls one ACME order, authorization or challenge until it is valid (an order: or ready), "
      "fails for good, or the deadline ends the run";

  struct settings : clock_settings, backoff_settings, body_settings, nonce_settings {
    std::string url;
    acme::resource_kind kind{};
    std::optional<duration> first_retry_after;
    std::optional<bool> wait_first;
    double stretch = 0, max_stretch = 0;
    duration processing_error_floor{};
  };

  using table = std::vector<option<settings>>;

  static const table& options() {
    static const table all = join<settings>({
        table{
            path_option<settings, &settings::url>("url", "/acme/order/1",
                                                  "the resource, POSTed as GET"),
            {.name = "kind",
             .kind = option_kind::choice,
             .def = std::string("order"),
             .choices = {"order", "authz", "challenge"},
             .doc = "what the resource's statuses mean ([the acme-poll "
                    "machine](#the-acme-poll-machine)) and the why's first word (`order`, "
                    "`authorization`, `challenge`); `authorization` is taken for `authz` too",
             .store = &parsed_into<settings, &settings::kind, acme::resource_kind_from_name>},
        },
        backoff_options<settings>({
            .schedule = "acme",
            .jitter_pct = 0,
            .schedule_doc = "as for acme-new-order: the pace when the server sends no "
                            "Retry-After; any [named schedule](#named-schedules)",
            .jitter_doc = "as for acme-new-order: no jitter by default",
            .max_wait_doc = "hard cap on the whole run, from its start (a `wait_first` wait "
                            "counts); 0 means the default",
        }),
        table{
            {.name = "first_retry_after_s",
             .kind = option_kind::seconds,
             .min = 0,
             .max = 86400,
             .doc = "the Retry-After of the reply that began the processing (finalize, a "
                    "challenge response): the first poll is sent after it; sets `wait_first`",
             .store = &into<settings, &settings::first_retry_after>},
            {.name = "wait_first",
             .kind = option_kind::boolean,
             .default_doc = "`true` with `first_retry_after_s`, else `false`",
             .doc = "wait before the first poll; without `first_retry_after_s` that wait is the "
                    "schedule's first delay",
             .store = &into<settings, &settings::wait_first>},
            {.name = "stretch",
             .kind = option_kind::number,
             .def = acme::poll_pacing{}.stretch,
             .min = 1,
             .max = 10,
             .doc = "each further in-progress reply multiplies the server's Retry-After by this "
                    "much …",
             .store = &into<settings, &settings::stretch>},
            {.name = "max_stretch",
             .kind = option_kind::number,
             .def = acme::poll_pacing{}.max_stretch,
             .min = 1,
             .max = 100,
             .doc = "… up to this many times the server's value",
             .store = &into<settings, &settings::max_stretch>},
            {.name = "processing_error_floor_s",
             .kind = option_kind::seconds,
             .def = 5.0,
             .min = 0,
             .max = 3600,
             .doc = "the shortest wait while the resource is in progress **with** an `error` "
                    "(the server is retrying the validation itself, RFC 8555 §8.2)",
             .store = &into<settings, &settings::processing_error_floor>},
            // A replayed poll starts with a nonce at hand (the reply before it carried one), so
            // its first request is the POST-as-GET itself.
            nonce_option<settings>(std::string("replayNonce0"), "the nonce at hand at the start"),
            new_nonce_url_option<settings>(),
            bad_nonce_retries_option<settings>(),
            max_body_option<settings>("largest reply body read"),
            now_option<settings>(),
        },
    });
    return all;
  }

  static options_problem complete(settings&, const scenario&) { return std::nullopt; }

  static replay_result run(world& w, const settings& s, std::uint64_t seed) {
    acme::poll_options o;
    o.url = s.url;
    o.kind = s.kind;
    o.nonce = s.nonce_options();
    o.wait_first = s.wait_first.value_or(s.first_retry_after.has_value());
    o.first_retry_after = s.first_retry_after;
    o.pacing.stretch = s.stretch;
    o.pacing.max_stretch = s.max_stretch;
    o.pacing.processing_error_floor = s.processing_error_floor;
    o.max_body_bytes = s.max_body_bytes;
    const bool supply = !scripts_new_nonce(w.scene, o.nonce.new_nonce_url);
    acme::resource_poll_machine m{std::move(o), make_policy(s), splitmix64{seed}, w.sink()};
    return drive_acme(w, m, supply);
  }
};

}  // namespace

machine_adapter acme_poll_machine() { return adapter_of<acme_poll>(); }

}  // namespace certretry::harness
