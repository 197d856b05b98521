// Sidecar mode with a downwardAPI volume: the Pod's labels file (as the kubelet
// writes it, behind a `..data` symlink) becomes k8s.pod.label.<key> resource
// labels, and when the kubelet swaps `..data` while lines flow, later lines
// carry the new labels at the aggregator.
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "support/logferry_processes.hpp"
#include "support/store_reader.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

using namespace logferry::test;
namespace fs = std::filesystem;

namespace {

// A downwardAPI volume: <dir>/labels -> ..data/labels, ..data -> ..<version>.
class DownwardApiVolume {
 public:
  explicit DownwardApiVolume(fs::path dir) : dir_(std::move(dir)) { fs::create_directories(dir_); }

  // Writes a new version and swaps ..data to it atomically (rename of a
  // symlink over the old one), then removes the old version: the kubelet's way.
  void publish(const std::string& labels) {
    const std::string version = fmt::format("..2026_12_01_00_00_{:02}.{:09}", version_, version_);
    fs::create_directories(dir_ / version);
    std::ofstream(dir_ / version / "labels", std::ios::binary) << labels;
    fs::create_symlink(version, dir_ / "..data_tmp");
    fs::rename(dir_ / "..data_tmp", dir_ / "..data");
    if (!fs::exists(dir_ / "labels", ec_)) fs::create_symlink("..data/labels", dir_ / "labels");
    if (!previous_.empty()) fs::remove_all(dir_ / previous_);
    previous_ = version;
    ++version_;
  }
  fs::path labels_file() const { return dir_ / "labels"; }

 private:
  fs::path dir_;
  std::string previous_;
  int version_ = 0;
  std::error_code ec_;
};

const StoredEntry* find_body(const std::vector<StoredEntry>& stored, const std::string& body) {
  for (const auto& s : stored)
    if (s.body == body) return &s;
  return nullptr;
}

std::string label(const StoredEntry& s, const std::string& key) {
  auto it = s.resource.find("k8s.pod.label." + key);
  return it == s.resource.end() ? "<none>" : it->second;
}

}  // namespace

TEST_CASE("a downwardAPI labels file swapped by the kubelet relabels later lines", "[e2e][downward]") {
  TempDir tmp("logferry-downward");
  fs::create_directories(tmp / "logs");
  const fs::path log = tmp / "logs" / "app.log";
  DownwardApiVolume volume(tmp / "podinfo");
  volume.publish("app=\"web\"\nnote=\"say \\\"hi\\\"\\n\\u00e9\"\ntier=\"front\"");
  Aggregator aggregator(tmp / "store");
  Sidecar sidecar({{"LOGFERRY_FILES", log.string()},
                   {"LOGFERRY_OUTPUT", aggregator.output()},
                   {"LOGFERRY_CHECKPOINT_DIR", (tmp / "state").string()},
                   {"LOGFERRY_POD_LABELS_FILE", volume.labels_file().string()},
                   {"LOGFERRY_POLL_INTERVAL", "100ms"},
                   {"LOGFERRY_BATCH_TIMEOUT", "50ms"},
                   {"POD_NAME", "web-0"},
                   {"POD_NAMESPACE", "shop"}});
  sidecar.start();

  std::ofstream out(log, std::ios::app | std::ios::binary);
  int n = 0;
  auto write_line = [&] {
    const std::string body = fmt::format("line {:05}", n++);
    out << body << '\n' << std::flush;
    return body;
  };

  // Before the swap: the first labels, escapes decoded, with the Downward API env labels.
  const std::string first = write_line();
  REQUIRE(wait_until([&] { return find_body(read_store(tmp / "store", StoredFields::resource), first) != nullptr; }, 20s, 50ms));
  {
    const auto stored = read_store(tmp / "store", StoredFields::resource);
    const StoredEntry* s = find_body(stored, first);
    REQUIRE(s);
    CHECK(label(*s, "app") == "web");
    CHECK(label(*s, "tier") == "front");
    CHECK(label(*s, "note") == "say \"hi\"\n\xC3\xA9");
    CHECK(s->resource.at("k8s.pod.name") == "web-0");
  }

  // The kubelet updates the volume while lines keep flowing.
  volume.publish("app=\"web\"\ntier=\"back\"\nversion=\"2\"");
  std::string relabelled;
  REQUIRE(wait_until(
      [&] {
        const std::string body = write_line();
        const auto stored = read_store(tmp / "store", StoredFields::resource);
        for (const auto& s : stored) {
          if (label(s, "tier") == "back") {
            relabelled = s.body;
            return true;
          }
        }
        return false;
      },
      20s, 50ms));
  // A line written after the new labels were seen carries them, and the removed label is gone.
  const std::string last = write_line();
  REQUIRE(wait_until([&] { return find_body(read_store(tmp / "store", StoredFields::resource), last) != nullptr; }, 20s, 50ms));
  const auto stored = read_store(tmp / "store", StoredFields::resource);
  const StoredEntry* s = find_body(stored, last);
  REQUIRE(s);
  CHECK(label(*s, "tier") == "back");
  CHECK(label(*s, "version") == "2");
  CHECK(label(*s, "note") == "<none>");
  // Every line arrived, each with one of the two label sets in full.
  CHECK(stored.size() == static_cast<size_t>(n));
  for (const auto& e : stored) {
    INFO(e.body);
    CHECK(label(e, "app") == "web");
    const bool old_set = label(e, "tier") == "front" && label(e, "version") == "<none>";
    const bool new_set = label(e, "tier") == "back" && label(e, "version") == "2" && label(e, "note") == "<none>";
    CHECK((old_set || new_set));
  }
  CHECK(sidecar.stop() == 0);
}

TEST_CASE("an unreadable labels file stops the sidecar at start-up", "[e2e][downward]") {
  TempDir tmp("logferry-downward");
  Sidecar sidecar({{"LOGFERRY_FILES", (tmp / "app.log").string()},
                   {"LOGFERRY_OUTPUT", "tcp://127.0.0.1:9"},
                   {"LOGFERRY_CHECKPOINT_DIR", (tmp / "state").string()},
                   {"LOGFERRY_POD_LABELS_FILE", (tmp / "missing" / "labels").string()}});
  sidecar.start();
  const auto status = sidecar.process().wait_for_exit(20s);
  REQUIRE(status.has_value());
  CHECK(status->code == 2);
  CHECK(sidecar.process().stderr_text().find("cannot read Pod metadata file") != std::string::npos);
}
