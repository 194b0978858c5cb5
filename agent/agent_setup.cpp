#include "agent/agent_setup.h"

#include <filesystem>
#include <fstream>

#include "api/daemon.h"
#include "chain/chain_spec.h"
#include "chain/keys.h"
#include "learning/torch_version.h"
#include "storage/object_store.h"
#include "storage/s3_options.h"
#include "storage/secret_file.h"

namespace baton::agent {

namespace fs = std::filesystem;

Result<FollowerSetup> prepare_agent(const api::AgentConfig& config) {
  FollowerSetup setup;
  auto genesis_text = api::read_config_named_file(
      config.genesis_file, "genesis file",
      "set genesis_file in agent.toml to the consortium's genesis.json");
  if (!genesis_text) return genesis_text.error();
  auto spec = chain::load_chain_spec(*genesis_text);
  if (!spec) {
    return make_error("genesis file " + config.genesis_file.string() +
                      " is invalid: " + spec.error().message);
  }
  auto key_text = storage::read_secret_file(config.key_file);
  if (!key_text) return make_error("cannot use the key file: " + key_text.error().message);
  auto keys = chain::parse_secret_keys(key_text->view());
  if (!keys) {
    return make_error("key file " + config.key_file.string() +
                      " is not a Baton key: " + keys.error().message);
  }
  // A member admitted by vote is in no genesis, and a rotated key is not the
  // genesis' (issue 18): the agent checks its name and key against the
  // ledger's current members before it acts (PartnerAgent::confirm_identity).
  // A genesis member whose key file is not its genesis key is still worth a
  // line at start: it is a rotation, or the wrong file.
  const chain::GenesisMember* me = spec->genesis.find_member(config.name);
  if (me != nullptr && keys->x25519.public_key() != me->x25519) {
    setup.notes.push_back("the X25519 key in " + config.key_file.string() + " is not " +
                          config.name +
                          "'s in the genesis: the agent acts once the ledger's members hold it "
                          "(a rotated key)");
  } else if (me == nullptr) {
    setup.notes.push_back("'" + config.name +
                          "' is no member of the genesis: the agent acts once the ledger admits "
                          "it by vote (`baton member add`)");
  }
  for (const auto& [key, path] :
       {std::pair<const char*, fs::path>{"train_csv", config.training.train_csv},
        {"validation_csv", config.training.validation_csv},
        {"feature_schema", config.training.feature_schema}}) {
    if (path.empty()) continue;
    std::error_code ec;
    if (!fs::is_regular_file(path, ec) || !std::ifstream(path).is_open())
      return make_error("[training] " + std::string(key) + " " + path.string() +
                        " is not a readable file");
  }
  // [training] device (issue 16): a CUDA device needs a LibTorch with CUDA
  // and that device; refused here rather than at the first turn.
  if (const auto device = api::training_device_index(config.training.device);
      config.training.enabled && device && *device >= 0) {
    const int gpus = learning::cuda_device_count();
    if (gpus == 0) {
      return make_error(
          "[training] device = \"" + config.training.device + "\", but this build's LibTorch " +
          std::string(learning::libtorch_version()) +
          " has no CUDA (torch::cuda::is_available() is false): set device = \"cpu\", or build "
          "Baton against a LibTorch with CUDA (cmake -DTorch_DIR=..., docs/OPERATIONS.md, "
          "\"Training on a GPU\") on a host with an NVIDIA GPU");
    }
    if (*device >= gpus) {
      return make_error("[training] device = \"" + config.training.device +
                        "\", but LibTorch sees " + std::to_string(gpus) +
                        " CUDA device(s): cuda:0 to cuda:" + std::to_string(gpus - 1));
    }
  }
  storage::S3Options s3;
  s3.endpoint = config.store.endpoint;
  if (!config.store.region.empty()) s3.region = config.store.region;
  if (config.store.uri.starts_with("s3://")) {
    auto resolved = storage::resolve_s3_options(s3, storage::process_environment());
    if (!resolved) return make_error("[store]: " + resolved.error().message);
    s3 = std::move(*resolved);
  }
  auto store = storage::open_object_store(config.store.uri, s3);
  if (!store) {
    return make_error("cannot open the object store " + config.store.uri +
                      " ([store] uri): " + store.error().message);
  }
  setup.config = config;
  setup.options.chain_id = spec->chain_id();
  setup.options.member_name = config.name;
  setup.options.x25519 = keys->x25519;
  setup.options.members = spec->genesis.members;
  setup.options.training = config.training;
  setup.options.config_path = config.config_path;
  setup.options.model_cache = config.model_cache;
  setup.genesis = spec->genesis;
  setup.store = std::move(*store);
  return setup;
}

}  // namespace baton::agent
