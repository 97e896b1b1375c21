// The analyzer's SQL vocabulary: which words mean something to it.
//  - For the classifier, what a name followed by "(" means in a statement
//    that might go to a replica: a built-in function (or a keyword that can
//    precede a parenthesis), one of the functions that tie a statement to the
//    primary, or something unknown, which is then a stored function or a
//    loadable UDF that may write or depend on server state.
//  - For the fingerprinter, the keywords that change how the next tokens are
//    written (spacing before "(", unary signs, IN / VALUES lists, LIMIT,
//    ORDER BY, IS NULL, names that are values).
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

// Keyword ids and flags used by the fingerprinter.
namespace keyword {
enum Id : uint8_t {
  kNone = 0, kAsc, kBy, kDefault, kFalse, kGroup, kIn, kInsert, kIs, kLimit, kNot,
  kNull, kOffset, kOrder, kRelease, kReplace, kRollback, kRow, kSavepoint, kTo,
  kTrue, kUse, kValue, kValues, kOther,
};
inline constexpr uint8_t kSpaceBeforeParen = 1;  // "in (", not "in("
inline constexpr uint8_t kExprStart = 2;         // a following +/- is unary
inline constexpr uint8_t kEndsOrderBy = 4;       // ends an ORDER/GROUP BY list
}  // namespace keyword

struct KeywordInfo {
  uint8_t kw = keyword::kNone;  // a keyword::Id
  uint8_t flags = 0;
};

// Case-insensitive; words the fingerprinter does not react to get kNone.
KeywordInfo LookupKeyword(std::string_view word);

}  // namespace ql::analyzer
