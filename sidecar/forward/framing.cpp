#include "sidecar/forward/framing.hpp"

#include <cstring>

namespace logferry {

void put_frame_length(char* header, uint32_t length) {
  header[0] = static_cast<char>((length >> 24) & 0xFF);
  header[1] = static_cast<char>((length >> 16) & 0xFF);
  header[2] = static_cast<char>((length >> 8) & 0xFF);
  header[3] = static_cast<char>(length & 0xFF);
}

uint32_t get_frame_length(const char* header) {
  const auto* h = reinterpret_cast<const unsigned char*>(header);
  return (uint32_t{h[0]} << 24) | (uint32_t{h[1]} << 16) | (uint32_t{h[2]} << 8) | uint32_t{h[3]};
}

void append_frame(std::string& out, const google::protobuf::MessageLite& message) {
  const size_t size = message.ByteSizeLong();
  const size_t start = out.size();
  out.resize(start + kFrameHeaderBytes + size);
  put_frame_length(out.data() + start, static_cast<uint32_t>(size));
  message.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(out.data() + start + kFrameHeaderBytes));
}

void append_frame(std::string& out, std::string_view payload) {
  char header[kFrameHeaderBytes];
  put_frame_length(header, static_cast<uint32_t>(payload.size()));
  out.append(header, kFrameHeaderBytes);
  out.append(payload);
}

FrameDecoder::Status FrameDecoder::next(std::string& payload) {
  const size_t avail = buffer_.size() - consumed_;
  if (avail < kFrameHeaderBytes) return Status::need_more;
  const uint32_t len = get_frame_length(buffer_.data() + consumed_);
  if (len > max_) return Status::too_large;
  if (avail < kFrameHeaderBytes + len) return Status::need_more;
  payload.assign(buffer_.data() + consumed_ + kFrameHeaderBytes, len);
  consumed_ += kFrameHeaderBytes + len;
  if (consumed_ == buffer_.size()) {
    buffer_.clear();
    consumed_ = 0;
  } else if (consumed_ > 65536 && consumed_ * 2 > buffer_.size()) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  return Status::frame;
}

}  // namespace logferry
