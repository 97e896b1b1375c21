// The benchmark corpora (statement_corpus.h).
//  - sysbench: the statements of one oltp_read_write event with
//    --db-ps-mode=disable (BEGIN, 10 point selects, the four range selects,
//    two UPDATEs, DELETE, INSERT, COMMIT), literals inlined as sysbench
//    does, random strings in its 11-digit-groups format;
//  - point_select: oltp_point_select alone;
//  - django: Django 3.2 ORM statements (back-quoted names, LIMIT 21,
//    INSERT ... RETURNING, SET autocommit, @@SQL_MODE) carrying the comment
//    of the sqlcommenter middleware (controller, db_driver, framework with
//    its doubled %%, route, traceparent);
//  - in_list: IN lists of 100 and 1,000 integers and of 200 strings.
#include "bench/statement_corpus.h"

#include <cstdint>
#include <random>
#include <string_view>

namespace ql::bench {
namespace {

class Rng {
 public:
  explicit Rng(uint64_t seed) : gen_(seed) {}
  uint64_t Uniform(uint64_t lo, uint64_t hi) {
    return std::uniform_int_distribution<uint64_t>(lo, hi)(gen_);
  }
  // sysbench's random strings: groups of 11 digits joined by '-'.
  std::string DigitGroups(int groups) {
    std::string s;
    for (int g = 0; g < groups; ++g) {
      if (g) s.push_back('-');
      for (int i = 0; i < 11; ++i) s.push_back(char('0' + Uniform(0, 9)));
    }
    return s;
  }
  std::string Hex(int digits) {
    static const char kHex[] = "0123456789abcdef";
    std::string s;
    for (int i = 0; i < digits; ++i) s.push_back(kHex[Uniform(0, 15)]);
    return s;
  }

