#include "sidecar/core/zstd_context.hpp"

#include <zstd.h>

namespace logferry {

void ZstdContextFree::operator()(ZSTD_CCtx_s* context) const { ZSTD_freeCCtx(context); }
void ZstdContextFree::operator()(ZSTD_DCtx_s* context) const { ZSTD_freeDCtx(context); }

ZstdCompressor make_zstd_compressor() { return ZstdCompressor(ZSTD_createCCtx()); }
ZstdDecompressor make_zstd_decompressor() { return ZstdDecompressor(ZSTD_createDCtx()); }

}  // namespace logferry
