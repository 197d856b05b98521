// Builds the Containerfile with podman (as described in the project's container
// notes: runc, cgroupfs, host network, a debootstrap'ed base image imported as
// docker.io/library/debian:bookworm) and runs the image read-only, as 65532,
// with every capability dropped: the aggregator and the sidecar from the same
// image, forwarding a mounted file. Reported as skipped (support/skip.hpp) when
// podman, debootstrap or runc is not installed, or when not run as root. Set
// LOGFERRY_TEST_CACHE to a directory to keep the base image's rootfs tarball
// between runs.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "support/process.hpp"
#include "support/skip.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

using namespace logferry::test;
namespace fs = std::filesystem;

namespace {

bool on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return false;
  std::string_view rest(path);
  while (!rest.empty()) {
    const size_t colon = rest.find(':');
    const fs::path dir(std::string(rest.substr(0, colon)));
    if (::access((dir / program).c_str(), X_OK) == 0) return true;
    if (colon == std::string_view::npos) break;
    rest.remove_prefix(colon + 1);
  }
  return false;
}

// Runs podman with our own configuration and storage; fails the test on a bad exit.
class Podman {
 public:
  explicit Podman(const TempDir& dir) : env_(basic_environment()) {
    write_file(dir / "containers.conf",
               "[containers]\n"
               "netns=\"host\"\n"
               "default_ulimits=[\"nofile=20000:20000\",\"nproc=32768:32768\"]\n"
               "[engine]\n"
               "cgroup_manager=\"cgroupfs\"\n"
               "events_logger=\"file\"\n"
               "runtime=\"runc\"\n");
    write_file(dir / "storage.conf", "[storage]\ndriver=\"overlay\"\ngraphroot=\"" + (dir / "graph").string() +
                                         "\"\nrunroot=\"" + (dir / "run").string() + "\"\n");
    fs::create_directories(dir / "tmp");
    env_["CONTAINERS_CONF"] = (dir / "containers.conf").string();
    env_["CONTAINERS_STORAGE_CONF"] = (dir / "storage.conf").string();
    env_["TMPDIR"] = (dir / "tmp").string();
  }

  RunResult run(std::vector<std::string> args, std::chrono::milliseconds timeout = 120s) const {
    args.insert(args.begin(), "podman");
    return run_process(args, env_, timeout);
  }

  void start(ChildProcess& child, std::vector<std::string> args) const {
    args.insert(args.begin(), "podman");
    child.start(args, env_);
  }

  const ProcessEnv& env() const { return env_; }

 private:
  ProcessEnv env_;
};

std::string describe(const RunResult& r) {
  if (!r.status) return "timed out\n" + r.out + r.err;
  return "exit " + std::to_string(r.status->code) + "\n" + r.out + r.err;
}

bool ok(const RunResult& r) { return r.status && r.status->code == 0; }

// A long build's output, made short enough for a report that may be cut: the
// exit, then every failure with the lines after it (Catch's FAILED blocks,
// ctest's summary, podman's "Error:"), then the last lines. logferry's own
// JSON logs from the unit tests are left out: they bury the failures.
std::string describe_build(const RunResult& r) {
  std::vector<std::string> lines;
  const std::string all = r.out + r.err;
  for (size_t at = 0; at < all.size();) {
    const size_t end = std::min(all.find('\n', at), all.size());
    std::string line = all.substr(at, end - at);
    if (!line.starts_with("{\"ts\":")) lines.push_back(std::move(line));
    at = end + 1;
  }
  std::string report = r.status ? "exit " + std::to_string(r.status->code) + "\n" : "timed out\n";
  static const std::regex failure("FAILED|Failed|Error:|error:|Errors while");
  for (size_t i = 0; i < lines.size() && report.size() < 12000; ++i) {
    if (!std::regex_search(lines[i], failure)) continue;
    for (size_t j = i; j < std::min(i + 16, lines.size()); ++j) report += lines[j] + "\n";
    report += "--\n";
    i += 15;
  }
  report += "last lines:\n";
  for (size_t i = lines.size() > 40 ? lines.size() - 40 : 0; i < lines.size(); ++i) report += lines[i] + "\n";
  return report;
}

// The base image's root filesystem as a tarball: from the cache, or made with debootstrap.
fs::path base_rootfs_tarball(const TempDir& dir) {
  fs::path cache = dir / "cache";
  if (const char* c = std::getenv("LOGFERRY_TEST_CACHE"); c != nullptr && *c != '\0') cache = c;
  fs::create_directories(cache);
  const fs::path tarball = cache / "debian-bookworm-minbase.tar";
  if (fs::exists(tarball)) return tarball;
  const auto rootfs = dir / "rootfs";
  const auto boot = run_process({"debootstrap", "--variant=minbase", "bookworm", rootfs.string()},
                                basic_environment(), 15min);
  INFO(describe(boot));
  REQUIRE(ok(boot));
  const fs::path partial = tarball.string() + ".partial";
  const auto tar = run_process({"tar", "-C", rootfs.string(), "-cf", partial.string(), "."}, basic_environment(), 5min);
  INFO(describe(tar));
  REQUIRE(ok(tar));
  fs::rename(partial, tarball);
  fs::remove_all(rootfs);
  return tarball;
}

// Lines of every file under `dir` (the aggregator's ndjson), concatenated.
std::string read_tree(const fs::path& dir) {
  std::string all;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_regular_file(ec)) all += read_file(it->path());
  }
  return all;
}

}  // namespace

