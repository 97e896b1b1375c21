// Literal hashing for the N+1 detector: one pass over the tokens, each value
// chained into the hashes (XXH64 seeded with the hash so far, so order and
// value boundaries both count), with just enough context to know which
// values are a page position (LIMIT / OFFSET / keyset range bound).
#include "analyzer/n_plus_one_literals.h"

#include "analyzer/digest.h"

namespace ql::analyzer {
namespace {

// A fixed, unlikely start so that "no literals" is not hash 0.
constexpr uint64_t kSeed = 0x6e706c75736f6e65ULL;  // "nplusone"

uint64_t Chain(uint64_t h, std::string_view text, bool negative) {
  if (negative) h = Xxh64("-", h);
  return Xxh64(text, h);
}

bool IsRangeOperator(const Token& t) {
  return t.IsOperator('>') || t.IsOperator('<') || t.IsOperator(">=") || t.IsOperator("<=");
}

}  // namespace

void LiteralHasher::Begin() {
  *this = LiteralHasher{};
  all_ = core_ = kSeed;
}

void LiteralHasher::AddValue(std::string_view text, bool negative, Slot slot, bool placeholder) {
  all_ = Chain(all_, text, negative);
  if (slot == Slot::kValue) core_ = Chain(core_, text, negative);
  if (placeholder) {
    if (placeholders_ < 64) {
      const uint64_t bit = uint64_t{1} << placeholders_;
      if (slot == Slot::kPage) page_mask_ |= bit;
      if (slot == Slot::kRange) range_mask_ |= bit;
    }
    ++placeholders_;
  }
  ++count_;
}

void LiteralHasher::Feed(const Token& t) {
  if (!t.IsSignificant() || t.kind == TokenKind::kExecutableBegin ||
      t.kind == TokenKind::kExecutableEnd || t.kind == TokenKind::kHintBegin ||
      t.kind == TokenKind::kHintEnd) {
    return;
  }
  // NULL / TRUE / FALSE are values unless they follow IS or NOT.
  const bool word_value =
      !prev_is_or_not_ && (t.IsWord("null") || t.IsWord("true") || t.IsWord("false"));
  if (t.IsLiteral() || word_value) {
    Slot slot = Slot::kValue;
    if (limit_ == LimitState::kAfterLimit || limit_ == LimitState::kAfterComma ||
        limit_ == LimitState::kAfterOffset) {
      slot = Slot::kPage;
    } else if (prev_range_op_ || (prev_minus_ && range_before_minus_)) {
      slot = Slot::kRange;
      has_range_value_ = true;
    }
    if (limit_ == LimitState::kAfterOffset) has_offset_ = true;
    limit_ = limit_ == LimitState::kAfterLimit ? LimitState::kAfterFirst : LimitState::kNone;
    if (word_value) {
      // Canonical spelling: NULL and null are the same value.
      const std::string_view canon = t.IsWord("null")   ? "null"
                                     : t.IsWord("true") ? "true"
                                                        : "false";
      AddValue(canon, false, slot, false);
    } else {
      AddValue(t.text, prev_minus_, slot, t.kind == TokenKind::kPlaceholder);
    }
    prev_minus_ = prev_range_op_ = prev_is_or_not_ = prev_order_ = false;
    range_before_minus_ = false;
    return;
  }

  // LIMIT m, n: the comma after the first value makes it an offset.
  if (limit_ == LimitState::kAfterFirst && t.IsOperator(',')) {
    has_offset_ = true;
    limit_ = LimitState::kAfterComma;
  } else if (t.IsWord("limit")) {
    has_limit_ = true;
    limit_ = LimitState::kAfterLimit;
  } else if (t.IsWord("offset")) {
    limit_ = LimitState::kAfterOffset;
  } else {
    limit_ = LimitState::kNone;
  }
  if (prev_order_ && t.IsWord("by")) has_order_by_ = true;

  const bool minus = t.IsOperator('-');
  range_before_minus_ = minus && prev_range_op_;
  prev_minus_ = minus;
  prev_range_op_ = IsRangeOperator(t);
  prev_is_or_not_ = t.IsWord("is") || t.IsWord("not");
  prev_order_ = t.IsWord("order");
}

LiteralSummary LiteralHasher::Finish() const {
  LiteralSummary s;
  s.values_hash = all_;
  s.literal_count = count_;
  s.placeholder_count = placeholders_;
  s.page_shaped = has_offset_ || (has_range_value_ && has_order_by_ && has_limit_);
  s.filter_hash = s.page_shaped ? core_ : all_;
  s.page_slot_mask = s.page_shaped ? (page_mask_ | range_mask_) : 0;
  return s;
}

LiteralSummary SummarizeLiterals(std::string_view sql, SqlDialect dialect) {
  LiteralHasher hasher;
  hasher.Begin();
  SqlTokenizer tokenizer(sql, dialect);
  Token token;
  while (tokenizer.Next(&token)) hasher.Feed(token);
  return hasher.Finish();
}

LiteralSummary WithBoundValues(const LiteralSummary& text,
                               std::span<const std::string_view> values) {
  LiteralSummary s = text;
  for (size_t i = 0; i < values.size(); ++i) {
    s.values_hash = Chain(s.values_hash, values[i], false);
    const bool page_slot = i < 64 && (text.page_slot_mask >> i & 1) != 0;
    if (!page_slot) s.filter_hash = Chain(s.filter_hash, values[i], false);
  }
  return s;
}

}  // namespace ql::analyzer
