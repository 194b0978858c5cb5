// Writes the seed corpora of the consensus fuzz targets that hold signatures
// (corpus/consensus_message and corpus/consensus_checkpoint), signed with the
// fixed keys and network of tests/consensus/harness.h, so that the seeds
// follow the current sign bytes (docs/PROTOCOL.md §8, §14). Run it after a
// change to what a vote or proposal signs:
//   build/bin/baton-consensus-corpus tests/fuzz/corpus
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "tests/consensus/harness.h"

namespace {

using namespace baton::consensus;
using namespace baton::consensus::testing;
namespace fs = std::filesystem;

void write(const fs::path& file, const std::string& bytes) {
  fs::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes;
  std::printf("%s: %zu bytes\n", file.string().c_str(), bytes.size());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: baton-consensus-corpus CORPUS_DIR (tests/fuzz/corpus)\n");
    return 2;
  }
  const fs::path root = argv[1];
  using baton::chain::pb::PRECOMMIT;
  using baton::chain::pb::PREVOTE;
  const ValidatorSet validators = make_validators({1, 1, 1, 1});
  const std::string block =
      sim::ChainApp(kChain, key_for(1).public_key()).make_block(1, 0, {}).value();
  const baton::chain::Hash id = block_id_of(block).value();

  const fs::path messages = root / "consensus_message";
  write(messages / "prevote_for_block", encode_message(vote_msg(1, PREVOTE, 1, 0, id)));
  write(messages / "precommit_nil", encode_message(vote_msg(2, PRECOMMIT, 3, 2, std::nullopt)));
  write(messages / "proposal", encode_message(proposal_msg(1, 1, 0, -1, block)));
  write(messages / "proposal_with_pol",
        encode_message(proposal_msg(static_cast<int>(validators.proposer(1, 2)), 1, 2, 1, block)));
  // An honest nil vote recast with a block id of 32 zero bytes: refused.
  auto forged = vote_msg(3, PREVOTE, 1, 0, std::nullopt);
  forged.mutable_vote()->set_block_id(std::string(32, '\0'));
  write(messages / "forged_zero_block_id", encode_message(forged));

  // Validator 0 locked in round 0 of height 1, as EngineTest locks it: the
  // proposal and two prevotes from the others, then its own precommit.
  TestNode node(0, validators);
  node.engine->start();
  node.take();
  node.engine->on_message(
      proposal_msg(static_cast<int>(validators.proposer(1, 0)), 1, 0, -1, block));
  node.take();
  for (int v = 1; v <= 2; ++v) {
    node.engine->on_message(vote_msg(v, PREVOTE, 1, 0, id));
    node.take();
  }
  const std::string signer = node.store.load().value().value().SerializeAsString();
  const std::string checkpoint = node.checkpoint.value().SerializeAsString();
  if (signer.size() > 255) return 1;  // byte 0 holds the signer record's length
  const fs::path records = root / "consensus_checkpoint";
  write(records / "locked_after_precommit",
        std::string(1, static_cast<char>(signer.size())) + signer + checkpoint);
  write(records / "no_signer_record", std::string(1, '\0') + checkpoint);
  return 0;
}
