// Fingerprinter: turns the token stream into normalized text. Everything is
// decided from the tokens already written (no look-ahead), and the few
// rewrites that need to know what came later (collapsing a literal list,
// folding a sign, dropping a repeated VALUES row) truncate the output buffer
// back to a remembered offset and write the short form instead.
#include "analyzer/fingerprint.h"

#include "analyzer/sql_names.h"

namespace ql::analyzer {
namespace {

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// A back-quoted name that reads the same without its quotes.
bool IsPlainName(std::string_view s) {
  if (s.empty() || AllDigits(s)) return false;
  for (unsigned char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '_' || c == '$';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

void Fingerprinter::Fingerprint(std::string_view sql, std::string* out,
                                SqlDialect dialect) {
  Begin(out);
  SqlTokenizer tokenizer(sql, dialect);
  Token token;
  while (tokenizer.Next(&token)) Feed(token);
  Finish();
}

void Fingerprinter::Begin(std::string* out) {
  out_ = out;
  out_->clear();
  values_ = ValuesList{};  // offsets from an earlier statement mean nothing now
  truncated_ = false;
  stopped_ = false;
  pending_semicolon_ = false;
  EndStatement();
}

void Fingerprinter::Finish() {
  if (out_ == nullptr) return;
  if (!stopped_) EndStatement();
  pending_semicolon_ = false;
}

void Fingerprinter::EndStatement() {
  if (values_.active) EndValues();
  values_ = ValuesList{};
  last_ = Last{};
  sign_pending_ = false;
  depth_ = 0;
  invalid_below_ = 0;
  limit_ = LimitState::kNone;
  order_by_ = false;
  stmt_tokens_ = 0;
  stmt_kw_ = keyword::kNone;
}

// Writes the separator a token of kind `kind` needs after last_ and returns
// where the token's own text will start.
size_t Fingerprinter::Open(Prev kind) {
  std::string& out = *out_;
  if (pending_semicolon_) {
    pending_semicolon_ = false;
    if (!out.empty()) out += "; ";
  } else if (last_.kind != Prev::kNone) {
    bool space = true;
    if (last_.kind == Prev::kOpen || last_.kind == Prev::kDot ||
        last_.kind == Prev::kSign) {
      space = false;
    } else if (kind == Prev::kClose || kind == Prev::kComma ||
               kind == Prev::kDot) {
      space = false;
    } else if (kind == Prev::kOpen &&
               (last_.kind == Prev::kName ||
                (last_.kind == Prev::kWord &&
                 (last_.flags & keyword::kSpaceBeforeParen) == 0))) {
      space = false;  // function call or column list: count(*), t(a, b)
    }
    if (space) out.push_back(' ');
  }
  const size_t start = out.size();
  if (values_.active && values_.expect_row && depth_ == values_.depth) {
    values_.row_start = start;
    values_.expect_row = false;
  }
  return start;
}

void Fingerprinter::Commit(Prev kind, size_t start, uint8_t kw, uint8_t flags,
                           bool from_string) {
  last_ = Last{kind, kw, flags, from_string, start};
  CheckLength();
}

void Fingerprinter::CheckLength() {
  std::string& out = *out_;
  if (out.size() <= options_.max_length) return;
  size_t cut = options_.max_length;
  // Do not leave half of a UTF-8 character before the marker.
  while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
  out.resize(cut);
  out += "...";
  truncated_ = true;
  stopped_ = true;
}

void Fingerprinter::AppendLower(std::string_view text) {
  std::string& out = *out_;
  const size_t at = out.size();
  out.append(text);
  for (size_t i = at; i < out.size(); ++i) out[i] = ToLowerAscii(out[i]);
}

void Fingerprinter::NoteLiteralInGroup() {
  if (depth_ > 0 && depth_ <= kMaxGroups) groups_[depth_ - 1].has_literal = true;
}

bool Fingerprinter::MasksNameHere(uint8_t kw) const {
  if (stmt_kw_ == keyword::kUse && stmt_tokens_ == 2) return true;
  const bool savepoint_stmt = stmt_kw_ == keyword::kSavepoint ||
                              stmt_kw_ == keyword::kRelease || stmt_kw_ == keyword::kRollback;
  if (savepoint_stmt && last_.kind == Prev::kWord && last_.kw == keyword::kSavepoint) {
    return true;
  }
  return stmt_kw_ == keyword::kRollback && last_.kind == Prev::kWord &&
         last_.kw == keyword::kTo && kw != keyword::kSavepoint;
}

void Fingerprinter::EmitMasked() {
  const size_t start = Open(Prev::kLiteral);
  out_->push_back('?');
  Commit(Prev::kLiteral, start);
}

void Fingerprinter::EmitLiteral(const Token& t) {
  const bool is_string = t.kind == TokenKind::kString;
  if (sign_pending_) {
    // "-1" after an operator is one value: drop the sign already written.
    out_->resize(sign_rollback_);
    last_ = sign_saved_;
    sign_pending_ = false;
  } else if (is_string && last_.kind == Prev::kLiteral && last_.from_string) {
    return;  // 'a' 'b' is a single string in MySQL
  }
  NoteLiteralInGroup();
  const size_t start = Open(Prev::kLiteral);
  const bool positional = order_by_ && depth_ == order_by_depth_ &&
                          t.kind == TokenKind::kNumber && AllDigits(t.text) &&
                          ((last_.kind == Prev::kWord && last_.kw == keyword::kBy) ||
                           last_.kind == Prev::kComma);
  if (positional) {
    out_->append(t.text);
  } else {
    out_->push_back('?');
  }
  if (limit_ == LimitState::kAfterLimit) {
    limit_ = LimitState::kAfterFirst;
  } else if (limit_ == LimitState::kAfterOffset || limit_ == LimitState::kAfterFirst) {
    limit_ = LimitState::kNone;
  }
  Commit(Prev::kLiteral, start, 0, 0, is_string);
}

void Fingerprinter::EmitWord(const Token& t, uint8_t kw, uint8_t flags) {
  if (kw == keyword::kAsc) return;  // the default order; ASC is reserved, never a name
  if (MasksNameHere(kw)) {
    EmitMasked();
    return;
  }
  if (kw != keyword::kDefault) InvalidateGroups();

  if (kw == keyword::kLimit) {
    limit_ = LimitState::kAfterLimit;
  } else if (kw == keyword::kOffset && limit_ == LimitState::kAfterFirst) {
    limit_ = LimitState::kAfterOffset;
  } else {
    limit_ = LimitState::kNone;
  }
  if (kw == keyword::kBy && last_.kind == Prev::kWord &&
      (last_.kw == keyword::kOrder || last_.kw == keyword::kGroup)) {
    order_by_ = true;
    order_by_depth_ = depth_;
  } else if ((flags & keyword::kEndsOrderBy) && order_by_ && depth_ <= order_by_depth_) {
    order_by_ = false;
  }

  // VALUES starts a row list unless it is the VALUES(col) function of
  // ON DUPLICATE KEY UPDATE (which follows an operator). VALUE is its
  // synonym only in INSERT/REPLACE; elsewhere it is an ordinary name.
  const bool after_operator =
      last_.kind == Prev::kOperator || last_.kind == Prev::kSign;
  const bool starts_values =
      !after_operator &&
      (kw == keyword::kValues ||
       (kw == keyword::kValue && depth_ == 0 &&
        (stmt_kw_ == keyword::kInsert || stmt_kw_ == keyword::kReplace)));

  const size_t start = Open(Prev::kWord);
  AppendLower(t.text);
  Commit(Prev::kWord, start, kw, flags);
  if (starts_values && !stopped_) {
    if (values_.active) EndValues();
    values_ = ValuesList{};
    values_.active = true;
    values_.expect_row = true;
    values_.depth = depth_;
  }
}

void Fingerprinter::EmitQuotedName(const Token& t) {
  if (MasksNameHere(keyword::kOther)) {
    EmitMasked();
    return;
  }
  InvalidateGroups();
  limit_ = LimitState::kNone;
  std::string_view body = t.text.substr(1);
  if (!t.unterminated && !body.empty()) body.remove_suffix(1);
  const size_t start = Open(Prev::kName);
  if (!t.unterminated && IsPlainName(body)) {
    AppendLower(body);
  } else {
    AppendLower(t.text);
  }
  Commit(Prev::kName, start);
}

void Fingerprinter::EmitOpenParen() {
  std::string& out = *out_;
  const bool row_begins =
      values_.active && depth_ == values_.depth &&
      (values_.expect_row || (last_.kind == Prev::kWord && last_.kw == keyword::kRow));
  if (values_.active && depth_ == values_.depth && last_.kind == Prev::kWord &&
      last_.kw == keyword::kValue) {
    // INSERT ... VALUE (...) is INSERT ... VALUES (...).
    out.resize(last_.start);
    out += "values";
    last_.kw = keyword::kValues;
    last_.flags = keyword::kSpaceBeforeParen | keyword::kExprStart;
  }
  GroupKind kind = GroupKind::kPlain;
  if (last_.kind == Prev::kWord && last_.kw == keyword::kIn) {
    kind = GroupKind::kInList;
  } else if (row_begins) {
    kind = GroupKind::kValuesRow;
  }
  const size_t start = Open(Prev::kOpen);
  out.push_back('(');
  if (depth_ < kMaxGroups) groups_[depth_] = Group{start, kind, false};
  ++depth_;
  limit_ = LimitState::kNone;
  Commit(Prev::kOpen, start);
}

void Fingerprinter::EmitCloseParen() {
  std::string& out = *out_;
  if (depth_ == 0) {  // unbalanced: keep it as written
    const size_t start = Open(Prev::kClose);
    out.push_back(')');
    Commit(Prev::kClose, start);
    return;
  }
  --depth_;
  bool collapsed = false;
  if (depth_ < kMaxGroups) {
    const Group g = groups_[depth_];
    const bool all_literal = depth_ >= invalid_below_;
    if (invalid_below_ > depth_) invalid_below_ = depth_;
    if (all_literal && g.has_literal && g.kind != GroupKind::kPlain) {
      out.resize(g.mark);
      out += "(?+)";
      Commit(Prev::kClose, g.mark);
      collapsed = true;
    }
    // A tuple of literals counts as a literal item of its parent list.
    if (all_literal && g.has_literal && depth_ > 0) groups_[depth_ - 1].has_literal = true;
  }
  if (!collapsed) {
    const size_t start = Open(Prev::kClose);
    out.push_back(')');
    Commit(Prev::kClose, start);
  }
  limit_ = LimitState::kNone;
  if (order_by_ && depth_ < order_by_depth_) order_by_ = false;
  if (values_.active) {
    if (depth_ == values_.depth) {
      values_.after_row = true;
    } else if (depth_ < values_.depth) {
      EndValues();
    }
  }
}

// Compares the row that just ended with the one before it and drops it when
// identical, so "(?+), (?+), (?+)" becomes "(?+)".
void Fingerprinter::EndValues() {
  std::string& out = *out_;
  if (values_.after_row && !stopped_ && values_.row_start <= out.size()) {
    const size_t row_end = out.size();
    const size_t len = row_end - values_.row_start;
    if (values_.have_prev_row &&
        values_.prev_row_end - values_.prev_row_start == len &&
        out.compare(values_.prev_row_start, len, out, values_.row_start, len) == 0) {
      out.resize(values_.prev_row_end);
    } else {
      values_.prev_row_start = values_.row_start;
      values_.prev_row_end = row_end;
      values_.have_prev_row = true;
    }
  }
  values_.after_row = false;
  values_.active = false;
}

void Fingerprinter::EmitComma() {
  std::string& out = *out_;
  if (limit_ == LimitState::kAfterFirst) {
    // LIMIT offset, count reads as LIMIT count OFFSET offset.
    const size_t start = Open(Prev::kWord);
    out += "offset";
    limit_ = LimitState::kAfterOffset;
    Commit(Prev::kWord, start, keyword::kOffset, keyword::kExprStart | keyword::kEndsOrderBy);
    return;
  }
  limit_ = LimitState::kNone;
  const bool next_row = values_.active && depth_ == values_.depth && values_.after_row;
  if (next_row) {
    EndValues();            // dedups the row that just ended...
    values_.active = true;  // ...but the list goes on
  }
  // Keep a list that is still all literals short while it is being read:
  // "(?, ?, ?" is rewritten to "(?+" at each comma, so a 10,000-item IN
  // list never makes the buffer grow.
  if (depth_ > 0 && depth_ <= kMaxGroups) {
    const Group& g = groups_[depth_ - 1];
    if (g.kind != GroupKind::kPlain && g.has_literal && depth_ - 1 >= invalid_below_) {
      out.resize(g.mark);
      out += "(?+";
      last_.kind = Prev::kLiteral;
    }
  }
  const size_t start = Open(Prev::kComma);
  out.push_back(',');
  Commit(Prev::kComma, start);
  if (next_row) values_.expect_row = true;  // set after Open() wrote the comma
}

void Fingerprinter::EmitOperator(const Token& t) {
  if (t.IsOperator('.')) {
    const size_t start = Open(Prev::kDot);
    out_->push_back('.');
    Commit(Prev::kDot, start);
    return;
  }
  limit_ = LimitState::kNone;
  const bool sign = t.IsOperator('-') || t.IsOperator('+');
  const bool unary_position =
      last_.kind == Prev::kNone || last_.kind == Prev::kOpen ||
      last_.kind == Prev::kComma || last_.kind == Prev::kOperator ||
      last_.kind == Prev::kSign || last_.kind == Prev::kHintOpen ||
      (last_.kind == Prev::kWord && (last_.flags & keyword::kExprStart) != 0);
  if (sign && unary_position) {
    sign_saved_ = last_;
    sign_rollback_ = out_->size();
    const size_t start = Open(Prev::kSign);
    out_->append(t.text);
    Commit(Prev::kSign, start);
    sign_pending_ = true;
    return;
  }
  InvalidateGroups();
  const bool prefix = t.IsOperator('!') || t.IsOperator('~');
  const Prev kind = prefix ? Prev::kSign : Prev::kOperator;
  const size_t start = Open(kind);
  out_->append(t.text);
  Commit(kind, start);
}

void Fingerprinter::Feed(const Token& t) {
  if (out_ == nullptr || stopped_) return;
  switch (t.kind) {
    case TokenKind::kWhitespace:
    case TokenKind::kComment:
    case TokenKind::kExecutableBegin:
    case TokenKind::kExecutableEnd:
      return;
    default:
      break;
  }
  if (t.IsOperator(';')) {
    if (stmt_tokens_ > 0) {
      EndStatement();
      pending_semicolon_ = true;
    }
    return;
  }

  KeywordInfo info;
  bool literal = t.IsLiteral();
  if (t.kind == TokenKind::kWord) {
    info = LookupKeyword(t.text);
    if (info.kw == keyword::kNull || info.kw == keyword::kTrue || info.kw == keyword::kFalse) {
      // IS [NOT] NULL and the NOT NULL column constraint keep the word.
      const bool predicate = last_.kind == Prev::kWord &&
                             (last_.kw == keyword::kIs || last_.kw == keyword::kNot);
      literal = !predicate;
    }
  }
  ++stmt_tokens_;
  if (stmt_tokens_ == 1 && t.kind == TokenKind::kWord) stmt_kw_ = info.kw;
  if (sign_pending_ && !literal) sign_pending_ = false;
  if (values_.active && values_.after_row && depth_ == values_.depth &&
      !t.IsOperator(',')) {
    EndValues();
  }

  if (literal) {
    EmitLiteral(t);
    return;
  }
  switch (t.kind) {
    case TokenKind::kWord:
      EmitWord(t, info.kw, info.flags);
      return;
    case TokenKind::kQuotedIdentifier:
      EmitQuotedName(t);
      return;
    case TokenKind::kUserVariable:
    case TokenKind::kSystemVariable: {
      InvalidateGroups();
      limit_ = LimitState::kNone;
      const size_t start = Open(Prev::kName);
      AppendLower(t.text);
      Commit(Prev::kName, start);
      return;
    }
    case TokenKind::kHintBegin: {
      const size_t start = Open(Prev::kHintOpen);
      out_->append("/*+");
      Commit(Prev::kHintOpen, start);
      return;
    }
    case TokenKind::kHintEnd: {
      const size_t start = Open(Prev::kOperator);
      out_->append("*/");
      Commit(Prev::kOperator, start);
      return;
    }
    default:
      break;
  }
  if (t.IsOperator('(')) {
    EmitOpenParen();
  } else if (t.IsOperator(')')) {
    EmitCloseParen();
  } else if (t.IsOperator(',')) {
    EmitComma();
  } else {
    EmitOperator(t);
  }
}

}  // namespace ql::analyzer
