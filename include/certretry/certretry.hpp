// certretry/certretry.hpp — everything. Include narrower headers to pay for less: core/,
// backoff/ and poll/ need only the standard library and Boost.Outcome; triage/, tpp/ and acme/
// bring simdjson, acme/cert_id.hpp OpenSSL. sim/ (server models for tests and benchmarks) is
// not included.
#pragma once

#include "certretry/core/action.hpp"
#include "certretry/core/concepts.hpp"
#include "certretry/core/errc.hpp"
#include "certretry/core/event.hpp"
#include "certretry/core/http.hpp"
#include "certretry/core/random.hpp"
#include "certretry/core/rfc3339.hpp"
#include "certretry/core/system.hpp"
#include "certretry/core/text.hpp"
#include "certretry/core/time.hpp"

#include "certretry/backoff/jitter.hpp"
#include "certretry/backoff/policy.hpp"
#include "certretry/backoff/retry_after.hpp"
#include "certretry/backoff/schedule.hpp"

#include "certretry/poll/basic_machine.hpp"
#include "certretry/poll/machine.hpp"
#include "certretry/poll/run.hpp"
#include "certretry/poll/scripted.hpp"

#include "certretry/triage/acme.hpp"
#include "certretry/triage/async_ca.hpp"
#include "certretry/triage/json.hpp"
#include "certretry/triage/result.hpp"
#include "certretry/triage/tpp.hpp"

#include "certretry/tpp/enroll.hpp"

#include "certretry/acme/ari.hpp"
#include "certretry/acme/cert_id.hpp"
#include "certretry/acme/exchange.hpp"
#include "certretry/acme/new_order.hpp"
#include "certretry/acme/poll.hpp"
#include "certretry/acme/renewal_window.hpp"
