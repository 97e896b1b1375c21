// Statement corpora for the benchmarks, built in code from a fixed seed, so
// every run analyzes the same text. The statements are the ones real clients
// send (see statement_corpus.cc for each shape and where it comes from).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace ql::bench {

enum class CorpusKind : int {
  kSysbench = 0,     // one oltp_read_write event after another, literals inlined
  kPointSelect = 1,  // oltp_point_select
  kDjango = 2,       // Django 3.2 ORM requests with sqlcommenter comments
  kInList = 3,       // long IN lists
  kMixed = 4,        // all of the above
};
inline constexpr int kCorpusCount = 5;

const char* CorpusName(CorpusKind kind);

std::vector<std::string> MakeCorpus(CorpusKind kind);

// Django requests: per request (one sqlcommenter traceparent), a detail
// lookup, `loop` lookups of one related table by a different id (the N+1
// shape), a count, and a write transaction. If `request_starts` is given,
// it receives the index of each request's first statement.
std::vector<std::string> DjangoCorpus(size_t requests, size_t loop,
                                      std::vector<size_t>* request_starts = nullptr);

size_t TotalBytes(const std::vector<std::string>& corpus);

}  // namespace ql::bench
