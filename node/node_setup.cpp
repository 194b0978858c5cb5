#include "node/node_setup.h"

#include <cstdio>
#include <filesystem>

#include "api/daemon.h"
#include "node/node_options.h"
#include "storage/secret_file.h"

namespace baton::node {
namespace fs = std::filesystem;

Result<NodeSetup> open_node_setup(const api::NodeConfig& config) {
  std::error_code exists_ec;
  if (!fs::exists(config.key_file, exists_ec)) {
    return make_error("key file " + config.key_file.string() +
                      " does not exist; set key_file in the config to this node's NAME.key "
                      "(made by `baton keygen`)");
  }
  // Read into wiped memory; the text is wiped once parsed (the keys live on
  // in locked SecretBytes, chain/secret.h).
  auto key_text = storage::read_secret_file(config.key_file);
  if (!key_text) return make_error("cannot use the key file: " + key_text.error().message);
  auto keys = chain::parse_secret_keys(key_text->view());
  if (!keys)
    return make_error("key file " + config.key_file.string() +
                      " is not a Baton key: " + keys.error().message);

  auto genesis_text = api::read_config_named_file(
      config.genesis_file, "genesis file",
      "set genesis_file in the config to the consortium's genesis.json");
  if (!genesis_text) return genesis_text.error();
  auto spec = chain::load_chain_spec(*genesis_text);
  if (!spec)
    return make_error("genesis file " + config.genesis_file.string() +
                      " is invalid: " + spec.error().message);

  // A key outside the genesis is a member admitted (or re-keyed) by vote
  // later on (issue 18): Node::open checks it against the ledger's members
  // once the ledger is loaded.
  const chain::GenesisMember* me = spec->genesis.find_member(keys->signing.public_key());
  if (me != nullptr && me->name != config.name) {
    return make_error("the config names this node '" + config.name +
                      "' but its key belongs to genesis member '" + me->name +
                      "'; make `name` in the config match");
  }
  if (auto dial = check_p2p_dial(*spec, config); !dial) return dial.error();

  std::vector<std::string> warnings;
  auto data_dir = storage::make_private_directory(config.data_dir);
  if (!data_dir) {
    return make_error("cannot make the data directory: " + data_dir.error().message);
  }
  if (data_dir->open_to_others) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", data_dir->mode);
    warnings.push_back("the data directory " + config.data_dir.string() + " has mode " + mode +
                       ": other users of this host may read the ledger's files; chmod 700 it");
  }
  storage::LedgerWriterOptions store_options;
  store_options.dir = config.data_dir / "ledger";
  store_options.genesis_hash = spec->genesis_hash;
  store_options.genesis_document = *genesis_text;
  auto store = storage::LedgerStore::open_writer(store_options);
  if (!store) {
    return make_error("cannot open the ledger in " + store_options.dir.string() + ": " +
                      store.error().message);
  }
  return NodeSetup{std::move(keys).value(),
                   std::make_unique<chain::ChainSpec>(std::move(spec).value()),
                   std::move(store).value(), std::move(warnings)};
}

}  // namespace baton::node
