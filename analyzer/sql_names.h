// What a name followed by "(" means in a statement the classifier might send
// to a replica: a built-in function (or a keyword that can precede a
// parenthesis), one of the functions that tie a statement to the primary, or
// something unknown, which is then a stored function or a loadable UDF that
// may write or depend on server state.
#pragma once

#include <cstdint>
#include <string_view>

namespace ql::analyzer {

enum class FunctionKind : uint8_t {
  kBuiltin,            // COUNT, NOW, JSON_EXTRACT, ... or IN, USING, OVER, CHAR
  kUserLock,           // GET_LOCK, RELEASE_LOCK, RELEASE_ALL_LOCKS, IS_USED_LOCK, IS_FREE_LOCK
  kLastStatementInfo,  // LAST_INSERT_ID, FOUND_ROWS, ROW_COUNT
  kSequence,           // NEXTVAL, LASTVAL, SETVAL (MariaDB sequences)
  kUnknown,            // not built in: stored function or UDF
};

// Case-insensitive. Names longer than 63 bytes are kUnknown.
FunctionKind ClassifyFunctionName(std::string_view name);

}  // namespace ql::analyzer
