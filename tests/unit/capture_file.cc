#include "tests/unit/capture_file.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <utility>

namespace ql::testing {
namespace {

constexpr size_t kMaxFramePayload = 0xffffff;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool ParseHex(std::string_view hex, std::vector<uint8_t>* out) {
  if (hex.size() % 2 != 0) return false;
  out->clear();
  out->reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = HexDigit(hex[i]);
    int lo = HexDigit(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<uint8_t>(hi << 4 | lo));
  }
  return true;
}

// Parses "0x1234abcd" (or plain hex digits); ignores anything after the
// first whitespace.
bool ParseHexU32(std::string_view s, uint32_t* out) {
  s = Trim(s);
  size_t end = s.find_first_of(" \t");
  if (end != std::string_view::npos) s = s.substr(0, end);
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s.remove_prefix(2);
  if (s.empty() || s.size() > 8) return false;
  uint32_t v = 0;
  for (char c : s) {
    int d = HexDigit(c);
    if (d < 0) return false;
    v = v << 4 | static_cast<uint32_t>(d);
  }
  *out = v;
  return true;
}

bool ParseSequence(std::string_view s, uint8_t* out) {
  if (s.empty() || s.size() > 3) return false;
  unsigned v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  if (v > 255) return false;
  *out = static_cast<uint8_t>(v);
  return true;
}

std::string BaseName(const std::string& path) {
  size_t slash = path.find_last_of('/');
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  constexpr std::string_view kExt = ".txt";
  if (base.size() > kExt.size() &&
      base.compare(base.size() - kExt.size(), kExt.size(), kExt) == 0) {
    base.resize(base.size() - kExt.size());
  }
  return base;
}

void SetError(std::string* error, std::string message) {
  if (error != nullptr) *error = std::move(message);
}

// Header "key: value" split; returns false if the comment has no "key:".
bool SplitHeader(std::string_view comment, std::string_view* key,
                 std::string_view* value) {
  size_t colon = comment.find(':');
  if (colon == std::string_view::npos) return false;
  *key = Trim(comment.substr(0, colon));
  *value = Trim(comment.substr(colon + 1));
  return true;
}

}  // namespace

std::optional<Capture> ParseCapture(std::string_view text, std::string name,
                                    std::string* error) {
  Capture capture;
  capture.name = std::move(name);
  std::string step;
  int line_no = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view raw = text.substr(
        pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    ++line_no;
    std::string_view line = Trim(raw);
    if (line.empty()) continue;
    auto fail = [&](const std::string& why) {
      SetError(error, capture.name + ":" + std::to_string(line_no) + ": " + why);
      return std::nullopt;
    };

    if (line.front() == '#') {
      std::string_view comment = Trim(line.substr(1));
      std::string_view key, value;
      bool has_key = SplitHeader(comment, &key, &value);
      if (has_key && key == "step") {
        step = std::string(value);
        continue;
      }
      if (!capture.frames.empty()) continue;  // other in-between comments
      capture.header_comments.emplace_back(comment);
      if (!has_key) continue;
      uint32_t* field = nullptr;
      if (key == "client_capabilities") field = &capture.client_capabilities;
      else if (key == "client_mariadb_ext_capabilities")
        field = &capture.client_mariadb_ext_capabilities;
      else if (key == "server_capabilities") field = &capture.server_capabilities;
      else if (key == "server_mariadb_ext_capabilities")
        field = &capture.server_mariadb_ext_capabilities;
      else if (key == "crafted") capture.crafted = true;
      if (field != nullptr && !ParseHexU32(value, field)) {
        return fail("bad hex value for " + std::string(key));
      }
      continue;
    }

    // Frame line: <C|S> <seq> [<hex>] [# comment]
    size_t hash = line.find('#');
    if (hash != std::string_view::npos) line = Trim(line.substr(0, hash));
    if (line.size() < 3 || (line[0] != 'C' && line[0] != 'S') ||
        (line[1] != ' ' && line[1] != '\t')) {
      return fail("expected 'C <seq> <hex>' or 'S <seq> <hex>'");
    }
    CapturedFrame frame;
    frame.direction = line[0];
    frame.line = line_no;
    frame.step = step;
    std::string_view rest = Trim(line.substr(2));
    size_t space = rest.find_first_of(" \t");
    std::string_view seq = rest.substr(0, space);
    std::string_view hex =
        space == std::string_view::npos ? std::string_view() : Trim(rest.substr(space));
    if (!ParseSequence(seq, &frame.sequence_id)) {
      return fail("bad sequence id '" + std::string(seq) + "'");
    }
    if (hex.find_first_of(" \t") != std::string_view::npos) {
      return fail("unexpected text after the hex payload");
    }
    if (!ParseHex(hex, &frame.payload)) {
      return fail("bad hex payload");
    }
    if (frame.payload.size() > kMaxFramePayload) {
      return fail("frame payload longer than 0xffffff bytes");
    }
    capture.frames.push_back(std::move(frame));
  }
  return capture;
}

