// Statement classification for routing: is this statement a plain read that a
// replica may serve, or does it write, lock, change session state, control a
// transaction, or depend on the primary for some other reason? Fed by the
// same tokenizer as the fingerprinter (see statement_analyzer.h for the
// single pass that produces both).
//
// The classifier looks at a statement's first words and scans the rest for
// the constructs that tie it to the primary (FOR UPDATE, INTO, :=, GET_LOCK(),
// LAST_INSERT_ID(), NEXTVAL(), stored functions, ...). It never needs the
// whole grammar: anything it does not recognize is kUnknown with the
// kNotUnderstood reason, which routes to the primary. When in doubt, primary.
//
// Multi-statement text ("SELECT 1; UPDATE t ...") is classified per
// statement and combined: the class is the strongest part by the order
//   read < session < transaction < primary_only < locking_read < write
//   < ddl < unknown,
// reasons and session changes are united, the transaction op is the last one
// seen. ';' inside a stored-program body (CREATE PROCEDURE ... BEGIN ... END,
// BEGIN NOT ATOMIC, IF ... END IF) does not split.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "analyzer/enum_set.h"
#include "analyzer/sql_tokenizer.h"

namespace ql::analyzer {

enum class StatementClass : uint8_t {
  kRead,                // SELECT, SHOW, EXPLAIN, DESCRIBE, HELP, WITH ... SELECT, TABLE, VALUES, DO
  kLockingRead,         // SELECT ... FOR UPDATE / FOR SHARE / LOCK IN SHARE MODE
  kWrite,               // INSERT, UPDATE, DELETE, REPLACE, LOAD DATA, WITH ... UPDATE/DELETE
  kDdl,                 // CREATE, ALTER, DROP, RENAME, TRUNCATE, GRANT, REVOKE, OPTIMIZE, ...
  kTransactionControl,  // BEGIN, START TRANSACTION, COMMIT, ROLLBACK, SAVEPOINT, XA
  kSessionState,        // USE, SET NAMES, SET [SESSION] var, SET @var, SET autocommit, SET TRANSACTION
  kPrimaryOnly,         // a read (or special statement) that must run on the primary; see reasons
  kUnknown,             // not understood (or empty): primary
};

enum class TransactionOp : uint8_t {
  kNone,
  kBegin,                // BEGIN [WORK], START TRANSACTION [WITH CONSISTENT SNAPSHOT]
  kBeginReadOnly,        // START TRANSACTION READ ONLY
  kBeginReadWrite,       // START TRANSACTION READ WRITE
  kCommit,               // COMMIT [WORK] [AND [NO] CHAIN] [[NO] RELEASE]
  kRollback,             // ROLLBACK [WORK]
  kSavepoint,            // SAVEPOINT name
  kReleaseSavepoint,     // RELEASE SAVEPOINT name
  kRollbackToSavepoint,  // ROLLBACK [WORK] TO [SAVEPOINT] name
  kXa,                   // XA START/BEGIN/END/PREPARE/COMMIT/ROLLBACK/RECOVER
};

// Why a statement (and possibly the session after it) must use the primary.
enum class PrimaryReason : uint8_t {
  kUserLock,                // GET_LOCK, RELEASE_LOCK, RELEASE_ALL_LOCKS, IS_USED_LOCK, IS_FREE_LOCK
  kTemporaryTable,          // CREATE / DROP TEMPORARY TABLE
  kLockTables,              // LOCK TABLES, UNLOCK TABLES, FLUSH ... WITH READ LOCK, BACKUP LOCK, LOCK INSTANCE
  kLastStatementInfo,       // LAST_INSERT_ID(), FOUND_ROWS(), ROW_COUNT(), SQL_CALC_FOUND_ROWS,
                            // @@identity, @@last_insert_id, @@warning_count, @@error_count,
                            // @@last_gtid, SHOW WARNINGS / ERRORS / PROFILE(S), GET DIAGNOSTICS
  kSelectInto,              // SELECT ... INTO @var / OUTFILE / DUMPFILE
  kUserVariableAssignment,  // @var := expr outside SET
  kSequence,                // NEXTVAL(), LASTVAL(), SETVAL(), NEXT / PREVIOUS VALUE FOR
  kStoredRoutine,           // CALL, stored (or unknown) functions in a read, BEGIN NOT ATOMIC, IF ...
  kPreparedStatement,       // text PREPARE / EXECUTE [IMMEDIATE] / DEALLOCATE / DROP PREPARE
  kHandler,                 // HANDLER t OPEN / READ / CLOSE (a cursor bound to the connection)
  kServerAdmin,             // SET GLOBAL, FLUSH, KILL, replication control, SHOW MASTER STATUS, ...
  kExplainWrite,            // EXPLAIN / DESCRIBE of a write or a locking read (a read-only
                            // server refuses to explain those: 1290)
  kNotUnderstood,           // the classifier could not tell
};
inline constexpr int kPrimaryReasonCount = 13;
using PrimaryReasons = EnumSet<PrimaryReason>;

// Session state a statement changes (so the proxy can track or replay it).
enum class SessionChange : uint8_t {
  kUseDatabase,         // USE db
  kSetNames,            // SET NAMES cs [COLLATE co]
  kSetCharacterSet,     // SET CHARACTER SET cs / SET CHARSET cs
  kSetAutocommit,       // SET [SESSION] autocommit = v
  kSetSessionVariable,  // SET [SESSION | LOCAL | @@session.] var = v (other than autocommit)
  kSetUserVariable,     // SET @var = v
  kSetTransaction,      // SET [SESSION] TRANSACTION ISOLATION LEVEL ... / READ ONLY
};
inline constexpr int kSessionChangeCount = 7;
using SessionChanges = EnumSet<SessionChange>;

struct Classification {
  StatementClass statement_class = StatementClass::kUnknown;
  TransactionOp transaction_op = TransactionOp::kNone;
  // Set for any class; the router must honour them even when the class
  // alone would go to the primary anyway (they say what to pin).
  PrimaryReasons primary_reasons;
  SessionChanges session_changes;
  // The value of SET autocommit when it is a literal 0/1/ON/OFF/TRUE/FALSE,
  // else -1.
  int8_t autocommit = -1;
  uint16_t statement_count = 0;
  // The procedure of CALL, or the first stored/unknown function of a read,
  // as written (a view into the classified text).
  std::string_view routine;
  // More than one distinct routine is called (only `routine` is named).
  bool several_routines = false;
  // CALL or a compound statement (BEGIN NOT ATOMIC, IF, WHILE, ...): code
  // the proxy cannot see into, which may change any session state.
  bool procedural = false;
  // Every SET @user_variable in the statement assigns a constant (a number,
  // a string, NULL, TRUE or FALSE): replaying the text on another connection
  // gives the same value. False when any assigns an expression.
  bool user_variables_constant = true;

