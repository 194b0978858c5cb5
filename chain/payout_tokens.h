// How a run's contributivity becomes the tokens its escrow is paid out by
// (issue 13, docs/PROTOCOL.md §19.7). One small place on purpose: the
// escrow's release reads only this, and the rule for tokens may change
// (settled vote-deadline gains, delta_loss) without touching the payout.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "chain/training.h"

namespace baton::chain {

// Partner -> tokens (non-negative), every partner of the plan listed. Today:
// max(0, contributivity_ppm) (the sum of its approved turns' median AUC
// gains, ppm), so a partner whose models made things worse gets 0, not a
// debt.
std::map<std::string, std::uint64_t> payout_tokens(const Run& run);

// What `escrow` credits pay each member when it settles, by `tokens`:
// partner i gets floor(escrow * tokens_i / sum of tokens) (128-bit
// arithmetic, no overflow); the remainder of the floors (fewer credits than
// partners) goes to `sponsor`; when the sum of tokens is 0 (nobody measured
// a gain) all of it goes back to `sponsor`. Non-zero amounts only; they add
// up to exactly `escrow`.
std::map<std::string, std::uint64_t> escrow_payouts(
    std::uint64_t escrow, const std::map<std::string, std::uint64_t>& tokens,
    const std::string& sponsor);

}  // namespace baton::chain
