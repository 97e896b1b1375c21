// Unit tests of the connection-phase codecs (protocol/handshake.h): the
// HandshakeV10 greeting and HandshakeResponse41 of every capture in
// tests/data/captures (real MariaDB 10.11 server, real libmariadb, PyMySQL and
// mariadb CLI clients, plus the crafted DEPRECATE_EOF client), SSLRequest,
// AuthSwitchRequest, AuthMoreData and COM_CHANGE_USER; encode/decode round
// trips (re-encoding a real packet must give the same bytes) and truncation at
// every byte.
#include "protocol/handshake.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "protocol/constants.h"
#include "tests/unit/capture_file.h"
#include "tests/unit/capture_test_support.h"

namespace ql::protocol {
namespace {

using ql::testing::Capture;
using ql::testing::LoadNamed;
using ql::testing::AllCaptureNames;
using ql::testing::CaptureDir;
using ql::testing::CapturedFrame;
using ql::testing::ToHex;

std::string HexOf(std::string_view s) { return ToHex(Bytes(s.begin(), s.end())); }

// The `index`-th frame of `direction` in the whole capture.
const CapturedFrame& Frame(const Capture& c, char direction, size_t index) {
  static const CapturedFrame kNone;
  size_t seen = 0;
  for (const CapturedFrame& f : c.frames) {
    if (f.direction == direction && seen++ == index) return f;
  }
  ADD_FAILURE() << c.name << ": no frame " << direction << " #" << index;
  return kNone;
}

// The `index`-th frame of `direction` in the first step whose label contains `step`.
Bytes StepFrame(const Capture& c, std::string_view step, char direction, size_t index) {
  size_t seen = 0;
  for (const CapturedFrame& f : c.frames) {
    if (f.direction != direction || f.step.find(step) == std::string::npos) continue;
    if (seen++ == index) return f.payload;
  }
  ADD_FAILURE() << c.name << ": no " << direction << " frame " << index << " in '" << step << "'";
  return {};
}

// Parses a connect-attributes block into key/value pairs, independently of
// the library (all lengths in the captures are below 251).
std::vector<std::pair<std::string, std::string>> ParseAttrs(std::string_view block) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t i = 0;
  auto take = [&]() {
    size_t n = uint8_t(block[i++]);
    std::string s(block.substr(i, n));
    i += n;
    return s;
  };
  while (i < block.size()) {
    std::string k = take();
    std::string v = take();
    out.emplace_back(k, v);
  }
  return out;
}

std::vector<std::string> AttrKeys(std::string_view block) {
  std::vector<std::string> keys;
  for (auto& kv : ParseAttrs(block)) keys.push_back(kv.first);
  return keys;
}

const char* kServerVersion = "5.5.5-10.11.19-MariaDB-0+deb12u1-log";

// --- HandshakeV10 -------------------------------------------------------------

TEST(HandshakeV10Test, EveryCapturedGreeting) {
  std::vector<std::string> names = AllCaptureNames();
  ASSERT_GE(names.size(), 31u);
  for (const std::string& name : names) {
    SCOPED_TRACE(name);
    const Capture& cap = LoadNamed(name);
    const CapturedFrame& f = Frame(cap, 'S', 0);
    ASSERT_EQ(f.sequence_id, 0);
    auto hs = DecodeHandshakeV10(f.payload);
    ASSERT_TRUE(hs.ok()) << hs.status();
    EXPECT_EQ(hs->protocol_version, 10);
    EXPECT_EQ(hs->server_version, kServerVersion);
    EXPECT_NE(hs->connection_id, 0u);
    EXPECT_EQ(hs->auth_plugin_data.size(), kNonceSize);
    EXPECT_EQ(hs->capabilities, cap.server_capabilities);
    EXPECT_EQ(hs->capabilities, 0x81fff7feu);
    EXPECT_FALSE(hs->capabilities & cap::kLongPassword) << "MariaDB clears CLIENT_MYSQL";
    EXPECT_EQ(hs->mariadb_capabilities, cap.server_mariadb_ext_capabilities);
    EXPECT_EQ(hs->mariadb_capabilities, 0x1du);
    EXPECT_EQ(hs->character_set, 8) << "latin1_swedish_ci, the --no-defaults default";
    EXPECT_EQ(hs->status_flags, status::kAutocommit);
    EXPECT_EQ(hs->auth_plugin_name, *ql::testing::HeaderValue(cap, "server_auth_plugin"));
    // Re-encoding gives the server's bytes.
    Bytes out;
    EncodeHandshakeV10(out, *hs);
    EXPECT_EQ(ToHex(out), ToHex(f.payload));
  }
}

TEST(HandshakeV10Test, ExactFieldsOfOneGreeting) {
  const Capture& cap = LoadNamed("handshake_native_ok");
  auto hs = DecodeHandshakeV10(Frame(cap, 'S', 0).payload);
  ASSERT_TRUE(hs.ok()) << hs.status();
  EXPECT_EQ(hs->connection_id, 0x83u);
  EXPECT_EQ(HexOf(hs->auth_plugin_data), "782c6c5d6c2923733d75562f256964392f7e525c");
  EXPECT_EQ(hs->auth_plugin_name, "mysql_native_password");
}

TEST(HandshakeV10Test, RoundTrips) {
  std::string nonce = "abcdefghij0123456789";
  struct Case {
    const char* name;
    HandshakeV10 hs;
  };
  std::vector<Case> cases = {
      {"MariaDB style",
       {10, "5.5.5-10.11.19-MariaDB", 42, nonce, 0x81fff7fe, 0x1d, 45, 2, "mysql_native_password"}},
      {"MySQL style: CLIENT_MYSQL set, no extended caps on the wire",
       {10, "8.0.36", 7, nonce, cap::kProxySupported | cap::kLongPassword, 0, 255, 0x0002,
        "caching_sha2_password"}},
      {"proxy greeting",
       {10, "5.7.99-querylens", 0xffffffff, nonce, cap::kProxySupported, 0, kUtf8mb4GeneralCi,
        0x0002, "caching_sha2_password"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Bytes out;
    EncodeHandshakeV10(out, c.hs);
    auto hs = DecodeHandshakeV10(out);
    ASSERT_TRUE(hs.ok()) << hs.status();
    EXPECT_EQ(hs->server_version, c.hs.server_version);
    EXPECT_EQ(hs->connection_id, c.hs.connection_id);
    EXPECT_EQ(hs->auth_plugin_data, c.hs.auth_plugin_data);
    EXPECT_EQ(hs->capabilities, c.hs.capabilities);
    EXPECT_EQ(hs->mariadb_capabilities,
              (c.hs.capabilities & cap::kLongPassword) ? 0u : c.hs.mariadb_capabilities);
    EXPECT_EQ(hs->character_set, c.hs.character_set);
    EXPECT_EQ(hs->status_flags, c.hs.status_flags);
    EXPECT_EQ(hs->auth_plugin_name, c.hs.auth_plugin_name);
  }
}

TEST(HandshakeV10Test, TruncationAtEveryByte) {
  const Bytes& payload = Frame(LoadNamed("handshake_native_ok"), 'S', 0).payload;
  // Up to the lower capability flags everything is required (a pre-4.1
  // greeting may end there).
  size_t required = 1 + std::string(kServerVersion).size() + 1 + 4 + 8 + 1 + 2;
  for (size_t n = 0; n < payload.size(); ++n) {
    SCOPED_TRACE("prefix " + std::to_string(n));
    auto hs = DecodeHandshakeV10(ByteSpan(payload).first(n));
    if (n < required) {
      EXPECT_FALSE(hs.ok());
    } else if (hs.ok()) {
      EXPECT_EQ(hs->server_version, kServerVersion);
    }
  }
}

TEST(HandshakeV10Test, Malformed) {
  Bytes v9 = Frame(LoadNamed("ping"), 'S', 0).payload;
  v9[0] = 9;
  EXPECT_FALSE(DecodeHandshakeV10(v9).ok());
  Bytes err = {0xff, 0x15, 0x04, '#', '2', '8', '0', '0', '0', 'x'};
  EXPECT_FALSE(DecodeHandshakeV10(err).ok()) << "an ERR instead of a greeting";
  Bytes no_nul = {10, 'a', 'b', 'c'};
  EXPECT_FALSE(DecodeHandshakeV10(no_nul).ok());
  EXPECT_FALSE(DecodeHandshakeV10({}).ok());
}

// --- HandshakeResponse41 ------------------------------------------------------

struct ResponseCase {
  const char* capture;
  uint32_t caps;
  uint32_t max_packet;
  uint8_t charset;
  uint32_t mariadb_caps;
  const char* user;
  const char* auth_hex;  // nullptr: only check the length (20)
  const char* database;
  const char* plugin;
  std::vector<std::string> attr_keys;
  const char* client_name;
};

std::vector<ResponseCase> ResponseCases() {
  std::vector<std::string> libmariadb = {"_os", "_client_name", "_pid", "_client_version",
                                         "_platform", "_server_host"};
  std::vector<std::string> cli = {"_os",       "_client_name", "_pid",        "_client_version",
                                  "_platform", "program_name", "_server_host"};
  std::vector<std::string> pymysql = {"_client_name", "_pid", "_client_version"};
  std::vector<std::string> raw = {"_client_name", "_client_version"};
  return {
      {"handshake_native_ok", 0x00bea284, 0x00100000, 0x2d, 0x1d, "cap",
       "82d6e9fda78fa55b0d0a2f571ceedc363e970749", "", "mysql_native_password", libmariadb,
       "libmariadb"},
      {"cursor_fetch", 0x00bea28c, 0x00100000, 0x2d, 0x1d, "cap", nullptr, "capdb",
       "mysql_native_password", libmariadb, "libmariadb"},
      {"handshake_native_ok_pymysql", 0x003aa20d, 0x00ffffff, 0x2d, 0, "cap",
       "c1b1c70abb6b76cf30b9211475458d8c698d196d", "capdb", "mysql_native_password", pymysql,
       "pymysql"},
      {"handshake_wrong_password", 0x003aa205, 0x00ffffff, 0x2d, 0, "cap",
       "707078528cd7cb149833aad196e4cd275c9eb389", "", "mysql_native_password", pymysql,
       "pymysql"},
      {"local_infile", 0x003aa28d, 0x00ffffff, 0x2d, 0, "cap", nullptr, "capdb",
       "mysql_native_password", pymysql, "pymysql"},
      {"handshake_auth_switch", 0x00bfa284, 0x00100000, 0x21, 0x1d, "cap_ed", nullptr, "",
       "mysql_native_password", cli, "libmariadb"},
      // The CLI proposes client_ed25519 with empty auth data.
      {"handshake_auth_switch_client_plugin", 0x00bfa284, 0x00100000, 0x21, 0x1d, "cap", "", "",
       "client_ed25519", cli, "libmariadb"},
      {"prepare_execute_deprecate_eof", 0x01bfa28d, 0x01000000, 0x21, 0, "cap", nullptr, "capdb",
       "mysql_native_password", raw, "querylens-capture-raw"},
      {"set_option_deprecate_eof", 0x01bfa285, 0x01000000, 0x21, 0, "cap", nullptr, "",
       "mysql_native_password", raw, "querylens-capture-raw"},
  };
}

TEST(HandshakeResponse41Test, RealClientPackets) {
  for (const ResponseCase& c : ResponseCases()) {
    SCOPED_TRACE(c.capture);
    const CapturedFrame& f = Frame(LoadNamed(c.capture), 'C', 0);
    ASSERT_EQ(f.sequence_id, 1);
    EXPECT_FALSE(IsSslRequest(f.payload));
    auto r = DecodeHandshakeResponse41(f.payload);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->capabilities, c.caps);
    EXPECT_EQ(r->max_packet_size, c.max_packet);
    EXPECT_EQ(r->character_set, c.charset);
    EXPECT_EQ(r->mariadb_capabilities, c.mariadb_caps);
    EXPECT_EQ(r->username, c.user);
    if (c.auth_hex) {
      EXPECT_EQ(HexOf(r->auth_response), c.auth_hex);
    } else {
      EXPECT_EQ(r->auth_response.size(), 20u);
    }
    EXPECT_EQ(r->database, c.database);
    EXPECT_EQ(r->auth_plugin_name, c.plugin);
    EXPECT_EQ(AttrKeys(r->connect_attributes), c.attr_keys);
    auto attrs = ParseAttrs(r->connect_attributes);
    auto name = std::find_if(attrs.begin(), attrs.end(),
                             [](auto& kv) { return kv.first == "_client_name"; });
    ASSERT_NE(name, attrs.end());
    EXPECT_EQ(name->second, c.client_name);
  }
}

TEST(HandshakeResponse41Test, EveryCapturedResponseDecodesAndReEncodesIdentically) {
  for (const std::string& name : AllCaptureNames()) {
    SCOPED_TRACE(name);
    const Capture& cap = LoadNamed(name);
    const CapturedFrame& f = Frame(cap, 'C', 0);
    auto r = DecodeHandshakeResponse41(f.payload);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->capabilities, cap.client_capabilities);
    EXPECT_EQ(r->mariadb_capabilities, cap.client_mariadb_ext_capabilities);
    // MariaDB extended caps are sent exactly when CLIENT_MYSQL is clear.
    EXPECT_EQ(r->mariadb_capabilities != 0, !(r->capabilities & cap::kLongPassword));
    Bytes out;
    EncodeHandshakeResponse41(out, *r);
    EXPECT_EQ(ToHex(out), ToHex(f.payload));
  }
}

TEST(HandshakeResponse41Test, TruncationAtEveryByte) {
  for (const char* name : {"handshake_native_ok", "handshake_native_ok_pymysql",
                           "prepare_execute_deprecate_eof"}) {
    SCOPED_TRACE(name);
    const Bytes& payload = Frame(LoadNamed(name), 'C', 0).payload;
    auto full = DecodeHandshakeResponse41(payload);
    ASSERT_TRUE(full.ok());
    // Fixed part, user name and auth response are required.
    size_t required = 32 + full->username.size() + 1 + 1 + full->auth_response.size();
    for (size_t n = 0; n < payload.size(); ++n) {
      SCOPED_TRACE("prefix " + std::to_string(n));
      auto r = DecodeHandshakeResponse41(ByteSpan(payload).first(n));
      if (n < required) {
        EXPECT_FALSE(r.ok());
      } else if (r.ok()) {
        EXPECT_EQ(r->username, full->username);
        EXPECT_EQ(r->auth_response, full->auth_response);
      }
    }
  }
}

TEST(HandshakeResponse41Test, RoundTrips) {
  const uint32_t base = cap::kProtocol41 | cap::kSecureConnection | cap::kLongPassword;
  struct Case {
    const char* name;
    HandshakeResponse41 r;
  };
  std::string scramble20(20, '\x7f');
  std::string scramble32(32, '\x01');
  std::string long_auth(300, 'a');
  std::string attrs = std::string("\x03") + "_os" + "\x05" + "Linux";
  std::vector<Case> cases = {
      {"minimal", {base, 1 << 24, 45, 0, "u", scramble20, "", "", ""}},
      {"with database", {base | cap::kConnectWithDb, 1 << 24, 45, 0, "user", scramble20, "db", "", ""}},
      {"plugin auth", {base | cap::kPluginAuth, 0, 33, 0, "root", scramble32, "",
                       "caching_sha2_password", ""}},
      {"lenenc auth data over 250 bytes",
       {base | cap::kPluginAuth | cap::kPluginAuthLenencClientData, 0, 33, 0, "root", long_auth,
        "", "x", ""}},
      {"connect attributes",
       {base | cap::kPluginAuth | cap::kConnectAttrs | cap::kConnectWithDb, 0, 45, 0, "u",
        scramble20, "capdb", "mysql_native_password", attrs}},
      {"empty auth response", {base | cap::kPluginAuth, 0, 45, 0, "u", "", "", "client_ed25519", ""}},
      {"MariaDB extended caps",
       {(base & ~cap::kLongPassword) | cap::kPluginAuth, 0, 45, 0x1d, "u", scramble20, "",
        "mysql_native_password", ""}},
      {"pre-secure-connection: NUL-terminated auth data",
       {cap::kProtocol41 | cap::kLongPassword, 0, 8, 0, "old", "abc", "", "", ""}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Bytes out;
    EncodeHandshakeResponse41(out, c.r);
    EXPECT_FALSE(IsSslRequest(out));
    auto r = DecodeHandshakeResponse41(out);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->capabilities, c.r.capabilities);
    EXPECT_EQ(r->max_packet_size, c.r.max_packet_size);
    EXPECT_EQ(r->character_set, c.r.character_set);
    EXPECT_EQ(r->mariadb_capabilities, c.r.mariadb_capabilities);
    EXPECT_EQ(r->username, c.r.username);
    EXPECT_EQ(r->auth_response, c.r.auth_response);
    EXPECT_EQ(r->database, c.r.database);
    EXPECT_EQ(r->auth_plugin_name, c.r.auth_plugin_name);
    EXPECT_EQ(r->connect_attributes, c.r.connect_attributes);
  }
}

TEST(HandshakeResponse41Test, Malformed) {
  Bytes no41 = Frame(LoadNamed("ping"), 'C', 0).payload;
  no41[1] &= ~uint8_t(cap::kProtocol41 >> 8);
  EXPECT_FALSE(DecodeHandshakeResponse41(no41).ok()) << "pre-4.1 clients are refused";
  // The auth response claims more bytes than there are.
  Bytes r = Frame(LoadNamed("handshake_native_ok_pymysql"), 'C', 0).payload;
  size_t auth_len_at = 32 + 4;  // after "cap\0"
  ASSERT_EQ(r[auth_len_at], 20);
  r.resize(auth_len_at + 1 + 10);
  EXPECT_FALSE(DecodeHandshakeResponse41(r).ok());
  // A user name without its NUL.
  Bytes no_user(32, 0);
  no_user[1] = uint8_t(cap::kProtocol41 >> 8);
  no_user.push_back('u');
  EXPECT_FALSE(DecodeHandshakeResponse41(no_user).ok());
}

// --- SSLRequest ------------------------------------------------------------------

TEST(SslRequestTest, Detection) {
  Bytes ssl;
  EncodeSslRequest(ssl, cap::kProtocol41 | cap::kSecureConnection, 1 << 24, 45);
  ASSERT_EQ(ssl.size(), kSslRequestSize);
  EXPECT_TRUE(IsSslRequest(ssl));
  WireReader r(ssl);
  uint32_t caps = r.U32();
  EXPECT_TRUE(caps & cap::kSsl) << "EncodeSslRequest adds CLIENT_SSL";
  EXPECT_TRUE(caps & cap::kProtocol41);
  EXPECT_EQ(r.U32(), 1u << 24);
  EXPECT_EQ(r.U8(), 45);
  // It cannot be mistaken for a full response: there is no user name.
  EXPECT_FALSE(DecodeHandshakeResponse41(ssl).ok());

  Bytes no_ssl = ssl;
  no_ssl[1] &= ~uint8_t(cap::kSsl >> 8);
  EXPECT_FALSE(IsSslRequest(no_ssl)) << "32 bytes without CLIENT_SSL";
  Bytes longer = ssl;
  longer.push_back('u');
  longer.push_back(0);
  EXPECT_FALSE(IsSslRequest(longer)) << "a full response with CLIENT_SSL set";
  EXPECT_FALSE(IsSslRequest(ByteSpan(ssl).first(31)));
  // Every captured client response is a plain one (no TLS in the lab captures).
  for (const std::string& name : AllCaptureNames()) {
    SCOPED_TRACE(name);
    EXPECT_FALSE(IsSslRequest(Frame(LoadNamed(name), 'C', 0).payload));
  }
}

// --- AuthSwitchRequest and AuthMoreData -------------------------------------------

TEST(AuthSwitchRequestTest, RealPackets) {
  // ed25519: 32-byte nonce without a trailing NUL.
  {
    const Capture& cap = LoadNamed("handshake_auth_switch");
    Bytes payload = StepFrame(cap, "handshake", 'S', 1);
    auto sw = DecodeAuthSwitchRequest(payload);
    ASSERT_TRUE(sw.ok()) << sw.status();
    EXPECT_EQ(sw->plugin_name, "client_ed25519");
    EXPECT_EQ(HexOf(sw->plugin_data),
              "32c6d67ff6c5f40e437dd557a0652f6f079a2c7f87f5f551d3916b8ae8f02222");
    EXPECT_EQ(Frame(cap, 'C', 1).payload.size(), 64u) << "the client's signature";
  }
  // Switch to mysql_native_password: the greeting nonce again, plus a NUL.
  {
    const Capture& cap = LoadNamed("handshake_auth_switch_client_plugin");
    auto greeting = DecodeHandshakeV10(Frame(cap, 'S', 0).payload);
    ASSERT_TRUE(greeting.ok());
    Bytes payload = StepFrame(cap, "handshake", 'S', 1);
    auto sw = DecodeAuthSwitchRequest(payload);
    ASSERT_TRUE(sw.ok()) << sw.status();
    EXPECT_EQ(sw->plugin_name, "mysql_native_password");
    EXPECT_EQ(sw->plugin_data.size(), 20u);
    EXPECT_EQ(sw->plugin_data, greeting->auth_plugin_data);
    Bytes out;
    EncodeAuthSwitchRequest(out, sw->plugin_name, sw->plugin_data);
    EXPECT_EQ(ToHex(out), ToHex(payload));
  }
  // COM_CHANGE_USER answered with a switch too.
  {
    const Capture& cap = LoadNamed("change_user");
    auto greeting = DecodeHandshakeV10(Frame(cap, 'S', 0).payload);
    ASSERT_TRUE(greeting.ok());
    auto sw = DecodeAuthSwitchRequest(StepFrame(cap, "to cap2", 'S', 0));
    ASSERT_TRUE(sw.ok()) << sw.status();
    EXPECT_EQ(sw->plugin_name, "mysql_native_password");
    EXPECT_EQ(sw->plugin_data, greeting->auth_plugin_data);
    auto ed = DecodeAuthSwitchRequest(StepFrame(cap, "to cap_ed", 'S', 0));
    ASSERT_TRUE(ed.ok()) << ed.status();
    EXPECT_EQ(ed->plugin_name, "client_ed25519");
  }
}

TEST(AuthSwitchRequestTest, TruncationAndMalformed) {
  Bytes payload = StepFrame(LoadNamed("handshake_auth_switch_client_plugin"), "handshake", 'S', 1);
  size_t name_end = 1 + std::string("mysql_native_password").size();  // index of its NUL
  for (size_t n = 0; n < payload.size(); ++n) {
    SCOPED_TRACE("prefix " + std::to_string(n));
    auto sw = DecodeAuthSwitchRequest(ByteSpan(payload).first(n));
    // Header and NUL-terminated plugin name are required; data is the rest.
    EXPECT_EQ(sw.ok(), n > name_end) << sw.status();
  }
  Bytes wrong_header = payload;
  wrong_header[0] = 0x01;
  EXPECT_FALSE(DecodeAuthSwitchRequest(wrong_header).ok());
}

TEST(AuthMoreDataTest, EncodeDecode) {
  for (std::string data : {std::string("\x03"), std::string("\x04"),
                           std::string("-----BEGIN PUBLIC KEY-----\nMIIB...\n"), std::string()}) {
    Bytes out;
    EncodeAuthMoreData(out, data);
    ASSERT_EQ(out[0], kAuthMoreDataHeader);
    auto d = DecodeAuthMoreData(out);
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(*d, data);
  }
  EXPECT_FALSE(DecodeAuthMoreData({}).ok());
  Bytes ok = {0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00};
  EXPECT_FALSE(DecodeAuthMoreData(ok).ok());
}

// --- COM_CHANGE_USER ----------------------------------------------------------------

struct ChangeUserCase {
  const char* step;
  const char* user;
  const char* auth_hex;
  const char* database;
};

TEST(ChangeUserTest, RealClientPackets) {
  const Capture& cap = LoadNamed("change_user");
  const uint32_t caps = cap.client_capabilities;
  std::vector<ChangeUserCase> cases = {
      {"to cap2", "cap2", "c1ac6015af280a1eddf8e92a55edf7b46fe13771", "capdb"},
      {"to cap_ed", "cap_ed", "31ed708af3627b3e2eab4b2b78a85601ad079acb", "capdb"},
      {"wrong password", "cap", "8583ecd23861f7b52785c05cbfdb3749ad8accf0", ""},
  };
  for (const ChangeUserCase& c : cases) {
    SCOPED_TRACE(c.step);
    Bytes payload = StepFrame(cap, c.step, 'C', 0);
    ASSERT_EQ(payload[0], uint8_t(Command::kChangeUser));
    auto req = DecodeChangeUser(payload, caps);
    ASSERT_TRUE(req.ok()) << req.status();
    EXPECT_EQ(req->username, c.user);
    EXPECT_EQ(HexOf(req->auth_response), c.auth_hex);
    EXPECT_EQ(req->database, c.database);
    ASSERT_TRUE(req->character_set.has_value());
    EXPECT_EQ(*req->character_set, 0x2d);
    EXPECT_EQ(req->auth_plugin_name, "mysql_native_password");
    EXPECT_EQ(AttrKeys(req->connect_attributes),
              (std::vector<std::string>{"_os", "_client_name", "_pid", "_client_version",
                                        "_platform", "_server_host"}));
    Bytes out;
    EncodeChangeUser(out, *req, caps);
    EXPECT_EQ(ToHex(out), ToHex(payload));

    // Truncation: user name and auth response are required; anything after
    // them is optional, so later prefixes may decode (never crash).
    size_t required = 1 + req->username.size() + 1 + 1 + req->auth_response.size();
    for (size_t n = 0; n < payload.size(); ++n) {
      SCOPED_TRACE("prefix " + std::to_string(n));
      auto r = DecodeChangeUser(ByteSpan(payload).first(n), caps);
      if (n < required) {
        EXPECT_FALSE(r.ok());
      } else if (r.ok()) {
        EXPECT_EQ(r->username, c.user);
      }
    }
  }
}

TEST(ChangeUserTest, RoundTripsAndMalformed) {
  const uint32_t full = cap::kProtocol41 | cap::kSecureConnection | cap::kPluginAuth |
                        cap::kConnectAttrs;
  struct Case {
    const char* name;
    uint32_t caps;
    ChangeUserRequest req;
  };
  std::string attrs = std::string("\x02") + "_a" + "\x01" + "b";
  std::vector<Case> cases = {
      {"full", full, {"u", std::string(20, 'x'), "db", uint16_t(33), "mysql_native_password", attrs}},
      {"no plugin auth", cap::kProtocol41 | cap::kSecureConnection,
       {"u", std::string(20, 'x'), "", uint16_t(45), "", ""}},
      {"empty auth", full, {"user", "", "", uint16_t(45), "caching_sha2_password", ""}},
      {"no secure connection: NUL-terminated auth", cap::kProtocol41,
       {"u", "abc", "d", uint16_t(8), "", ""}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Bytes out;
    EncodeChangeUser(out, c.req, c.caps);
    auto r = DecodeChangeUser(out, c.caps);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->username, c.req.username);
    EXPECT_EQ(r->auth_response, c.req.auth_response);
    EXPECT_EQ(r->database, c.req.database);
    EXPECT_EQ(r->character_set, c.req.character_set);
    EXPECT_EQ(r->auth_plugin_name, c.req.auth_plugin_name);
    EXPECT_EQ(r->connect_attributes, c.req.connect_attributes);
  }
  // Old clients may stop after the database: no charset, no plugin.
  Bytes old = {0x11, 'u', 0, 0x00, 'd', 'b', 0};
  auto r = DecodeChangeUser(old, full);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->database, "db");
  EXPECT_FALSE(r->character_set.has_value());

  Bytes wrong_command = {0x03, 'u', 0, 0x00, 0};
  EXPECT_FALSE(DecodeChangeUser(wrong_command, full).ok());
  EXPECT_FALSE(DecodeChangeUser({}, full).ok());
  Bytes long_auth = {0x11, 'u', 0, 0x14, 1, 2, 3};
  EXPECT_FALSE(DecodeChangeUser(long_auth, full).ok());
}

}  // namespace
}  // namespace ql::protocol
