// Run control from the command line (issue 17, docs/PROTOCOL.md §22): `baton
// run cancel`, what `run start` checks on the node before it signs, and the
// readiness and stop lines of `run status`.
#pragma once

#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

namespace baton::tools {

// Adds `run cancel --run RUN --reason TEXT --genesis FILE --key ADMIN.key`.
void add_cancel_command(CLI::App* run);

// Fails (before anything is signed) when the node's ledger already has a run
// `run_id` (a run id is used once) or another run is still active: the
// ledger would refuse the StartRun.
void check_run_can_start(const std::string& node_url, const std::string& run_id);

// The text lines `run status` prints for a run's readiness phase (who is
// ready, who refused and why, who has not answered) and for how it was
// stopped (cancelled or not_ready: who and why); "" when it has neither.
std::string run_control_text(const nlohmann::json& run);

}  // namespace baton::tools
