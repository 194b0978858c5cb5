// `baton-learn`: the commands of the `baton` CLI that link LibTorch. Users run
// them as `baton COMMAND ...`; baton execs this program with the same argv
// (tools/learn_commands.h lists which commands).
#include <iostream>

#include "api/protobuf_log.h"
#include "api/version.h"
#include "learning/torch_version.h"
#include "tools/cli.h"
#include "tools/learn/commands.h"

int main(int argc, char** argv) {
  if (baton::api::asks_for_version(argc, argv)) {
    std::cout << baton::api::version_text("baton-learn", baton::learning::libtorch_version());
    return 0;
  }
  baton::api::drop_protobuf_logs();  // a garbage file gets one sentence, not libprotobuf's
  CLI::App app{"baton: the commands that train and evaluate models (baton-learn)"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every command");
  baton::tools::register_experiment_commands(app);
  baton::tools::register_data_commands(app);
  baton::tools::register_report_commands(app);
  baton::tools::register_models_replay_commands(app);
  return baton::tools::run_cli(app, argc, argv);
}
