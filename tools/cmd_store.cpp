#include "tools/cli.h"
#include "tools/commands.h"

namespace baton::tools {

// Placeholder until this command group lands; see the open issue.
void register_store_commands(CLI::App& app) { (void)app; }

}  // namespace baton::tools