TEST_CASE("container: image builds, is small, and forwards read-only as 65532", "[e2e][container]") {
  for (const char* tool : {"podman", "debootstrap", "runc"}) {
    if (!on_path(tool)) {
      skip("container test: " + std::string(tool) +
           " is not installed (apt-get install podman buildah runc debootstrap uidmap)");
      return;
    }
  }
  if (::geteuid() != 0) {
    skip("container test: needs root (podman with cgroupfs and chroot isolation, as in the container notes)");
    return;
  }
  TempDir dir("logferry-container");
  const Podman podman(dir);
  const std::string image = "localhost/logferry:e2e-" + std::to_string(::getpid());
  struct Cleanup {
    const Podman& p;
    ~Cleanup() {
      p.run({"rm", "-af", "-t", "0"});
      p.run({"rmi", "-af"});
    }
  } cleanup{podman};

  // Base image without a registry.
  const auto tarball = base_rootfs_tarball(dir);
  const auto import = podman.run({"import", tarball.string(), "docker.io/library/debian:bookworm"}, 10min);
  INFO(describe(import));
  REQUIRE(ok(import));

  // Build: compiles the executable only (the Containerfile's TESTS=OFF default: the
  // tests ran outside), assembles the scratch image.
  const auto build = podman.run({"build", "--isolation", "chroot", "--network", "host", "--pull=never", "-t", image,
                                 "-f", std::string(LOGFERRY_SOURCE_DIR) + "/Containerfile", LOGFERRY_SOURCE_DIR},
                                60min);
  INFO(describe_build(build));
  REQUIRE(ok(build));

  const auto size = podman.run({"image", "inspect", "--format", "{{.Size}}", image});
  REQUIRE(ok(size));
  const uint64_t bytes = std::stoull(size.out);
  std::fprintf(stderr, "container image size: %llu bytes (%.2f MiB)\n", static_cast<unsigned long long>(bytes),
               static_cast<double>(bytes) / (1024.0 * 1024.0));
  WARN("container image size: " << bytes << " bytes");
  // The goal: under 10 MB. One multi-call static executable (section GC, protobuf
  // lite, control-path code at -Os, stripped: 9.63 MB) plus CA certificates (0.22 MB).
  CHECK(bytes < 10'000'000u);

  const std::vector<std::string> locked_down{"run",    "--rm",     "--network", "host",        "--read-only",
                                             "--user", "65532:65532", "--cap-drop=all", "--security-opt",
                                             "no-new-privileges"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = locked_down;
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };

  const auto version = podman.run(with({image, "--version"}));
  INFO(describe(version));
  REQUIRE(ok(version));
  CHECK(version.out == std::string("logferry ") + LOGFERRY_VERSION + "\n");
  // One multi-call executable: the aggregator by argument here, by its symlink's name below.
  const auto aggregator_version = podman.run(with({image, "aggregator", "--version"}));
  INFO(describe(aggregator_version));
  REQUIRE(ok(aggregator_version));
  CHECK(aggregator_version.out == std::string("logferry-aggregator ") + LOGFERRY_VERSION + "\n");

  // Host directories the containers write into: owned by 65532.
  for (const char* d : {"aggdata", "state", "logs"}) {
    fs::create_directories(dir / d);
    REQUIRE(::chown((dir / d).c_str(), 65532, 65532) == 0);
  }
  std::string expected_lines;
  for (int i = 0; i < 20; ++i) expected_lines += "container-line-" + std::to_string(i) + "\n";
  dir.write_file("logs/app.log", expected_lines);

  const std::string suffix = std::to_string(::getpid());
  ChildProcess aggregator;
  podman.start(aggregator, with({"--name", "logferry-agg-" + suffix, "-v", (dir / "aggdata").string() + ":/data",
                                 "-e", "LOGFERRY_AGGREGATOR_DATA_DIR=/data", "-e",
                                 "LOGFERRY_AGGREGATOR_LISTEN=127.0.0.1:0", "--entrypoint",
                                 "/usr/local/bin/logferry-aggregator", image}));
  REQUIRE(aggregator.wait_for_stdout("listening on 127.0.0.1:", 60s));
  REQUIRE(wait_until([&] { return aggregator.stdout_text().find('\n') != std::string::npos; }, 10s));
  std::smatch m;
  const std::string out = aggregator.stdout_text();
  REQUIRE(std::regex_search(out, m, std::regex("listening on 127\\.0\\.0\\.1:([0-9]+)")));
  const std::string port = m[1];

  ChildProcess sidecar;
  podman.start(sidecar, with({"--name", "logferry-sidecar-" + suffix, "-v", (dir / "logs").string() + ":/logs:ro",
                              "-v", (dir / "state").string() + ":/state", "-e", "LOGFERRY_FILES=/logs/*.log", "-e",
                              "LOGFERRY_OUTPUT=tcp://127.0.0.1:" + port, "-e", "LOGFERRY_CHECKPOINT_DIR=/state",
                              image}));
  const bool arrived = wait_until(
      [&] {
        const std::string stored = read_tree(dir / "aggdata");
        for (int i = 0; i < 20; ++i) {
          if (stored.find("container-line-" + std::to_string(i) + "\"") == std::string::npos) return false;
        }
        return true;
      },
      90s, 250ms);
  INFO("sidecar stderr:\n" << sidecar.stderr_text() << "\naggregator stderr:\n" << aggregator.stderr_text());
  CHECK(arrived);

  podman.run({"stop", "-t", "10", "logferry-sidecar-" + suffix}, 60s);
  podman.run({"stop", "-t", "10", "logferry-agg-" + suffix}, 60s);
  CHECK(sidecar.wait_for_exit(30s).has_value());
  CHECK(aggregator.wait_for_exit(30s).has_value());
}
