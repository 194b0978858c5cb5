// baton-crash-writer CONSORTIUM_DIR DATA_DIR: the child of the crash-safety
// test. Opens (or creates) the ledger as its writer, verifies what is there to
// learn the state at the tip, then appends valid blocks forever with synced
// writes. After each append() returns it writes "acked H" to stdout with one
// write(2) call: a height printed here was acknowledged as durable, so it must
// survive the SIGKILL the test sends at a random moment.
#include <unistd.h>

#include <cstdio>
#include <string>

#include "ledger_test_chain.h"
#include "storage/ledger_maker.h"
#include "storage/ledger_store.h"
#include "storage/ledger_verify.h"

namespace {

int die(const std::string& why) {
  std::fprintf(stderr, "baton-crash-writer: %s\n", why.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace baton;
  if (argc != 3) return die("usage: baton-crash-writer CONSORTIUM_DIR DATA_DIR");
  const auto consortium = storage::testing::read_consortium(argv[1]);
  auto store = storage::LedgerStore::open_writer({.dir = argv[2],
                                                  .genesis_hash = consortium.spec.genesis_hash,
                                                  .genesis_document = consortium.genesis_text});
  if (!store) return die(store.error().message);
  auto verified = storage::verify_ledger(**store, consortium.spec);
  if (!verified) return die(verified.error().message);
  if (!*verified)
    return die("height " + std::to_string(verified->reason().height) + ": " +
               verified->reason().what);

  auto maker = storage::ChainMaker::create(consortium.spec, consortium.signing_keys(),
                                           verified->value().state, {.txs_per_block = 4});
  if (!maker) return die(maker.error().message);
  for (;;) {
    auto block = maker->next_block();
    if (!block) return die(block.error().message);
    if (auto appended = (*store)->append(*block); !appended) return die(appended.error().message);
    const std::string line = "acked " + std::to_string(maker->state().height) + "\n";
    if (::write(STDOUT_FILENO, line.data(), line.size()) != static_cast<ssize_t>(line.size()))
      return die("stdout");
  }
}
