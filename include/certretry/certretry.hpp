// certretry/certretry.hpp — the whole library. Include narrower headers to pay for less:
// core/, backoff/, budget/, machine/ and poll/ need only the standard library and Boost.Outcome
// (the certretry::core component); json/, async_ca/, tpp/ and acme/ bring simdjson
// (certretry::json); acme/cert_id.hpp brings OpenSSL (certretry::acme). Of testing/ only the
// scripted transport and virtual clock are included here; the server models are included by the
// tests that use them.
#pragma once

#include "certretry/core/action.hpp"
#include "certretry/core/base64url.hpp"
#include "certretry/core/certificate_check.hpp"
#include "certretry/core/concepts.hpp"
#include "certretry/core/errc.hpp"
#include "certretry/core/event.hpp"
#include "certretry/core/http.hpp"
#include "certretry/core/random.hpp"
#include "certretry/core/rfc3339.hpp"
#include "certretry/core/system.hpp"
#include "certretry/core/text.hpp"
#include "certretry/core/time.hpp"
#include "certretry/core/verdict.hpp"

#include "certretry/backoff/jitter.hpp"
#include "certretry/backoff/policy.hpp"
#include "certretry/backoff/retry_after.hpp"
#include "certretry/backoff/schedule.hpp"

#include "certretry/budget/adaptive.hpp"
#include "certretry/budget/budget.hpp"
#include "certretry/budget/combine.hpp"
#include "certretry/budget/ratio.hpp"
#include "certretry/budget/token_bucket.hpp"
#include "certretry/budget/window.hpp"

#include "certretry/machine/erased.hpp"
#include "certretry/machine/kit.hpp"
#include "certretry/machine/run.hpp"

#include "certretry/json/reader.hpp"

#include "certretry/poll/machine.hpp"

#include "certretry/async_ca/poller.hpp"
#include "certretry/async_ca/triage.hpp"

#include "certretry/tpp/enroll.hpp"
#include "certretry/tpp/reply.hpp"

#include "certretry/acme/ari.hpp"
#include "certretry/acme/cert_id.hpp"
#include "certretry/acme/exchange.hpp"
#include "certretry/acme/new_order.hpp"
#include "certretry/acme/poll.hpp"
#include "certretry/acme/renewal_window.hpp"
#include "certretry/acme/reply.hpp"

#include "certretry/testing/scripted.hpp"

/// \namespace certretry
/// Sans-IO retry and polling state machines for certificate issuance clients: machines
/// (events in, an action out), their policies, budgets and triages, the loop that drives them
/// (run), and the transports. Names in a `detail` namespace are not part of the API.
///
/// \namespace certretry::acme
/// ACME (RFC 8555) and ACME Renewal Information (RFC 9773): the request exchange, order and
/// resource polling, ARI.
///
/// \namespace certretry::tpp
/// Venafi Trust Protection Platform: the enrollment machine and its reply parsing.
///
/// \namespace certretry::model
/// Scripted server models for tests and the harness: an ACME server (testing/acme/) and a TPP
/// server (testing/tpp_server.hpp).
///
/// \namespace certretry::sim
/// The fleet simulator: many clients, one virtual clock, a server model with capacity.
///
/// \namespace certretry::tune
/// The tuner: searches policy parameters against simulated fleets.
///
/// \namespace certretry::verify
/// The verifier: explores machines' inputs and checks invariants on every transcript.
