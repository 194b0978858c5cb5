// Checks on the ledgers of a stopped test network, shared by the integration
// tests.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace baton::integration {

// Every ledger (a node's DATA/ledger directory) verifies from genesis, and
// all hold the same blocks up to the lowest tip, and the first one passes
// the independent audit below; failures are reported with gtest EXPECTs.
// Returns that height (0 when a ledger cannot be read).
std::uint64_t expect_identical_verified_ledgers(const std::vector<std::filesystem::path>& ledgers);

// tests/chain/audit_export.py (python3 and PyNaCl, none of Baton's code) on
// `baton ledger export` of `ledger` with the genesis document the ledger
// stores: it must recompute every block's app state hash, the training runs'
// included, and reach the ledger's own tip. Returns the auditor's output
// (its last lines: one per training run, "run ID: STATUS, turns ..."), empty
// after a failure.
std::string expect_independent_audit(const std::filesystem::path& ledger);

}  // namespace baton::integration
