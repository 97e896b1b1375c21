// Unit tests of authentication end to end in memory: the client state
// machine (protocol/client_auth.h) driven against the server one
// (protocol/server_auth.h) for every plugin, password, TLS and RSA
// combination, with the transcript of packets each login exchanged.
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
#include "tests/unit/auth_test_support.h"
#include "tests/unit/capture_test_support.h"

namespace ql::protocol {
namespace {

using namespace auth_test;  // NOLINT: shared helpers of the auth tests
using ql::testing::ToHex;

// --- Client and server against each other -------------------------------------------

struct Login {
  const char* name;
  std::string greeting_plugin;
  std::string client_password;
  std::optional<std::string> server_password;  // nullopt: unknown user
  bool tls = false;
  bool fast_path = false;
  bool rsa = false;
  std::string default_plugin = std::string(kCachingSha2Plugin);
  // Replace the client's plugin and answer in HandshakeResponse41, like a
  // client that starts with a plugin the proxy does not speak.
  std::string client_plugin_override = "";
  bool expect_success = false;
  bool expect_full_auth = false;
  std::vector<std::string> expect_transcript;
};

std::string TagServer(const Bytes& p) {
  if (p.empty()) return "S:empty";
  switch (p[0]) {
    case 0x00: return "S:ok";
    case 0xff: return "S:err";
    case 0xfe: {
      auto sw = DecodeAuthSwitchRequest(p);
      return sw.ok() ? "S:switch " + sw->plugin_name : "S:bad switch";
    }
    case 0x01:
      if (p.size() == 2) return "S:more " + ToHex(Bytes(p.begin() + 1, p.end()));
      if (Str(p).find("BEGIN PUBLIC KEY") != std::string::npos) return "S:public key";
      return "S:more ?";
  }
  return "S:?";
}

// By size first: a ciphertext or a scramble may end with a zero byte.
std::string TagClient(const Bytes& p) {
  if (p.size() == 1 && p[0] == 0x02) return "C:request public key";
  if (p.size() == 256) return "C:rsa";
  if (p.size() == 20 || p.size() == 32) return "C:scramble";
  if (!p.empty() && p.back() == 0) return "C:clear password";
  return "C:? " + std::to_string(p.size());
}

struct LoginResult {
  bool server_ok = false;
  bool client_ok = false;
  bool full_auth = false;
  std::vector<std::string> transcript;
};

LoginResult RunLogin(const Login& l) {
  LoginResult res;
  // The greeting goes through the codec, as it would on the wire.
  HandshakeV10 hs;
  hs.server_version = "5.7.99-querylens";
  hs.connection_id = 1;
  hs.auth_plugin_data = kNonce;
  hs.capabilities = cap::kProxySupported;
  hs.character_set = kUtf8mb4GeneralCi;
  hs.status_flags = status::kAutocommit;
  hs.auth_plugin_name = l.greeting_plugin;
  Bytes greeting_bytes;
  EncodeHandshakeV10(greeting_bytes, hs);
  auto greeting = DecodeHandshakeV10(greeting_bytes);
  EXPECT_TRUE(greeting.ok());
  if (!greeting.ok()) return res;

  ClientAuthenticator client({"app", l.client_password, "appdb"}, l.tls);
  Bytes response_bytes;
  client.BuildResponse(*greeting, cap::kProxySupported, 0, kUtf8mb4GeneralCi, response_bytes);
  auto response = DecodeHandshakeResponse41(response_bytes);
  EXPECT_TRUE(response.ok()) << response.status();
  if (!response.ok()) return res;
  EXPECT_EQ(response->username, "app");
  EXPECT_EQ(response->database, "appdb");
  EXPECT_EQ(response->auth_plugin_name, l.greeting_plugin == kCachingSha2Plugin
                                            ? kCachingSha2Plugin
                                            : kNativePasswordPlugin);

  ServerAuthenticator server({kNonce, l.default_plugin, l.tls, l.fast_path, l.rsa ? Key() : nullptr});
  std::string plugin = response->auth_plugin_name;
  std::string answer = response->auth_response;
  if (!l.client_plugin_override.empty()) {
    plugin = l.client_plugin_override;
    answer.clear();
  }
  SStep step = server.Start(plugin, answer, l.server_password);
  for (int round = 0; round < 10; ++round) {
    if (step == SStep::kSendAndWait) {
      res.transcript.push_back(TagServer(server.to_send()));
      CStep c = client.OnServerPacket(server.to_send());
      EXPECT_EQ(c, CStep::kSendAndWait) << client.error();
      if (c != CStep::kSendAndWait) return res;
      res.transcript.push_back(TagClient(client.to_send()));
      step = server.OnClientPacket(client.to_send());
      continue;
    }
    Bytes final_packet;
    if (step == SStep::kSucceeded) {
      res.server_ok = true;
      res.full_auth = server.completed_full_auth();
      if (!server.to_send().empty()) {
        res.transcript.push_back(TagServer(server.to_send()));
        EXPECT_EQ(client.OnServerPacket(server.to_send()), CStep::kWait);
      }
      OkPacket ok;
      ok.status_flags = status::kAutocommit;
      EncodeOk(final_packet, ok, cap::kProxySupported);
    } else {
      EncodeErr(final_packet, 1045, "28000", "Access denied for user 'app'");
    }
    res.transcript.push_back(TagServer(final_packet));
    CStep c = client.OnServerPacket(final_packet);
    res.client_ok = c == CStep::kSucceeded;
    if (res.client_ok) {
      EXPECT_EQ(client.final_ok(), final_packet);
    } else {
      EXPECT_EQ(c, CStep::kFailed);
      EXPECT_EQ(client.server_error(), final_packet);
    }
    return res;
  }
  ADD_FAILURE() << "the exchange did not end";
  return res;
}

std::vector<Login> Logins() {
  const std::string native(kNativePasswordPlugin), sha2(kCachingSha2Plugin);
  std::vector<Login> v;
  auto add = [&](Login l) { v.push_back(std::move(l)); };
  add({.name = "native", .greeting_plugin = native, .client_password = "s3cret",
       .server_password = "s3cret", .expect_success = true, .expect_transcript = {"S:ok"}});
  add({.name = "native, wrong password", .greeting_plugin = native, .client_password = "s3cret",
       .server_password = "other", .expect_transcript = {"S:err"}});
  add({.name = "native, unknown user", .greeting_plugin = native, .client_password = "s3cret",
       .server_password = std::nullopt, .expect_transcript = {"S:err"}});
  add({.name = "native, empty password", .greeting_plugin = native, .client_password = "",
       .server_password = "", .expect_success = true, .expect_transcript = {"S:ok"}});
  add({.name = "native, empty password given", .greeting_plugin = native, .client_password = "",
       .server_password = "s3cret", .expect_transcript = {"S:err"}});
  add({.name = "caching_sha2 fast path", .greeting_plugin = sha2, .client_password = "s3cret",
       .server_password = "s3cret", .fast_path = true, .expect_success = true,
       .expect_transcript = {"S:more 03", "S:ok"}});
  add({.name = "caching_sha2 full auth over TLS", .greeting_plugin = sha2,
       .client_password = "s3cret", .server_password = "s3cret", .tls = true, .rsa = true,
       .expect_success = true, .expect_full_auth = true,
       .expect_transcript = {"S:more 04", "C:clear password", "S:ok"}});
  add({.name = "caching_sha2 full auth with RSA", .greeting_plugin = sha2,
       .client_password = "s3cret", .server_password = "s3cret", .rsa = true,
       .expect_success = true, .expect_full_auth = true,
       .expect_transcript = {"S:more 04", "C:request public key", "S:public key", "C:rsa",
                             "S:ok"}});
  add({.name = "caching_sha2 without TLS or RSA key", .greeting_plugin = sha2,
       .client_password = "s3cret", .server_password = "s3cret",
       .expect_transcript = {"S:more 04", "C:request public key", "S:err"}});
  add({.name = "caching_sha2 wrong password", .greeting_plugin = sha2,
       .client_password = "s3cret", .server_password = "other", .rsa = true,
       .expect_transcript = {"S:err"}});
  add({.name = "caching_sha2 unknown user", .greeting_plugin = sha2, .client_password = "s3cret",
       .server_password = std::nullopt, .fast_path = true, .expect_transcript = {"S:err"}});
  add({.name = "caching_sha2 empty password", .greeting_plugin = sha2, .client_password = "",
       .server_password = "", .expect_success = true, .expect_transcript = {"S:ok"}});
  add({.name = "unknown plugin switched to native", .greeting_plugin = native,
       .client_password = "s3cret", .server_password = "s3cret", .default_plugin = native,
       .client_plugin_override = "client_ed25519", .expect_success = true,
       .expect_transcript = {"S:switch mysql_native_password", "C:scramble", "S:ok"}});
  add({.name = "unknown plugin switched to caching_sha2 with RSA", .greeting_plugin = native,
       .client_password = "s3cret", .server_password = "s3cret", .rsa = true,
       .default_plugin = sha2, .client_plugin_override = "client_ed25519",
       .expect_success = true, .expect_full_auth = true,
       .expect_transcript = {"S:switch caching_sha2_password", "C:scramble", "S:more 04",
                             "C:request public key", "S:public key", "C:rsa", "S:ok"}});
  add({.name = "unknown plugin switched to caching_sha2 over TLS", .greeting_plugin = sha2,
       .client_password = "s3cret", .server_password = "s3cret", .tls = true,
       .default_plugin = sha2, .client_plugin_override = "dialog", .expect_success = true,
       .expect_full_auth = true,
       .expect_transcript = {"S:switch caching_sha2_password", "C:scramble", "S:more 04",
                             "C:clear password", "S:ok"}});
  add({.name = "unknown plugin switched to caching_sha2, cached", .greeting_plugin = native,
       .client_password = "s3cret", .server_password = "s3cret", .fast_path = true,
       .default_plugin = sha2, .client_plugin_override = "client_ed25519",
       .expect_success = true,
       .expect_transcript = {"S:switch caching_sha2_password", "C:scramble", "S:more 03",
                             "S:ok"}});
  add({.name = "unknown plugin, unknown user", .greeting_plugin = native,
       .client_password = "s3cret", .server_password = std::nullopt, .default_plugin = native,
       .client_plugin_override = "client_ed25519",
       .expect_transcript = {"S:switch mysql_native_password", "C:scramble", "S:err"}});
  return v;
}

TEST(AuthLoopTest, ClientAgainstServer) {
  for (const Login& l : Logins()) {
    SCOPED_TRACE(l.name);
    LoginResult r = RunLogin(l);
    EXPECT_EQ(r.server_ok, l.expect_success);
    EXPECT_EQ(r.client_ok, l.expect_success);
    EXPECT_EQ(r.full_auth, l.expect_full_auth);
    EXPECT_EQ(r.transcript, l.expect_transcript);
  }
}

}  // namespace
}  // namespace ql::protocol
