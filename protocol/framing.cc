// Implementation of framing and packet reassembly.
#include "protocol/framing.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace ql::protocol {

uint8_t AppendFrames(Bytes& out, ByteSpan payload, uint8_t seq) {
  size_t start = out.size();
  out.resize(start + kFrameHeaderSize);
  out.insert(out.end(), payload.begin(), payload.end());
  return FinishFrames(out, start, seq);
}

uint8_t FinishFrames(Bytes& buf, size_t start, uint8_t seq) {
  size_t payload_len = buf.size() - start - kFrameHeaderSize;
  if (payload_len < kMaxFramePayload) {
    EncodeFrameHeader(buf.data() + start, uint32_t(payload_len), seq);
    return uint8_t(seq + 1);
  }
  // Rare: rebuild with a header every 0xffffff bytes, plus an empty final
  // frame when the payload is an exact multiple of the frame size.
  Bytes payload(buf.begin() + start + kFrameHeaderSize, buf.end());
  buf.resize(start);
  size_t off = 0;
  while (true) {
    size_t n = std::min<size_t>(kMaxFramePayload, payload.size() - off);
    size_t at = buf.size();
    buf.resize(at + kFrameHeaderSize);
    EncodeFrameHeader(buf.data() + at, uint32_t(n), seq++);
    buf.insert(buf.end(), payload.begin() + off, payload.begin() + off + n);
    off += n;
    if (n < kMaxFramePayload) break;
  }
  return seq;
}

void PacketReader::StartPacket() {
  payload_.clear();
  header_have_ = 0;
  in_frame_ = false;
  ready_ = false;
  first_frame_ = true;
}

PacketReader::Result PacketReader::Feed(ByteSpan& input) {
  if (!error_.ok()) return Result::kError;
  if (ready_) StartPacket();
  while (true) {
    if (!in_frame_) {
      size_t take = std::min(kFrameHeaderSize - header_have_, input.size());
      if (take > 0) std::memcpy(header_ + header_have_, input.data(), take);
      header_have_ += take;
      input = input.subspan(take);
      if (header_have_ < kFrameHeaderSize) return Result::kNeedMore;
      FrameHeader h = DecodeFrameHeader(header_);
      header_have_ = 0;
      if (first_frame_) {
        first_sequence_id_ = h.sequence_id;
      } else if (h.sequence_id != uint8_t(last_sequence_id_ + 1)) {
        error_ = absl::InvalidArgumentError(
            absl::StrCat("packet sequence out of order: expected ",
                         uint8_t(last_sequence_id_ + 1), ", got ", h.sequence_id));
        return Result::kError;
      }
      last_sequence_id_ = h.sequence_id;
      first_frame_ = false;
      if (payload_.size() + h.payload_length > max_packet_size_) {
        error_ = absl::ResourceExhaustedError(
            absl::StrCat("packet larger than the limit of ", max_packet_size_, " bytes"));
        return Result::kError;
      }
      frame_remaining_ = h.payload_length;
      frame_is_last_ = h.payload_length < kMaxFramePayload;
      in_frame_ = true;
      payload_.reserve(payload_.size() + h.payload_length);
    }
    size_t take = std::min<size_t>(frame_remaining_, input.size());
    payload_.insert(payload_.end(), input.begin(), input.begin() + take);
    input = input.subspan(take);
    frame_remaining_ -= uint32_t(take);
    if (frame_remaining_ > 0) return Result::kNeedMore;
    in_frame_ = false;
    if (frame_is_last_) {
      ready_ = true;
      return Result::kPacketReady;
    }
  }
}

}  // namespace ql::protocol
