// Turning a closed unit's statistics into findings; see n_plus_one_rules.h.
#include "analyzer/n_plus_one_rules.h"

#include <algorithm>

#include "analyzer/n_plus_one_shape.h"
#include "analyzer/n_plus_one_suggest.h"

namespace ql::analyzer {
namespace {

struct Parent {
  bool known = false;
  uint64_t digest = 0;
  uint64_t rows = 0;
  const FingerprintEntry* entry = nullptr;  // null when not tracked
};

Parent FindParent(const UnitTable& table, const FingerprintEntry& e) {
  Parent parent;
  if (!e.has_parent) return parent;
  parent.known = true;
  parent.digest = e.parent_digest;
  parent.rows = e.parent_rows;
  for (int step = 0; step < 8; ++step) {
    const FingerprintEntry* p = table.Find(parent.digest);
    // A repeating one-row lookup is part of the loop, not its source.
    if (p == nullptr || parent.rows > 1 || p->count < 2 || !p->has_parent ||
        p->parent_digest == e.digest) {
      break;
    }
    parent.digest = p->parent_digest;
    parent.rows = p->parent_rows;
  }
  parent.entry = table.Find(parent.digest);
  if (parent.entry != nullptr) parent.rows = parent.entry->rows_sent;
  return parent;
}

Confidence ConfidenceFor(const Parent& parent, uint64_t repeats) {
  if (!parent.known || parent.rows <= 1) return Confidence::kLow;
  return parent.rows >= repeats ? Confidence::kHigh : Confidence::kMedium;
}

bool PassesTimeGate(const NPlusOneOptions& o, uint64_t total_ns, uint64_t statements) {
  return total_ns >= o.min_total_ns || statements >= o.min_repeats_fast;
}

void FillUnit(const UnitTracker& unit, NPlusOneFinding* f) {
  f->session_id = unit.session_id();
  f->unit_db_ns = unit.db_ns();
  f->unit_statements = unit.statements();
  f->schema = unit.schema();
  f->user = unit.user();
  f->route = unit.route();
  f->controller = unit.controller();
  f->framework = unit.framework();
  f->action = unit.action();
  f->app_name = unit.app_name();
  f->traceparent = unit.traceparent();
}

// Distinct value sets of the entry's repeats. Past the exact set the count is
// an estimate, which can overshoot: never more than the repeats themselves.
uint64_t DistinctValues(const FingerprintEntry& e) {
  return std::min<uint64_t>(e.filters.Count(), e.count);
}

void FillEntry(const FingerprintEntry& e, NPlusOneFinding* f) {
  f->count = e.count;
  f->statements = e.count;
  f->distinct_values = DistinctValues(e);
  f->distinct_estimated = e.filters.estimated();
  f->max_identical = e.values.MaxCount();
  f->rows_sent = e.rows_sent;
  f->first_start_ns = e.first_start_ns;
  f->last_end_ns = e.last_end_ns;
  f->total_ns = e.total_ns;
  f->max_ns = e.max_ns;
  f->digest = e.digest;
  f->fingerprint = e.text;
  f->backend = e.backend;
  f->backend_mixed = e.backend_mixed;
  f->silenced = e.silenced;
}

void FillParent(const Parent& parent, NPlusOneFinding* f) {
  f->has_parent = parent.known;
  f->parent_digest = parent.digest;
  f->parent_rows = parent.rows;
  if (parent.entry != nullptr) f->parent_fingerprint = parent.entry->text;
}

void FillTables(const StatementShape& shape, NPlusOneFinding* f) {
  for (size_t i = 0; i < shape.table_count(); ++i) {
    const std::string_view table = shape.table(i);
    if (table.empty() || std::find(f->tables.begin(), f->tables.end(), table) != f->tables.end()) {
      continue;
    }
    f->tables.emplace_back(table);
  }
}

// Shapes of a statement and its parent, parsed from the kept texts.
struct Shapes {
  StatementShape repeated;
  StatementShape parent;
  bool has_parent = false;

