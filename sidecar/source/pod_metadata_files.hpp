#pragma once
// Sidecar mode: the Pod's labels (and annotations) from a downwardAPI volume,
// LOGFERRY_POD_LABELS_FILE / LOGFERRY_POD_ANNOTATIONS_FILE, as resource labels
// k8s.pod.label.<key> / k8s.pod.annotation.<key>. The kubelet updates the
// volume by swapping its `..data` symlink to a new directory, so the file name
// (a symlink into ..data) is followed and its identity (device, inode, size,
// mtime) checked every LOGFERRY_POLL_INTERVAL: a changed identity is re-read.
#include <sys/types.h>

#include <cstdint>
#include <ctime>
#include <functional>
#include <string>
#include <system_error>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "sidecar/core/file_stamp.hpp"
#include "sidecar/core/pipeline_metrics.hpp"
#include "sidecar/core/labels.hpp"

namespace logferry {

// Largest file accepted (a Pod's annotations are limited to 256KiB in total).
inline constexpr uint64_t kMaxPodMetadataFileBytes = 1024 * 1024;

class PodMetadataFiles {
 public:
  // Reads the configured files once; throws std::runtime_error (start-up)
  // when one cannot be read.
  // `labels_file`, `annotations_file`: "" = none.
  PodMetadataFiles(boost::asio::any_io_executor ex, const std::string& labels_file,
                   const std::string& annotations_file, PipelineMetrics& metrics);

  bool enabled() const { return !files_.empty(); }
  // k8s.pod.label.<key>... then k8s.pod.annotation.<key>..., in file order.
  Labels resource() const;
  // Re-reads the files whose identity changed; true when any content changed.
  // A file that cannot be read keeps its last labels (logged and counted).
  bool refresh();
  // Calls refresh() every `interval` and on_change() after a change, until stop().
  boost::asio::awaitable<void> run(std::chrono::milliseconds interval, std::function<void()> on_change);
  void stop();

 private:
  struct File {
    std::string path;
    std::string key_prefix;  // "k8s.pod.label." or "k8s.pod.annotation."
    FileStamp stamp;
    Labels labels;           // prefixed keys
  };
  // Reads `f` when its stamp changed; ec on failure. True when labels changed.
  bool reload(File& f, std::error_code& ec);

  boost::asio::steady_timer timer_;
  PipelineMetrics& metrics_;
  std::vector<File> files_;
  bool stopped_ = false;
};

}  // namespace logferry
