// sqlcommenter tags: the key='value' pairs that frameworks (Django's
// sqlcommenter middleware, OpenTelemetry, Rails marginalia-style tools)
// attach to a statement as a /*...*/ comment, naming the code that issued
// it (route, controller, framework, traceparent, ...).
//
// The comment is looked for at the end of the statement (what the spec and
// Django do; trailing ';' and spaces allowed), then at the start (what some
// other tools do). It counts only if the whole comment is a comma-separated
// list of key='value' pairs; otherwise (e.g. "/* app:web */") there are no
// tags. Keys and values are URL-decoded; Django doubles every '%' so that
// DB-API formatting turns it back into one, and when no formatting happens
// the server sees "%%", so "%%3A" decodes like "%3A".
//
// Parsing runs before fingerprinting but does not depend on it: the
// fingerprinter drops all comments, so a statement has the same fingerprint
// with or without tags.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace ql::analyzer {

struct SqlCommenterTag {
  std::string_view key;    // decoded
  std::string_view value;  // decoded
};

// Decoded tags of one statement. Reused between statements: keeps its
// buffer, so steady state allocates nothing. Views stay valid until the
// next parse into the same object.
class SqlCommenterTags {
 public:
  static constexpr size_t kMaxTags = 32;  // further pairs are ignored

  size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  const SqlCommenterTag& operator[](size_t i) const { return tags_[i]; }
  const SqlCommenterTag* begin() const { return tags_.data(); }
  const SqlCommenterTag* end() const { return tags_.data() + count_; }
  // The value of the first pair with this key.
  std::optional<std::string_view> Find(std::string_view key) const;
  void Clear() {
    count_ = 0;
    storage_.clear();
  }

 private:
  friend bool ParseSqlCommenter(std::string_view sql, SqlCommenterTags* tags);
  bool ParsePairs(std::string_view body);
  std::string_view Decode(std::string_view raw, bool backslash_escapes);

  std::string storage_;  // decoded bytes the views point into
  std::array<SqlCommenterTag, kMaxTags> tags_{};
  size_t count_ = 0;
};

// Replaces *tags with the pairs of `sql`'s sqlcommenter comment; returns
// false (and leaves *tags empty) when there is none.
bool ParseSqlCommenter(std::string_view sql, SqlCommenterTags* tags);

}  // namespace ql::analyzer