  Shapes(const FingerprintEntry& e, const Parent& p) {
    repeated.Parse(e.text);
    if (p.entry != nullptr) {
      parent.Parse(p.entry->text);
      has_parent = !parent.main_table().empty();
    }
  }
  const StatementShape* parent_or_null() const { return has_parent ? &parent : nullptr; }
};

class Evaluator {
 public:
  Evaluator(const ClosedUnit& c, FindingGate* gate, std::vector<NPlusOneFinding>* out)
      : c_(c), o_(c.options), gate_(gate), out_(out) {}

  void Run(std::vector<const FingerprintEntry*>* order) {
    order->clear();
    for (size_t i = 0; i < c_.table.size(); ++i) order->push_back(&c_.table.entry(i));
    std::sort(order->begin(), order->end(),
              [](const FingerprintEntry* a, const FingerprintEntry* b) {
                return a->first_seq < b->first_seq;
              });
    for (const FingerprintEntry* e : *order) Entry(*e);
    for (size_t i = 0; i < c_.cycles.run_count(); ++i) Cycle(c_.cycles.run(i));
    if (c_.unit.statements() > o_.max_unit_statements) TooMany(order);
  }

 private:
  void Entry(const FingerprintEntry& e) {
    const bool gate = PassesTimeGate(o_, e.total_ns, e.count);
    if (e.role == NPlusOneRole::kPlainRead) {
      const bool batch = e.max_literals >= o_.batch_min_literals ||
                         e.rows_sent / std::max<uint64_t>(e.count, 1) > o_.batch_max_avg_rows;
      if (e.count >= o_.min_repeats && DistinctValues(e) >= o_.min_distinct_values && gate &&
          !batch) {
        Emit(FindingKind::kNPlusOne, e);
      }
      if (e.values.MaxCount() >= o_.min_duplicates) Emit(FindingKind::kDuplicate, e);
    } else if (e.role == NPlusOneRole::kSingleRowWrite && o_.detect_write_loops &&
               e.count >= o_.min_repeats && gate) {
      Emit(FindingKind::kWriteLoop, e);
    }
  }

  // The call site part of a head, from the unit.
  FindingHead Head(FindingKind kind, Confidence confidence, uint64_t statements,
                   uint64_t total_ns, bool silenced, uint64_t digest, const Parent& parent) const {
    FindingHead h;
    h.kind = kind;
    h.confidence = confidence;
    h.statements = statements;
    h.total_ns = total_ns;
    h.silenced = silenced;
    h.digest = digest;
    h.has_parent = parent.known;
    h.parent_digest = parent.digest;
    h.route = c_.unit.route();
    h.controller = c_.unit.controller();
    h.action = c_.unit.action();
    h.app_name = c_.unit.app_name();
    return h;
  }

  bool Skipped(const FindingHead& head) { return gate_ != nullptr && gate_->Skip(head); }

  void Emit(FindingKind kind, const FingerprintEntry& e) {
    const Parent parent = FindParent(c_.table, e);
    const Confidence confidence =
        kind == FindingKind::kDuplicate ? Confidence::kHigh : ConfidenceFor(parent, e.count);
    if (Skipped(Head(kind, confidence, e.count, e.total_ns, e.silenced, e.digest, parent))) return;
    NPlusOneFinding f;
    f.kind = kind;
    FillUnit(c_.unit, &f);
    FillEntry(e, &f);
    FillParent(parent, &f);
    f.confidence = confidence;
    const Shapes shapes(e, parent);
    FillTables(shapes.repeated, &f);
    f.suggestion = SuggestFix(kind, shapes.repeated, shapes.parent_or_null());
    out_->push_back(std::move(f));
  }

