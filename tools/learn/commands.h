// Registration functions of the torch-side command groups, built into
// `baton-learn` (tools/learn/main.cpp). Each group's top-level names must also
// be listed in tools/learn_commands.h so that `baton` forwards them.
#pragma once

#include <CLI/CLI.hpp>

namespace baton::tools {

void register_experiment_commands(CLI::App& app);  // experiment, bench train (cmd_experiment.cpp)
void register_data_commands(CLI::App& app);        // data ...               (cmd_data.cpp)
void register_report_commands(CLI::App& app);      // report                 (cmd_report.cpp)

}  // namespace baton::tools
