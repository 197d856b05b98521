#pragma once
// Owners of zstd's compression and decompression contexts (freed on
// destruction), for the sidecar's TCP sessions and the aggregator's decoder.
// zstd.h is needed only by the code that uses the contexts.
#include <memory>

struct ZSTD_CCtx_s;
struct ZSTD_DCtx_s;

namespace logferry {

struct ZstdContextFree {
  void operator()(ZSTD_CCtx_s* context) const;
  void operator()(ZSTD_DCtx_s* context) const;
};

using ZstdCompressor = std::unique_ptr<ZSTD_CCtx_s, ZstdContextFree>;
using ZstdDecompressor = std::unique_ptr<ZSTD_DCtx_s, ZstdContextFree>;

// A new context; empty when zstd cannot allocate one.
ZstdCompressor make_zstd_compressor();
ZstdDecompressor make_zstd_decompressor();

}  // namespace logferry
