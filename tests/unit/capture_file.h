// Loader for the captured MariaDB wire traffic in tests/data/captures/*.txt
// (recorded by tests/tools/capture_relay.py; format described in
// tests/data/captures/README.md). Standard library only.
//
// File format, one item per line:
//   # text                       comment; those before the first frame are the
//                                header ("# client_capabilities: 0x..." etc.),
//                                "# step: ..." labels the frames that follow
//   C <seq> <hex payload>        client -> server frame
//   S <seq> <hex payload>        server -> client frame
// The hex field is omitted for an empty payload ("C 3"); a trailing "# ..."
// after a frame is ignored; blank lines are ignored.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ql::testing {

struct CapturedFrame {
  char direction = 'C';  // 'C' client -> server, 'S' server -> client
  uint8_t sequence_id = 0;
  std::vector<uint8_t> payload;
  int line = 0;      // 1-based line in the capture file
  std::string step;  // text of the last "# step:" comment before it, if any
};

struct Capture {
  std::string name;  // file name without directory and ".txt"
  // Header comment lines (before the first frame), without the leading "# ".
  std::vector<std::string> header_comments;
  // "# client_capabilities:" (lower 32 bits from the HandshakeResponse41).
  uint32_t client_capabilities = 0;
  std::vector<CapturedFrame> frames;
  // Further header fields, 0 when absent.
  uint32_t client_mariadb_ext_capabilities = 0;
  uint32_t server_capabilities = 0;
  uint32_t server_mariadb_ext_capabilities = 0;
  bool crafted = false;  // "# crafted:" header: client frames hand-made
};

// Reads and parses a capture file. On failure returns nullopt and, if `error`
// is not null, stores "path:line: reason" in it.
std::optional<Capture> LoadCapture(const std::string& path, std::string* error);

// Parses capture text already in memory; `name` becomes Capture::name and is
// used in error messages.
std::optional<Capture> ParseCapture(std::string_view text, std::string name,
                                    std::string* error);

// Loads tests/data/captures/<name>.txt. The directory is taken from the
// environment variable QUERYLENS_CAPTURE_DIR, else from the compile-time
// definition QUERYLENS_CAPTURE_DIR (a string literal), else
// "tests/data/captures" relative to the working directory.
std::optional<Capture> LoadCaptureByName(std::string_view name,
                                         std::string* error);
std::string CaptureDirectory();

// Frames of one direction ('C' or 'S'), in file order.
std::vector<CapturedFrame> FramesInDirection(const Capture& capture,
                                             char direction);

// Joins a frame whose payload is exactly 0xffffff bytes with the frames that
// continue it (same direction, next sequence ids) into one logical packet,
// up to and including the first frame shorter than 0xffffff. The joined
// packet keeps the first frame's sequence id, line and step. Frames that do
// not take part in a split are copied unchanged.
std::vector<CapturedFrame> JoinContinuationFrames(
    const std::vector<CapturedFrame>& frames);

// Value of a header comment "key: value" (key without "# "), if present.
std::optional<std::string> HeaderValue(const Capture& capture,
                                       std::string_view key);

// Hex helper for test failure messages.
std::string ToHex(const std::vector<uint8_t>& bytes);

}  // namespace ql::testing
