#include "support/process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "support/loopback.hpp"

namespace logferry::test {
namespace {

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// Reads everything available from a non-blocking fd into `into`; sets `eof` at its end.
void drain(int fd, bool& eof, std::string& into) {
  char buf[65536];
  while (fd >= 0 && !eof) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      into.append(buf, static_cast<size_t>(n));
    } else if (n == 0) {
      eof = true;
    } else {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) eof = true;
      return;
    }
  }
}

}  // namespace

ProcessEnv basic_environment() {
  ProcessEnv env;
  for (const char* name : {"PATH", "HOME", "TMPDIR", "LANG"}) {
    if (const char* v = std::getenv(name)) env[name] = v;
  }
  if (!env.contains("PATH")) env["PATH"] = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
  return env;
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && !status_) {
    ::kill(pid_, SIGKILL);
    reap(true);
  }
  if (reader_.joinable()) {
    reader_.request_stop();
    reader_.join();
  }
  close_fd(out_fd_);
  close_fd(err_fd_);
  close_fd(in_fd_);
}

void ChildProcess::start(const std::vector<std::string>& argv, const ProcessEnv& env, bool keep_stdin) {
  if (pid_ != 0) throw std::runtime_error("ChildProcess::start called twice");
  if (argv.empty()) throw std::runtime_error("ChildProcess::start: empty argv");
  // Everything the child needs is prepared before fork (only async-signal-safe calls after it).
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);

  int out[2], err[2], in[2], exec_err[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0 || ::pipe2(in, O_CLOEXEC) != 0 ||
      ::pipe2(exec_err, O_CLOEXEC) != 0) {
    throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
  }
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    if (keep_stdin) {
      ::dup2(in[0], 0);
    } else {
      const int devnull = ::open("/dev/null", O_RDONLY);
      ::dup2(devnull, 0);
    }
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    ::signal(SIGPIPE, SIG_DFL);
    ::execvpe(args[0], args.data(), envp.data());
    const int e = errno;
    [[maybe_unused]] const ssize_t n = ::write(exec_err[1], &e, sizeof e);
    ::_exit(127);
  }
  pid_ = pid;
  ::close(out[1]);
  ::close(err[1]);
  ::close(in[0]);
  ::close(exec_err[1]);
  out_fd_ = out[0];
  err_fd_ = err[0];
  in_fd_ = in[1];
  if (!keep_stdin) close_fd(in_fd_);
  ::fcntl(out_fd_, F_SETFL, O_NONBLOCK);
  ::fcntl(err_fd_, F_SETFL, O_NONBLOCK);
  reader_ = std::jthread([this](std::stop_token stop) { read_output(stop); });
  int child_errno = 0;
  const ssize_t n = ::read(exec_err[0], &child_errno, sizeof child_errno);  // EOF when exec succeeded
  ::close(exec_err[0]);
  if (n == sizeof child_errno) {
    reap(true);
    throw std::runtime_error("cannot execute " + argv[0] + ": " + std::strerror(child_errno));
  }
}

bool ChildProcess::reap(bool block) {
  if (status_) return true;
  if (pid_ <= 0) return false;
  int st = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &st, block ? 0 : WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r != pid_) return false;
  ExitStatus s;
  if (WIFEXITED(st)) s.code = WEXITSTATUS(st);
  if (WIFSIGNALED(st)) s.signal = WTERMSIG(st);
  status_ = s;
  return true;
}

bool ChildProcess::running() { return pid_ > 0 && !reap(false); }

void ChildProcess::drain_output() {
  const std::lock_guard lock(output_mutex_);
  drain(out_fd_, out_eof_, out_);
  drain(err_fd_, err_eof_, err_);
}

void ChildProcess::read_output(std::stop_token stop) {
  // The descriptors stay open until this thread is joined; it polls those not at
  // their end, with a short timeout so a stop request is seen promptly.
  while (!stop.stop_requested()) {
    pollfd fds[2];
    nfds_t count = 0;
    {
      const std::lock_guard lock(output_mutex_);
      if (!out_eof_) fds[count++] = {out_fd_, POLLIN, 0};
      if (!err_eof_) fds[count++] = {err_fd_, POLLIN, 0};
    }
    if (count == 0) return;
    if (::poll(fds, count, 50) > 0) drain_output();
  }
}

std::optional<ExitStatus> ChildProcess::wait_for_exit(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (reap(false)) {
      drain_output();  // what the child wrote last (grandchildren may keep the pipes open)
      return status_;
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return std::nullopt;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(left, 10ms));
  }
}

bool ChildProcess::kill(int sig) {
  if (pid_ <= 0 || reap(false)) return false;
  return ::kill(pid_, sig) == 0;
}

std::string ChildProcess::stdout_text() {
  drain_output();
  const std::lock_guard lock(output_mutex_);
  return out_;
}

std::string ChildProcess::stderr_text() {
  drain_output();
  const std::lock_guard lock(output_mutex_);
  return err_;
}

bool ChildProcess::wait_for_text(std::string (ChildProcess::*text)(), std::string_view needle,
                                 std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if ((this->*text)().find(needle) != std::string::npos) return true;
    if (!running()) return (this->*text)().find(needle) != std::string::npos;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
}

bool ChildProcess::wait_for_stdout(std::string_view needle, std::chrono::milliseconds timeout) {
  return wait_for_text(&ChildProcess::stdout_text, needle, timeout);
}

bool ChildProcess::wait_for_stderr(std::string_view needle, std::chrono::milliseconds timeout) {
  return wait_for_text(&ChildProcess::stderr_text, needle, timeout);
}

bool ChildProcess::write_stdin(std::string_view data) {
  ::signal(SIGPIPE, SIG_IGN);  // a child that exited must not kill the test process
  while (!data.empty() && in_fd_ >= 0) {
    const ssize_t n = ::write(in_fd_, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return data.empty();
}

void ChildProcess::close_stdin() { close_fd(in_fd_); }

RunResult run_process(const std::vector<std::string>& argv, const ProcessEnv& env,
                      std::chrono::milliseconds timeout) {
  ChildProcess child;
  child.start(argv, env);
  RunResult r;
  r.status = child.wait_for_exit(timeout);
  if (!r.status) {
    child.kill(SIGKILL);
    child.wait_for_exit(5s);
  }
  r.out = child.stdout_text();
  r.err = child.stderr_text();
  return r;
}

uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a = loopback(0);
  socklen_t len = sizeof a;
  uint16_t port = 0;
  if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  if (fd >= 0) ::close(fd);
  return port;
}

}  // namespace logferry::test
