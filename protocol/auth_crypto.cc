// Implementation of the authentication scrambles and RSA helpers.
#include "protocol/auth_crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>

#include <array>

namespace ql::protocol {
namespace {

template <size_t N>
std::string ToString(const std::array<unsigned char, N>& a) {
  return std::string(reinterpret_cast<const char*>(a.data()), N);
}

std::array<unsigned char, SHA_DIGEST_LENGTH> Sha1(std::string_view a, std::string_view b = {}) {
  std::array<unsigned char, SHA_DIGEST_LENGTH> out;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha1(), nullptr);
  EVP_DigestUpdate(ctx, a.data(), a.size());
  EVP_DigestUpdate(ctx, b.data(), b.size());
  EVP_DigestFinal_ex(ctx, out.data(), nullptr);
  EVP_MD_CTX_free(ctx);
  return out;
}

std::array<unsigned char, SHA256_DIGEST_LENGTH> Sha256(std::string_view a,
                                                       std::string_view b = {}) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> out;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  EVP_DigestUpdate(ctx, a.data(), a.size());
  EVP_DigestUpdate(ctx, b.data(), b.size());
  EVP_DigestFinal_ex(ctx, out.data(), nullptr);
  EVP_MD_CTX_free(ctx);
  return out;
}

}  // namespace

std::string NativePasswordScramble(std::string_view password, std::string_view nonce) {
  if (password.empty()) return {};
  auto stage1 = Sha1(password);
  auto stage2 = Sha1(ToString(stage1));
  auto mix = Sha1(nonce.substr(0, 20), ToString(stage2));
  std::string out(SHA_DIGEST_LENGTH, '\0');
  for (size_t i = 0; i < out.size(); ++i) out[i] = char(stage1[i] ^ mix[i]);
  return out;
}

std::string CachingSha2Scramble(std::string_view password, std::string_view nonce) {
  if (password.empty()) return {};
  auto p1 = Sha256(password);
  auto p2 = Sha256(ToString(p1));
  auto mix = Sha256(ToString(p2), nonce.substr(0, 20));
  std::string out(SHA256_DIGEST_LENGTH, '\0');
  for (size_t i = 0; i < out.size(); ++i) out[i] = char(p1[i] ^ mix[i]);
  return out;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string XorWithNonce(std::string_view data, std::string_view nonce) {
  std::string out(data);
  if (nonce.empty()) return out;
  for (size_t i = 0; i < out.size(); ++i) out[i] = char(out[i] ^ nonce[i % nonce.size()]);
  return out;
}

absl::StatusOr<std::string> RsaEncryptPassword(std::string_view pem, std::string_view password,
                                               std::string_view nonce) {
  BIO* bio = BIO_new_mem_buf(pem.data(), int(pem.size()));
  EVP_PKEY* key = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (key == nullptr) return absl::InvalidArgumentError("server sent an unreadable RSA public key");
  std::string plain(password);
  plain.push_back('\0');
  plain = XorWithNonce(plain, nonce.substr(0, 20));
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new(key, nullptr);
  std::string out;
  size_t len = 0;
  bool ok = ctx && EVP_PKEY_encrypt_init(ctx) > 0 &&
            EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) > 0 &&
            EVP_PKEY_encrypt(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(plain.data()),
                             plain.size()) > 0;
  if (ok) {
    out.resize(len);
    ok = EVP_PKEY_encrypt(ctx, reinterpret_cast<unsigned char*>(out.data()), &len,
                          reinterpret_cast<const unsigned char*>(plain.data()), plain.size()) > 0;
    out.resize(len);
  }
  EVP_PKEY_CTX_free(ctx);
  EVP_PKEY_free(key);
  if (!ok) return absl::InternalError("RSA encryption of the password failed");
  return out;
}

absl::StatusOr<std::shared_ptr<const RsaKeyPair>> RsaKeyPair::Generate(int bits) {
  EVP_PKEY* key = EVP_RSA_gen(bits);
  if (key == nullptr) return absl::InternalError("RSA key generation failed");
  std::shared_ptr<RsaKeyPair> pair(new RsaKeyPair());
  pair->pkey_ = key;
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, key);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  pair->public_pem_.assign(data, size_t(n));
  BIO_free(bio);
  return pair;
}

RsaKeyPair::~RsaKeyPair() { EVP_PKEY_free(static_cast<EVP_PKEY*>(pkey_)); }

absl::StatusOr<std::string> RsaKeyPair::DecryptPassword(std::string_view ciphertext,
                                                        std::string_view nonce) const {
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new(static_cast<EVP_PKEY*>(pkey_), nullptr);
  std::string out;
  size_t len = 0;
  auto in = reinterpret_cast<const unsigned char*>(ciphertext.data());
  bool ok = ctx && EVP_PKEY_decrypt_init(ctx) > 0 &&
            EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) > 0 &&
            EVP_PKEY_decrypt(ctx, nullptr, &len, in, ciphertext.size()) > 0;
  if (ok) {
    out.resize(len);
    ok = EVP_PKEY_decrypt(ctx, reinterpret_cast<unsigned char*>(out.data()), &len, in,
                          ciphertext.size()) > 0;
    out.resize(len);
  }
  EVP_PKEY_CTX_free(ctx);
  if (!ok) return absl::InvalidArgumentError("RSA decryption of the password failed");
  out = XorWithNonce(out, nonce.substr(0, 20));
  if (out.empty() || out.back() != '\0') {
    return absl::InvalidArgumentError("decrypted password is not NUL-terminated");
  }
  out.pop_back();
  return out;
}

}  // namespace ql::protocol
