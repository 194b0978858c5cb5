// The reproducibility record of a partner's model (issue 16, SaveRequest
// fields 15..22, docs/PROTOCOL.md §18.1) and how a replay compares with it.
// Torch-free header: the LibTorch version comes from learning/.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "chain/training.h"
#include "learning/dataset.h"
#include "learning/train.h"

namespace baton::agent {

// What this build, training with `settings` on `train_rows` (nullptr: an
// aggregate, trained on no rows of this node) after encoding with the
// preprocessing schema JSON `schema_json` (empty for image models), on
// `device`, records. The seed is settings.seed, except under DP-SGD: its
// sampling and noise follow from a seed derived from the hospital's secret
// key (agent/turn_privacy.h), which must not be published, so the record
// says 0 and a replay derives it again.
chain::ReproRecord repro_record(const learning::TrainSettings& settings,
                                const learning::Dataset* train_rows, std::string_view schema_json,
                                std::string_view device);

// One line per field in which `replayed` differs from `ledger`, e.g.
// "training data: ledger 3f2a..., here 9c01..." (field order of the record;
// the seed is compared only when the ledger's is not 0). Empty when equal.
std::vector<std::string> repro_differences(const chain::ReproRecord& ledger,
                                           const chain::ReproRecord& replayed);

}  // namespace baton::agent
