// The core component (core/, backoff/, machine/, poll/, testing/scripted.hpp) needs only the
// standard library and Boost.Outcome: a user who writes their own triage never compiles simdjson
// (docs/design.md, "Components").
#include <certretry/backoff/jitter.hpp>
#include <certretry/backoff/policy.hpp>
#include <certretry/backoff/retry_after.hpp>
#include <certretry/backoff/schedule.hpp>
#include <certretry/core/action.hpp>
#include <certretry/core/base64url.hpp>
#include <certretry/core/certificate_check.hpp>
#include <certretry/core/concepts.hpp>
#include <certretry/core/errc.hpp>
#include <certretry/core/event.hpp>
#include <certretry/core/http.hpp>
#include <certretry/core/random.hpp>
#include <certretry/core/rfc3339.hpp>
#include <certretry/core/system.hpp>
#include <certretry/core/text.hpp>
#include <certretry/core/time.hpp>
#include <certretry/core/verdict.hpp>
#include <certretry/machine/kit.hpp>
#include <certretry/machine/run.hpp>
#include <certretry/poll/machine.hpp>
#include <certretry/testing/scripted.hpp>

#if defined(SIMDJSON_H)
#error "a core-component header pulled in simdjson"
#endif
#if defined(OPENSSL_X509_H) || defined(HEADER_X509_H)
#error "a core-component header pulled in OpenSSL"
#endif
