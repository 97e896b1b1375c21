// Session state and the plan that replays it on another connection; see
// session_state.h.
#include "proxy/session_state.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace ql::proxy {
namespace {

struct CollationName {
  uint8_t id;
  std::string_view charset;
  std::string_view collation;
};

// The collations clients send in a handshake in practice (MariaDB and MySQL ids).
constexpr CollationName kCollations[] = {
    {8, "latin1", "latin1_swedish_ci"},     {11, "ascii", "ascii_general_ci"},
    {28, "gbk", "gbk_chinese_ci"},          {33, "utf8", "utf8_general_ci"},
    {45, "utf8mb4", "utf8mb4_general_ci"},  {46, "utf8mb4", "utf8mb4_bin"},
    {47, "latin1", "latin1_bin"},           {48, "latin1", "latin1_general_ci"},
    {63, "binary", "binary"},               {83, "utf8", "utf8_bin"},
    {192, "utf8", "utf8_unicode_ci"},       {224, "utf8mb4", "utf8mb4_unicode_ci"},
    {255, "utf8mb4", ""},
};

}  // namespace

std::optional<std::string> SetNamesForCollation(uint8_t id) {
  for (const CollationName& c : kCollations) {
    if (c.id != id) continue;
    if (c.charset == "binary") return std::string("SET NAMES binary");
    // MySQL 8's default (255, utf8mb4_0900_ai_ci) is unknown to MariaDB before
    // 11.4: the charset alone gives each server its utf8mb4 default.
    if (c.collation.empty()) return absl::StrCat("SET NAMES ", absl::string_view(c.charset.data(), c.charset.size()));
    return absl::StrCat("SET NAMES ", absl::string_view(c.charset.data(), c.charset.size()), " COLLATE ",
                        absl::string_view(c.collation.data(), c.collation.size()));
  }
  return std::nullopt;
}

void SessionState::Reset(std::string_view schema, uint8_t collation_id) {
  schema_.assign(schema);
  collation_id_ = collation_id;
  autocommit_ = true;
  multi_statements_ = -1;
  history_.clear();
  ++history_epoch_;
}

bool SessionState::RecordSet(std::string_view sql) {
  auto same = std::find(history_.begin(), history_.end(), sql);
  if (same != history_.end()) {
    // Moving it to the end keeps "last value wins" for whatever it sets.
    std::rotate(same, same + 1, history_.end());
    ++history_epoch_;
    return true;
  }
  if (history_.size() >= max_history_) return false;
  history_.emplace_back(sql);
  return true;
}

void SessionState::PlanSync(const AppliedState& applied, bool want_autocommit,
                            std::vector<SyncStep>* out) const {
  out->clear();
  if (!applied.charset_known) {
    if (auto names = SetNamesForCollation(collation_id_)) {
      out->push_back({SyncStep::Kind::kQuery, *names});
    }
  }
  if (!schema_.empty() && (!applied.schema_known || applied.schema != schema_)) {
    out->push_back({SyncStep::Kind::kInitDb, schema_});
  }
  if (multi_statements_ >= 0 && applied.multi_statements != multi_statements_) {
    out->push_back({SyncStep::Kind::kSetOption, {}, uint16_t(multi_statements_ ? 0 : 1)});
  }
  size_t from = applied.history_epoch == history_epoch_ ? applied.history_applied : 0;
  for (size_t i = from; i < history_.size(); ++i) {
    out->push_back({SyncStep::Kind::kQuery, history_[i]});
  }
  // Replayed SET statements may include autocommit: settle it last.
  const bool replayed = from < history_.size();
  if (replayed || applied.autocommit != (want_autocommit ? 1 : 0)) {
    out->push_back({SyncStep::Kind::kQuery, want_autocommit ? "SET autocommit=1"
                                                            : "SET autocommit=0"});
  }
}

void SessionState::MarkSynced(AppliedState* applied, bool autocommit) const {
  applied->charset_known = true;
  applied->schema = schema_;
  applied->schema_known = true;
  if (multi_statements_ >= 0) applied->multi_statements = multi_statements_;
  applied->history_epoch = history_epoch_;
  applied->history_applied = history_.size();
  applied->autocommit = autocommit ? 1 : 0;
}

}  // namespace ql::proxy
