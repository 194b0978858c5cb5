#include "p2p/frame.h"

#include <cstdlib>
#include <cstring>
#include <limits>

namespace baton::p2p {

void put_frame_prefix(std::uint32_t body_size, std::uint8_t out[kFramePrefixSize]) {
  out[0] = static_cast<std::uint8_t>(body_size >> 24);
  out[1] = static_cast<std::uint8_t>(body_size >> 16);
  out[2] = static_cast<std::uint8_t>(body_size >> 8);
  out[3] = static_cast<std::uint8_t>(body_size);
}

chain::Bytes encode_frame(chain::ByteView body) {
  if (body.size() > std::numeric_limits<std::uint32_t>::max()) std::abort();
  chain::Bytes out(kFramePrefixSize + body.size());
  put_frame_prefix(static_cast<std::uint32_t>(body.size()), out.data());
  if (!body.empty()) std::memcpy(out.data() + kFramePrefixSize, body.data(), body.size());
  return out;
}

void FrameDecoder::feed(chain::ByteView bytes) {
  if (poisoned_ || bytes.empty()) return;
  compact();
  buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
}

FrameResult FrameDecoder::next() {
  FrameResult result;
  if (poisoned_) {
    result.status = FrameStatus::oversized;
    result.announced = *poisoned_;
    return result;
  }
  if (buffered() < kFramePrefixSize) return result;
  const std::uint8_t* p = buffer_.data() + read_;
  const std::uint32_t length = (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) |
                               (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
  if (length > max_body_) {
    // Release what we hold: nothing more from this peer will be read.
    poisoned_ = length;
    chain::Bytes().swap(buffer_);
    read_ = 0;
    result.status = FrameStatus::oversized;
    result.announced = length;
    return result;
  }
  if (buffered() - kFramePrefixSize < length) return result;
  result.status = FrameStatus::frame;
  result.body.assign(p + kFramePrefixSize, p + kFramePrefixSize + length);
  read_ += kFramePrefixSize + length;
  if (read_ == buffer_.size()) {
    buffer_.clear();
    read_ = 0;
  }
  return result;
}

void FrameDecoder::compact() {
  // Move the unread tail to the front once the consumed head dominates, so
  // the buffer never grows beyond about two frames plus one read.
  if (read_ == 0) return;
  if (read_ < buffer_.size() / 2 && read_ < 64 * 1024) return;
  buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(read_));
  read_ = 0;
}

}  // namespace baton::p2p
