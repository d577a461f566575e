// A consumer of certretry: polls a scripted generic CA and prints the outcome.
#include <certretry/certretry.hpp>

#include <cstdio>

int main() {
  using namespace certretry;
  virtual_clock clock;
  virtual_sleeper sleeper{clock};
  scripted_transport server{clock};
  server.script("GET /orders/1", {scripted_reply::respond(200, R"({"status":"pending"})"),
                                  scripted_reply::respond(200, R"({"status":"issued","certificate":"PEM"})")});
  async_ca_poll_machine poller{async_ca_triage{{async_ca::generic, "1", ""}},
                               {named_schedule("certctl").value(), any_jitter{no_jitter{}}},
                               splitmix64{1}};
  const outcome o = run(poller, server, clock, sleeper);
  std::printf("%s after %u requests\n", std::string(to_string(o.kind)).c_str(), o.sends);
  return o.kind == outcome_kind::issued && o.certificate == "PEM" && o.sends == 2 ? 0 : 1;
}
