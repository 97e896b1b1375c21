// Helpers shared by the authentication tests (protocol_auth_test.cc and
// protocol_auth_loop_test.cc).
#pragma once

#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "protocol/auth_crypto.h"
#include "protocol/client_auth.h"
#include "protocol/server_auth.h"
#include "protocol/wire_codec.h"

namespace ql::protocol::auth_test {

inline const std::string kNonce = "ABCDEFGHIJabcdefghij";

using SStep = ServerAuthenticator::Step;
using CStep = ClientAuthenticator::Step;

inline std::string Str(const Bytes& b) { return std::string(b.begin(), b.end()); }

// One RSA key for the whole test program: generation takes a while.
inline std::shared_ptr<const RsaKeyPair> Key() {
  static std::shared_ptr<const RsaKeyPair> key = [] {
    auto k = RsaKeyPair::Generate(2048);
    EXPECT_TRUE(k.ok()) << k.status();
    return k.ok() ? *k : nullptr;
  }();
  return key;
}

}  // namespace ql::protocol::auth_test
