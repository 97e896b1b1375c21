// Stable names for the classifier's enums (used as metric label values and in
// logs, so they never change once released) and the one-line description
// used by tests and debug logs.
#include <string>

#include "analyzer/statement_classifier.h"

namespace ql::analyzer {

std::string_view StatementClassName(StatementClass c) {
  switch (c) {
    case StatementClass::kRead: return "read";
    case StatementClass::kLockingRead: return "locking_read";
    case StatementClass::kWrite: return "write";
    case StatementClass::kDdl: return "ddl";
    case StatementClass::kTransactionControl: return "transaction";
    case StatementClass::kSessionState: return "session";
    case StatementClass::kPrimaryOnly: return "primary_only";
    case StatementClass::kUnknown: return "unknown";
  }
  return "unknown";
}

std::string_view TransactionOpName(TransactionOp op) {
  switch (op) {
    case TransactionOp::kNone: return "none";
    case TransactionOp::kBegin: return "begin";
    case TransactionOp::kBeginReadOnly: return "begin_read_only";
    case TransactionOp::kBeginReadWrite: return "begin_read_write";
    case TransactionOp::kCommit: return "commit";
    case TransactionOp::kRollback: return "rollback";
    case TransactionOp::kSavepoint: return "savepoint";
    case TransactionOp::kReleaseSavepoint: return "release_savepoint";
    case TransactionOp::kRollbackToSavepoint: return "rollback_to_savepoint";
    case TransactionOp::kXa: return "xa";
  }
  return "none";
}

std::string_view PrimaryReasonName(PrimaryReason r) {
  switch (r) {
    case PrimaryReason::kUserLock: return "user_lock";
    case PrimaryReason::kTemporaryTable: return "temporary_table";
    case PrimaryReason::kLockTables: return "lock_tables";
    case PrimaryReason::kLastStatementInfo: return "last_statement_info";
    case PrimaryReason::kSelectInto: return "select_into";
    case PrimaryReason::kUserVariableAssignment: return "user_var_assignment";
    case PrimaryReason::kSequence: return "sequence";
    case PrimaryReason::kStoredRoutine: return "stored_routine";
    case PrimaryReason::kPreparedStatement: return "prepared_statement";
    case PrimaryReason::kHandler: return "handler";
    case PrimaryReason::kServerAdmin: return "server_admin";
    case PrimaryReason::kExplainWrite: return "explain_write";
    case PrimaryReason::kNotUnderstood: return "not_understood";
  }
  return "not_understood";
}

std::string_view SessionChangeName(SessionChange s) {
  switch (s) {
    case SessionChange::kUseDatabase: return "use_db";
    case SessionChange::kSetNames: return "set_names";
    case SessionChange::kSetCharacterSet: return "set_charset";
    case SessionChange::kSetAutocommit: return "set_autocommit";
    case SessionChange::kSetSessionVariable: return "set_session_var";
    case SessionChange::kSetUserVariable: return "set_user_var";
    case SessionChange::kSetTransaction: return "set_transaction";
  }
  return "?";
}

std::string DescribeClassification(const Classification& c) {
  std::string out(StatementClassName(c.statement_class));
  char sep = ':';
  auto add = [&](std::string_view item) {
    out.push_back(sep);
    out.append(item);
    sep = ',';
  };
  if (c.transaction_op != TransactionOp::kNone) add(TransactionOpName(c.transaction_op));
  for (int i = 0; i < kPrimaryReasonCount; ++i) {
    const auto r = static_cast<PrimaryReason>(i);
    if (c.primary_reasons.Has(r)) add(PrimaryReasonName(r));
  }
  for (int i = 0; i < kSessionChangeCount; ++i) {
    const auto s = static_cast<SessionChange>(i);
    if (c.session_changes.Has(s)) add(SessionChangeName(s));
  }
  if (c.autocommit >= 0) add(c.autocommit ? "autocommit=1" : "autocommit=0");
  return out;
}

}  // namespace ql::analyzer
