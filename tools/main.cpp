// `baton`: the consortium admin's command line. See README, "The baton CLI".
#include <iostream>

#include "tools/cli.h"
#include "tools/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"baton: admin tool for a Baton consortium ledger"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every command");
  baton::tools::register_key_commands(app);
  baton::tools::register_genesis_commands(app);
  baton::tools::register_ledger_commands(app);
  baton::tools::register_dev_commands(app);
  baton::tools::register_store_commands(app);
  baton::tools::register_vault_commands(app);
  baton::tools::register_experiment_commands(app);
  baton::tools::register_node_commands(app);
  baton::tools::register_run_commands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "baton: " << e.what() << " (run with --help for usage)\n";
    return static_cast<int>(baton::tools::Exit::usage);
  } catch (const baton::tools::CommandError& e) {
    std::cerr << "baton: " << e.what() << "\n";
    return static_cast<int>(e.code());
  } catch (const std::exception& e) {
    std::cerr << "baton: unexpected failure: " << e.what() << "\n";
    return static_cast<int>(baton::tools::Exit::failure);
  }
  return 0;
}
