// Statement fingerprints: the normalized text that groups statements differing
// only in their literal values, written in one pass over the tokens into a
// caller-owned buffer. The digest id (analyzer/digest.h) is a hash of it.
//
// Rules (shared/research/profiling.md 7(b); collapsed lists are written
// "(?+)" as pt-fingerprint does, where that section suggests "(...)"):
//  - comments are dropped; executable comments /*!NNNNN ...*/ and /*M!...*/
//    are unwrapped (the server runs their contents); optimizer hints
//    /*+ ... */ are kept, normalized like the rest;
//  - string, number, hex, bit literals and ? placeholders become "?"; a
//    unary sign before a literal folds into it ("= -1" -> "= ?"), a binary
//    one stays ("n - 1" -> "n - ?"); adjacent strings ('a' 'b') are one ?;
//  - NULL, TRUE and FALSE used as values become "?", but after IS or NOT
//    they keep the word (IS [NOT] NULL, IS TRUE, the NOT NULL column
//    constraint), because "is null" and "= ?" are different predicates
//    (pt-fingerprint turns IS NULL into "is ?");
//  - [NOT] IN (...) whose items are all literals, any count, becomes
//    "in (?+)", tuples included; each VALUES row of literals (or DEFAULT)
//    becomes "(?+)", and repeated identical rows collapse to one, so
//    multi-row INSERTs share one fingerprint; VALUE is spelled VALUES;
//    whatever follows VALUES (ON DUPLICATE KEY UPDATE ...) is kept; a
//    list's leading run of literals is shortened while it is read, so a
//    list that goes on with something else shows "in (?+, b)" and a huge
//    list never grows the buffer;
//  - keywords and identifiers are lower-cased; back-quotes are removed when
//    the name is plain ([A-Za-z0-9_$], not all digits); digits inside
//    identifiers are never touched (users_2009, col1e);
//  - one space between tokens, none inside parentheses, before "," or
//    around "."; no space between a name and "(" (count(*), t(a, b)) except
//    after clause keywords (in (, values (, from (, exists ();
//  - LIMIT a, b and LIMIT b OFFSET a both become "limit ? offset ?"; ASC is
//    dropped (it is the default); integers right after ORDER BY / GROUP BY
//    stay (they are column positions, not values);
//  - names that are really values: "use ?", "savepoint ?", "release
//    savepoint ?", "rollback to savepoint ?";
//  - a trailing ";" is dropped; statements of a multi-statement text are
//    joined with "; ";
//  - the result is capped at FingerprintOptions::max_length bytes, then
//    ends in "..." and truncated() is true.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "analyzer/digest.h"
#include "analyzer/sql_tokenizer.h"

namespace ql::analyzer {

struct FingerprintOptions {
  size_t max_length = 64 * 1024;
};

// Reusable; not thread-safe (one per worker). Steady state allocates
// nothing: the output string keeps its capacity between statements.
class Fingerprinter {
 public:
  explicit Fingerprinter(FingerprintOptions options = {}) : options_(options) {}

  // Replaces *out with the fingerprint of `sql`.
  void Fingerprint(std::string_view sql, std::string* out,
                   SqlDialect dialect = {});

  // Streaming form, so one tokenizer pass can feed several consumers:
  // Begin(out), Feed(token) for every token in order, Finish().
  void Begin(std::string* out);
  void Feed(const Token& token);
  void Finish();

  // The last fingerprint hit max_length.
  bool truncated() const { return truncated_; }

 private:
  // What the previously written token was; drives spacing and context.
  enum class Prev : uint8_t {
    kNone, kWord, kName, kLiteral, kOpen, kClose, kComma, kDot, kOperator,
    kSign, kHintOpen,
  };
  enum class GroupKind : uint8_t { kPlain, kInList, kValuesRow };
  enum class LimitState : uint8_t { kNone, kAfterLimit, kAfterFirst, kAfterOffset };

  struct Last {
    Prev kind = Prev::kNone;
    uint8_t kw = 0;         // keyword id when kind == kWord
    uint8_t flags = 0;      // keyword flags when kind == kWord
    bool from_string = false;
    size_t start = 0;       // where its text starts in *out_
  };
  // One open parenthesis. A group is "all literal" while no other kind of
  // token has appeared inside it; see invalid_below_.
  struct Group {
    size_t mark;  // offset of its "(" in *out_
    GroupKind kind;
    bool has_literal;
  };
  struct ValuesList {
    bool active = false;
    bool expect_row = false;  // the next token at `depth` starts a row
    bool after_row = false;   // a row just closed
    bool have_prev_row = false;
    uint32_t depth = 0;
    size_t row_start = 0;
    size_t prev_row_start = 0;
    size_t prev_row_end = 0;
  };
  static constexpr uint32_t kMaxGroups = 64;

  size_t Open(Prev kind);
  void Commit(Prev kind, size_t start, uint8_t kw = 0, uint8_t flags = 0,
              bool from_string = false);
  void EmitLiteral(const Token& t);
  void EmitWord(const Token& t, uint8_t kw, uint8_t flags);
  void EmitQuotedName(const Token& t);
  void EmitMasked();
  void EmitOpenParen();
  void EmitCloseParen();
  void EmitComma();
  void EmitOperator(const Token& t);
  void AppendLower(std::string_view text);
  void InvalidateGroups() { invalid_below_ = depth_ < kMaxGroups ? depth_ : kMaxGroups; }
  void NoteLiteralInGroup();
  void EndValues();
  void EndStatement();
  bool MasksNameHere(uint8_t kw) const;
  void CheckLength();

  FingerprintOptions options_;
  std::string* out_ = nullptr;
  bool truncated_ = false;
  bool stopped_ = false;
  bool pending_semicolon_ = false;
  Last last_;
  // Unary sign written but possibly folded into the next literal.
  bool sign_pending_ = false;
  size_t sign_rollback_ = 0;
  Last sign_saved_;
  uint32_t depth_ = 0;
  // Groups with index < invalid_below_ contain a non-literal token.
  uint32_t invalid_below_ = 0;
  Group groups_[kMaxGroups];
  ValuesList values_;
  LimitState limit_ = LimitState::kNone;
  bool order_by_ = false;
  uint32_t order_by_depth_ = 0;
  uint32_t stmt_tokens_ = 0;
  uint8_t stmt_kw_ = 0;  // keyword id of the statement's first word
};

}  // namespace ql::analyzer
