// Helpers shared by the analyzer tests: reading the golden files under
// QL_TEST_DATA_DIR/analyzer and decoding the escapes they use for statements
// that contain newlines or tabs.
#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#ifndef QL_TEST_DATA_DIR
#define QL_TEST_DATA_DIR "tests/data"
#endif

namespace ql::analyzer::testutil {

// The whole file QL_TEST_DATA_DIR/analyzer/<name>; empty if it cannot be read
// (tests then fail on "no cases").
inline std::string ReadAnalyzerData(std::string_view name) {
  std::string path = std::string(QL_TEST_DATA_DIR) + "/analyzer/" + std::string(name);
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

inline std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> lines;
  std::string line;
  std::istringstream in(text);
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
  }
  return lines;
}

// Decodes \n \t \r \\ and \xHH; any other backslash is kept as is.
inline std::string DecodeEscapes(std::string_view s) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 >= s.size()) {
      out.push_back(s[i]);
      continue;
    }
    const char n = s[i + 1];
    if (n == 'n') {
      out.push_back('\n');
    } else if (n == 't') {
      out.push_back('\t');
    } else if (n == 'r') {
      out.push_back('\r');
    } else if (n == '\\') {
      out.push_back('\\');
    } else if (n == 'x' && i + 3 < s.size() && hex(s[i + 2]) >= 0 && hex(s[i + 3]) >= 0) {
      out.push_back(static_cast<char>(hex(s[i + 2]) * 16 + hex(s[i + 3])));
      i += 2;
    } else {
      out.push_back('\\');
      continue;
    }
    ++i;
  }
  return out;
}

// One case of fingerprints.txt.
struct FingerprintCase {
  int line = 0;  // where its in: line is, for failure messages
  std::string input;
  std::string expected;
  bool has_pt = false;
  std::string pt;
  std::string why;
  bool has_tags = false;
  std::string tags;  // "k=v k=v" or "none"
};

inline std::vector<FingerprintCase> LoadFingerprintCases() {
  std::vector<FingerprintCase> cases;
  FingerprintCase current;
  bool open = false;
  const std::vector<std::string> lines = SplitLines(ReadAnalyzerData("fingerprints.txt"));
  auto flush = [&] {
    if (open) cases.push_back(current);
    current = FingerprintCase{};
    open = false;
  };
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    if (l.rfind("##", 0) == 0) continue;
    if (l.empty()) {
      flush();
      continue;
    }
    auto value = [&](std::string_view prefix) { return l.substr(prefix.size()); };
    if (l.rfind("in: ", 0) == 0) {
      flush();
      open = true;
      current.line = static_cast<int>(i + 1);
      current.input = value("in: ");
    } else if (l.rfind("in~: ", 0) == 0) {
      flush();
      open = true;
      current.line = static_cast<int>(i + 1);
      current.input = DecodeEscapes(value("in~: "));
    } else if (l.rfind("out: ", 0) == 0 || l == "out:") {
      current.expected = l.size() > 5 ? value("out: ") : "";
    } else if (l.rfind("pt: ", 0) == 0) {
      current.has_pt = true;
      current.pt = value("pt: ");
    } else if (l.rfind("why: ", 0) == 0) {
      current.why = value("why: ");
    } else if (l.rfind("tags: ", 0) == 0) {
      current.has_tags = true;
      current.tags = value("tags: ");
    }
  }
  flush();
  return cases;
}

// One line of classifier.txt.
struct ClassifierCase {
  int line = 0;
  std::string expected;
  std::string sql;
};

inline std::vector<ClassifierCase> LoadClassifierCases() {
  std::vector<ClassifierCase> cases;
  const std::vector<std::string> lines = SplitLines(ReadAnalyzerData("classifier.txt"));
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    if (l.empty() || l.rfind("##", 0) == 0) continue;
    ClassifierCase c;
    c.line = static_cast<int>(i + 1);
    const size_t bar = l.find(" | ");
    if (bar == std::string::npos) {
      // "expected |" with the (empty) statement's trailing space trimmed.
      c.expected = l.size() >= 2 && l.ends_with(" |") ? l.substr(0, l.size() - 2) : l;
    } else {
      c.expected = l.substr(0, bar);
      c.sql = l.substr(bar + 3);
    }
    if (!c.expected.empty() && c.expected[0] == '~') {
      c.expected.erase(0, 1);
      c.sql = DecodeEscapes(c.sql);
    }
    cases.push_back(c);
  }
  return cases;
}

}  // namespace ql::analyzer::testutil
