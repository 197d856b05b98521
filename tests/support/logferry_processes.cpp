#include "support/logferry_processes.hpp"

#include <csignal>
#include <stdexcept>

namespace logferry::test {

namespace {

// SIGTERM, then wait; SIGKILL at the deadline. Returns the exit code (-1 if killed).
int stop_child(ChildProcess& proc, std::chrono::milliseconds timeout) {
  proc.kill(SIGTERM);
  auto st = proc.wait_for_exit(timeout);
  if (!st) {
    proc.kill(SIGKILL);
    proc.wait_for_exit(5s);
    return -1;
  }
  return st->code;
}

}  // namespace

uint16_t announced_port(ChildProcess& process, const std::string& marker, std::chrono::milliseconds timeout) {
  if (!process.wait_for_stdout(marker, timeout)) {
    throw std::runtime_error("no \"" + marker + "<port>\" line on stdout; stderr: " + process.stderr_text());
  }
  const std::string& out = process.stdout_text();
  return static_cast<uint16_t>(std::stoi(out.substr(out.find(marker) + marker.size())));
}

Aggregator::Aggregator(std::filesystem::path data_dir, ProcessEnv extra, uint16_t port)
    : data_dir_(std::move(data_dir)), extra_(std::move(extra)), port_(port) {
  launch();
}

void Aggregator::launch() {
  ProcessEnv env = basic_environment();
  env["LOGFERRY_AGGREGATOR_LISTEN"] = "127.0.0.1:" + std::to_string(port_);
  env["LOGFERRY_AGGREGATOR_DATA_DIR"] = data_dir_.string();
  for (const auto& [k, v] : extra_) env[k] = v;
  proc_ = std::make_unique<ChildProcess>();
  proc_->start({LOGFERRY_AGGREGATOR_BIN}, env);
  port_ = announced_port(*proc_, "listening on 127.0.0.1:", 20s);
}

uint16_t Aggregator::http_port(std::chrono::milliseconds timeout) {
  return announced_port(*proc_, "http endpoint on 127.0.0.1:", timeout);
}

uint16_t Aggregator::audit_port(std::chrono::milliseconds timeout) {
  return announced_port(*proc_, "audit endpoint on 127.0.0.1:", timeout);
}

int Aggregator::stop(std::chrono::milliseconds timeout) {
  if (!proc_->running()) {
    auto st = proc_->wait_for_exit(0ms);
    return st ? st->code : -1;
  }
  return stop_child(*proc_, timeout);
}

void Aggregator::restart() {
  stop();
  launch();
}

Sidecar::Sidecar(ProcessEnv env) : env_(std::move(env)) {}

void Sidecar::start() {
  ProcessEnv env = basic_environment();
  env["LOGFERRY_LOG_LEVEL"] = "info";
  for (const auto& [k, v] : env_) env[k] = v;
  proc_ = std::make_unique<ChildProcess>();
  proc_->start({LOGFERRY_BIN}, env);
}

int Sidecar::stop(std::chrono::milliseconds timeout) { return stop_child(*proc_, timeout); }

void Sidecar::kill9() {
  proc_->kill(SIGKILL);
  proc_->wait_for_exit(10s);
}

}  // namespace logferry::test
