// Implementation of the shared capture helpers for protocol tests.
#include "tests/unit/capture_test_support.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>

namespace ql::testing {

std::string CaptureDir() { return std::string(QL_TEST_DATA_DIR) + "/captures"; }

const Capture& LoadNamed(const std::string& name) {
  static std::map<std::string, Capture> cache;
  auto it = cache.find(name);
  if (it != cache.end()) return it->second;
  std::string error;
  auto c = LoadCapture(CaptureDir() + "/" + name + ".txt", &error);
  if (!c) {
    ADD_FAILURE() << "cannot load capture " << name << ": " << error;
    c.emplace();
  }
  return cache.emplace(name, std::move(*c)).first->second;
}

std::vector<std::string> AllCaptureNames() {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(CaptureDir())) {
    if (e.path().extension() == ".txt") names.push_back(e.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace ql::testing
