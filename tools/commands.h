// One registration function per command group; each lives in cmd_<group>.cpp.
// The commands that need LibTorch live in tools/learn/ and are built into a
// second executable, `baton-learn` (see learn_commands.h); `baton` lists them
// in its help and hands them over to baton-learn.
#pragma once

#include <CLI/CLI.hpp>

namespace baton::tools {

void register_key_commands(CLI::App& app);      // keygen               (cmd_keys.cpp)
void register_genesis_commands(CLI::App& app);  // genesis init|validate|hash (cmd_genesis.cpp)
void register_ledger_commands(
    CLI::App& app);                           // ledger show|block|tx|verify|export (cmd_ledger.cpp)
void register_dev_commands(CLI::App& app);    // dev make-chain       (cmd_dev.cpp)
void register_store_commands(CLI::App& app);  // store put|get|ls|rm  (cmd_store.cpp)
void register_vault_commands(CLI::App& app);  // vault seal|open      (cmd_vault.cpp)
void register_node_commands(CLI::App& app);   // status, tx submit    (cmd_node.cpp)
void register_run_commands(CLI::App& app);    // run start|status, models lineage (cmd_run.cpp)
void register_models_repair_command(CLI::App& models);  // models repair (cmd_models.cpp)
void register_models_get_command(CLI::App& models);     // models get (cmd_models_get.cpp)
// account balance|transfer|history (cmd_account.cpp)
void register_account_commands(CLI::App& app);
// privacy epsilon|noise (cmd_privacy.cpp)
void register_privacy_commands(CLI::App& app);
// member list|add|remove|update|replace-keys|rotate-key (cmd_member.cpp, issue 18)
void register_member_commands(CLI::App& app);

}  // namespace baton::tools
