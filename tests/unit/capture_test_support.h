// Shared by the protocol tests: captures loaded once per test binary by
// name, with a gtest failure (not a crash) when a file is missing or bad.
#pragma once

#include <string>
#include <vector>

#include "tests/unit/capture_file.h"

namespace ql::testing {

std::string CaptureDir();
const Capture& LoadNamed(const std::string& name);
std::vector<std::string> AllCaptureNames();

}  // namespace ql::testing
