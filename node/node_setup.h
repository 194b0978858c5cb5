// What a node is opened from, read and checked against each other before
// anything starts: this member's key (its key file), the consortium's
// genesis, and the ledger in the data directory (opened, or created for that
// genesis). Every error is a sentence for the operator saying what to fix.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "chain/chain_spec.h"
#include "chain/keys.h"
#include "chain/result.h"
#include "api/config.h"
#include "storage/ledger_store.h"

namespace baton::node {

struct NodeSetup {
  chain::MemberSecretKeys keys;
  std::unique_ptr<chain::ChainSpec> spec;
  std::unique_ptr<storage::LedgerStore> store;
  std::vector<std::string> warnings;  // for the node's log
};

// Reads config.key_file and config.genesis_file, checks that the key belongs
// to the genesis member named config.name, creates config.data_dir if needed
// (mode 0700: it holds the ledger, the admin token and the consensus
// checkpoint; an existing one open to group or others is used, with a
// warning) and opens (or creates) the ledger in config.data_dir/ledger.
Result<NodeSetup> open_node_setup(const api::NodeConfig& config);

}  // namespace baton::node
