// Starts `certretry-harness serve` as a child process on a free loopback port (--port 0) and
// stops it with SIGTERM when the object goes away, so nothing listens after a test.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace certretry_test {

class serve_process {
 public:
  // Runs HARNESS serve ARGS... --port 0 and waits (10 s at most) for the line naming the port.
  serve_process(const std::string& harness, std::vector<std::string> args) {
    int out[2];
    if (pipe(out) != 0) return;
    args.insert(args.begin(), {harness, "serve", "--port", "0"});
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], STDOUT_FILENO);
      close(out[0]);
      close(out[1]);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(out[1]);
    stdout_ = out[0];
    if (pid_ < 0) return;
    // The first line: {"listening":"127.0.0.1:PORT","port":PORT,...}
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{10};
    while (startup_.find('\n') == std::string::npos &&
           std::chrono::steady_clock::now() < deadline) {
      pollfd p{stdout_, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      char buf[4096];
      const ssize_t n = read(stdout_, buf, sizeof buf);
      if (n <= 0) break;
      startup_.append(buf, static_cast<std::size_t>(n));
    }
    const auto at = startup_.find("\"port\":");
    if (at != std::string::npos) port_ = std::atoi(startup_.c_str() + at + 7);
  }

  serve_process(const serve_process&) = delete;
  serve_process& operator=(const serve_process&) = delete;
  ~serve_process() { stop(); }

  bool ok() const noexcept { return pid_ > 0 && port_ > 0; }
  int port() const noexcept { return port_; }
  pid_t pid() const noexcept { return pid_; }
  const std::string& startup() const noexcept { return startup_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // SIGTERM, then the exit status (waits 10 s at most, then SIGKILL). -1 if it did not exit 0.
  int stop() {
    if (pid_ <= 0) return status_;
    kill(pid_, SIGTERM);
    int st = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{10};
    pid_t r = 0;
    while ((r = waitpid(pid_, &st, WNOHANG)) == 0 && std::chrono::steady_clock::now() < deadline)
      usleep(20'000);
    if (r == 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &st, 0);
      status_ = -1;
    } else {
      status_ = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    }
    pid_ = -1;
    if (stdout_ >= 0) close(stdout_);
    stdout_ = -1;
    return status_;
  }

  // The child's resident set in KiB (/proc/PID/status VmRSS), 0 if unknown.
  long rss_kib() const {
    std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
    std::string line;
    while (std::getline(in, line))
      if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
    return 0;
  }

 private:
  pid_t pid_ = -1;
  int stdout_ = -1;
  int port_ = 0;
  int status_ = -1;
  std::string startup_;
};

inline std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A fresh directory under $TMPDIR (or /tmp), removed by the caller.
inline std::string temp_dir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base && *base ? base : "/tmp") + "/certretry-http-XXXXXX";
  if (!mkdtemp(pattern.data())) return {};
  return pattern;
}

}  // namespace certretry_test
