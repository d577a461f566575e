// ACME replies the machine fuzzers add to the verifier's alphabets: problem documents of every
// type RFC 8555 §6.7 and RFC 9773 name, objects in every status (RFC 8555 §7.1.6), and near
// misses.
#pragma once

#include <array>
#include <string_view>

namespace certretry::fuzzing {

inline constexpr std::array<std::string_view, 24> acme_bodies{
    R"({"type":"urn:ietf:params:acme:error:badNonce","detail":"JWS has an invalid anti-replay nonce"})",
    R"({"type":"urn:ietf:params:acme:error:rateLimited","detail":"too many"})",
    R"({"type":"urn:ietf:params:acme:error:serverInternal","detail":"oops"})",
    R"({"type":"urn:ietf:params:acme:error:orderNotReady","detail":"Order's status (\"valid\") is not acceptable for finalization"})",
    R"({"type":"urn:ietf:params:acme:error:alreadyReplaced","detail":"already replaced"})",
    R"({"type":"urn:ietf:params:acme:error:conflict","detail":"Authorization is already being validated"})",
    R"({"type":"urn:ietf:params:acme:error:malformed","detail":"Could not validate ARI 'replaces' field :: x"})",
    R"({"type":"urn:ietf:params:acme:error:userActionRequired","detail":"accept the terms","instance":"https://ca/tos"})",
    R"({"type":"urn:ietf:params:acme:error:unauthorized","detail":"no"})",
    R"({"type":"urn:ietf:params:acme:error:rejectedIdentifier","detail":"no","subproblems":[{"type":"urn:ietf:params:acme:error:caa","identifier":{"type":"dns","value":"a.example"}}]})",
    R"({"type":"about:blank","detail":"x"})",
    R"({"type":"urn:ietf:params:acme:error:badNonce"})",
    R"({"status":"pending"})",
    R"({"status":"ready","finalize":"/acme/order/1/finalize"})",
    R"({"status":"processing"})",
    R"({"status":"valid","certificate":"/acme/cert/1"})",
    R"({"status":"invalid","error":{"type":"urn:ietf:params:acme:error:badCSR","detail":"CSR rejected"}})",
    R"({"status":"deactivated"})",
    R"({"status":"expired"})",
    R"({"status":"revoked"})",
    R"({"status":42})",
    R"({"status":"valid","challenges":[{"type":"http-01","status":"valid"}]})",
    R"({"suggestedWindow":{"start":"2026-01-01T01:00:00Z","end":"2026-01-01T02:00:00Z"}})",
    "not json",
};

}  // namespace certretry::fuzzing
