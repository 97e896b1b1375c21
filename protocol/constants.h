// Wire-level constants of the MySQL/MariaDB client/server protocol: capability
// flags, server status flags, command bytes and packet header bytes.
#pragma once

#include <cstdint>

namespace ql::protocol {

// Capability flags (HandshakeV10 / HandshakeResponse41, lower 32 bits).
namespace cap {
inline constexpr uint32_t kLongPassword = 1u << 0;  // MariaDB reads it as "CLIENT_MYSQL"
inline constexpr uint32_t kFoundRows = 1u << 1;
inline constexpr uint32_t kLongFlag = 1u << 2;
inline constexpr uint32_t kConnectWithDb = 1u << 3;
inline constexpr uint32_t kNoSchema = 1u << 4;
inline constexpr uint32_t kCompress = 1u << 5;
inline constexpr uint32_t kOdbc = 1u << 6;
inline constexpr uint32_t kLocalFiles = 1u << 7;
inline constexpr uint32_t kIgnoreSpace = 1u << 8;
inline constexpr uint32_t kProtocol41 = 1u << 9;
inline constexpr uint32_t kInteractive = 1u << 10;
inline constexpr uint32_t kSsl = 1u << 11;
inline constexpr uint32_t kIgnoreSigpipe = 1u << 12;
inline constexpr uint32_t kTransactions = 1u << 13;
inline constexpr uint32_t kReserved = 1u << 14;
inline constexpr uint32_t kSecureConnection = 1u << 15;
inline constexpr uint32_t kMultiStatements = 1u << 16;
inline constexpr uint32_t kMultiResults = 1u << 17;
inline constexpr uint32_t kPsMultiResults = 1u << 18;
inline constexpr uint32_t kPluginAuth = 1u << 19;
inline constexpr uint32_t kConnectAttrs = 1u << 20;
inline constexpr uint32_t kPluginAuthLenencClientData = 1u << 21;
inline constexpr uint32_t kCanHandleExpiredPasswords = 1u << 22;
inline constexpr uint32_t kSessionTrack = 1u << 23;
inline constexpr uint32_t kDeprecateEof = 1u << 24;
inline constexpr uint32_t kOptionalResultsetMetadata = 1u << 25;
inline constexpr uint32_t kZstdCompression = 1u << 26;
inline constexpr uint32_t kQueryAttributes = 1u << 27;
inline constexpr uint32_t kSslVerifyServerCert = 1u << 30;
inline constexpr uint32_t kRememberOptions = 1u << 31;

// Everything the proxy can relay unchanged; the rest is never offered.
inline constexpr uint32_t kProxySupported =
    kLongPassword | kFoundRows | kLongFlag | kConnectWithDb | kNoSchema | kOdbc |
    kLocalFiles | kIgnoreSpace | kProtocol41 | kInteractive | kIgnoreSigpipe |
    kTransactions | kReserved | kSecureConnection | kMultiStatements | kMultiResults |
    kPsMultiResults | kPluginAuth | kConnectAttrs | kPluginAuthLenencClientData |
    kCanHandleExpiredPasswords | kSessionTrack | kDeprecateEof;

// Client flags that change the shape or content of responses, and so must be
// carried to the backend connection that serves the client.
inline constexpr uint32_t kResponseShaping =
    kFoundRows | kLongFlag | kNoSchema | kOdbc | kLocalFiles | kIgnoreSpace | kInteractive |
    kMultiStatements | kMultiResults | kPsMultiResults | kSessionTrack | kDeprecateEof;
}  // namespace cap

// MariaDB extended capabilities (upper 32 bits, only when kLongPassword is clear).
namespace mariadb_cap {
inline constexpr uint32_t kProgress = 1u << 0;
inline constexpr uint32_t kComMulti = 1u << 1;
inline constexpr uint32_t kStmtBulkOperations = 1u << 2;
inline constexpr uint32_t kExtendedTypeInfo = 1u << 3;
inline constexpr uint32_t kCacheMetadata = 1u << 4;
// Only extended type info (more text in column definitions) leaves response
// shapes alone; progress reports, cached metadata and bulk execution do not.
inline constexpr uint32_t kProxySupported = kExtendedTypeInfo;
}  // namespace mariadb_cap

namespace status {
inline constexpr uint16_t kInTrans = 0x0001;
inline constexpr uint16_t kAutocommit = 0x0002;
inline constexpr uint16_t kMoreResultsExist = 0x0008;
inline constexpr uint16_t kNoGoodIndexUsed = 0x0010;
inline constexpr uint16_t kNoIndexUsed = 0x0020;
inline constexpr uint16_t kCursorExists = 0x0040;
inline constexpr uint16_t kLastRowSent = 0x0080;
inline constexpr uint16_t kDbDropped = 0x0100;
inline constexpr uint16_t kNoBackslashEscapes = 0x0200;
inline constexpr uint16_t kMetadataChanged = 0x0400;
inline constexpr uint16_t kQueryWasSlow = 0x0800;
inline constexpr uint16_t kPsOutParams = 0x1000;
inline constexpr uint16_t kInTransReadonly = 0x2000;
inline constexpr uint16_t kSessionStateChanged = 0x4000;
}  // namespace status

enum class Command : uint8_t {
  kSleep = 0x00,
  kQuit = 0x01,
  kInitDb = 0x02,
  kQuery = 0x03,
  kFieldList = 0x04,
  kCreateDb = 0x05,
  kDropDb = 0x06,
  kRefresh = 0x07,
  kShutdown = 0x08,
  kStatistics = 0x09,
  kProcessInfo = 0x0a,
  kConnect = 0x0b,
  kProcessKill = 0x0c,
  kDebug = 0x0d,
  kPing = 0x0e,
  kTime = 0x0f,
  kDelayedInsert = 0x10,
  kChangeUser = 0x11,
  kBinlogDump = 0x12,
  kTableDump = 0x13,
  kConnectOut = 0x14,
  kRegisterSlave = 0x15,
  kStmtPrepare = 0x16,
  kStmtExecute = 0x17,
  kStmtSendLongData = 0x18,
  kStmtClose = 0x19,
  kStmtReset = 0x1a,
  kSetOption = 0x1b,
  kStmtFetch = 0x1c,
  kDaemon = 0x1d,
  kBinlogDumpGtid = 0x1e,
  kResetConnection = 0x1f,
  kStmtBulkExecute = 0xfa,  // MariaDB only
};

// First byte of a server packet.
inline constexpr uint8_t kOkHeader = 0x00;
inline constexpr uint8_t kEofHeader = 0xfe;
inline constexpr uint8_t kErrHeader = 0xff;
inline constexpr uint8_t kLocalInfileHeader = 0xfb;
inline constexpr uint8_t kAuthSwitchHeader = 0xfe;
inline constexpr uint8_t kAuthMoreDataHeader = 0x01;

inline constexpr uint8_t kUtf8mb4GeneralCi = 45;

}  // namespace ql::protocol
