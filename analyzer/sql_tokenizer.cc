// Implementation of the single-pass SQL tokenizer. Each Scan* helper looks at
// the bytes from a position and returns where its token ends; Next() picks the
// helper from the first byte (and, for a few cases, from the token before).
#include "analyzer/sql_tokenizer.h"

namespace ql::analyzer {
namespace {

// MySQL treats every control byte as a separator, so a stray NUL or form feed
// never glues two words together.
bool IsSpace(unsigned char c) { return c <= 0x20; }
bool IsDigit(unsigned char c) { return c >= '0' && c <= '9'; }
bool IsHexDigit(unsigned char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool IsAlpha(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
// Bytes >= 0x80 are parts of multi-byte (UTF-8) identifier characters.
bool IsIdentChar(unsigned char c) {
  return IsAlpha(c) || IsDigit(c) || c == '_' || c == '$' || c >= 0x80;
}
bool IsIdentStart(unsigned char c) {
  return IsAlpha(c) || c == '_' || c == '$' || c >= 0x80;
}

// Character sets that may introduce a literal (_utf8mb4'x'). A word is only
// an introducer when its name is one of these, as in the server's lexer;
// otherwise `_x 'y'` is a column followed by an alias.
constexpr std::string_view kCharsets[] = {
    "armscii8", "ascii",   "big5",     "binary",  "cp1250",  "cp1251",
    "cp1256",   "cp1257",  "cp850",    "cp852",   "cp866",   "cp932",
    "dec8",     "eucjpms", "euckr",    "gb18030", "gb2312",  "gbk",
    "geostd8",  "greek",   "hebrew",   "hp8",     "keybcs2", "koi8r",
    "koi8u",    "latin1",  "latin2",   "latin5",  "latin7",  "macce",
    "macroman", "sjis",    "swe7",     "tis620",  "ucs2",    "ujis",
    "utf16",    "utf16le", "utf32",    "utf8",    "utf8mb3", "utf8mb4",
};

bool IsCharsetName(std::string_view name) {
  for (std::string_view cs : kCharsets) {
    if (EqualsLower(name, cs)) return true;
  }
  return false;
}

}  // namespace

std::string_view TokenKindName(TokenKind kind) {
  switch (kind) {
    case TokenKind::kWord: return "word";
    case TokenKind::kQuotedIdentifier: return "quoted_identifier";
    case TokenKind::kString: return "string";
    case TokenKind::kNumber: return "number";
    case TokenKind::kHexNumber: return "hex";
    case TokenKind::kBitNumber: return "bit";
    case TokenKind::kPlaceholder: return "placeholder";
    case TokenKind::kUserVariable: return "user_variable";
    case TokenKind::kSystemVariable: return "system_variable";
    case TokenKind::kOperator: return "operator";
    case TokenKind::kWhitespace: return "whitespace";
    case TokenKind::kComment: return "comment";
    case TokenKind::kExecutableBegin: return "executable_begin";
    case TokenKind::kExecutableEnd: return "executable_end";
    case TokenKind::kHintBegin: return "hint_begin";
    case TokenKind::kHintEnd: return "hint_end";
  }
  return "?";
}

size_t SqlTokenizer::ScanIdentChars(size_t from) const {
  size_t p = from;
  while (p < sql_.size() && IsIdentChar(sql_[p])) ++p;
  return p;
}

// Scans a quoted run starting at `open` (the opening quote). A doubled quote
// stands for one quote character; with `backslash_escapes` a backslash hides
// the byte after it.
size_t SqlTokenizer::ScanQuoted(size_t open, char quote, bool backslash_escapes,
                                bool* unterminated) const {
  const size_t n = sql_.size();
  size_t p = open + 1;
  while (p < n) {
    char c = sql_[p];
    if (c == '\\' && backslash_escapes) {
      p += 2;
      continue;
    }
    if (c == quote) {
      if (p + 1 < n && sql_[p + 1] == quote) {
        p += 2;
        continue;
      }
      return p + 1;
    }
    ++p;
  }
  *unterminated = true;
  return n;
}

// Line comments end at a newline. Inside an executable comment or a hint the
// closing "*/" ends them too, so the enclosing comment is not swallowed.
size_t SqlTokenizer::ScanLineComment(size_t from) const {
  const size_t n = sql_.size();
  size_t p = from;
  while (p < n && sql_[p] != '\n') {
    if (mode_ != Mode::kNormal && sql_[p] == '*' && p + 1 < n &&
        sql_[p + 1] == '/') {
      break;
    }
    ++p;
  }
  return p;
}

size_t SqlTokenizer::ScanBlockComment(size_t from, bool* unterminated) const {
  size_t close = sql_.find("*/", from + 2);
  if (close == std::string_view::npos) {
    *unterminated = true;
    return sql_.size();
  }
  return close + 2;
}

size_t SqlTokenizer::ScanOperator(size_t from) const {
  const size_t n = sql_.size();
  const char c = sql_[from];
  const char d = from + 1 < n ? sql_[from + 1] : '\0';
  const char e = from + 2 < n ? sql_[from + 2] : '\0';
  switch (c) {
    case '<':
      if (d == '=' && e == '>') return from + 3;  // <=>
      if (d == '=' || d == '>' || d == '<') return from + 2;
      break;
    case '-':
      if (d == '>') return from + (e == '>' ? 3 : 2);  // ->> and ->
      break;
    case '>':
      if (d == '=' || d == '>') return from + 2;
      break;
    case '!':
    case ':':
      if (d == '=') return from + 2;
      break;
    case '&':
    case '|':
      if (d == c) return from + 2;
      break;
    default:
      break;
  }
  return from + 1;
}

// Returns the kind of a token starting with a digit (or '.' + digit). MySQL
// lets identifiers start with digits, so 123abc and 0xZZ are words while 123,
// 1e5 and 0x1F are literals.
TokenKind SqlTokenizer::ScanNumber(size_t* end) const {
  const size_t n = sql_.size();
  const size_t from = pos_;
  auto at = [&](size_t p) -> unsigned char { return p < n ? sql_[p] : 0; };
  if (at(from) == '0' && (at(from + 1) == 'x' || at(from + 1) == 'X' ||
                          at(from + 1) == 'b' || at(from + 1) == 'B')) {
    const bool hex = at(from + 1) == 'x' || at(from + 1) == 'X';
    size_t p = from + 2;
    while (p < n && (hex ? IsHexDigit(sql_[p]) : (sql_[p] == '0' || sql_[p] == '1'))) ++p;
    if (p > from + 2 && !IsIdentChar(at(p))) {
      *end = p;
      return hex ? TokenKind::kHexNumber : TokenKind::kBitNumber;
    }
    *end = ScanIdentChars(from);
    return TokenKind::kWord;
  }
  size_t p = from;
  while (IsDigit(at(p))) ++p;
  bool fraction = false;
  if (at(p) == '.') {
    fraction = true;
    ++p;
    while (IsDigit(at(p))) ++p;
  }
  if (at(p) == 'e' || at(p) == 'E') {
    size_t q = p + 1;
    if (at(q) == '+' || at(q) == '-') ++q;
    if (IsDigit(at(q))) {
      while (IsDigit(at(q))) ++q;
      p = q;
    }
  }
  if (!fraction && IsIdentChar(at(p))) {
    *end = ScanIdentChars(from);
    return TokenKind::kWord;
  }
  *end = p;
  return TokenKind::kNumber;
}

// Words, plus the literal forms that start with a letter: N'..', X'..',
// B'..' and charset introducers (_utf8mb4'..', _binary 0x41).
TokenKind SqlTokenizer::ScanWordOrIntroducer(size_t* end,
                                             bool* unterminated) const {
  const size_t n = sql_.size();
  auto at = [&](size_t p) -> unsigned char { return p < n ? sql_[p] : 0; };
  const bool bs = !dialect_.no_backslash_escapes;
  const unsigned char c = at(pos_);
  if (at(pos_ + 1) == '\'') {
    if (c == 'N' || c == 'n') {
      *end = ScanQuoted(pos_ + 1, '\'', bs, unterminated);
      return TokenKind::kString;
    }
    if (c == 'X' || c == 'x' || c == 'B' || c == 'b') {
      *end = ScanQuoted(pos_ + 1, '\'', false, unterminated);
      return (c == 'X' || c == 'x') ? TokenKind::kHexNumber
                                    : TokenKind::kBitNumber;
    }
  }
  const size_t word_end = ScanIdentChars(pos_);
  if (c == '_' && IsCharsetName(sql_.substr(pos_ + 1, word_end - pos_ - 1))) {
    size_t p = word_end;
    while (p < n && IsSpace(sql_[p])) ++p;
    const unsigned char q = at(p);
    if (q == '\'' || (q == '"' && !dialect_.ansi_quotes)) {
      *end = ScanQuoted(p, static_cast<char>(q), bs, unterminated);
      return TokenKind::kString;
    }
    if ((q == 'X' || q == 'x' || q == 'B' || q == 'b') && at(p + 1) == '\'') {
      *end = ScanQuoted(p + 1, '\'', false, unterminated);
      return (q == 'X' || q == 'x') ? TokenKind::kHexNumber
                                    : TokenKind::kBitNumber;
    }
    if (q == '0') {
      size_t lit_end = 0;
      SqlTokenizer probe(sql_, dialect_);
      probe.pos_ = p;
      TokenKind k = probe.ScanNumber(&lit_end);
      if (k == TokenKind::kHexNumber || k == TokenKind::kBitNumber) {
        *end = lit_end;
        return k;
      }
    }
  }
  *end = word_end;
  return TokenKind::kWord;
}

// '@' starts a user variable, '@@' a system variable; directly after a name
// or string it is the separator of an account name ('app'@'%').
TokenKind SqlTokenizer::ScanAt(size_t* end, bool* unterminated) const {
  const size_t n = sql_.size();
  auto at = [&](size_t p) -> unsigned char { return p < n ? sql_[p] : 0; };
  if (at(pos_ + 1) == '@') {
    size_t p = pos_ + 2;
    if (at(p) == '`') {
      *end = ScanQuoted(p, '`', false, unterminated);
      return TokenKind::kSystemVariable;
    }
    size_t q = p;
    while (q < n && (IsIdentChar(sql_[q]) || sql_[q] == '.')) ++q;
    if (q == p) {
      *end = p;
      return TokenKind::kOperator;
    }
    *end = q;
    return TokenKind::kSystemVariable;
  }
  if (have_prev_ && prev_end_ == pos_ &&
      (prev_kind_ == TokenKind::kWord ||
       prev_kind_ == TokenKind::kQuotedIdentifier ||
       prev_kind_ == TokenKind::kString)) {
    *end = pos_ + 1;
    return TokenKind::kOperator;
  }
  const unsigned char c = at(pos_ + 1);
  if (c == '\'' || c == '"' || c == '`') {
    *end = ScanQuoted(pos_ + 1, static_cast<char>(c),
                      c != '`' && !dialect_.no_backslash_escapes, unterminated);
    return TokenKind::kUserVariable;
  }
  if (IsIdentChar(c) || c == '.') {
    size_t q = pos_ + 1;
    while (q < n && (IsIdentChar(sql_[q]) || sql_[q] == '.')) ++q;
    *end = q;
    return TokenKind::kUserVariable;
  }
  *end = pos_ + 1;
  return TokenKind::kOperator;
}

bool SqlTokenizer::PrevIsAdjacentName() const {
  return have_prev_ && prev_end_ == pos_ &&
         (prev_kind_ == TokenKind::kWord ||
          prev_kind_ == TokenKind::kQuotedIdentifier);
}

// MySQL only reads /*+ as a hint right after the verb of a DML statement;
// anywhere else it is an ordinary comment.
bool SqlTokenizer::HintAllowedHere() const {
  if (mode_ != Mode::kNormal || !have_prev_ ||
      prev_kind_ != TokenKind::kWord) {
    return false;
  }
  return EqualsLower(prev_text_, "select") || EqualsLower(prev_text_, "insert") ||
         EqualsLower(prev_text_, "update") || EqualsLower(prev_text_, "delete") ||
         EqualsLower(prev_text_, "replace");
}

bool SqlTokenizer::Next(Token* token) {
  const size_t n = sql_.size();
  if (pos_ >= n) return false;
  auto at = [&](size_t p) -> unsigned char { return p < n ? sql_[p] : 0; };
  const unsigned char c = sql_[pos_];
  const unsigned char next = at(pos_ + 1);
  bool unterminated = false;
  size_t end = pos_ + 1;
  TokenKind kind = TokenKind::kOperator;

  if (IsSpace(c)) {
    end = pos_;
    while (end < n && IsSpace(sql_[end])) ++end;
    kind = TokenKind::kWhitespace;
  } else if (mode_ != Mode::kNormal && c == '*' && next == '/') {
    end = pos_ + 2;
    kind = mode_ == Mode::kExecutable ? TokenKind::kExecutableEnd
                                      : TokenKind::kHintEnd;
    mode_ = Mode::kNormal;
  } else if (c == '\'') {
    end = ScanQuoted(pos_, '\'', !dialect_.no_backslash_escapes, &unterminated);
    kind = TokenKind::kString;
  } else if (c == '"') {
    if (dialect_.ansi_quotes) {
      end = ScanQuoted(pos_, '"', false, &unterminated);
      kind = TokenKind::kQuotedIdentifier;
    } else {
      end = ScanQuoted(pos_, '"', !dialect_.no_backslash_escapes, &unterminated);
      kind = TokenKind::kString;
    }
  } else if (c == '`') {
    end = ScanQuoted(pos_, '`', false, &unterminated);
    kind = TokenKind::kQuotedIdentifier;
  } else if (c == '#' ||
             (c == '-' && next == '-' && (pos_ + 2 >= n || IsSpace(sql_[pos_ + 2])))) {
    // "--" is a comment only when followed by a space or control byte:
    // "5--1" is five minus minus one.
    end = ScanLineComment(pos_);
    kind = TokenKind::kComment;
  } else if (c == '/' && next == '*') {
    const unsigned char third = at(pos_ + 2);
    size_t version_at = 0;
    if (third == '!') {
      version_at = pos_ + 3;
    } else if (third == 'M' && at(pos_ + 3) == '!') {
      version_at = pos_ + 4;  // MariaDB-only executable comment
    }
    if (version_at != 0) {
      end = version_at;
      // The server version is 5 digits (MySQL) or 6 (MariaDB).
      while (end < n && end < version_at + 6 && IsDigit(sql_[end])) ++end;
      kind = TokenKind::kExecutableBegin;
      mode_ = Mode::kExecutable;
    } else if (third == '+' && HintAllowedHere()) {
      end = pos_ + 3;
      kind = TokenKind::kHintBegin;
      mode_ = Mode::kHint;
    } else {
      end = ScanBlockComment(pos_, &unterminated);
      kind = TokenKind::kComment;
    }
  } else if (c == '?') {
    kind = TokenKind::kPlaceholder;
  } else if (c == '@') {
    kind = ScanAt(&end, &unterminated);
  } else if (c == '.' && IsDigit(next) && !PrevIsAdjacentName()) {
    kind = ScanNumber(&end);
  } else if (IsDigit(c)) {
    // After "name." digits start an identifier: t.1col, db.2024_sales.
    const bool qualified = have_prev_ && prev_end_ == pos_ &&
                           prev_kind_ == TokenKind::kOperator &&
                           prev_text_ == "." && prev_prev_is_name_;
    if (qualified) {
      end = ScanIdentChars(pos_);
      kind = TokenKind::kWord;
    } else {
      kind = ScanNumber(&end);
    }
  } else if (IsIdentStart(c)) {
    kind = ScanWordOrIntroducer(&end, &unterminated);
  } else {
    end = ScanOperator(pos_);
    kind = TokenKind::kOperator;
  }

  if (end > n) end = n;
  if (end <= pos_) end = pos_ + 1;  // defensive: always make progress
  token->kind = kind;
  token->unterminated = unterminated;
  token->text = sql_.substr(pos_, end - pos_);
  if (kind != TokenKind::kWhitespace && kind != TokenKind::kComment &&
      kind != TokenKind::kExecutableBegin && kind != TokenKind::kExecutableEnd) {
    prev_prev_is_name_ = have_prev_ && (prev_kind_ == TokenKind::kWord ||
                                        prev_kind_ == TokenKind::kQuotedIdentifier);
    have_prev_ = true;
    prev_kind_ = kind;
    prev_text_ = token->text;
    prev_end_ = end;
  }
  pos_ = end;
  return true;
}

bool SqlTokenizer::NextSignificant(Token* token) {
  while (Next(token)) {
    if (token->IsSignificant()) return true;
  }
  return false;
}

}  // namespace ql::analyzer
