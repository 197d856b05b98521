#include "sidecar/source/pod_metadata_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "sidecar/core/logger.hpp"
#include "sidecar/source/downward_api_map.hpp"
#include "sidecar/source/file_watcher.hpp"

namespace logferry {

namespace asio = boost::asio;

namespace {

std::error_code last_error() { return {errno, std::generic_category()}; }

}  // namespace

PodMetadataFiles::PodMetadataFiles(asio::any_io_executor ex, const std::string& labels_file,
                                   const std::string& annotations_file, PipelineMetrics& metrics)
    : timer_(ex), metrics_(metrics) {
  if (!labels_file.empty()) files_.push_back({labels_file, "k8s.pod.label.", {}, {}});
  if (!annotations_file.empty())
    files_.push_back({annotations_file, "k8s.pod.annotation.", {}, {}});
  for (auto& f : files_) {
    std::error_code ec;
    reload(f, ec);
    if (ec) throw std::runtime_error("cannot read Pod metadata file " + f.path + ": " + ec.message());
  }
}

Labels PodMetadataFiles::resource() const {
  Labels out;
  for (const auto& f : files_) out.insert(out.end(), f.labels.begin(), f.labels.end());
  return out;
}

bool PodMetadataFiles::reload(File& f, std::error_code& ec) {
  // The kubelet's file is a symlink into ..data: following it is the point.
  // O_NONBLOCK: a FIFO put there must not block the event loop.
  UniqueFd fd(::open(f.path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (fd.get() < 0) {
    ec = last_error();
    return false;
  }
  struct stat st{};
  if (::fstat(fd.get(), &st) != 0) {
    ec = last_error();
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    ec = std::make_error_code(std::errc::invalid_argument);
    return false;
  }
  if (static_cast<uint64_t>(st.st_size) > kMaxPodMetadataFileBytes) {
    ec = std::make_error_code(std::errc::file_too_large);
    return false;
  }
  const FileStamp stamp = FileStamp::of(st);
  if (stamp == f.stamp) return false;
  std::string text;
  char buf[16384];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ec = last_error();
      return false;
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > kMaxPodMetadataFileBytes) {
      ec = std::make_error_code(std::errc::file_too_large);
      return false;
    }
  }
  auto parsed = parse_downward_api_map(text);
  f.stamp = stamp;
  ++metrics_.pod_metadata_reloads;
  if (parsed.bad_lines > 0) {
    metrics_.pod_metadata_bad_lines += parsed.bad_lines;
    log_limited(LogLevel::warn, "Pod metadata file has lines that are not key=\"value\"",
                {{"path", f.path}, {"lines", parsed.bad_lines}});
  }
  Labels labels;
  labels.reserve(parsed.pairs.size());
  for (auto& [k, v] : parsed.pairs) labels.emplace_back(f.key_prefix + k, std::move(v));
  if (labels == f.labels) return false;
  f.labels = std::move(labels);
  return true;
}

bool PodMetadataFiles::refresh() {
  bool changed = false;
  for (auto& f : files_) {
    std::error_code ec;
    changed = reload(f, ec) || changed;
    if (ec) {
      ++metrics_.pod_metadata_read_errors;
      log_limited(LogLevel::warn, "cannot re-read Pod metadata file; keeping its last labels",
                  {{"path", f.path}, {"error", ec.message()}});
    }
  }
  return changed;
}

asio::awaitable<void> PodMetadataFiles::run(std::chrono::milliseconds interval, std::function<void()> on_change) {
  while (!stopped_) {
    timer_.expires_after(interval);
    co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    if (stopped_) break;
    if (refresh()) on_change();
  }
}

void PodMetadataFiles::stop() {
  stopped_ = true;
  timer_.cancel();
}

}  // namespace logferry
