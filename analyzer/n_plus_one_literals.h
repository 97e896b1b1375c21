// The literal values of one statement, summarized for the N+1 detector
// without keeping them: a hash of all values (two executions with the same
// hash ran "with exactly the same literals"), a hash of the values that
// select *which* rows (the same, minus the page position and page size of a
// paginated query), and how many literals there were.
//
// Why two hashes: walking pages of one query ("... LIMIT 20 OFFSET 40",
// "... WHERE id > 1200 ORDER BY id LIMIT 100") repeats a fingerprint with
// different values, exactly like an N+1 loop. What differs is that only the
// page position moves while every other value stays the same. The detector
// counts distinct *filter* hashes for N+1 (pages of one query count as one)
// and distinct *value* hashes for duplicates (the same page twice is a
// duplicate).
//
// A statement is "page shaped" when it has an OFFSET (LIMIT n OFFSET m or
// LIMIT m, n) or is a keyset page: a range comparison (>, >=, <, <=) against
// a literal plus ORDER BY plus LIMIT. For page-shaped statements the filter
// hash leaves out the LIMIT/OFFSET values and the range-compared values;
// otherwise it equals the value hash.
//
// Values are hashed as written (3 and 3.0 differ, as do 'a' and "a"); a
// unary minus is part of the value; NULL, TRUE and FALSE used as values are
// values (not after IS / IS NOT), as in the fingerprint. Comments, hints and
// executable-comment markers are ignored.
//
// Prepared statements (COM_STMT_EXECUTE): the text holds "?" placeholders,
// whose values arrive bound. Summarize the prepared text once, then combine
// it with each execution's bound values (WithBoundValues), which skips the
// placeholders that sit in page slots (page_slot_mask).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "analyzer/sql_tokenizer.h"

namespace ql::analyzer {

struct LiteralSummary {
  uint64_t values_hash = 0;  // every literal value, in order
  uint64_t filter_hash = 0;  // == values_hash unless page_shaped
  uint32_t literal_count = 0;
  bool page_shaped = false;
  // Bit i: the i-th "?" placeholder (i < 64) is a LIMIT, OFFSET or range
  // value, left out of filter_hash when the statement is page shaped.
  uint64_t page_slot_mask = 0;
  uint32_t placeholder_count = 0;
};

// Streaming, so the same tokenizer pass that feeds the fingerprinter can
// feed it: Begin(), Feed(token) for every token in order, Finish().
// Reusable; allocates nothing.
class LiteralHasher {
 public:
  void Begin();
  void Feed(const Token& token);
  LiteralSummary Finish() const;

 private:
  enum class Slot : uint8_t { kValue, kPage, kRange };
  enum class LimitState : uint8_t { kNone, kAfterLimit, kAfterFirst, kAfterComma, kAfterOffset };

  void AddValue(std::string_view text, bool negative, Slot slot, bool placeholder);

  uint64_t all_ = 0;
  uint64_t core_ = 0;  // without page and range values
  uint32_t count_ = 0;
  uint32_t placeholders_ = 0;
  uint64_t page_mask_ = 0;   // placeholders in LIMIT/OFFSET
  uint64_t range_mask_ = 0;  // placeholders after a range operator
  bool has_offset_ = false;
  bool has_limit_ = false;
  bool has_order_by_ = false;
  bool has_range_value_ = false;
  LimitState limit_ = LimitState::kNone;
  // The last significant tokens: what the next literal means depends on them.
  bool prev_minus_ = false;      // a '-' (unary or binary; see AddValue)
  bool prev_range_op_ = false;   // >, >=, <, <=
  bool prev_is_or_not_ = false;  // IS or NOT: the next NULL/TRUE/FALSE is a word
  bool prev_order_ = false;      // ORDER (waiting for BY)
  bool range_before_minus_ = false;
};

// One-shot form over a whole statement.
LiteralSummary SummarizeLiterals(std::string_view sql, SqlDialect dialect = {});

// The summary of a prepared statement's execution: `text` summarizes the
// prepared text, `values` are the bound parameter values in placeholder
// order, each as bytes that identify the value (e.g. its wire encoding, or
// a fixed marker for NULL). Values beyond the text's placeholders are
// hashed too.
LiteralSummary WithBoundValues(const LiteralSummary& text,
                               std::span<const std::string_view> values);

}  // namespace ql::analyzer
