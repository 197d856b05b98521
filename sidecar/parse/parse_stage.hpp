#pragma once
// The parse stage of the pipeline: source -> parse -> batch -> sink ->
// checkpoint. It owns the parsing options and hands each origin (a file, the
// pipe, stdin) its parser chain (registry.hpp: filter -> [cri|docker] ->
// [multiline] -> parser); the batcher drives one chain per origin, line by
// line, writing what it yields straight into the batch being built.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string_view>

#include "sidecar/core/origin.hpp"
#include "sidecar/core/parse_options.hpp"
#include "sidecar/parse/parser.hpp"

namespace logferry {

class ParseStage {
 public:
  // `options` must outlive the stage. `multiline_records` counts records
  // joined from several lines (may be null; it must outlive the chains).
  explicit ParseStage(const ParseOptions& options, uint64_t* multiline_records = nullptr)
      : options_(options), multiline_records_(multiline_records) {}

  // The chain for lines of `origin` (LOGFERRY_PARSERS by its path, else
  // LOGFERRY_PARSER), or with the parser and multiline preset its owner asked
  // for (node mode: the Pod's logferry.io/ annotations; "" = as configured).
  // Behind cri/docker the asked parser reads the message inside each line.
  std::unique_ptr<Parser> chain_for(const Origin& origin, std::string_view parser = {},
                                    std::string_view multiline = {}) const;
  // How long a held record (multiline, a cri/docker partial line) may wait
  // for more lines before the batcher flushes it (LOGFERRY_MULTILINE_TIMEOUT).
  std::chrono::milliseconds flush_timeout() const { return options_.multiline_timeout; }

 private:
  const ParseOptions& options_;
  uint64_t* multiline_records_;
};

}  // namespace logferry
