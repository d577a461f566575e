// `certretry-harness serve --model async-ca|tpp|acme [options]`: the library's server models
// over HTTP on 127.0.0.1 (docs/testing-your-client.md).
#pragma once

namespace certretry::harness {

// args: what follows "serve" on the command line. Returns the exit code: 0 stopped by SIGTERM
// or SIGINT, 1 the port could not be bound or the log opened, 2 a bad option.
int cmd_serve(int argc, char** argv);

}  // namespace certretry::harness
