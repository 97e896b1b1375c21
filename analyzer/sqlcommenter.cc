// Finds the sqlcommenter comment of a statement and decodes its pairs. Only
// the two ends of the text are examined, so the cost does not grow with the
// statement.
#include "analyzer/sqlcommenter.h"

namespace ql::analyzer {
namespace {

bool IsBlank(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Executable comments and optimizer hints are SQL, never tags.
bool IsPlainCommentBody(std::string_view body) {
  return !(body.starts_with("!") || body.starts_with("+") || body.starts_with("M!"));
}

}  // namespace

std::optional<std::string_view> SqlCommenterTags::Find(std::string_view key) const {
  for (const SqlCommenterTag& tag : *this) {
    if (tag.key == key) return tag.value;
  }
  return std::nullopt;
}

// Appends the decoded form of `raw` to storage_ and returns a view of it.
// storage_ was reserved for the whole comment and decoding never lengthens
// text, so earlier views are not invalidated by reallocation.
std::string_view SqlCommenterTags::Decode(std::string_view raw,
                                          bool backslash_escapes) {
  const size_t begin = storage_.size();
  const size_t n = raw.size();
  size_t i = 0;
  while (i < n) {
    const char c = raw[i];
    if (c == '\\' && backslash_escapes && i + 1 < n) {
      storage_.push_back(raw[i + 1]);
      i += 2;
      continue;
    }
    if (c == '%') {
      size_t j = i + 1;
      if (j < n && raw[j] == '%') ++j;  // Django's doubled percent
      if (j + 1 < n && HexValue(raw[j]) >= 0 && HexValue(raw[j + 1]) >= 0) {
        storage_.push_back(static_cast<char>(HexValue(raw[j]) * 16 + HexValue(raw[j + 1])));
        i = j + 2;
        continue;
      }
      storage_.push_back('%');
      i = j;  // "%%" alone is one percent sign
      continue;
    }
    storage_.push_back(c);
    ++i;
  }
  return std::string_view(storage_).substr(begin);
}

bool SqlCommenterTags::ParsePairs(std::string_view body) {
  Clear();
  storage_.reserve(body.size());
  const size_t n = body.size();
  size_t i = 0;
  auto skip_blanks = [&] {
    while (i < n && IsBlank(body[i])) ++i;
  };
  skip_blanks();
  if (i == n) return false;
  while (i < n) {
    const size_t key_begin = i;
    while (i < n && body[i] != '=' && body[i] != ',' && body[i] != '\'' &&
           !IsBlank(body[i])) {
      ++i;
    }
    const std::string_view raw_key = body.substr(key_begin, i - key_begin);
    skip_blanks();
    if (raw_key.empty() || i >= n || body[i] != '=') return false;
    ++i;
    skip_blanks();
    if (i >= n || body[i] != '\'') return false;
    const size_t value_begin = ++i;
    while (i < n && body[i] != '\'') i += (body[i] == '\\') ? 2 : 1;
    if (i >= n) return false;
    const std::string_view raw_value = body.substr(value_begin, i - value_begin);
    ++i;  // closing quote
    if (count_ < kMaxTags) {
      const std::string_view key = Decode(raw_key, false);
      const std::string_view value = Decode(raw_value, true);
      tags_[count_++] = SqlCommenterTag{key, value};
    }
    skip_blanks();
    if (i < n) {
      if (body[i] != ',') return false;
      ++i;
      skip_blanks();
    }
  }
  return count_ > 0;
}

bool ParseSqlCommenter(std::string_view sql, SqlCommenterTags* tags) {
  tags->Clear();
  // Trailing comment: the spec's and Django's placement.
  std::string_view s = sql;
  while (!s.empty() && (IsBlank(s.back()) || s.back() == ';')) s.remove_suffix(1);
  if (s.size() >= 4 && s.ends_with("*/")) {
    const size_t open = s.rfind("/*", s.size() - 4);
    if (open != std::string_view::npos) {
      const std::string_view body = s.substr(open + 2, s.size() - 2 - (open + 2));
      if (IsPlainCommentBody(body) && tags->ParsePairs(body)) return true;
    }
  }
  // Leading comment.
  size_t i = 0;
  while (i < sql.size() && IsBlank(sql[i])) ++i;
  if (sql.substr(i).starts_with("/*")) {
    const size_t close = sql.find("*/", i + 2);
    if (close != std::string_view::npos) {
      const std::string_view body = sql.substr(i + 2, close - (i + 2));
      if (IsPlainCommentBody(body) && tags->ParsePairs(body)) return true;
    }
  }
  tags->Clear();
  return false;
}

}  // namespace ql::analyzer
