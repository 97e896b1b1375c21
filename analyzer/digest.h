// The digest id of a fingerprint: a 64-bit hash of the normalized text, shown
// as 16 lower-case hex digits. The hash is XXH64 (seed 0), implemented here
// from its published description: fast, well distributed, and reproducible by
// anyone with an xxhash tool, so ids in logs and metrics can be re-derived.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ql::analyzer {

// XXH64 of `data` with the given seed.
uint64_t Xxh64(std::string_view data, uint64_t seed = 0);

// The digest id of a fingerprint (XXH64, seed 0).
inline uint64_t DigestId(std::string_view fingerprint) {
  return Xxh64(fingerprint, 0);
}

// Writes exactly 16 lower-case hex digits (no terminator, no allocation).
void DigestHexTo(uint64_t id, char out[16]);
// Same as DigestHexTo, as a string: "0f70cec4015f2a34".
std::string DigestHex(uint64_t id);

}  // namespace ql::analyzer
