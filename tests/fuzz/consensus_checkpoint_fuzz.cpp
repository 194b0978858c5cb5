// libFuzzer target for the records a validator reads back after a crash:
// the signer state (consensus/signer.h) and the engine checkpoint
// (consensus/engine.h). A damaged file must give a refusal or a fresh start,
// never a crash; the engine must then run and answer messages.
//
// Input: byte 0 picks how the rest splits between the signer record and the
// checkpoint.
#include <cstddef>
#include <cstdint>
#include <string>

#include "consensus/engine.h"
#include "tests/consensus/harness.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace baton::consensus;
  using namespace baton::consensus::testing;
  if (size < 1) return 0;
  const std::size_t split = std::min<std::size_t>(data[0], size - 1);
  const std::string signer_bytes(reinterpret_cast<const char*>(data + 1), split);
  const std::string checkpoint_bytes(reinterpret_cast<const char*>(data + 1 + split),
                                     size - 1 - split);

  static const ValidatorSet validators = make_validators({1, 1, 1, 1});
  MemorySignerStateStore store;
  pb::SignerState state;
  if (state.ParseFromString(signer_bytes)) {
    if (!store.save(state)) __builtin_trap();
  }
  auto signer = Signer::open(key_for(0), kChain, store);
  if (!signer) return 0;  // a refused record: the validator stays down, as it should

  std::optional<pb::EngineCheckpoint> checkpoint;
  pb::EngineCheckpoint parsed;
  if (parsed.ParseFromString(checkpoint_bytes)) checkpoint = parsed;
  baton::consensus::sim::ChainApp app(kChain, key_for(0).public_key());
  const std::uint64_t height = checkpoint && checkpoint->height() >= 1 && checkpoint->height() < 4
                                   ? checkpoint->height()
                                   : 1;
  Engine engine(test_options(), validators, app, signer->get(), height, checkpoint);
  engine.start();
  (void)engine.take_output();
  (void)engine.messages_to_rebroadcast();
  engine.on_message(
      vote_msg(1, baton::chain::pb::PREVOTE, height, engine.status().round, std::nullopt));
  engine.on_timeout(Timeout{height, engine.status().round, Step::propose, 0});
  (void)engine.take_output();
  return 0;
}
