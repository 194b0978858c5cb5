#include "tests/integration/ledgers.h"

#include <algorithm>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "chain/block.h"
#include "chain/chain_spec.h"
#include "storage/ledger_store.h"
#include "storage/ledger_verify.h"
#include "tests/support/test_support.h"

namespace baton::integration {

namespace fs = std::filesystem;

std::uint64_t expect_identical_verified_ledgers(const std::vector<fs::path>& ledgers) {
  std::vector<std::unique_ptr<storage::LedgerStore>> stores;
  std::uint64_t common = UINT64_MAX;
  for (const auto& dir : ledgers) {
    auto store = storage::LedgerStore::open_reader(dir);
    EXPECT_TRUE(store.ok()) << dir;
    if (!store) return 0;
    auto spec = storage::stored_chain_spec(**store);
    EXPECT_TRUE(spec.ok()) << dir;
    if (!spec) return 0;
    auto verdict = storage::verify_ledger(**store, *spec);
    EXPECT_TRUE(verdict.ok() && verdict->ok())
        << dir << ": " << (!verdict.ok() ? verdict.error().message : verdict->reason().what);
    common = std::min(common, (*store)->tip().height);
    stores.push_back(std::move(*store));
  }
  EXPECT_GT(common, 0u);
  // The same block ids (each node stores the commit signatures it gathered,
  // so the stored bytes may differ; the blocks may not).
  auto id_at = [&](std::size_t k, std::uint64_t h) -> std::string {
    auto stored = stores[k]->block_at(h);
    if (!stored || !stored->has_value()) return "";
    auto committed = chain::decode_committed_block(**stored);
    return committed ? chain::block_id(committed->block()).hex() : "";
  };
  for (std::uint64_t h = 1; h <= common; ++h) {
    const std::string first = id_at(0, h);
    EXPECT_FALSE(first.empty()) << ledgers[0] << " height " << h;
    for (std::size_t k = 1; k < stores.size(); ++k) {
      const std::string other = id_at(k, h);
      EXPECT_EQ(other, first) << ledgers[k] << " differs from " << ledgers[0] << " at height " << h;
      if (other != first) return common;
    }
  }
  stores.clear();
  expect_independent_audit(ledgers[0]);
  return common;
}

std::string expect_independent_audit(const fs::path& ledger) {
  auto store = storage::LedgerStore::open_reader(ledger);
  EXPECT_TRUE(store.ok()) << ledger;
  if (!store) return "";
  const std::string genesis = (*store)->genesis_document();
  const storage::Tip tip = (*store)->tip();
  (*store).reset();
  EXPECT_FALSE(genesis.empty()) << ledger << " stores no genesis document";
  testing::TempDir dir("baton-audit");
  testing::write_text(dir / "genesis.json", genesis);
  auto exported = testing::run_baton({"ledger", "export", "--data-dir", ledger.string(), "--out",
                                      (dir / "export.jsonl").string()});
  EXPECT_EQ(exported.exit_code, 0) << exported.err;
  if (exported.exit_code != 0) return "";
  auto audit = testing::run_program(
      "/usr/bin/python3", {(testing::source_dir() / "tests" / "chain" / "audit_export.py").string(),
                           (dir / "genesis.json").string(), (dir / "export.jsonl").string()});
  EXPECT_EQ(audit.exit_code, 0) << ledger << ": " << audit.out << audit.err;
  const std::string ok = "ok: " + std::to_string(tip.height) + " blocks, ";
  EXPECT_EQ(audit.out.rfind(ok, 0), 0u) << audit.out;
  EXPECT_NE(audit.out.find("tip " + tip.block_id.hex() + "\n"), std::string::npos) << audit.out;
  return audit.exit_code == 0 ? audit.out : "";
}

}  // namespace baton::integration
