// One executable holding both programs, for the container image: the
// aggregator when invoked as logferry-aggregator (the image's symlink, so
// `--entrypoint /usr/local/bin/logferry-aggregator` works) or as
// `logferry aggregator ARGS...`; the sidecar otherwise. Both programs share
// protobuf, OpenSSL, RE2, Boost and the C++ runtime, so one static executable
// is about half the size of two.
#include <string_view>

#include "aggregator/aggregator_cli.hpp"
#include "sidecar/app/cli.hpp"

namespace {

// The last component of a path ("logferry-aggregator" for "/usr/local/bin/logferry-aggregator").
std::string_view base_name(std::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 0 && base_name(argv[0]) == "logferry-aggregator") {
    return logferry::aggregator::run_aggregator_cli(argc, argv);
  }
  if (argc > 1 && std::string_view(argv[1]) == "aggregator") {
    // The aggregator sees "aggregator" as its program name and the rest as its arguments.
    return logferry::aggregator::run_aggregator_cli(argc - 1, argv + 1);
  }
  return logferry::run_cli(argc, argv);
}