 private:
  std::mt19937_64 gen_;
};

std::string Table(Rng& r) { return "sbtest" + std::to_string(r.Uniform(1, 4)); }
std::string Id(Rng& r) { return std::to_string(r.Uniform(1, 10000)); }

std::vector<std::string> PointSelectCorpus(size_t n) {
  Rng r(1);
  std::vector<std::string> out;
  for (size_t i = 0; i < n; ++i) out.push_back("SELECT c FROM " + Table(r) + " WHERE id=" + Id(r));
  return out;
}

std::vector<std::string> SysbenchCorpus(size_t events) {
  Rng r(2);
  std::vector<std::string> out;
  for (size_t e = 0; e < events; ++e) {
    out.push_back("BEGIN");
    for (int i = 0; i < 10; ++i) out.push_back("SELECT c FROM " + Table(r) + " WHERE id=" + Id(r));
    auto range = [&](std::string_view head, std::string_view tail) {
      uint64_t a = r.Uniform(1, 9900);
      out.push_back(std::string(head) + Table(r) + " WHERE id BETWEEN " + std::to_string(a) +
                    " AND " + std::to_string(a + 99) + std::string(tail));
    };
    range("SELECT c FROM ", "");
    range("SELECT SUM(k) FROM ", "");
    range("SELECT c FROM ", " ORDER BY c");
    range("SELECT DISTINCT c FROM ", " ORDER BY c");
    out.push_back("UPDATE " + Table(r) + " SET k=k+1 WHERE id=" + Id(r));
    out.push_back("UPDATE " + Table(r) + " SET c='" + r.DigitGroups(10) + "' WHERE id=" + Id(r));
    std::string t = Table(r), id = Id(r);
    out.push_back("DELETE FROM " + t + " WHERE id=" + id);
    out.push_back("INSERT INTO " + t + " (id, k, c, pad) VALUES (" + id + ", " + Id(r) + ", '" +
                  r.DigitGroups(10) + "', '" + r.DigitGroups(5) + "')");
    out.push_back("COMMIT");
  }
  return out;
}

std::string Sqlcommenter(std::string_view controller, std::string_view route,
                         std::string_view traceparent) {
  return " /*controller='" + std::string(controller) +
         "',db_driver='django.db.backends.mysql',framework='django%%3A3.2.25',route='" +
         std::string(route) + "',traceparent='" + std::string(traceparent) + "'*/";
}

std::vector<std::string> InListCorpus() {
  Rng r(4);
  std::vector<std::string> out;
  for (int n : {100, 1000}) {
    for (int v = 0; v < 4; ++v) {
      std::string s =
          "SELECT `polls_choice`.`id`, `polls_choice`.`question_id`, `polls_choice`.`votes` "
          "FROM `polls_choice` WHERE `polls_choice`.`question_id` IN (";
      for (int i = 0; i < n; ++i) {
        if (i) s += ", ";
        s += std::to_string(r.Uniform(1, 1000000));
      }
      s += ")";
      out.push_back(std::move(s));
    }
  }
  for (int v = 0; v < 4; ++v) {
    std::string s = "DELETE FROM sessions WHERE session_key IN (";
    for (int i = 0; i < 200; ++i) {
      if (i) s += ",";
      s += "'" + r.DigitGroups(3) + "'";
    }
    s += ")";
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace

std::vector<std::string> DjangoCorpus(size_t requests, size_t loop,
                                      std::vector<size_t>* request_starts) {
  Rng r(3);
  std::vector<std::string> out;
  const std::string route_detail = "polls/%%3Cint%%3Aquestion_id%%3E/";
  for (size_t i = 0; i < requests; ++i) {
    if (request_starts) request_starts->push_back(out.size());
    const std::string trace = "00-" + r.Hex(32) + "-" + r.Hex(16) + "-01";
    std::string q = std::to_string(r.Uniform(1, 5000));
    out.push_back("SELECT @@SQL_MODE");
    out.push_back("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED");
    out.push_back(
        "SELECT `polls_question`.`id`, `polls_question`.`question_text`, "
        "`polls_question`.`pub_date` FROM `polls_question` WHERE `polls_question`.`id` = " +
        q + " LIMIT 21" + Sqlcommenter("detail", route_detail, trace));
    for (size_t k = 0; k < loop; ++k) {
      out.push_back(
          "SELECT `polls_choice`.`id`, `polls_choice`.`question_id`, "
          "`polls_choice`.`choice_text`, `polls_choice`.`votes` FROM `polls_choice` WHERE "
          "`polls_choice`.`question_id` = " +
          std::to_string(r.Uniform(1, 5000)) + Sqlcommenter("detail", route_detail, trace));
    }
    out.push_back(
        "SELECT COUNT(*) AS `__count` FROM `polls_question` INNER JOIN `auth_user` ON "
        "(`polls_question`.`author_id` = `auth_user`.`id`) WHERE (`auth_user`.`is_active` AND "
        "`polls_question`.`pub_date` <= '2026-11-24 21:49:00.123456')" +
        Sqlcommenter("detail", route_detail, trace));
    out.push_back("SET autocommit=0");
    out.push_back(
        "INSERT INTO `polls_choice` (`question_id`, `choice_text`, `votes`) VALUES (" + q +
        ", 'Not much " + std::to_string(r.Uniform(1, 99)) + "', 0) RETURNING `polls_choice`.`id`" +
        Sqlcommenter("detail", route_detail, trace));
    out.push_back("UPDATE `polls_choice` SET `votes` = (`polls_choice`.`votes` + 1) WHERE "
                  "`polls_choice`.`id` = " +
                  std::to_string(r.Uniform(1, 20000)) + Sqlcommenter("detail", route_detail, trace));
    out.push_back("COMMIT");
    out.push_back("SET autocommit=1");
  }
  return out;
}

const char* CorpusName(CorpusKind kind) {
  switch (kind) {
    case CorpusKind::kSysbench: return "sysbench";
    case CorpusKind::kPointSelect: return "point_select";
    case CorpusKind::kDjango: return "django";
    case CorpusKind::kInList: return "in_list";
    case CorpusKind::kMixed: break;
  }
  return "mixed";
}

std::vector<std::string> MakeCorpus(CorpusKind kind) {
  switch (kind) {
    case CorpusKind::kSysbench: return SysbenchCorpus(50);
    case CorpusKind::kPointSelect: return PointSelectCorpus(1000);
    case CorpusKind::kDjango: return DjangoCorpus(40, 5);
    case CorpusKind::kInList: return InListCorpus();
    case CorpusKind::kMixed: break;
  }
  std::vector<std::string> all = SysbenchCorpus(50);
  for (auto& s : DjangoCorpus(40, 5)) all.push_back(std::move(s));
  for (auto& s : InListCorpus()) all.push_back(std::move(s));
  return all;
}

size_t TotalBytes(const std::vector<std::string>& corpus) {
  size_t n = 0;
  for (const auto& s : corpus) n += s.size();
  return n;
}

}  // namespace ql::bench
