// Implementation of the primitive wire readers and writers.
#include "protocol/wire_codec.h"

#include <cstring>

#include "absl/strings/str_cat.h"

namespace ql::protocol {

bool WireReader::Need(size_t n) {
  if (!ok_ || remaining() < n) {
    ok_ = false;
    return false;
  }
  return true;
}

uint8_t WireReader::U8() {
  if (!Need(1)) return 0;
  return data_[pos_++];
}

uint16_t WireReader::U16() {
  if (!Need(2)) return 0;
  uint16_t v = uint16_t(data_[pos_]) | uint16_t(data_[pos_ + 1]) << 8;
  pos_ += 2;
  return v;
}

uint32_t WireReader::U24() {
  if (!Need(3)) return 0;
  uint32_t v = uint32_t(data_[pos_]) | uint32_t(data_[pos_ + 1]) << 8 |
               uint32_t(data_[pos_ + 2]) << 16;
  pos_ += 3;
  return v;
}

uint32_t WireReader::U32() {
  if (!Need(4)) return 0;
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = v << 8 | data_[pos_ + i];
  pos_ += 4;
  return v;
}

uint64_t WireReader::U48() {
  if (!Need(6)) return 0;
  uint64_t v = 0;
  for (int i = 5; i >= 0; --i) v = v << 8 | data_[pos_ + i];
  pos_ += 6;
  return v;
}

uint64_t WireReader::U64() {
  if (!Need(8)) return 0;
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = v << 8 | data_[pos_ + i];
  pos_ += 8;
  return v;
}

bool WireReader::LenEncIntOrNull(uint64_t* value) {
  if (!Need(1)) return false;
  uint8_t first = data_[pos_];
  if (first == 0xfb) {
    ++pos_;
    return false;
  }
  uint64_t v = LenEncInt();
  if (!ok_) return false;  // truncated: no value, and ok() says why
  *value = v;
  return true;
}

uint64_t WireReader::LenEncInt() {
  uint8_t first = U8();
  if (!ok_) return 0;
  if (first < 0xfb) return first;
  switch (first) {
    case 0xfc:
      return U16();
    case 0xfd:
      return U24();
    case 0xfe:
      return U64();
    default:  // 0xfb is NULL, 0xff is an error marker: neither is an integer.
      ok_ = false;
      return 0;
  }
}

std::string_view WireReader::LenEncString() {
  uint64_t n = LenEncInt();
  if (!ok_) return {};
  if (n > remaining()) {
    ok_ = false;
    return {};
  }
  return Fixed(static_cast<size_t>(n));
}

std::string_view WireReader::NulString() {
  if (!Need(1)) return {};  // at least the NUL; also keeps memchr off a null pointer
  const void* nul = std::memchr(data_.data() + pos_, 0, remaining());
  if (nul == nullptr) {
    ok_ = false;
    return {};
  }
  size_t n = static_cast<const uint8_t*>(nul) - (data_.data() + pos_);
  std::string_view s = AsStringView(data_.subspan(pos_, n));
  pos_ += n + 1;
  return s;
}

std::string_view WireReader::Fixed(size_t n) {
  if (!Need(n)) return {};
  std::string_view s = AsStringView(data_.subspan(pos_, n));
  pos_ += n;
  return s;
}

std::string_view WireReader::Rest() { return Fixed(remaining()); }

void WireReader::Skip(size_t n) {
  if (Need(n)) pos_ += n;
}

absl::Status WireReader::Finish(std::string_view what, bool allow_trailing) const {
  if (!ok_) return absl::InvalidArgumentError(absl::StrCat("malformed ", Sv(what), ": truncated"));
  if (!allow_trailing && !AtEnd()) {
    return absl::InvalidArgumentError(
        absl::StrCat("malformed ", Sv(what), ": ", remaining(), " unexpected trailing bytes"));
  }
  return absl::OkStatus();
}

void WireWriter::U16(uint16_t v) {
  out_.push_back(uint8_t(v));
  out_.push_back(uint8_t(v >> 8));
}

void WireWriter::U24(uint32_t v) {
  out_.push_back(uint8_t(v));
  out_.push_back(uint8_t(v >> 8));
  out_.push_back(uint8_t(v >> 16));
}

void WireWriter::U32(uint32_t v) {
  for (int i = 0; i < 4; ++i) out_.push_back(uint8_t(v >> (8 * i)));
}

void WireWriter::U64(uint64_t v) {
  for (int i = 0; i < 8; ++i) out_.push_back(uint8_t(v >> (8 * i)));
}

void WireWriter::LenEncInt(uint64_t v) {
  if (v < 0xfb) {
    U8(uint8_t(v));
  } else if (v <= 0xffff) {
    U8(0xfc);
    U16(uint16_t(v));
  } else if (v <= 0xffffff) {
    U8(0xfd);
    U24(uint32_t(v));
  } else {
    U8(0xfe);
    U64(v);
  }
}

void WireWriter::LenEncString(std::string_view s) {
  LenEncInt(s.size());
  Raw(s);
}

void WireWriter::NulString(std::string_view s) {
  Raw(s);
  U8(0);
}

void WireWriter::Raw(std::string_view s) { out_.insert(out_.end(), s.begin(), s.end()); }

void WireWriter::Raw(ByteSpan s) { out_.insert(out_.end(), s.begin(), s.end()); }

size_t LenEncIntSize(uint64_t v) {
  if (v < 0xfb) return 1;
  if (v <= 0xffff) return 3;
  if (v <= 0xffffff) return 4;
  return 9;
}

}  // namespace ql::protocol
