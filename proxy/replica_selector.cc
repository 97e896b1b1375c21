// Replica choice for new connections; see replica_selector.h.
#include "proxy/replica_selector.h"

namespace ql::proxy {

bool ReplicaSelector::Usable(const HealthSnapshot* health, size_t backend) const {
  if (health == nullptr || backend == 0 || backend >= health->backends.size()) return false;
  if (backend >= held_.size() || !health->backends[backend].usable_for_reads) return false;
  // The monitor's next round may have started before the failure we saw.
  return !suspect_[backend] || health->round > suspect_round_[backend] + 1;
}

bool ReplicaSelector::AnyUsable(const HealthSnapshot* health) const {
  if (health == nullptr) return false;
  for (size_t b = 1; b < health->backends.size(); ++b) {
    if (Usable(health, b)) return true;
  }
  return false;
}

size_t ReplicaSelector::Choose(const HealthSnapshot* health) {
  if (health == nullptr) return 0;
  size_t best = 0;
  if (mode_ == ReplicaSelection::kWeighted) {
    int64_t total = 0;
    for (size_t b = 1; b < health->backends.size(); ++b) {
      if (!Usable(health, b)) continue;
      const int64_t w = std::max<uint32_t>(1, health->backends[b].weight);
      current_weight_[b] += w;
      total += w;
      if (best == 0 || current_weight_[b] > current_weight_[best]) best = b;
    }
    if (best != 0) current_weight_[best] -= total;
    return best;
  }
  for (size_t b = 1; b < health->backends.size(); ++b) {
    if (!Usable(health, b)) continue;
    if (best == 0 || held_[b] < held_[best] ||
        (held_[b] == held_[best] && in_flight_[b] < in_flight_[best])) {
      best = b;
    }
  }
  return best;
}

void ReplicaSelector::MarkFailed(const HealthSnapshot* health, size_t backend) {
  if (backend >= suspect_.size()) return;
  suspect_[backend] = true;
  suspect_round_[backend] = health ? health->round : 0;
}

}  // namespace ql::proxy
