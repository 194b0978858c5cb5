// The top-level commands served by `baton-learn` (tools/learn/), the half of
// the CLI that links LibTorch. `baton` itself stays free of LibTorch (a vault
// seal must not start at 160 MiB of RSS, and every call would pay LibTorch's
// start-up): for these names it execs baton-learn, found next to its own
// executable, with the same argv, so the user sees one `baton`.
//
// Adding a torch-side command: write tools/learn/cmd_<group>.cpp defining
// register_<group>_commands (declared in tools/learn/commands.h), call it from
// tools/learn/main.cpp, and add its top-level name and summary here.
#pragma once

#include <string_view>

namespace baton::tools {

struct LearnCommand {
  std::string_view name;     // argv[1] that goes to baton-learn
  std::string_view summary;  // the line `baton --help` shows
};

inline constexpr LearnCommand kLearnCommands[] = {
    {"experiment",
     "Train the centralized model and the paper's six scenarios, chained and/or federated; compare "
     "AUCs (DeLong)"},
    {"bench", "Benchmarks that print figures"},
    {"data", "Prepare hospitals' data files for a demo or test run (data split)"},
    {"report", "A run's AUC per turn, contributivity, and the final model on a held-out test set"},
};

// Subcommands of a `baton` group that baton-learn runs (argv[1] the group,
// argv[2] the name): `baton models replay|check-vote` retrain and measure
// models (issue 16) while `models lineage|get|repair` stay in baton.
struct LearnSubcommand {
  std::string_view group;
  std::string_view name;
  std::string_view summary;
};

inline constexpr LearnSubcommand kLearnSubcommands[] = {
    {"models", "replay",
     "At the hospital that trained a turn: retrain it from the ledger's record; bit-identical?"},
    {"models", "check-vote",
     "At a voter's hospital: measure a turn's candidate again; does this member's vote agree?"},
};

// The file name of the torch-side executable, in the same directory as baton.
inline constexpr std::string_view kLearnExecutable = "baton-learn";

// Replaces this process with baton-learn from the directory of
// /proc/self/exe, passing `argv` unchanged (so its exit code and output are
// the command's). Returns only when that fails, after printing one sentence
// to stderr; the result is then the exit code (Exit::failure).
int exec_learn(char** argv);

}  // namespace baton::tools
