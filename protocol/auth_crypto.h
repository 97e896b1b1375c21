// Password scrambles of the two authentication plugins the proxy speaks
// (mysql_native_password, caching_sha2_password) and the RSA step of
// caching_sha2_password's full authentication on connections without TLS.
// Pure computation over bytes (OpenSSL for the hashes and RSA); no I/O.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace ql::protocol {

inline constexpr std::string_view kNativePasswordPlugin = "mysql_native_password";
inline constexpr std::string_view kCachingSha2Plugin = "caching_sha2_password";

// SHA1(password) XOR SHA1(nonce + SHA1(SHA1(password))); empty for an empty password.
std::string NativePasswordScramble(std::string_view password, std::string_view nonce);

// SHA256(password) XOR SHA256(SHA256(SHA256(password)) + nonce); empty for an empty password.
std::string CachingSha2Scramble(std::string_view password, std::string_view nonce);

bool ConstantTimeEquals(std::string_view a, std::string_view b);

// The (password + NUL) XOR nonce obfuscation that precedes RSA encryption.
std::string XorWithNonce(std::string_view password_with_nul, std::string_view nonce);

// Encrypts a password for a server that sent its PEM public key (client side).
absl::StatusOr<std::string> RsaEncryptPassword(std::string_view public_key_pem,
                                               std::string_view password,
                                               std::string_view nonce);

// An RSA key pair generated at start-up for the server side of the exchange.
class RsaKeyPair {
 public:
  static absl::StatusOr<std::shared_ptr<const RsaKeyPair>> Generate(int bits = 2048);
  ~RsaKeyPair();

  const std::string& public_key_pem() const { return public_pem_; }
  // Returns the password the client encrypted (NUL and nonce obfuscation removed).
  absl::StatusOr<std::string> DecryptPassword(std::string_view ciphertext,
                                              std::string_view nonce) const;

 private:
  RsaKeyPair() = default;
  void* pkey_ = nullptr;  // EVP_PKEY*, kept opaque so OpenSSL headers stay out
  std::string public_pem_;
};

}  // namespace ql::protocol
