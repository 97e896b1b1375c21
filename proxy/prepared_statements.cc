// Statement id mapping and COM_STMT_EXECUTE rewriting; see prepared_statements.h.
#include "proxy/prepared_statements.h"

#include <algorithm>

namespace ql::proxy {

uint32_t PreparedStatementMap::Add(PreparedStatement statement) {
  uint32_t id = next_id_++;
  if (next_id_ == kLastPreparedStatementId) next_id_ = 1;
  statement.last_used = Touch();
  by_id_.insert_or_assign(id, std::move(statement));
  last_added_ = id;
  return id;
}

PreparedStatement* PreparedStatementMap::Find(uint32_t client_id) {
  auto it = by_id_.find(client_id);
  return it == by_id_.end() ? nullptr : &it->second;
}

size_t PreparedStatementMap::CountOn(int slot) const {
  size_t n = 0;
  for (const auto& [id, s] : by_id_) n += s.backend_id[slot] != 0;
  return n;
}

void PreparedStatementMap::ForgetSlot(int slot) {
  for (auto& [id, s] : by_id_) {
    s.backend_id[slot] = 0;
    s.types_sent[slot] = false;
    if (slot == 0) s.long_data_pending = false;
  }
}

uint32_t PreparedStatementMap::LeastRecentlyUsedOn(int slot, uint32_t keep) const {
  uint32_t best = 0;
  uint64_t best_used = UINT64_MAX;
  for (const auto& [id, s] : by_id_) {
    if (id == keep || s.backend_id[slot] == 0) continue;
    if (s.last_used < best_used) {
      best_used = s.last_used;
      best = id;
    }
  }
  return best;
}

void PatchStatementId(uint8_t* at, uint32_t id) {
  at[0] = uint8_t(id);
  at[1] = uint8_t(id >> 8);
  at[2] = uint8_t(id >> 16);
  at[3] = uint8_t(id >> 24);
}

bool RewriteExecute(protocol::ByteSpan packet, int slot, PreparedStatement& s,
                    protocol::Bytes* out) {
  // command(1) id(4) flags(1) iterations(4) [null bitmap, bound flag, types, values]
  constexpr size_t kFixed = 10;
  if (packet.size() < kFixed) return false;
  out->assign(packet.begin(), packet.end());
  PatchStatementId(out->data() + kStatementIdOffset, s.backend_id[slot]);
  if (s.num_params == 0) return true;
  const size_t flag_at = kFixed + (size_t(s.num_params) + 7) / 8;
  if (packet.size() <= flag_at) return false;
  const size_t types_len = size_t(s.num_params) * 2;
  if (packet[flag_at] == 1) {
    if (packet.size() < flag_at + 1 + types_len) return false;
    protocol::ByteSpan types = packet.subspan(flag_at + 1, types_len);
    if (!std::equal(types.begin(), types.end(), s.param_types.begin(), s.param_types.end())) {
      // New types: the other connections hold the old ones.
      for (bool& sent : s.types_sent) sent = false;
      s.param_types.assign(types.begin(), types.end());
    }
    s.types_sent[slot] = true;
    return true;
  }
  if (s.types_sent[slot] || s.param_types.size() != types_len) return true;
  // This connection never saw the types the client bound earlier: send them.
  (*out)[flag_at] = 1;
  out->insert(out->begin() + flag_at + 1, s.param_types.begin(), s.param_types.end());
  s.types_sent[slot] = true;
  return true;
}

}  // namespace ql::proxy
