// Text and JSON output of N+1 findings, written by hand (no JSON library):
// numbers through integer arithmetic and std::to_chars, so nothing depends
// on the locale.
#include "analyzer/n_plus_one_format.h"

#include <charconv>

#include "analyzer/digest.h"
#include "analyzer/n_plus_one_input.h"

namespace ql::analyzer {
namespace {

void AppendUint(uint64_t v, std::string* out) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, r.ptr);
}

void AppendHex(uint64_t id, std::string* out) {
  char hex[16];
  DigestHexTo(id, hex);
  out->append(hex, sizeof(hex));
}

// A 0..1 share with three decimals ("0.857").
void AppendShare(double share, std::string* out) {
  const uint64_t milli = static_cast<uint64_t>(share * 1000.0 + 0.5);
  AppendUint(milli / 1000, out);
  out->push_back('.');
  const uint64_t frac = milli % 1000;
  if (frac < 100) out->push_back('0');
  if (frac < 10) out->push_back('0');
  AppendUint(frac, out);
}

// Length of the valid UTF-8 sequence at s[i], or 0 if it is not one.
size_t Utf8Length(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  size_t n = 0;
  uint32_t min = 0;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2, min = 0x80;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3, min = 0x800;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4, min = 0x10000;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  uint32_t cp = c & (0xFF >> (n + 1));
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

void AppendHexByte(const char* prefix, unsigned char c, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->append(prefix);
  out->push_back(kHex[c >> 4]);
  out->push_back(kHex[c & 0xF]);
}

// Shared pieces of both formats.
std::string_view BackendName(const NPlusOneFinding& f) {
  return f.backend_mixed ? "mixed" : BackendRoleName(f.backend);
}

class TextLine {
 public:
  explicit TextLine(std::string* out) : out_(out) {}
  void Word(std::string_view w) {
    Sep();
    out_->append(w);
  }
  void Number(std::string_view key, uint64_t v) {
    Key(key);
    AppendUint(v, out_);
  }
  void Millis(std::string_view key, uint64_t ns) {
    Key(key);
    AppendMillis(ns, out_);
  }
  void Quoted(std::string_view key, std::string_view v) {
    if (v.empty()) return;
    Key(key);
    AppendQuotedText(v, out_);
  }
  void Key(std::string_view key) {
    Sep();
    out_->append(key);
    out_->push_back('=');
  }
  std::string* out() { return out_; }

 private:
  void Sep() {
    if (!first_) out_->push_back(' ');
    first_ = false;
  }
  std::string* out_;
  bool first_ = true;
};

class JsonObject {
 public:
  explicit JsonObject(std::string* out) : out_(out) { out_->push_back('{'); }
  void Close() { out_->push_back('}'); }
  void Key(std::string_view key) {
    if (!first_) out_->push_back(',');
    first_ = false;
    AppendJsonString(key, out_);
    out_->push_back(':');
  }
  void String(std::string_view key, std::string_view v) {
    Key(key);
    AppendJsonString(v, out_);
  }
  void StringOrNull(std::string_view key, std::string_view v) {
    if (v.empty()) {
      Null(key);
    } else {
      String(key, v);
    }
  }
  void Null(std::string_view key) {
    Key(key);
    out_->append("null");
  }
  void Number(std::string_view key, uint64_t v) {
    Key(key);
    AppendUint(v, out_);
  }
  void Millis(std::string_view key, uint64_t ns) {
    Key(key);
    AppendMillis(ns, out_);
  }
  void Bool(std::string_view key, bool v) {
    Key(key);
    out_->append(v ? "true" : "false");
  }
  void Hex(std::string_view key, uint64_t id) {
    Key(key);
    out_->push_back('"');
    AppendHex(id, out_);
    out_->push_back('"');
  }
  std::string* out() { return out_; }

 private:
  std::string* out_;
  bool first_ = true;
};

}  // namespace

void AppendMillis(uint64_t ns, std::string* out) {
  const uint64_t us = ns / 1000 + (ns % 1000 >= 500 ? 1 : 0);
  AppendUint(us / 1000, out);
  out->push_back('.');
  const uint64_t frac = us % 1000;
  if (frac < 100) out->push_back('0');
  if (frac < 10) out->push_back('0');
  AppendUint(frac, out);
}

void AppendQuotedText(std::string_view v, std::string* out) {
  out->push_back('"');
  for (char ch : v) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out->push_back('\\');
      out->push_back(ch);
    } else if (ch == '\n') {
      out->append("\\n");
    } else if (ch == '\t') {
      out->append("\\t");
    } else if (ch == '\r') {
      out->append("\\r");
    } else if (c < 0x20 || c == 0x7F) {
      AppendHexByte("\\x", c, out);
    } else {
      out->push_back(ch);
    }
  }
  out->push_back('"');
}

