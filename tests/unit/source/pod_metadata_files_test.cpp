#include "sidecar/source/pod_metadata_files.hpp"
#include "sidecar/core/pipeline_metrics.hpp"

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include "support/temp_dir.hpp"

using namespace logferry;
using logferry::test::TempDir;
namespace fs = std::filesystem;

namespace {

// Publishes `text` as the kubelet does: a new ..<version> directory, then an
// atomic rename of a symlink over ..data; <dir>/labels -> ..data/labels.
void publish(const fs::path& dir, int version, const std::string& text) {
  const std::string name = "..v" + std::to_string(version);
  fs::create_directories(dir / name);
  std::ofstream(dir / name / "labels", std::ios::binary) << text;
  fs::create_symlink(name, dir / "..data_tmp");
  fs::rename(dir / "..data_tmp", dir / "..data");
  if (!fs::is_symlink(dir / "labels")) fs::create_symlink("..data/labels", dir / "labels");
  if (version > 0) fs::remove_all(dir / ("..v" + std::to_string(version - 1)));
}

}  // namespace

TEST_CASE("Pod labels files are re-read after the kubelet swaps ..data", "[source][downward]") {
  TempDir tmp("logferry-podinfo");
  publish(tmp.path(), 0, "app=\"web\"\ntier=\"front\"");
  boost::asio::io_context io;
  PipelineMetrics metrics;
  PodMetadataFiles files(io.get_executor(), (tmp / "labels").string(), "", metrics);
  REQUIRE(files.enabled());
  CHECK(files.resource() == Labels{{"k8s.pod.label.app", "web"}, {"k8s.pod.label.tier", "front"}});
  CHECK(metrics.pod_metadata_reloads == 1);

  // Unchanged: nothing re-read.
  CHECK_FALSE(files.refresh());
  CHECK(metrics.pod_metadata_reloads == 1);

  publish(tmp.path(), 1, "app=\"web\"\nbroken line\nversion=\"2\"");
  CHECK(files.refresh());
  CHECK(files.resource() == Labels{{"k8s.pod.label.app", "web"}, {"k8s.pod.label.version", "2"}});
  CHECK(metrics.pod_metadata_bad_lines == 1);

  // The same content under a new directory: re-read, but no change to report.
  publish(tmp.path(), 2, "app=\"web\"\nbroken line\nversion=\"2\"");
  CHECK_FALSE(files.refresh());
  CHECK(metrics.pod_metadata_reloads == 3);

  // A file that disappears keeps its last labels, counted as a read error.
  fs::remove_all(tmp / "..data");
  CHECK_FALSE(files.refresh());
  CHECK(metrics.pod_metadata_read_errors == 1);
  CHECK(files.resource() == Labels{{"k8s.pod.label.app", "web"}, {"k8s.pod.label.version", "2"}});
}

TEST_CASE("labels and annotations files give their own prefixes", "[source][downward]") {
  TempDir tmp("logferry-podinfo");
  const auto labels = tmp.write_file("labels", "app=\"web\"");
  const auto annotations = tmp.write_file("annotations", "team.example/owner=\"payments\"");
  boost::asio::io_context io;
  PipelineMetrics metrics;
  PodMetadataFiles files(io.get_executor(), labels.string(), annotations.string(), metrics);
  CHECK(files.resource() ==
        Labels{{"k8s.pod.label.app", "web"}, {"k8s.pod.annotation.team.example/owner", "payments"}});
}

TEST_CASE("Pod metadata files are optional, but must be readable when set", "[source][downward]") {
  TempDir tmp("logferry-podinfo");
  boost::asio::io_context io;
  PipelineMetrics metrics;
  CHECK_FALSE(PodMetadataFiles(io.get_executor(), "", "", metrics).enabled());

  CHECK_THROWS_WITH(PodMetadataFiles(io.get_executor(), (tmp / "nope").string(), "", metrics),
                    Catch::Contains("cannot read Pod metadata file") && Catch::Contains("nope"));

  CHECK_THROWS_AS(PodMetadataFiles(io.get_executor(), tmp.path().string(), "", metrics), std::runtime_error);
}