std::optional<Capture> LoadCapture(const std::string& path, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    SetError(error, path + ": cannot open");
    return std::nullopt;
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) {
    SetError(error, path + ": read error");
    return std::nullopt;
  }
  std::string parse_error;
  std::optional<Capture> capture = ParseCapture(buf.str(), BaseName(path), &parse_error);
  if (!capture) {
    // ParseCapture reports "<name>:<line>: ..."; give the full path instead.
    size_t colon = parse_error.find(':');
    SetError(error, path + (colon == std::string::npos ? ": " + parse_error
                                                       : parse_error.substr(colon)));
  }
  return capture;
}

std::string CaptureDirectory() {
  if (const char* env = std::getenv("QUERYLENS_CAPTURE_DIR"); env != nullptr && *env) {
    return env;
  }
#ifdef QUERYLENS_CAPTURE_DIR
  return QUERYLENS_CAPTURE_DIR;
#else
  return "tests/data/captures";
#endif
}

std::optional<Capture> LoadCaptureByName(std::string_view name, std::string* error) {
  return LoadCapture(CaptureDirectory() + "/" + std::string(name) + ".txt", error);
}

std::vector<CapturedFrame> FramesInDirection(const Capture& capture, char direction) {
  std::vector<CapturedFrame> out;
  for (const CapturedFrame& f : capture.frames) {
    if (f.direction == direction) out.push_back(f);
  }
  return out;
}

std::vector<CapturedFrame> JoinContinuationFrames(
    const std::vector<CapturedFrame>& frames) {
  std::vector<CapturedFrame> out;
  // Index in `out` of a packet still waiting for continuation frames, per
  // direction (the two directions may in principle interleave).
  std::optional<size_t> open_c, open_s;
  std::optional<uint8_t> expect_c, expect_s;
  for (const CapturedFrame& f : frames) {
    std::optional<size_t>& open = f.direction == 'C' ? open_c : open_s;
    std::optional<uint8_t>& expect = f.direction == 'C' ? expect_c : expect_s;
    if (open && expect && f.sequence_id == *expect) {
      std::vector<uint8_t>& payload = out[*open].payload;
      payload.insert(payload.end(), f.payload.begin(), f.payload.end());
      if (f.payload.size() == kMaxFramePayload) {
        expect = static_cast<uint8_t>(f.sequence_id + 1);
      } else {
        open.reset();
        expect.reset();
      }
      continue;
    }
    out.push_back(f);
    if (f.payload.size() == kMaxFramePayload) {
      open = out.size() - 1;
      expect = static_cast<uint8_t>(f.sequence_id + 1);
    } else {
      open.reset();
      expect.reset();
    }
  }
  return out;
}

std::optional<std::string> HeaderValue(const Capture& capture, std::string_view key) {
  for (const std::string& comment : capture.header_comments) {
    std::string_view k, v;
    if (SplitHeader(comment, &k, &v) && k == key) return std::string(v);
  }
  return std::nullopt;
}

std::string ToHex(const std::vector<uint8_t>& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xf]);
  }
  return out;
}

}  // namespace ql::testing
