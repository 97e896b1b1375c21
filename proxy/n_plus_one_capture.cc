// Implementation of the N+1 capture helpers.
#include "proxy/n_plus_one_capture.h"

namespace ql::proxy {
namespace {

void AssignCut(std::string& out, std::string_view value) {
  out.assign(value.substr(0, NPlusOneCapture::kMaxTagBytes));
}

// Bytes of a fixed-size binary value by MySQL type; 0 = NULL; -1 = a
// length-prefixed value (1-byte length for temporal types, else lenenc).
enum : int { kLenByte = -2, kLenEnc = -1 };
int FixedSize(uint8_t type) {
  switch (type) {
    case 1: return 1;             // TINY
    case 2: case 13: return 2;    // SHORT, YEAR
    case 3: case 4: case 9: return 4;  // LONG, FLOAT, INT24
    case 5: case 8: return 8;     // DOUBLE, LONGLONG
    case 6: return 0;             // NULL
    case 7: case 10: case 11: case 12: case 14: return kLenByte;  // temporal
    case 0: case 15: case 16: case 245: case 246: case 247: case 248: case 249: case 250:
    case 251: case 252: case 253: case 254: case 255: return kLenEnc;
    default: return -3;           // unknown
  }
}

constexpr std::string_view kNullMarker("\0NULL", 5);

}  // namespace

void NPlusOneCapture::Capture(const analyzer::SqlCommenterTags& tags,
                              const analyzer::LiteralSummary& summary) {
  const analyzer::NPlusOneCallSite site = analyzer::CallSiteFromTags(tags);
  AssignCut(traceparent, site.traceparent);
  AssignCut(route, site.route);
  AssignCut(controller, site.controller);
  AssignCut(framework, site.framework);
  AssignCut(action, site.action);
  AssignCut(app_name, site.app_name);
  silenced = site.silenced;
  literals = summary;
}

analyzer::NPlusOneCallSite NPlusOneCapture::CallSite() const {
  analyzer::NPlusOneCallSite site;
  site.traceparent = traceparent;
  site.route = route;
  site.controller = controller;
  site.framework = framework;
  site.action = action;
  site.app_name = app_name;
  site.silenced = silenced;
  return site;
}

bool ExecuteParamValues(protocol::ByteSpan packet, uint16_t num_params,
                        protocol::ByteSpan remembered_types, std::vector<std::string_view>* out) {
  out->clear();
  if (num_params == 0) return true;
  // command(1) statement id(4) flags(1) iteration count(4) null bitmap, bound flag.
  size_t at = 10;
  const size_t bitmap_len = (size_t(num_params) + 7) / 8;
  if (packet.size() < at + bitmap_len + 1) return false;
  const protocol::ByteSpan bitmap = packet.subspan(at, bitmap_len);
  at += bitmap_len;
  const bool bound = packet[at++] == 1;
  protocol::ByteSpan types = remembered_types;
  if (bound) {
    if (packet.size() < at + 2 * size_t(num_params)) return false;
    types = packet.subspan(at, 2 * size_t(num_params));
    at += 2 * size_t(num_params);
  }
  if (types.size() != 2 * size_t(num_params)) return false;
  const std::string_view all = protocol::AsStringView(packet);
  for (size_t i = 0; i < num_params; ++i) {
    if (bitmap[i / 8] & (1u << (i % 8))) {
      out->push_back(kNullMarker);
      continue;
    }
    const int size = FixedSize(types[2 * i]);
    size_t len = 0;
    size_t header = 0;
    if (size >= 0) {
      len = size_t(size);
    } else if (size == kLenByte) {
      if (at >= packet.size()) return false;
      len = packet[at];
      header = 1;
    } else if (size == kLenEnc) {
      if (at >= packet.size()) return false;
      const uint8_t first = packet[at];
      size_t bytes = first < 0xfb ? 0 : first == 0xfc ? 2 : first == 0xfd ? 3 : first == 0xfe ? 8 : 99;
      if (bytes == 99 || at + 1 + bytes > packet.size()) return false;
      if (bytes == 0) {
        len = first;
      } else {
        for (size_t b = 0; b < bytes; ++b) len |= size_t(packet[at + 1 + b]) << (8 * b);
      }
      header = 1 + bytes;
    } else {
      return false;
    }
    if (at + header + len > packet.size() || len > packet.size()) return false;
    // The value with its length prefix: "" and a missing value differ.
    out->push_back(all.substr(at, header + len));
    at += header + len;
  }
  return at == packet.size();
}

analyzer::LiteralSummary ExecuteLiterals(const analyzer::LiteralSummary& prepared,
                                         protocol::ByteSpan packet, uint16_t num_params,
                                         protocol::ByteSpan remembered_types,
                                         std::vector<std::string_view>* scratch) {
  if (!ExecuteParamValues(packet, num_params, remembered_types, scratch)) {
    scratch->clear();
    if (packet.size() > 10) scratch->push_back(protocol::AsStringView(packet.subspan(10)));
  }
  return analyzer::WithBoundValues(prepared, *scratch);
}

analyzer::NPlusOneInput MakeInput(const analyzer::StatementRecord& record,
                                  const NPlusOneCapture& capture, int64_t monotonic_start_ns) {
  return analyzer::MakeNPlusOneInput(record, capture.CallSite(), capture.literals,
                                     monotonic_start_ns);
}

}  // namespace ql::proxy
