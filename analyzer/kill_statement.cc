// Implementation of ParseKillStatement; see kill_statement.h.
#include "analyzer/kill_statement.h"

#include <charconv>

namespace ql::analyzer {

std::optional<KillStatement> ParseKillStatement(std::string_view sql, SqlDialect dialect) {
  SqlTokenizer tokens(sql, dialect);
  Token t;
  if (!tokens.NextSignificant(&t) || !t.IsWord("kill")) return std::nullopt;
  if (!tokens.NextSignificant(&t)) return std::nullopt;
  if (t.IsWord("hard") || t.IsWord("soft")) {
    if (!tokens.NextSignificant(&t)) return std::nullopt;
  }
  KillStatement kill;
  if (t.IsWord("query")) {
    kill.query_only = true;
    if (!tokens.NextSignificant(&t)) return std::nullopt;
  } else if (t.IsWord("connection")) {
    if (!tokens.NextSignificant(&t)) return std::nullopt;
  }
  if (t.kind != TokenKind::kNumber) return std::nullopt;  // KILL USER x, KILL QUERY ID n
  const char* end = t.text.data() + t.text.size();
  auto [ptr, ec] = std::from_chars(t.text.data(), end, kill.id);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  // Nothing after the id but an optional ';'.
  if (tokens.NextSignificant(&t)) {
    if (!t.IsOperator(';') || tokens.NextSignificant(&t)) return std::nullopt;
  }
  return kill;
}

}  // namespace ql::analyzer
