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

bool FingerprintIsKill(std::string_view fp) {
  if (fp.size() < 4 || fp.substr(0, 4) != "kill") return false;
  if (fp.size() == 4) return true;
  const char c = fp[4];
  return !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '$' ||
           static_cast<unsigned char>(c) >= 0x80);
}

bool IsKillByUserOrQueryId(std::string_view sql, SqlDialect dialect) {
  SqlTokenizer tokens(sql, dialect);
  Token t;
  if (!tokens.NextSignificant(&t) || !t.IsWord("kill")) return false;
  bool query = false;
  while (tokens.NextSignificant(&t)) {
    if (t.IsWord("hard") || t.IsWord("soft") || t.IsWord("connection")) continue;
    if (t.IsWord("query")) {
      query = true;
      continue;
    }
    return t.IsWord("user") || (query && t.IsWord("id"));
  }
  return false;
}

}  // namespace ql::analyzer
