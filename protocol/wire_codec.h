// Primitive readers and writers of the MySQL wire format: fixed-width little
// endian integers, length-encoded integers and strings, NUL-terminated strings.
// WireReader never reads past its span; the first failure sticks, so a decoder
// can read a whole packet and check once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace ql::protocol {

using Bytes = std::vector<uint8_t>;
using ByteSpan = std::span<const uint8_t>;

inline std::string_view AsStringView(ByteSpan s) {
  return {reinterpret_cast<const char*>(s.data()), s.size()};
}
// Debian's abseil has its own string_view type; StrCat and Status need it.
inline absl::string_view Sv(std::string_view s) { return {s.data(), s.size()}; }
inline ByteSpan AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

class WireReader {
 public:
  explicit WireReader(ByteSpan data) : data_(data) {}

  uint8_t U8();
  uint16_t U16();
  uint32_t U24();
  uint32_t U32();
  uint64_t U48();
  uint64_t U64();
  uint64_t LenEncInt();
  // A length-encoded integer that may also be the NULL marker 0xfb. Returns
  // true and sets *value for an integer; false for NULL (ok() stays true) or
  // on failure (ok() turns false).
  bool LenEncIntOrNull(uint64_t* value);
  std::string_view LenEncString();
  std::string_view NulString();
  std::string_view Fixed(size_t n);
  std::string_view Rest();
  void Skip(size_t n);

  uint8_t PeekU8() const { return remaining() ? data_[pos_] : 0; }
  size_t remaining() const { return data_.size() - pos_; }
  size_t position() const { return pos_; }
  bool ok() const { return ok_; }
  bool AtEnd() const { return pos_ == data_.size(); }

  // OK only if every read succeeded; `what` names the packet in the error.
  absl::Status Finish(std::string_view what, bool allow_trailing = true) const;

 private:
  bool Need(size_t n);

  ByteSpan data_;
  size_t pos_ = 0;
  bool ok_ = true;
};

// Appends to a byte vector it does not own, so callers can reuse buffers.
class WireWriter {
 public:
  explicit WireWriter(Bytes& out) : out_(out) {}

  void U8(uint8_t v) { out_.push_back(v); }
  void U16(uint16_t v);
  void U24(uint32_t v);
  void U32(uint32_t v);
  void U64(uint64_t v);
  void LenEncInt(uint64_t v);
  void LenEncString(std::string_view s);
  void NulString(std::string_view s);
  void Raw(std::string_view s);
  void Raw(ByteSpan s);
  void Zeros(size_t n) { out_.insert(out_.end(), n, 0); }

  Bytes& out() { return out_; }

 private:
  Bytes& out_;
};

// Size in bytes of the length-encoded form of v.
size_t LenEncIntSize(uint64_t v);

}  // namespace ql::protocol
