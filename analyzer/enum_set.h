// A set of enumerators stored as bits: the classifier's "reasons to stay on the
// primary" and "session state changed" sets. Plain value type, no allocation,
// cheap to copy and to merge across the statements of a multi-statement query.
#pragma once

#include <cstdint>
#include <initializer_list>

namespace ql::analyzer {

// E must be an enum whose enumerators are 0..31.
template <typename E>
class EnumSet {
 public:
  constexpr EnumSet() = default;
  constexpr EnumSet(std::initializer_list<E> members) {
    for (E e : members) Add(e);
  }

  constexpr void Add(E e) { bits_ |= Bit(e); }
  constexpr void Remove(E e) { bits_ &= ~Bit(e); }
  constexpr void AddAll(EnumSet other) { bits_ |= other.bits_; }
  constexpr void Clear() { bits_ = 0; }
  constexpr bool Has(E e) const { return (bits_ & Bit(e)) != 0; }
  constexpr bool empty() const { return bits_ == 0; }
  constexpr uint32_t bits() const { return bits_; }

  friend constexpr bool operator==(EnumSet a, EnumSet b) {
    return a.bits_ == b.bits_;
  }

 private:
  static constexpr uint32_t Bit(E e) {
    return uint32_t{1} << static_cast<unsigned>(e);
  }
  uint32_t bits_ = 0;
};

}  // namespace ql::analyzer
