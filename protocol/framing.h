// Packet framing: every MySQL packet travels as one or more frames of a 3-byte
// length and a sequence id; a payload of 0xffffff bytes or more is split, and a
// frame of exactly 0xffffff bytes means another frame of the same packet follows.
#pragma once

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "protocol/wire_codec.h"

namespace ql::protocol {

inline constexpr size_t kFrameHeaderSize = 4;
inline constexpr uint32_t kMaxFramePayload = 0xffffff;

struct FrameHeader {
  uint32_t payload_length = 0;
  uint8_t sequence_id = 0;
};

// `p` must point at 4 readable bytes.
inline FrameHeader DecodeFrameHeader(const uint8_t* p) {
  return {uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16, p[3]};
}

inline void EncodeFrameHeader(uint8_t* p, uint32_t length, uint8_t sequence_id) {
  p[0] = uint8_t(length);
  p[1] = uint8_t(length >> 8);
  p[2] = uint8_t(length >> 16);
  p[3] = sequence_id;
}

// Appends `payload` framed; returns the sequence id that follows the last frame.
uint8_t AppendFrames(Bytes& out, ByteSpan payload, uint8_t first_sequence_id);

// Frames a packet whose payload was written after 4 reserved bytes at `start`
// in `buf` (the common "reserve header, write payload, patch" pattern). Inserts
// continuation headers when the payload exceeds one frame. Returns the next id.
uint8_t FinishFrames(Bytes& buf, size_t start, uint8_t first_sequence_id);

// Reassembles whole packets (continuation frames joined) from a byte stream
// that arrives in arbitrary chunks. Checks that sequence ids follow on.
class PacketReader {
 public:
  enum class Result { kNeedMore, kPacketReady, kError };

  explicit PacketReader(size_t max_packet_size) : max_packet_size_(max_packet_size) {}

  // Consumes bytes from the front of `input` (advancing it) until a packet is
  // complete or the input is exhausted. After kPacketReady, packet() is valid
  // until the next Feed(); the next Feed() starts a new packet.
  Result Feed(ByteSpan& input);

  // Connection-phase packets are small; a peer that claims megabytes there
  // is not speaking MySQL, so callers lower the limit until login is done.
  void set_max_packet_size(size_t n) { max_packet_size_ = n; }

  ByteSpan packet() const { return payload_; }
  uint8_t first_sequence_id() const { return first_sequence_id_; }
  uint8_t next_sequence_id() const { return uint8_t(last_sequence_id_ + 1); }
  const absl::Status& error() const { return error_; }

 private:
  void StartPacket();

  size_t max_packet_size_;
  Bytes payload_;
  uint8_t header_[kFrameHeaderSize] = {};
  size_t header_have_ = 0;
  uint32_t frame_remaining_ = 0;
  bool in_frame_ = false;
  bool frame_is_last_ = false;
  bool ready_ = false;
  bool first_frame_ = true;
  uint8_t first_sequence_id_ = 0;
  uint8_t last_sequence_id_ = 0;
  absl::Status error_;
};

}  // namespace ql::protocol
