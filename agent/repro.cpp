#include "agent/repro.h"

#include "api/version.h"
#include "learning/torch_version.h"

namespace baton::agent {
namespace {

std::string hash_text(const std::optional<chain::Hash>& h) { return h ? h->hex() : "(none)"; }
std::string text_or_none(const std::string& s) { return s.empty() ? "(none)" : s; }

}  // namespace

chain::ReproRecord repro_record(const learning::TrainSettings& settings,
                                const learning::Dataset* train_rows, std::string_view schema_json,
                                std::string_view device) {
  chain::ReproRecord r;
  r.train_seed = settings.dp_sgd ? 0 : settings.seed;
  r.torch_threads = static_cast<std::uint32_t>(settings.threads);
  r.baton_version = std::string(api::baton_version());
  r.baton_commit = std::string(api::git_commit());
  r.libtorch_version = std::string(learning::libtorch_version());
  r.device = std::string(device);
  if (train_rows != nullptr) r.train_rows_sha256 = learning::training_rows_sha256(*train_rows);
  if (!schema_json.empty()) r.schema_sha256 = chain::sha256(schema_json);
  return r;
}

std::vector<std::string> repro_differences(const chain::ReproRecord& ledger,
                                           const chain::ReproRecord& replayed) {
  std::vector<std::string> out;
  auto differ = [&](bool same, const std::string& what, const std::string& a,
                    const std::string& b) {
    if (!same) out.push_back(what + ": ledger " + a + ", here " + b);
  };
  differ(ledger.train_rows_sha256 == replayed.train_rows_sha256, "training data hash",
         hash_text(ledger.train_rows_sha256), hash_text(replayed.train_rows_sha256));
  differ(ledger.schema_sha256 == replayed.schema_sha256, "preprocessing schema hash",
         hash_text(ledger.schema_sha256), hash_text(replayed.schema_sha256));
  differ(ledger.train_seed == 0 || ledger.train_seed == replayed.train_seed, "seed",
         std::to_string(ledger.train_seed), std::to_string(replayed.train_seed));
  differ(ledger.torch_threads == replayed.torch_threads, "threads",
         std::to_string(ledger.torch_threads), std::to_string(replayed.torch_threads));
  differ(ledger.baton_version == replayed.baton_version, "baton version",
         text_or_none(ledger.baton_version), text_or_none(replayed.baton_version));
  differ(ledger.baton_commit == replayed.baton_commit, "baton commit",
         text_or_none(ledger.baton_commit), text_or_none(replayed.baton_commit));
  differ(ledger.libtorch_version == replayed.libtorch_version, "libtorch version",
         text_or_none(ledger.libtorch_version), text_or_none(replayed.libtorch_version));
  differ(ledger.device == replayed.device, "device", text_or_none(ledger.device),
         text_or_none(replayed.device));
  return out;
}

}  // namespace baton::agent
