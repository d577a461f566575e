// core/, backoff/ and poll/ need only the standard library and Boost.Outcome: a user who writes
// their own triage never compiles simdjson (design principle 6).
#include <certretry/backoff/jitter.hpp>
#include <certretry/backoff/policy.hpp>
#include <certretry/backoff/retry_after.hpp>
#include <certretry/backoff/schedule.hpp>
#include <certretry/core/action.hpp>
#include <certretry/core/concepts.hpp>
#include <certretry/core/errc.hpp>
#include <certretry/core/event.hpp>
#include <certretry/core/http.hpp>
#include <certretry/core/random.hpp>
#include <certretry/core/rfc3339.hpp>
#include <certretry/core/text.hpp>
#include <certretry/core/time.hpp>
#include <certretry/poll/basic_machine.hpp>
#include <certretry/poll/machine.hpp>
#include <certretry/poll/run.hpp>
#include <certretry/poll/scripted.hpp>
#include <certretry/triage/result.hpp>

#if defined(SIMDJSON_H)
#error "a core/, backoff/ or poll/ header pulled in simdjson"
#endif
#if defined(OPENSSL_X509_H) || defined(HEADER_X509_H)
#error "a core/, backoff/ or poll/ header pulled in OpenSSL"
#endif
