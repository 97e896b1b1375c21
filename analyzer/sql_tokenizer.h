// Splits MySQL / MariaDB SQL text into tokens in one forward pass, without
// allocating. It is the only lexer in the analyzer: the fingerprinter and the
// statement classifier both consume its tokens, so they always agree on where
// strings, comments and identifiers begin and end.
//
// Flow: construct a SqlTokenizer over the statement text, then call Next()
// (every token, whitespace and comments included) or NextSignificant() until
// it returns false. Token texts are views into the caller's string, valid as
// long as that string is.
//
// Any byte sequence is accepted: unterminated strings, identifiers and
// comments end at the end of the input, every call consumes at least one
// byte, and nothing is read past the end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ql::analyzer {

enum class TokenKind : uint8_t {
  kWord,               // unquoted identifier or keyword: SELECT, t1, sbtest1, 123abc
  kQuotedIdentifier,   // `name` (and "name" under ANSI_QUOTES)
  kString,             // 'x', "x", N'x', _utf8mb4'x' (introducer included)
  kNumber,             // 42, 3.14, .5, 1e-3, 2E+10
  kHexNumber,          // 0x1F, X'1F' (also _binary X'..')
  kBitNumber,          // 0b101, b'101'
  kPlaceholder,        // ? (prepared-statement parameter)
  kUserVariable,       // @name, @'name', @`name`, @"name"
  kSystemVariable,     // @@name, @@session.name, @@GLOBAL.name
  kOperator,           // punctuation and operators: ( ) , ; . = <=> := -> ->> ...
  kWhitespace,
  kComment,            // -- x, # x, /* x */ (neither executable nor a hint)
  kExecutableBegin,    // "/*!50000" or "/*M!100100": what follows up to the
                       // matching kExecutableEnd is SQL the server runs
  kExecutableEnd,      // the "*/" that closes an executable comment
  kHintBegin,          // "/*+" right after SELECT/INSERT/UPDATE/DELETE/REPLACE
  kHintEnd,            // the "*/" that closes an optimizer hint
};

std::string_view TokenKindName(TokenKind kind);

struct Token {
  TokenKind kind = TokenKind::kWhitespace;
  bool unterminated = false;  // a string, quoted name or comment hit end of input
  std::string_view text;

  // Case-insensitive comparison of a kWord against a lower-case keyword.
  bool IsWord(std::string_view lower_keyword) const;  // defined below
  // True for a kOperator token spelled exactly `op`.
  bool IsOperator(std::string_view op) const {
    return kind == TokenKind::kOperator && text == op;
  }
  bool IsOperator(char op) const {
    return kind == TokenKind::kOperator && text.size() == 1 && text[0] == op;
  }
  // Whitespace and comments carry no meaning; executable-comment markers
  // and hint markers do (they delimit SQL), so they count as significant.
  bool IsSignificant() const {
    return kind != TokenKind::kWhitespace && kind != TokenKind::kComment;
  }
  // String, number, hex and bit literals (not NULL/TRUE/FALSE, which are
  // words whose meaning depends on context) and the ? placeholder.
  bool IsLiteral() const {
    return kind == TokenKind::kString || kind == TokenKind::kNumber ||
           kind == TokenKind::kHexNumber || kind == TokenKind::kBitNumber ||
           kind == TokenKind::kPlaceholder;
  }
};

// The parts of sql_mode that change how text is split into tokens.
struct SqlDialect {
  bool ansi_quotes = false;           // "x" is an identifier, not a string
  bool no_backslash_escapes = false;  // backslash is an ordinary string byte
};

inline char ToLowerAscii(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c;
}

// ASCII case-insensitive equality; `lower` must already be lower case.
inline bool EqualsLower(std::string_view text, std::string_view lower) {
  if (text.size() != lower.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (ToLowerAscii(text[i]) != lower[i]) return false;
  }
  return true;
}

inline bool Token::IsWord(std::string_view lower_keyword) const {
  return kind == TokenKind::kWord && EqualsLower(text, lower_keyword);
}

class SqlTokenizer {
 public:
  explicit SqlTokenizer(std::string_view sql, SqlDialect dialect = {})
      : sql_(sql), dialect_(dialect) {}

  // Produces the next token; returns false once the input is exhausted.
  bool Next(Token* token);
  // Like Next(), skipping whitespace and comments.
  bool NextSignificant(Token* token);

  size_t position() const { return pos_; }

 private:
  enum class Mode : uint8_t { kNormal, kExecutable, kHint };

  TokenKind ScanWordOrIntroducer(size_t* end, bool* unterminated) const;
  TokenKind ScanNumber(size_t* end) const;
  TokenKind ScanAt(size_t* end, bool* unterminated) const;
  size_t ScanQuoted(size_t open, char quote, bool backslash_escapes,
                    bool* unterminated) const;
  size_t ScanIdentChars(size_t from) const;
  size_t ScanLineComment(size_t from) const;
  size_t ScanBlockComment(size_t from, bool* unterminated) const;
  size_t ScanOperator(size_t from) const;
  bool PrevIsAdjacentName() const;
  bool HintAllowedHere() const;

  std::string_view sql_;
  SqlDialect dialect_;
  size_t pos_ = 0;
  Mode mode_ = Mode::kNormal;
  // The last token that was neither whitespace, a comment nor an
  // executable-comment marker, and where it ended: several lexing rules
  // depend on what came right before (t.1col, 'u'@'host', SELECT /*+).
  bool have_prev_ = false;
  TokenKind prev_kind_ = TokenKind::kWhitespace;
  std::string_view prev_text_;
  size_t prev_end_ = 0;
  bool prev_prev_is_name_ = false;  // the token before prev_ was a name
};

}  // namespace ql::analyzer
