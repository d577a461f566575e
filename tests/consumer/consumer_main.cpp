// A consumer of certretry: polls a scripted generic CA and prints the outcome.
#include <certretry/certretry.hpp>

#include <cstdio>
#include <string>

int main() {
  using namespace certretry;
  // The default certificate check wants a PEM CERTIFICATE block, not a placeholder.
  const std::string pem_unescaped =
      "-----BEGIN CERTIFICATE-----\nMIIBconsumer\n-----END CERTIFICATE-----\n";
  const std::string pem =
      "-----BEGIN CERTIFICATE-----\\nMIIBconsumer\\n-----END CERTIFICATE-----\\n";
  virtual_clock clock;
  virtual_sleeper sleeper{clock};
  scripted_transport server{clock};
  server.script("GET /orders/1", {scripted_reply::respond(200, R"({"status":"pending"})"),
                                  scripted_reply::respond(
                                      200, R"({"status":"issued","certificate":")" + pem + "\"}")});
  async_ca_poll_machine poller{async_ca_triage{{async_ca::generic, "1", ""}},
                               {named_schedule("certctl").value(), any_jitter{no_jitter{}}},
                               splitmix64{1}};
  const outcome o = run(poller, server, clock, sleeper);
  std::printf("%s after %u requests\n", std::string(to_string(o.kind)).c_str(), o.sends);
  return o.kind == outcome_kind::issued && o.certificate == pem_unescaped && o.sends == 2 ? 0 : 1;
}
