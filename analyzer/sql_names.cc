// Name tables for ClassifyFunctionName and LookupKeyword. The built-in
// function table is a sorted array searched by bisection; families with a
// common prefix (ST_*, JSON_*, MBR*, REGEXP_*, COLUMN_*, PS_*) are matched by
// prefix instead of being listed one by one. The keyword table is bucketed by
// first letter. Both are checked sorted at compile time.
#include "analyzer/sql_names.h"

#include <algorithm>
#include <array>

#include "analyzer/sql_tokenizer.h"

namespace ql::analyzer {
namespace {

// Built-in functions of MySQL 8 and MariaDB 10.11 that are not covered by a
// prefix rule, plus keywords and type names that can stand right before "("
// in a query (IN (...), USING (...), OVER (...), CAST(x AS CHAR(10))).
// A name missing here only costs a trip to the primary, never correctness.
constexpr auto kBuiltins = std::to_array<std::string_view>({
    "abs", "acos", "add_months", "adddate", "addtime", "aes_decrypt",
    "aes_encrypt", "against", "all", "and", "any", "any_value", "as", "ascii",
    "asin", "atan", "atan2", "avg", "benchmark", "between", "bigint", "bin",
    "bin_to_uuid", "binary", "bit", "bit_and", "bit_count", "bit_length",
    "bit_or", "bit_xor", "blob", "by", "case", "cast", "ceil", "ceiling",
    "char", "char_length", "character", "character_length", "charset", "chr",
    "coalesce", "coercibility", "collation", "columns", "compress", "concat",
    "concat_ws", "connection_id", "conv", "convert", "convert_tz", "cos",
    "cot", "count", "crc32", "crc32c", "cross", "cume_dist", "curdate",
    "current_date", "current_role", "current_time", "current_timestamp",
    "current_user", "curtime", "database", "date", "date_add", "date_format",
    "date_sub", "datediff", "datetime", "day", "dayname", "dayofmonth",
    "dayofweek", "dayofyear", "dec", "decimal", "decode", "decode_oracle",
    "default", "degrees", "dense_rank", "des_decrypt", "des_encrypt",
    "distinct", "div", "do", "double", "else", "elt", "encode", "encrypt",
    "escape", "except", "exists", "exp", "export_set", "extract",
    "extractvalue", "field", "find_in_set", "first_value", "float", "floor",
    "for", "force", "format", "format_bytes", "format_pico_time", "from",
    "from_base64", "from_days", "from_unixtime", "geomcollection",
    "geometrycollection", "get_format", "greatest", "group_concat",
    "grouping", "having", "hex", "hour", "icu_version", "if", "ifnull",
    "ignore", "in", "index", "inet6_aton", "inet6_ntoa", "inet_aton",
    "inet_ntoa", "inner", "insert", "instr", "int", "integer", "intersect",
    "interval", "is", "is_ipv4", "is_ipv4_compat", "is_ipv4_mapped",
    "is_ipv6", "is_uuid", "isnull", "join", "key", "lag", "last_day",
    "last_value", "lateral", "lcase", "lead", "least", "left", "length",
    "like", "linestring", "ln", "load_file", "localtime", "localtimestamp",
    "locate", "log", "log10", "log2", "lower", "lpad", "ltrim", "make_set",
    "makedate", "maketime", "master_gtid_wait", "master_pos_wait", "match",
    "max", "md5", "median", "mediumint", "member", "microsecond", "mid",
    "min", "minute", "mod", "month", "monthname", "multilinestring",
    "multipoint", "multipolygon", "name_const", "natural", "natural_sort_key",
    "nchar", "nested", "not", "now", "nth_value", "ntile", "nullif",
    "numeric", "nvl", "nvl2", "oct", "octet_length", "of", "old_password",
    "on", "or", "ord", "outer", "over", "partition", "password", "path",
    "percent_rank", "percentile_cont", "percentile_disc", "period_add",
    "period_diff", "pi", "point", "polygon", "position", "pow", "power",
    "primary", "quarter", "quote", "radians", "rand", "random_bytes", "range",
    "rank", "real", "regexp", "repeat", "replace", "return", "returning",
    "reverse", "right", "rlike", "round", "row", "row_number", "rownum",
    "rows", "rpad", "rtrim", "schema", "sec_to_time", "second", "select",
    "session_user", "set", "sformat", "sha", "sha1", "sha2", "sign", "signed",
    "sin", "sleep", "smallint", "some", "soundex", "source_pos_wait", "space",
    "sqrt", "std", "stddev", "stddev_pop", "stddev_samp", "str_to_date",
    "straight_join", "strcmp", "subdate", "substr", "substring",
    "substring_index", "subtime", "sum", "sys_guid", "sysdate", "system_user",
    "tan", "then", "time", "time_format", "time_to_sec", "timediff",
    "timestamp", "timestampadd", "timestampdiff", "tinyint", "to_base64",
    "to_char", "to_days", "to_seconds", "trim", "truncate", "ucase",
    "uncompress", "uncompressed_length", "unhex", "union", "unix_timestamp",
    "unsigned", "updatexml", "upper", "use", "user", "using", "utc_date",
    "utc_time", "utc_timestamp", "uuid", "uuid_short", "uuid_to_bin",
    "validate_password_strength", "value", "values", "var_pop", "var_samp",
    "varbinary", "varchar", "variance", "version",
    "wait_for_executed_gtid_set", "wait_until_sql_thread_after_gtids", "week",
    "weekday", "weekofyear", "weight_string", "when", "where", "window",
    "with", "xor", "year", "yearweek",
});
static_assert(std::is_sorted(kBuiltins.begin(), kBuiltins.end()),
              "kBuiltins must stay sorted for binary search");

constexpr std::string_view kBuiltinPrefixes[] = {
    "st_", "json_", "mbr", "regexp_", "column_", "ps_",
};

struct SpecialName {
  std::string_view name;
  FunctionKind kind;
};
constexpr SpecialName kSpecialNames[] = {
    {"get_lock", FunctionKind::kUserLock},
    {"release_lock", FunctionKind::kUserLock},
    {"release_all_locks", FunctionKind::kUserLock},
    {"is_used_lock", FunctionKind::kUserLock},
    {"is_free_lock", FunctionKind::kUserLock},
    {"last_insert_id", FunctionKind::kLastStatementInfo},
    {"found_rows", FunctionKind::kLastStatementInfo},
    {"row_count", FunctionKind::kLastStatementInfo},
    {"nextval", FunctionKind::kSequence},
    {"lastval", FunctionKind::kSequence},
    {"setval", FunctionKind::kSequence},
};


// The fingerprinter's keywords. Sorted by name; see MakeBuckets().
struct KeywordEntry {
  std::string_view name;
  KeywordInfo info;
};
using namespace keyword;  // NOLINT: table readability
constexpr uint8_t kSpEx = kSpaceBeforeParen | kExprStart;
constexpr auto kKeywords = std::to_array<KeywordEntry>({
    {"all", {kOther, kSpEx}},
    {"and", {kOther, kSpEx}},
    {"any", {kOther, kSpEx}},
    {"as", {kOther, kSpaceBeforeParen}},
    {"asc", {kAsc, 0}},
    {"between", {kOther, kSpEx}},
    {"by", {kBy, kSpEx}},
    {"case", {kOther, kSpEx}},
    {"default", {kDefault, 0}},
    {"distinct", {kOther, kSpEx}},
    {"div", {kOther, kExprStart}},
    {"do", {kOther, kExprStart}},
    {"else", {kOther, kSpEx}},
    {"escape", {kOther, kExprStart}},
    {"except", {kOther, kSpaceBeforeParen | kEndsOrderBy}},
    {"exists", {kOther, kSpEx}},
    {"false", {kFalse, 0}},
    {"fetch", {kOther, kEndsOrderBy}},
    {"for", {kOther, kEndsOrderBy}},
    {"from", {kOther, kSpaceBeforeParen | kEndsOrderBy}},
    {"group", {kGroup, kEndsOrderBy}},
    {"having", {kOther, kSpEx | kEndsOrderBy}},
    {"in", {kIn, kSpEx}},
    {"insert", {kInsert, 0}},
    {"intersect", {kOther, kSpaceBeforeParen | kEndsOrderBy}},
    {"interval", {kOther, kSpEx}},
    {"into", {kOther, kSpaceBeforeParen | kEndsOrderBy}},
    {"is", {kIs, kSpEx}},
    {"join", {kOther, kSpaceBeforeParen}},
    {"like", {kOther, kSpEx}},
    {"limit", {kLimit, kExprStart | kEndsOrderBy}},
    {"lock", {kOther, kEndsOrderBy}},
    {"mod", {kOther, kExprStart}},
    {"not", {kNot, kSpEx}},
    {"null", {kNull, 0}},
    {"offset", {kOffset, kExprStart | kEndsOrderBy}},
    {"on", {kOther, kSpEx | kEndsOrderBy}},
    {"or", {kOther, kSpEx}},
    {"order", {kOrder, kEndsOrderBy}},
    {"over", {kOther, kSpaceBeforeParen}},
    {"procedure", {kOther, kEndsOrderBy}},
    {"regexp", {kOther, kSpEx}},
    {"release", {kRelease, 0}},
    {"replace", {kReplace, 0}},
    {"return", {kOther, kSpEx}},
    {"returning", {kOther, kSpEx | kEndsOrderBy}},
    {"rlike", {kOther, kSpEx}},
    {"rollback", {kRollback, 0}},
    {"row", {kRow, 0}},
    {"savepoint", {kSavepoint, 0}},
    {"select", {kOther, kSpEx | kEndsOrderBy}},
    {"set", {kOther, kSpEx | kEndsOrderBy}},
    {"some", {kOther, kSpEx}},
    {"then", {kOther, kSpEx}},
    {"to", {kTo, 0}},
    {"true", {kTrue, 0}},
    {"union", {kOther, kSpaceBeforeParen | kEndsOrderBy}},
    {"use", {kUse, 0}},
    {"using", {kOther, kSpaceBeforeParen}},
    {"value", {kValue, kSpaceBeforeParen}},
    {"values", {kValues, kSpEx}},
    {"when", {kOther, kSpEx}},
    {"where", {kOther, kSpEx | kEndsOrderBy}},
    {"window", {kOther, kEndsOrderBy}},
    {"with", {kOther, kSpaceBeforeParen | kEndsOrderBy}},
    {"xor", {kOther, kSpEx}},
});

constexpr bool KeywordsSorted() {
  for (size_t i = 1; i < kKeywords.size(); ++i) {
    if (!(kKeywords[i - 1].name < kKeywords[i].name)) return false;
  }
  return true;
}
static_assert(KeywordsSorted(), "kKeywords must stay sorted");

// Each first letter's entries are contiguous in the sorted table, so a
// lookup compares a word with a handful of entries, length first.
struct Bucket {
  uint8_t begin = 0;
  uint8_t end = 0;
};
constexpr std::array<Bucket, 26> MakeBuckets() {
  std::array<Bucket, 26> buckets{};
  for (size_t i = 0; i < kKeywords.size(); ++i) {
    Bucket& b = buckets[kKeywords[i].name[0] - 'a'];
    if (b.begin == b.end) b.begin = static_cast<uint8_t>(i);
    b.end = static_cast<uint8_t>(i + 1);
  }
  return buckets;
}
constexpr std::array<Bucket, 26> kBuckets = MakeBuckets();

constexpr size_t MaxKeywordLength() {
  size_t n = 0;
  for (const KeywordEntry& k : kKeywords) n = k.name.size() > n ? k.name.size() : n;
  return n;
}

}  // namespace

KeywordInfo LookupKeyword(std::string_view word) {
  if (word.size() < 2 || word.size() > MaxKeywordLength()) return {};
  const char first = ToLowerAscii(word[0]);
  if (first < 'a' || first > 'z') return {};
  const Bucket b = kBuckets[first - 'a'];
  for (size_t i = b.begin; i < b.end; ++i) {
    if (kKeywords[i].name.size() == word.size() && EqualsLower(word, kKeywords[i].name)) {
      return kKeywords[i].info;
    }
  }
  return {};
}

FunctionKind ClassifyFunctionName(std::string_view name) {
  char buf[64];
  if (name.empty() || name.size() >= sizeof(buf)) return FunctionKind::kUnknown;
  for (size_t i = 0; i < name.size(); ++i) buf[i] = ToLowerAscii(name[i]);
  const std::string_view lower(buf, name.size());
  for (const SpecialName& s : kSpecialNames) {
    if (lower == s.name) return s.kind;
  }
  for (std::string_view prefix : kBuiltinPrefixes) {
    if (lower.size() > prefix.size() && lower.substr(0, prefix.size()) == prefix) {
      return FunctionKind::kBuiltin;
    }
  }
  if (std::binary_search(kBuiltins.begin(), kBuiltins.end(), lower)) {
    return FunctionKind::kBuiltin;
  }
  return FunctionKind::kUnknown;
}

}  // namespace ql::analyzer
