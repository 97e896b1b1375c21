// Unit tests of authentication (protocol/auth_crypto.h, server_auth.h,
// client_auth.h): the mysql_native_password scramble against real client
// packets in tests/data/captures (the lab user `cap` has the password
// `cap_pass`, `cap2` has `cap2_pass`, see tests/data/captures/README.md and
// tests/tools/capture_scenarios.py), caching_sha2_password against vectors
// computed independently with Python's hashlib, the RSA helpers, the server
// and client state machines on their own, and the client against the server
// side of real captures. Client and server against each other:
// protocol_auth_loop_test.cc.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "protocol/auth_crypto.h"
#include "protocol/client_auth.h"
#include "protocol/constants.h"
#include "protocol/generic_packets.h"
#include "protocol/handshake.h"
#include "protocol/server_auth.h"
#include "tests/unit/capture_file.h"
#include "tests/unit/auth_test_support.h"
#include "tests/unit/capture_test_support.h"

namespace ql::protocol {
namespace {

using namespace auth_test;  // NOLINT: shared helpers of the auth tests
using ql::testing::Capture;
using ql::testing::LoadNamed;
using ql::testing::AllCaptureNames;
using ql::testing::CaptureDir;
using ql::testing::CapturedFrame;
using ql::testing::ToHex;

// The `index`-th frame of `direction` in the first step whose label contains
// `step` (an empty `step` matches every frame).
Bytes StepFrame(const Capture& c, std::string_view step, char direction, size_t index) {
  size_t seen = 0;
  for (const CapturedFrame& f : c.frames) {
    if (f.direction != direction || f.step.find(step) == std::string::npos) continue;
    if (seen++ == index) return f.payload;
  }
  ADD_FAILURE() << c.name << ": no " << direction << " frame " << index << " in '" << step << "'";
  return {};
}

HandshakeV10 Greeting(const Capture& c) {
  auto hs = DecodeHandshakeV10(StepFrame(c, "", 'S', 0));
  EXPECT_TRUE(hs.ok()) << hs.status();
  return hs.ok() ? *hs : HandshakeV10{};
}

std::string Unhex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(char(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

std::string Hex(std::string_view s) { return ToHex(Bytes(s.begin(), s.end())); }


// --- Scrambles ---------------------------------------------------------------

struct NativeCase {
  const char* name;
  const char* capture;
  const char* password;
  // Where the nonce and the client's answer are.
  const char* nonce_step;  // nullptr: the greeting's nonce
  const char* answer_step;
  char answer_direction;
  size_t answer_index;
  bool answer_is_handshake_response;
};

TEST(NativePasswordScrambleTest, MatchesRealClients) {
  std::vector<NativeCase> cases = {
      {"libmariadb login", "handshake_native_ok", "cap_pass", nullptr, "handshake", 'C', 0, true},
      {"PyMySQL login", "handshake_native_ok_pymysql", "cap_pass", nullptr, "", 'C', 0, true},
      {"PyMySQL wrong password", "handshake_wrong_password", "wrong", nullptr, "", 'C', 0, true},
      // libmariadb scrambles COM_CHANGE_USER with the greeting's nonce, and
      // repeats it after the server's switch request.
      {"COM_CHANGE_USER", "change_user", "cap2_pass", nullptr, "to cap2", 'C', 1, false},
      // The CLI started with client_ed25519; the answer to the switch request
      // uses the switch request's nonce (the same as the greeting's).
      {"after AuthSwitchRequest", "handshake_auth_switch_client_plugin", "cap_pass", "handshake",
       "handshake", 'C', 1, false},
  };
  for (const NativeCase& c : cases) {
    SCOPED_TRACE(c.name);
    const Capture& cap = LoadNamed(c.capture);
    std::string nonce = Greeting(cap).auth_plugin_data;
    if (c.nonce_step) {
      auto sw = DecodeAuthSwitchRequest(StepFrame(cap, c.nonce_step, 'S', 1));
      ASSERT_TRUE(sw.ok()) << sw.status();
      nonce = sw->plugin_data;
    }
    ASSERT_EQ(nonce.size(), 20u);
    Bytes answer = StepFrame(cap, c.answer_step, c.answer_direction, c.answer_index);
    std::string expected = Str(answer);
    if (c.answer_is_handshake_response) {
      auto r = DecodeHandshakeResponse41(answer);
      ASSERT_TRUE(r.ok()) << r.status();
      expected = r->auth_response;
    }
    ASSERT_EQ(expected.size(), 20u);
    EXPECT_EQ(Hex(NativePasswordScramble(c.password, nonce)), Hex(expected));
    // A nonce with the server's trailing NUL gives the same scramble.
    EXPECT_EQ(NativePasswordScramble(c.password, nonce + '\0'), expected);
    EXPECT_NE(NativePasswordScramble(std::string(c.password) + "x", nonce), expected);
  }
}

TEST(NativePasswordScrambleTest, EmptyPasswordGivesAnEmptyAnswer) {
  EXPECT_EQ(NativePasswordScramble("", "01234567890123456789"), "");
  EXPECT_EQ(CachingSha2Scramble("", "01234567890123456789"), "");
}

TEST(CachingSha2ScrambleTest, KnownVectors) {
  // Expected values computed independently with Python 3:
  //   import hashlib
  //   def sha2(pw, nonce):
  //       p1 = hashlib.sha256(pw).digest(); p2 = hashlib.sha256(p1).digest()
  //       mix = hashlib.sha256(p2 + nonce).digest()
  //       return bytes(a ^ b for a, b in zip(p1, mix)).hex()
  //   sha2(b'cap_pass', bytes.fromhex('782c6c5d6c2923733d75562f256964392f7e525c'))
  //   sha2(b'secret', bytes(range(1, 21)))
  //   sha2('päss w0rd'.encode(), b'abcdefghijklmnopqrst')
  struct Case {
    std::string password;
    std::string nonce;
    const char* expected_hex;
  };
  std::string counting;
  for (int i = 1; i <= 20; ++i) counting.push_back(char(i));
  std::vector<Case> cases = {
      {"cap_pass", Unhex("782c6c5d6c2923733d75562f256964392f7e525c"),
       "ce586de5dac6b2ded0de5b2f1dc66b118c7b185e92ff75c16561129ed7389395"},
      {"secret", counting, "746ebe205d56a0707acb3e796e834e0dd7b1d61743b26bd5202c7a623230c7c9"},
      {"p\xc3\xa4ss w0rd", "abcdefghijklmnopqrst",
       "112f1fa257c1e7a0e4e886e1f30a3a8d046515f548f67dc2a4b448a1ec1a137d"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.password);
    std::string s = CachingSha2Scramble(c.password, c.nonce);
    EXPECT_EQ(s.size(), 32u);
    EXPECT_EQ(Hex(s), c.expected_hex);
    EXPECT_EQ(CachingSha2Scramble(c.password, c.nonce + '\0'), s) << "only 20 nonce bytes count";
  }
}

TEST(AuthCryptoTest, ConstantTimeEqualsAndXor) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
  EXPECT_FALSE(ConstantTimeEquals("", "a"));
  EXPECT_EQ(XorWithNonce(std::string("ab\0", 3), "\x01\x02"), std::string("\x60\x60\x01", 3));
  EXPECT_EQ(XorWithNonce("abc", ""), "abc");
  std::string nonce = "0123456789abcdefghij";
  std::string data(50, 'z');
  EXPECT_EQ(XorWithNonce(XorWithNonce(data, nonce), nonce), data);
}

// --- RSA ----------------------------------------------------------------------

TEST(RsaTest, KeyPairRoundTrip) {
  auto key = Key();
  ASSERT_NE(key, nullptr);
  const std::string& pem = key->public_key_pem();
  EXPECT_EQ(pem.rfind("-----BEGIN PUBLIC KEY-----", 0), 0u) << pem;
  EXPECT_NE(pem.find("-----END PUBLIC KEY-----"), std::string::npos);
  std::string nonce = "abcdefghij0123456789";
  for (std::string password : {std::string(""), std::string("cap_pass"), std::string(150, 'p'),
                               std::string("with\0nul", 8)}) {
    SCOPED_TRACE(password.size());
    auto cipher = RsaEncryptPassword(pem, password, nonce);
    ASSERT_TRUE(cipher.ok()) << cipher.status();
    EXPECT_EQ(cipher->size(), 256u) << "one 2048-bit block";
    auto clear = key->DecryptPassword(*cipher, nonce);
    ASSERT_TRUE(clear.ok()) << clear.status();
    EXPECT_EQ(*clear, password);
    // OAEP is randomised: the same password encrypts differently each time.
    auto again = RsaEncryptPassword(pem, password, nonce);
    ASSERT_TRUE(again.ok());
    EXPECT_NE(*again, *cipher);
    // A different nonce does not give the password back.
    auto other = key->DecryptPassword(*cipher, "ABCDEFGHIJ0123456789");
    EXPECT_TRUE(!other.ok() || *other != password);
  }
}

TEST(RsaTest, Failures) {
  auto key = Key();
  ASSERT_NE(key, nullptr);
  std::string nonce = "abcdefghij0123456789";
  EXPECT_EQ(RsaEncryptPassword("not a key", "pw", nonce).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(RsaEncryptPassword("", "pw", nonce).ok());
  // 2048-bit OAEP (SHA-1) takes at most 214 bytes: 213 + NUL fits, 214 + NUL not.
  EXPECT_TRUE(RsaEncryptPassword(key->public_key_pem(), std::string(213, 'x'), nonce).ok());
  EXPECT_FALSE(RsaEncryptPassword(key->public_key_pem(), std::string(214, 'x'), nonce).ok());
  EXPECT_FALSE(key->DecryptPassword("", nonce).ok());
  EXPECT_FALSE(key->DecryptPassword(std::string(256, '\x42'), nonce).ok());
  auto cipher = RsaEncryptPassword(key->public_key_pem(), "pw", nonce);
  ASSERT_TRUE(cipher.ok());
  std::string flipped = *cipher;
  flipped[100] ^= 1;
  EXPECT_FALSE(key->DecryptPassword(flipped, nonce).ok());
  // Another key cannot read it.
  auto other = RsaKeyPair::Generate(1024);
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE((*other)->DecryptPassword(*cipher, nonce).ok());
}

// --- ServerAuthenticator on its own ----------------------------------------------------

ServerAuthenticator::Options ServerOptions(std::string default_plugin, bool tls, bool fast,
                                           bool rsa) {
  return {kNonce, std::move(default_plugin), tls, fast, rsa ? Key() : nullptr};
}

Bytes Packet(std::string_view s) { return Bytes(s.begin(), s.end()); }

TEST(ServerAuthenticatorTest, NativePassword) {
  struct Case {
    const char* name;
    std::string response;
    std::optional<std::string> password;
    SStep expected;
  };
  std::vector<Case> cases = {
      {"right password", NativePasswordScramble("pw", kNonce), "pw", SStep::kSucceeded},
      {"wrong password", NativePasswordScramble("pX", kNonce), "pw", SStep::kFailed},
      {"scramble of another nonce", NativePasswordScramble("pw", "x" + kNonce.substr(1)), "pw",
       SStep::kFailed},
      {"unknown user", NativePasswordScramble("pw", kNonce), std::nullopt, SStep::kFailed},
      {"empty password", "", "", SStep::kSucceeded},
      {"empty answer for a password", "", "pw", SStep::kFailed},
      {"answer for an empty password", NativePasswordScramble("pw", kNonce), "", SStep::kFailed},
      {"truncated scramble", NativePasswordScramble("pw", kNonce).substr(0, 19), "pw",
       SStep::kFailed},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ServerAuthenticator server(ServerOptions(std::string(kCachingSha2Plugin), false, true, true));
    EXPECT_EQ(server.Start(kNativePasswordPlugin, c.response, c.password), c.expected);
    EXPECT_TRUE(server.to_send().empty());
    EXPECT_EQ(server.plugin(), kNativePasswordPlugin);
    EXPECT_FALSE(server.completed_full_auth());
    // The exchange is over: anything more fails.
    EXPECT_EQ(server.OnClientPacket(Packet("x")), SStep::kFailed);
  }
  // A client without CLIENT_PLUGIN_AUTH names no plugin: native is assumed.
  ServerAuthenticator server(ServerOptions(std::string(kCachingSha2Plugin), false, false, false));
  EXPECT_EQ(server.Start("", NativePasswordScramble("pw", kNonce), "pw"), SStep::kSucceeded);
}

TEST(ServerAuthenticatorTest, CachingSha2FastPath) {
  ServerAuthenticator server(ServerOptions(std::string(kCachingSha2Plugin), false, true, false));
  EXPECT_EQ(server.Start(kCachingSha2Plugin, CachingSha2Scramble("pw", kNonce), "pw"),
            SStep::kSucceeded);
  EXPECT_EQ(ToHex(server.to_send()), "0103") << "fast_auth_success before the OK";
  EXPECT_FALSE(server.completed_full_auth());

  ServerAuthenticator wrong(ServerOptions(std::string(kCachingSha2Plugin), false, true, false));
  EXPECT_EQ(wrong.Start(kCachingSha2Plugin, CachingSha2Scramble("px", kNonce), "pw"),
            SStep::kFailed);
  EXPECT_TRUE(wrong.to_send().empty());

  ServerAuthenticator unknown(ServerOptions(std::string(kCachingSha2Plugin), false, true, false));
  EXPECT_EQ(unknown.Start(kCachingSha2Plugin, CachingSha2Scramble("pw", kNonce), std::nullopt),
            SStep::kFailed);

  ServerAuthenticator empty(ServerOptions(std::string(kCachingSha2Plugin), false, false, false));
  EXPECT_EQ(empty.Start(kCachingSha2Plugin, "", ""), SStep::kSucceeded);
  EXPECT_TRUE(empty.to_send().empty());
}

TEST(ServerAuthenticatorTest, CachingSha2FullAuthOverTls) {
  struct Case {
    const char* name;
    std::string clear;
    SStep expected;
  };
  for (const Case& c : std::vector<Case>{{"with NUL", std::string("pw\0", 3), SStep::kSucceeded},
                                         {"without NUL", "pw", SStep::kSucceeded},
                                         {"wrong", std::string("px\0", 3), SStep::kFailed},
                                         {"longer", std::string("pww\0", 4), SStep::kFailed}}) {
    SCOPED_TRACE(c.name);
    ServerAuthenticator server(ServerOptions(std::string(kCachingSha2Plugin), true, false, false));
    ASSERT_EQ(server.Start(kCachingSha2Plugin, CachingSha2Scramble("pw", kNonce), "pw"),
              SStep::kSendAndWait);
    EXPECT_EQ(ToHex(server.to_send()), "0104") << "perform_full_authentication";
    EXPECT_EQ(server.OnClientPacket(Packet(c.clear)), c.expected);
    EXPECT_EQ(server.completed_full_auth(), c.expected == SStep::kSucceeded);
    EXPECT_TRUE(server.to_send().empty());
  }
}

TEST(ServerAuthenticatorTest, CachingSha2FullAuthWithRsa) {
  ServerAuthenticator server(ServerOptions(std::string(kCachingSha2Plugin), false, false, true));
  ASSERT_EQ(server.Start(kCachingSha2Plugin, CachingSha2Scramble("pw", kNonce), "pw"),
            SStep::kSendAndWait);
  EXPECT_EQ(ToHex(server.to_send()), "0104");
  // request_public_key
  ASSERT_EQ(server.OnClientPacket(Bytes{0x02}), SStep::kSendAndWait);
  auto pem = DecodeAuthMoreData(server.to_send());
  ASSERT_TRUE(pem.ok());
  EXPECT_EQ(*pem, Key()->public_key_pem());
  auto cipher = RsaEncryptPassword(*pem, "pw", kNonce);
  ASSERT_TRUE(cipher.ok());
  EXPECT_EQ(server.OnClientPacket(Packet(*cipher)), SStep::kSucceeded);
  EXPECT_TRUE(server.completed_full_auth());
}

TEST(ServerAuthenticatorTest, CachingSha2RsaFailures) {
  struct Case {
    const char* name;
    bool rsa;
    Bytes first;                   // the client's answer to perform_full_authentication
    std::optional<std::string> then;  // the encrypted password, if the key was sent
    SStep expected_after_first;
    SStep expected_after_then;
  };
  auto encrypted = [](std::string pw, std::string nonce) {
    auto c = RsaEncryptPassword(Key()->public_key_pem(), pw, nonce);
    EXPECT_TRUE(c.ok());
    return c.ok() ? *c : std::string();
  };
  std::vector<Case> cases = {
      {"no key configured", false, {0x02}, std::nullopt, SStep::kFailed, SStep::kFailed},
      {"clear text without TLS is refused", true, Packet(std::string("pw\0", 3)), std::nullopt,
       SStep::kFailed, SStep::kFailed},
      {"garbage instead of ciphertext", true, {0x02}, std::string(256, 'g'), SStep::kSendAndWait,
       SStep::kFailed},
      {"encrypted with another nonce", true, {0x02}, encrypted("pw", "x" + kNonce.substr(1)),
       SStep::kSendAndWait, SStep::kFailed},
      {"wrong password", true, {0x02}, encrypted("px", kNonce), SStep::kSendAndWait,
       SStep::kFailed},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ServerAuthenticator server(ServerOptions(std::string(kCachingSha2Plugin), false, false, c.rsa));
    ASSERT_EQ(server.Start(kCachingSha2Plugin, CachingSha2Scramble("pw", kNonce), "pw"),
              SStep::kSendAndWait);
    EXPECT_EQ(server.OnClientPacket(c.first), c.expected_after_first);
    if (c.then) {
      EXPECT_EQ(server.OnClientPacket(Packet(*c.then)), c.expected_after_then);
    }
    EXPECT_FALSE(server.completed_full_auth());
  }
}

TEST(ServerAuthenticatorTest, UnknownPluginIsSwitchedToTheDefault) {
  struct Case {
    const char* name;
    std::string default_plugin;
    std::optional<std::string> password;
    std::string answer;
    SStep expected;
    const char* then_sent;  // hex of to_send() afterwards
  };
  std::vector<Case> cases = {
      {"to native", std::string(kNativePasswordPlugin), "pw", NativePasswordScramble("pw", kNonce),
       SStep::kSucceeded, ""},
      {"to native, wrong password", std::string(kNativePasswordPlugin), "pw",
       NativePasswordScramble("px", kNonce), SStep::kFailed, ""},
      {"to caching_sha2 (not cached): full authentication", std::string(kCachingSha2Plugin), "pw",
       CachingSha2Scramble("pw", kNonce), SStep::kSendAndWait, "0104"},
      {"unknown user", std::string(kNativePasswordPlugin), std::nullopt,
       NativePasswordScramble("pw", kNonce), SStep::kFailed, ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ServerAuthenticator server(ServerOptions(c.default_plugin, false, false, true));
    ASSERT_EQ(server.Start("client_ed25519", "", c.password), SStep::kSendAndWait);
    auto sw = DecodeAuthSwitchRequest(server.to_send());
    ASSERT_TRUE(sw.ok()) << sw.status();
    EXPECT_EQ(sw->plugin_name, c.default_plugin);
    EXPECT_EQ(sw->plugin_data, kNonce);
    EXPECT_EQ(server.plugin(), c.default_plugin);
    EXPECT_EQ(server.OnClientPacket(Packet(c.answer)), c.expected);
    EXPECT_EQ(ToHex(server.to_send()), c.then_sent);
  }
}

TEST(ServerAuthenticatorTest, PacketsOutOfTurnFail) {
  ServerAuthenticator idle(ServerOptions(std::string(kNativePasswordPlugin), false, false, false));
  EXPECT_EQ(idle.OnClientPacket(Packet("x")), SStep::kFailed) << "nothing was started";
  ServerAuthenticator done(ServerOptions(std::string(kNativePasswordPlugin), false, false, false));
  ASSERT_EQ(done.Start(kNativePasswordPlugin, NativePasswordScramble("pw", kNonce), "pw"),
            SStep::kSucceeded);
  EXPECT_EQ(done.OnClientPacket(Packet(NativePasswordScramble("pw", kNonce))), SStep::kFailed);
}

// --- ClientAuthenticator against real servers -----------------------------------------

struct ClientCaptureCase {
  const char* capture;
  ClientAuthenticator::Credentials credentials;
  uint8_t charset;
};

TEST(ClientAuthenticatorTest, BuildsTheSameAnswerAsRealClients) {
  std::vector<ClientCaptureCase> cases = {
      {"handshake_native_ok", {"cap", "cap_pass", ""}, 0x2d},
      {"handshake_native_ok_pymysql", {"cap", "cap_pass", "capdb"}, 0x2d},
      {"handshake_wrong_password", {"cap", "wrong", ""}, 0x2d},
      {"prepare_execute_deprecate_eof", {"cap", "cap_pass", "capdb"}, 0x21},
  };
  for (const ClientCaptureCase& c : cases) {
    SCOPED_TRACE(c.capture);
    const Capture& cap = LoadNamed(c.capture);
    auto real = DecodeHandshakeResponse41(StepFrame(cap, "", 'C', 0));
    ASSERT_TRUE(real.ok()) << real.status();
    ClientAuthenticator client(c.credentials, /*tls_active=*/false);
    Bytes out;
    client.BuildResponse(Greeting(cap), cap.client_capabilities, 0, c.charset, out);
    auto mine = DecodeHandshakeResponse41(out);
    ASSERT_TRUE(mine.ok()) << mine.status();
    EXPECT_EQ(Hex(mine->auth_response), Hex(real->auth_response));
    EXPECT_EQ(mine->username, real->username);
    EXPECT_EQ(mine->database, real->database);
    EXPECT_EQ(mine->auth_plugin_name, real->auth_plugin_name);
    EXPECT_EQ(mine->character_set, c.charset);
    EXPECT_TRUE(mine->capabilities & cap::kProtocol41);
    EXPECT_TRUE(mine->capabilities & cap::kSecureConnection);
    EXPECT_TRUE(mine->capabilities & cap::kPluginAuth);
    EXPECT_EQ(bool(mine->capabilities & cap::kConnectWithDb), !c.credentials.database.empty());
    EXPECT_FALSE(mine->capabilities & cap::kConnectAttrs) << "the proxy sends no attributes";
    EXPECT_TRUE(mine->connect_attributes.empty());
    EXPECT_EQ(mine->capabilities & cap::kDeprecateEof,
              cap.client_capabilities & cap::kDeprecateEof)
        << "response-shaping flags pass through";
  }
}

TEST(ClientAuthenticatorTest, ServerOkAndErrFromCaptures) {
  {
    const Capture& cap = LoadNamed("handshake_native_ok");
    ClientAuthenticator client({"cap", "cap_pass", ""}, false);
    Bytes out;
    client.BuildResponse(Greeting(cap), cap.client_capabilities, 0, 0x2d, out);
    Bytes ok = StepFrame(cap, "handshake", 'S', 1);
    EXPECT_EQ(client.OnServerPacket(ok), CStep::kSucceeded);
    EXPECT_EQ(client.final_ok(), ok);
    EXPECT_TRUE(client.error().ok());
    EXPECT_TRUE(client.server_error().empty());
  }
  {
    const Capture& cap = LoadNamed("handshake_wrong_password");
    ClientAuthenticator client({"cap", "wrong", ""}, false);
    Bytes out;
    client.BuildResponse(Greeting(cap), cap.client_capabilities, 0, 0x2d, out);
    Bytes err = StepFrame(cap, "", 'S', 1);
    EXPECT_EQ(client.OnServerPacket(err), CStep::kFailed);
    EXPECT_EQ(client.server_error(), err);
    EXPECT_EQ(client.error().code(), absl::StatusCode::kPermissionDenied);
    EXPECT_NE(client.error().message().find("1045"), absl::string_view::npos) << client.error();
    EXPECT_NE(client.error().message().find("Access denied"), absl::string_view::npos);
  }
}

TEST(ClientAuthenticatorTest, AnswersRealAuthSwitchRequests) {
  struct Case {
    const char* capture;
    const char* step;
    size_t switch_index;  // server frame of the switch request in the step
    ClientAuthenticator::Credentials credentials;
    size_t answer_index;  // client frame with the real answer in the step
  };
  std::vector<Case> cases = {
      {"handshake_auth_switch_client_plugin", "handshake", 1, {"cap", "cap_pass", ""}, 1},
      {"change_user", "to cap2", 0, {"cap2", "cap2_pass", "capdb"}, 1},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.capture);
    const Capture& cap = LoadNamed(c.capture);
    ClientAuthenticator client(c.credentials, false);
    Bytes out;
    client.BuildResponse(Greeting(cap), cap.client_capabilities, 0, 0x2d, out);
    Bytes sw = StepFrame(cap, c.step, 'S', c.switch_index);
    ASSERT_EQ(client.OnServerPacket(sw), CStep::kSendAndWait) << client.error();
    EXPECT_EQ(ToHex(client.to_send()), ToHex(StepFrame(cap, c.step, 'C', c.answer_index)));
    Bytes ok = StepFrame(cap, c.step, 'S', c.switch_index + 1);
    EXPECT_EQ(client.OnServerPacket(ok), CStep::kSucceeded);
    EXPECT_EQ(client.final_ok(), ok);
  }
}

TEST(ClientAuthenticatorTest, UnsupportedOrUnexpectedServerPackets) {
  const Capture& ed = LoadNamed("handshake_auth_switch");
  struct Case {
    const char* name;
    std::string greeting_plugin;
    Bytes packet;
    absl::StatusCode code;
  };
  std::vector<Case> cases = {
      {"switch to client_ed25519", std::string(kNativePasswordPlugin),
       StepFrame(ed, "handshake", 'S', 1), absl::StatusCode::kUnimplemented},
      {"empty packet", std::string(kNativePasswordPlugin), {}, absl::StatusCode::kInvalidArgument},
      {"unknown header", std::string(kNativePasswordPlugin), {0x05, 0x01},
       absl::StatusCode::kInvalidArgument},
      {"AuthMoreData for mysql_native_password", std::string(kNativePasswordPlugin), {0x01, 0x04},
       absl::StatusCode::kUnimplemented},
      {"unknown AuthMoreData for caching_sha2", std::string(kCachingSha2Plugin), {0x01, 0x07},
       absl::StatusCode::kUnimplemented},
      {"switch request without a plugin name", std::string(kNativePasswordPlugin), {0xfe, 'a'},
       absl::StatusCode::kInvalidArgument},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    HandshakeV10 g;
    g.auth_plugin_data = kNonce;
    g.auth_plugin_name = c.greeting_plugin;
    ClientAuthenticator client({"u", "pw", ""}, false);
    Bytes out;
    client.BuildResponse(g, cap::kProtocol41, 0, 45, out);
    EXPECT_EQ(client.OnServerPacket(c.packet), CStep::kFailed);
    EXPECT_EQ(client.error().code(), c.code) << client.error();
    EXPECT_TRUE(client.server_error().empty());
  }
  // A public key that is not one.
  HandshakeV10 g;
  g.auth_plugin_data = kNonce;
  g.auth_plugin_name = std::string(kCachingSha2Plugin);
  ClientAuthenticator client({"u", "pw", ""}, false);
  Bytes out;
  client.BuildResponse(g, cap::kProtocol41, 0, 45, out);
  ASSERT_EQ(client.OnServerPacket(Bytes{0x01, 0x04}), CStep::kSendAndWait);
  EXPECT_EQ(ToHex(client.to_send()), "02");
  Bytes bad_key = {0x01, 'n', 'o', 'p', 'e'};
  EXPECT_EQ(client.OnServerPacket(bad_key), CStep::kFailed);
}

}  // namespace
}  // namespace ql::protocol
