#pragma once
// A child process for end-to-end tests: started with an exact environment, its
// stdout and stderr captured, waited for with deadlines, killed by its PID only.
// The destructor kills (SIGKILL) and reaps a child that is still running.
// A thread reads the child's stdout and stderr as they come: a chatty child
// never blocks on a full pipe while a test waits on something else.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace logferry::test {

using namespace std::chrono_literals;

// Environment of a child: exactly these variables, nothing inherited.
using ProcessEnv = std::map<std::string, std::string>;

// The variables a child usually needs from ours (PATH, HOME, TMPDIR, LANG when set).
ProcessEnv basic_environment();

struct ExitStatus {
  int code = -1;   // exit code, or -1 when killed by a signal
  int signal = 0;  // terminating signal, or 0
};

class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Starts argv[0] (a path, or a name looked up in our PATH) with `env`; stdin is
  // /dev/null unless `keep_stdin` (then write_stdin/close_stdin feed it).
  // Throws std::runtime_error when the program cannot be executed.
  void start(const std::vector<std::string>& argv, const ProcessEnv& env, bool keep_stdin = false);

  // The child's PID (0 before start).
  pid_t pid() const { return pid_; }
  // True while the child has not been reaped.
  bool running();

  // Waits at most `timeout` for the child to exit, collecting its output meanwhile.
  std::optional<ExitStatus> wait_for_exit(std::chrono::milliseconds timeout);
  // Sends `sig` to the child's PID; false when it has already exited.
  bool kill(int sig);

  // Output captured so far (a copy: the reader thread keeps appending).
  std::string stdout_text();
  std::string stderr_text();
  // Waits until stdout / stderr contains `needle`; false at the deadline or on exit without it.
  bool wait_for_stdout(std::string_view needle, std::chrono::milliseconds timeout);
  bool wait_for_stderr(std::string_view needle, std::chrono::milliseconds timeout);

  // Writes to the child's stdin (only with keep_stdin); false on error. Ignores SIGPIPE
  // process-wide, so a child that exited makes this return false instead of killing us.
  bool write_stdin(std::string_view data);
  void close_stdin();

 private:
  // Reads what is available on stdout/stderr now (the reader thread does it continuously).
  void drain_output();
  void read_output(std::stop_token stop);
  bool reap(bool block);
  bool wait_for_text(std::string (ChildProcess::*text)(), std::string_view needle,
                     std::chrono::milliseconds timeout);

  pid_t pid_ = 0;
  int out_fd_ = -1;
  int err_fd_ = -1;
  int in_fd_ = -1;
  std::mutex output_mutex_;  // guards out_, err_ and the two *_eof_ flags
  bool out_eof_ = false;
  bool err_eof_ = false;
  std::string out_;
  std::string err_;
  std::optional<ExitStatus> status_;
  std::jthread reader_;  // last: stopped and joined before the descriptors close
};

// Runs a program to completion (killed at `timeout`) and returns its status and output.
struct RunResult {
  std::optional<ExitStatus> status;  // nullopt: timed out (the child was killed)
  std::string out;
  std::string err;
};
RunResult run_process(const std::vector<std::string>& argv, const ProcessEnv& env,
                      std::chrono::milliseconds timeout = 30s);

// A TCP port that was free a moment ago on 127.0.0.1 (for programs that must be
// told their port before they start, or a port nothing listens on); 0 on failure.
uint16_t free_port();

}  // namespace logferry::test
