// What the N+1 detector needs from a statement, captured into session-owned
// storage when the statement is analyzed: the analyzer's tags and
// fingerprint are valid only until the worker's next Analyze(), and other
// sessions on the worker analyze while this one waits for its response.
// Pure: no Asio, no clock.
//
//   NPlusOneCapture      literal summary + call-site strings (owned copies,
//                        buffers reused: no allocation once warm)
//   ExecuteParamValues   the bound values of a COM_STMT_EXECUTE, as views
//                        into the packet, for WithBoundValues
//   MakeInput            the detector's input from a StatementRecord and a
//                        capture, after the response
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "analyzer/n_plus_one_input.h"
#include "analyzer/n_plus_one_literals.h"
#include "analyzer/sqlcommenter.h"
#include "analyzer/statement_record.h"
#include "protocol/wire_codec.h"

namespace ql::proxy {

struct NPlusOneCapture {
  // Call-site values longer than this are cut (the detector keeps at most
  // NPlusOneOptions::max_tag_bytes of them anyway).
  static constexpr size_t kMaxTagBytes = 256;

  analyzer::LiteralSummary literals;
  std::string traceparent;
  std::string route;
  std::string controller;
  std::string framework;
  std::string action;
  std::string app_name;
  bool silenced = false;

  // Reads the call site from `tags` and keeps the literal summary the
  // analyzer made in its own pass (StatementAnalyzer::set_summarize_literals).
  void Capture(const analyzer::SqlCommenterTags& tags, const analyzer::LiteralSummary& summary);
  // Views of the strings above, valid while this capture is unchanged.
  analyzer::NPlusOneCallSite CallSite() const;
};

// The parameter values of a COM_STMT_EXECUTE packet (command byte first) of
// a statement with `num_params` placeholders, in placeholder order: each
// value's wire bytes, a fixed marker for NULL. `remembered_types` are the
// 2-byte types from an earlier execute, used when this packet does not
// carry them. False when the packet cannot be read that way (long data,
// unknown type, truncated); `out` is then unspecified.
bool ExecuteParamValues(protocol::ByteSpan packet, uint16_t num_params,
                        protocol::ByteSpan remembered_types, std::vector<std::string_view>* out);

// The literal summary of one execution: the prepared text's summary with
// the bound values; when the values cannot be read one by one, the whole
// parameter block counts as one value (so different values still differ).
analyzer::LiteralSummary ExecuteLiterals(const analyzer::LiteralSummary& prepared,
                                         protocol::ByteSpan packet, uint16_t num_params,
                                         protocol::ByteSpan remembered_types,
                                         std::vector<std::string_view>* scratch);

// The detector's input for a finished statement; views into `record` and
// `capture`.
analyzer::NPlusOneInput MakeInput(const analyzer::StatementRecord& record,
                                  const NPlusOneCapture& capture, int64_t monotonic_start_ns);

}  // namespace ql::proxy
