// Checks on the ledgers of a stopped test network, shared by the integration
// tests.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

namespace baton::integration {

// Every ledger (a node's DATA/ledger directory) verifies from genesis, and
// all hold the same blocks up to the lowest tip; failures are reported with
// gtest EXPECTs. Returns that height (0 when a ledger cannot be read).
std::uint64_t expect_identical_verified_ledgers(const std::vector<std::filesystem::path>& ledgers);

}  // namespace baton::integration
