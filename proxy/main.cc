// querylens: entry point. Parses flags and the configuration file, then runs
// the proxy until SIGINT or SIGTERM.
#include <cstdio>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "proxy/config.h"
#include "proxy/logging.h"
#include "proxy/server.h"

#ifndef QUERYLENS_VERSION
#define QUERYLENS_VERSION "0.0.0"
#endif

int main(int argc, char** argv) {
  using namespace ql::proxy;
  auto cl = ParseCommandLine(argc, argv);
  if (!cl.ok()) {
    std::cerr << "querylens: " << cl.status().message() << "\n"
              << "Try 'querylens --help'.\n";
    return 2;
  }
  if (cl->help) {
    std::cout << HelpText();
    return 0;
  }
  if (cl->version) {
    std::cout << "querylens " << QUERYLENS_VERSION << "\n";
    return 0;
  }
  if (cl->check_config) {
    auto checked = CheckConfigFile(*cl->check_config);
    if (!checked.ok()) {
      std::cerr << "querylens: " << checked.status().message() << "\n";
      return 1;
    }
    std::cout << *cl->check_config << ": OK\n" << DescribeConfig(*checked);
    return 0;
  }
  if (absl::Status s = Validate(cl->config); !s.ok()) {
    std::cerr << "querylens: " << s.message() << "\n";
    return 2;
  }
  InitLogging(cl->config.log_level, cl->config.log_format);
  auto shared = BuildSharedState(cl->config);
  if (!shared.ok()) {
    LogError(std::string(shared.status().message()));
    return 1;
  }
  Server server(std::move(*shared));
  if (absl::Status s = server.Run(); !s.ok()) {
    LogError(std::string(s.message()));
    return 1;
  }
  return 0;
}
