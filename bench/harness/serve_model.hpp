// The server models `certretry-harness serve` exposes over HTTP, on the wall clock, and its
// command line (docs/testing-your-client.md). No HTTP here: serve.cpp owns the sockets.
#pragma once

#include <certretry/core/http.hpp>
#include <certretry/core/time.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace certretry::harness::serve {

// A model's answer to one request.
struct reply {
  response r;
  duration hold{};      // wall time to wait before answering (a model's own latency or hold)
  bool silent = false;  // never answer: close the connection after `hold` (a timeout fault)
};

class model {
 public:
  virtual ~model() = default;
  // One request, received at `now` (the wall clock). Models are not thread-safe: serve calls
  // them from its one I/O thread.
  virtual reply handle(const request_view& req, time_point now) = 0;
  // The port serve bound; models that put absolute URLs in replies build them from it.
  virtual void bound(std::uint16_t port) { (void)port; }
  // JSON members for the startup line (",\"objects\":10" ...), and the counters at exit.
  virtual std::string startup_json() const { return {}; }
  virtual std::string counters_json() const = 0;
};

struct config {
  std::string model_name;
  std::uint16_t port = 0;
  std::string log_path;  // empty: standard output
  duration latency{};    // added to every reply, in wall time
  std::size_t max_body = std::size_t{1} << 20;
  std::size_t max_header = std::size_t{16} << 10;
  std::size_t max_connections = 4096;
  duration idle_timeout = std::chrono::seconds{30};
  duration grace = std::chrono::seconds{2};  // SIGTERM: time left to in-flight replies
  std::unique_ptr<model> m;
};

// Parses what follows "serve" on the command line and builds the model, starting its clock at
// `now`. False with `error` set on a bad argument.
bool parse_args(int argc, char** argv, time_point now, config& out, std::string& error);

// serve's usage text (every option, its default and meaning).
const char* usage();

}  // namespace certretry::harness::serve