  // A plain read with nothing tying it to the primary.
  bool ReplicaEligible() const {
    return statement_class == StatementClass::kRead && primary_reasons.empty();
  }
};

std::string_view StatementClassName(StatementClass c);  // "read", "locking_read", ...
std::string_view TransactionOpName(TransactionOp op);    // "begin", "commit", ...
std::string_view PrimaryReasonName(PrimaryReason r);     // "user_lock", ...
std::string_view SessionChangeName(SessionChange s);     // "use_db", ...

// "class[:item,item...]" with items in a fixed order: transaction op, primary
// reasons, session changes, "autocommit=N". For tests and debug logs.
std::string DescribeClassification(const Classification& c);

// Reusable, not thread-safe; allocates nothing.
class StatementClassifier {
 public:
  Classification Classify(std::string_view sql, SqlDialect dialect = {});

  // Streaming form: Begin(), Feed(token) for every token in order, Finish().
  void Begin();
  void Feed(const Token& token);
  Classification Finish();

 private:
  static constexpr int kHead = 12;
  enum class SetState : uint8_t {
    kItemStart, kAfterScope, kAutocommitEquals, kAutocommitValue, kInValue, kTransaction,
  };

  void StartStatement();
  void FinishStatement();
  void AddHead(const Token& t);
  void ScanToken(const Token& t);
  void OnOpenParen();
  void UnknownFunction(std::string_view name);
  void ScanSetItem(const Token& t);
  static bool ConstantValueToken(const Token& t);
  void VariableAssigned(std::string_view name, bool global);
  Classification Decide() const;
  void DecideSet(Classification* c) const;
  bool HeadWord(int index, std::string_view lower) const;
  bool ExplainsWrite(int from) const;

  Classification result_;
  bool in_hint_ = false;

  // Per statement.
  uint32_t stmt_tokens_ = 0;
  uint32_t depth_ = 0;
  Token head_[kHead];
  int head_count_ = 0;
  bool restarted_ = false;   // head_ now holds the inner statement (EXPLAIN ANALYZE x, SET STATEMENT .. FOR x)
  int skip_format_ = 0;      // skipping "FORMAT = name" before the inner statement
  bool set_statement_ = false;
  bool compound_ = false;    // stored-program body: ';' does not end the statement
  Token prev_[3];            // last significant tokens, [0] most recent
  int prev_count_ = 0;
  bool with_main_found_ = false;
  Token with_main_;
  bool locking_ = false;
  bool into_ = false;
  bool assign_ = false;
  bool saw_lock_word_ = false;
  bool unknown_function_ = false;
  std::string_view unknown_function_name_;
  bool several_routines_ = false;
  bool in_user_variable_value_ = false;  // SET @v = <here>
  bool user_value_constant_ = true;
  PrimaryReasons reasons_;
  // SET statement items.
  bool is_set_ = false;
  SetState set_state_ = SetState::kItemStart;
  bool set_global_ = false;
  bool set_ddl_ = false;  // SET PASSWORD, SET DEFAULT ROLE
  SessionChanges set_changes_;
  int8_t autocommit_ = -1;
};

}  // namespace ql::analyzer