  void Cycle(const CycleRun& run) {
    if (!PassesTimeGate(o_, run.total_ns, run.statements)) return;
    bool per_object = false;
    bool silenced = false;
    uint64_t distinct = 0;
    for (uint32_t i = 0; i < run.length; ++i) {
      const FingerprintEntry* m = c_.table.Find(run.digests[i]);
      if (m == nullptr) {
        per_object = true;  // not tracked: cannot rule it out
        continue;
      }
      per_object = per_object || DistinctValues(*m) >= o_.min_distinct_values;
      silenced = silenced || m->silenced;
      distinct = std::max(distinct, DistinctValues(*m));
    }
    if (!per_object) return;

    const FingerprintEntry* first = c_.table.Find(run.digests[0]);
    const Parent parent = first != nullptr ? FindParent(c_.table, *first) : Parent{};
    const Confidence confidence = ConfidenceFor(parent, run.repeats);
    if (Skipped(Head(FindingKind::kRepeatedCycle, confidence, run.statements, run.total_ns,
                     silenced, run.digests[0], parent))) {
      return;
    }
    NPlusOneFinding f;
    f.kind = FindingKind::kRepeatedCycle;
    FillUnit(c_.unit, &f);
    f.count = run.repeats;
    f.statements = run.statements;
    f.distinct_values = distinct;
    f.first_start_ns = run.first_start_ns;
    f.last_end_ns = run.last_end_ns;
    f.total_ns = run.total_ns;
    f.max_ns = run.max_ns;
    f.digest = run.digests[0];
    f.silenced = silenced;
    if (first != nullptr) {
      f.fingerprint = first->text;
      f.backend = first->backend;
      f.backend_mixed = first->backend_mixed;
    }
    FillParent(parent, &f);
    f.confidence = confidence;
    StatementShape parent_shape;
    if (parent.entry != nullptr) parent_shape.Parse(parent.entry->text);
    const StatementShape* parent_ptr = parent_shape.main_table().empty() ? nullptr : &parent_shape;
    StatementShape member_shape;
    for (uint32_t i = 0; i < run.length; ++i) {
      const FingerprintEntry* m = c_.table.Find(run.digests[i]);
      f.related.push_back({run.digests[i], m ? m->count : 0, m ? m->text : std::string()});
      if (m == nullptr) continue;
      member_shape.Parse(m->text);
      FillTables(member_shape, &f);
      if (m->role != NPlusOneRole::kPlainRead && m->role != NPlusOneRole::kSingleRowWrite) continue;
      AppendDistinctSuggestion(SuggestFix(FindingKind::kRepeatedCycle, member_shape, parent_ptr),
                               &f.suggestion);
    }
    out_->push_back(std::move(f));
  }

  // Last: reorders *order.
  void TooMany(std::vector<const FingerprintEntry*>* order_ptr) {
    std::vector<const FingerprintEntry*>& order = *order_ptr;
    std::stable_sort(
        order.begin(), order.end(),
        [](const FingerprintEntry* a, const FingerprintEntry* b) { return a->count > b->count; });
    const uint64_t top_digest = order.empty() ? 0 : order[0]->digest;
    if (Skipped(Head(FindingKind::kTooManyStatements, Confidence::kHigh, c_.unit.statements(),
                     c_.unit.db_ns(), c_.unit.silenced(), top_digest, Parent{}))) {
      return;
    }
    NPlusOneFinding f;
    f.kind = FindingKind::kTooManyStatements;
    f.confidence = Confidence::kHigh;
    FillUnit(c_.unit, &f);
    f.count = c_.unit.statements();
    f.statements = c_.unit.statements();
    f.first_start_ns = c_.unit.start_ns();
    f.last_end_ns = c_.unit.last_end_ns();
    f.total_ns = c_.unit.db_ns();
    f.silenced = c_.unit.silenced();
    // The slowest of every tracked statement, listed or not.
    for (const FingerprintEntry* e : order) {
      if (f.related.size() < o_.top_fingerprints) f.related.push_back({e->digest, e->count, e->text});
      f.max_ns = std::max(f.max_ns, e->max_ns);
    }
    if (!order.empty()) {
      f.digest = order[0]->digest;
      f.fingerprint = order[0]->text;
      f.backend = order[0]->backend;
      f.backend_mixed = order[0]->backend_mixed;
    }
    f.suggestion = SuggestFix(FindingKind::kTooManyStatements, StatementShape{}, nullptr);
    out_->push_back(std::move(f));
  }

  const ClosedUnit& c_;
  const NPlusOneOptions& o_;
  FindingGate* gate_;
  std::vector<NPlusOneFinding>* out_;
};

}  // namespace

void EvaluateUnit(const ClosedUnit& closed, FindingGate* gate,
                  std::vector<const FingerprintEntry*>* order, std::vector<NPlusOneFinding>* out) {
  Evaluator(closed, gate, out).Run(order);
}

}  // namespace ql::analyzer