void AppendJsonString(std::string_view v, std::string* out) {
  out->push_back('"');
  for (size_t i = 0; i < v.size();) {
    const unsigned char c = static_cast<unsigned char>(v[i]);
    if (c >= 0x80) {
      const size_t n = Utf8Length(v, i);
      if (n == 0) {
        out->append("\\ufffd");
        ++i;
      } else {
        out->append(v.substr(i, n));
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      default:
        if (c < 0x20) {
          AppendHexByte("\\u00", c, out);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
  out->push_back('"');
}

void AppendFindingText(const NPlusOneFinding& f, std::string* out) {
  TextLine line(out);
  line.Word(FindingKindName(f.kind));
  line.Key("confidence");
  out->append(ConfidenceName(f.confidence));
  line.Number("count", f.count);
  if (f.kind == FindingKind::kRepeatedCycle) {
    line.Number("length", f.related.size());
    line.Number("statements", f.statements);
  }
  if (f.kind != FindingKind::kTooManyStatements) {
    line.Key("distinct");
    if (f.distinct_estimated) out->push_back('~');
    AppendUint(f.distinct_values, out);
  }
  if (f.kind == FindingKind::kDuplicate) line.Number("max_identical", f.max_identical);
  line.Millis("span_ms", f.span_ns());
  line.Millis("total_ms", f.total_ns);
  line.Millis("avg_ms", f.avg_ns());
  line.Millis("max_ms", f.max_ns);
  line.Key("unit_share");
  AppendUint(static_cast<uint64_t>(f.unit_share() * 100.0 + 0.5), out);
  out->push_back('%');
  line.Number("unit_statements", f.unit_statements);
  line.Key("fingerprint");
  AppendHex(f.digest, out);
  if (!f.fingerprint.empty()) {
    out->push_back(' ');
    AppendQuotedText(f.fingerprint, out);
  }
  if (f.has_parent) {
    line.Key("parent");
    AppendHex(f.parent_digest, out);
    if (!f.parent_fingerprint.empty()) {
      out->push_back(' ');
      AppendQuotedText(f.parent_fingerprint, out);
    }
    line.Number("parent_rows", f.parent_rows);
  }
  if (!f.related.empty() && f.kind != FindingKind::kNPlusOne) {
    const bool top = f.kind == FindingKind::kTooManyStatements;
    line.Key(top ? "top" : "cycle");
    out->push_back('[');
    for (size_t i = 0; i < f.related.size(); ++i) {
      if (i > 0) out->push_back(',');
      AppendHex(f.related[i].digest, out);
      if (top) {
        out->push_back(':');
        AppendUint(f.related[i].count, out);
      }
    }
    out->push_back(']');
  }
  line.Key("backend");
  out->append(BackendName(f));
  line.Quoted("schema", f.schema);
  line.Quoted("user", f.user);
  line.Number("session", f.session_id);
  line.Quoted("route", f.route);
  line.Quoted("controller", f.controller);
  line.Quoted("framework", f.framework);
  line.Quoted("action", f.action);
  line.Quoted("app_name", f.app_name);
  line.Quoted("traceparent", f.traceparent);
  if (f.suppressed > 0) line.Number("suppressed", f.suppressed);
  line.Quoted("fix", f.suggestion);
}

void AppendFindingJson(const NPlusOneFinding& f, std::string* out) {
  JsonObject o(out);
  o.String("event", "n_plus_one");
  o.String("kind", FindingKindName(f.kind));
  o.String("confidence", ConfidenceName(f.confidence));
  o.Number("count", f.count);
  o.Number("statements", f.statements);
  o.Number("distinct_values", f.distinct_values);
  o.Bool("distinct_estimated", f.distinct_estimated);
  o.Number("max_identical", f.max_identical);
  o.Number("rows_sent", f.rows_sent);
  o.Millis("span_ms", f.span_ns());
  o.Millis("total_ms", f.total_ns);
  o.Millis("avg_ms", f.avg_ns());
  o.Millis("max_ms", f.max_ns);
  o.Key("unit_share");
  AppendShare(f.unit_share(), out);
  o.Number("unit_statements", f.unit_statements);
  o.Millis("unit_db_ms", f.unit_db_ns);
  o.Hex("fingerprint_id", f.digest);
  o.String("fingerprint", f.fingerprint);
  o.Key("tables");
  out->push_back('[');
  for (size_t i = 0; i < f.tables.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendJsonString(f.tables[i], out);
  }
  out->push_back(']');
  if (f.has_parent) {
    o.Hex("parent_id", f.parent_digest);
    o.StringOrNull("parent_fingerprint", f.parent_fingerprint);
    o.Number("parent_rows", f.parent_rows);
  } else {
    o.Null("parent_id");
    o.Null("parent_fingerprint");
    o.Null("parent_rows");
  }
  o.String("backend", BackendName(f));
  o.StringOrNull("schema", f.schema);
  o.StringOrNull("user", f.user);
  o.Number("session_id", f.session_id);
  o.StringOrNull("route", f.route);
  o.StringOrNull("controller", f.controller);
  o.StringOrNull("framework", f.framework);
  o.StringOrNull("action", f.action);
  o.StringOrNull("app_name", f.app_name);
  o.StringOrNull("traceparent", f.traceparent);
  o.StringOrNull("trace_id", TraceIdOf(f.traceparent));
  o.StringOrNull("suggestion", f.suggestion);
  o.Key("related");
  out->push_back('[');
  for (size_t i = 0; i < f.related.size(); ++i) {
    if (i > 0) out->push_back(',');
    JsonObject r(out);
    r.Hex("fingerprint_id", f.related[i].digest);
    r.Number("count", f.related[i].count);
    r.StringOrNull("fingerprint", f.related[i].text);
    r.Close();
  }
  out->push_back(']');
  o.Number("suppressed", f.suppressed);
  o.Close();
}

}  // namespace ql::analyzer
