// `baton`: the consortium admin's command line. See README, "Command line".
// The commands that need LibTorch run in `baton-learn` (learn_commands.h).
#include <iostream>
#include <string_view>

#include "api/protobuf_log.h"
#include "api/version.h"
#include "tools/cli.h"
#include "tools/commands.h"
#include "tools/learn_commands.h"

int main(int argc, char** argv) {
  // baton links no LibTorch; `baton-learn --version` names the one it uses.
  if (baton::api::asks_for_version(argc, argv)) {
    std::cout << baton::api::version_text("baton");
    return 0;
  }
  if (argc >= 2) {
    for (const auto& command : baton::tools::kLearnCommands) {
      if (std::string_view(argv[1]) == command.name) return baton::tools::exec_learn(argv);
    }
  }
  if (argc >= 3) {  // issue 16: `baton models replay|check-vote`
    for (const auto& command : baton::tools::kLearnSubcommands) {
      if (std::string_view(argv[1]) == command.group && std::string_view(argv[2]) == command.name)
        return baton::tools::exec_learn(argv);
    }
  }
  baton::api::drop_protobuf_logs();  // a garbage file gets one sentence, not libprotobuf's
  CLI::App app{"baton: admin tool for a Baton consortium ledger"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every command");
  baton::tools::register_key_commands(app);
  baton::tools::register_genesis_commands(app);
  baton::tools::register_ledger_commands(app);
  baton::tools::register_dev_commands(app);
  baton::tools::register_store_commands(app);
  baton::tools::register_vault_commands(app);
  baton::tools::register_node_commands(app);
  baton::tools::register_run_commands(app);
  baton::tools::register_account_commands(app);
  baton::tools::register_privacy_commands(app);
  // Membership by vote (issue 18).
  baton::tools::register_member_commands(app);
  // Listed in the help only: argv naming one of them never reaches the parser.
  for (const auto& command : baton::tools::kLearnCommands)
    app.add_subcommand(std::string(command.name), std::string(command.summary))->allow_extras();
  for (const auto& command : baton::tools::kLearnSubcommands) {
    app.get_subcommand(std::string(command.group))
        ->add_subcommand(std::string(command.name), std::string(command.summary))
        ->allow_extras();
  }
  return baton::tools::run_cli(app, argc, argv);
}
