// A consumer of the libcurl transport alone (component certretry::curl, pkg-config
// certretry-curl): it compiles, links libcurl, and starts without touching the network.
#include <certretry/core/concepts.hpp>
#include <certretry/transport/curl.hpp>

#include <cstdio>

static_assert(certretry::transport<certretry::curl_transport>);

int main() {
  auto t = certretry::curl_transport::create({.base_url = "http://127.0.0.1:9"});
  if (!t) return 1;
  std::printf("%s\n", t.value().user_agent().c_str());
  return t.value().user_agent().starts_with("certretry/") ? 0 : 1;
}
