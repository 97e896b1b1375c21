// ParseKillStatement: the KILL statements that name a connection by its id,
// `KILL [HARD | SOFT] [CONNECTION | QUERY] <id>`. A client knows connection
// ids from the handshake, so behind the proxy the id is the proxy's own; the
// proxy must translate it rather than let a backend kill whatever thread
// happens to carry that number. Pure: no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "analyzer/sql_tokenizer.h"

namespace ql::analyzer {

struct KillStatement {
  bool query_only = false;  // KILL QUERY: the statement, not the connection
  uint64_t id = 0;  // as written: above 2^32 - 1 no connection has it
};

// nullopt for anything else (KILL USER name, KILL QUERY ID n, several
// statements, trailing text): those are not about a connection id.
std::optional<KillStatement> ParseKillStatement(std::string_view sql, SqlDialect dialect = {});

// KILL [HARD | SOFT] [CONNECTION | QUERY] USER name, and KILL [...] QUERY ID
// n: about users and server-wide query ids, not a connection id, so they
// may go to a server as written. Any other KILL that ParseKillStatement
// does not take (an expression, a placeholder) names a connection id the
// proxy cannot translate.
bool IsKillByUserOrQueryId(std::string_view sql, SqlDialect dialect = {});

// Whether a fingerprint (lower case, comments gone) is of a KILL statement:
// "kill" then anything but a name character ("kill ?", "kill(?)", ...).
bool FingerprintIsKill(std::string_view fingerprint);

}  // namespace ql::analyzer
