#include "agent/agent_keys.h"

#include <algorithm>

namespace baton::agent {

std::vector<chain::MemberPublicKeys> candidate_recipients(
    const std::vector<chain::GenesisMember>& members) {
  std::vector<chain::MemberPublicKeys> recipients;
  for (const auto& m : members)
    if (!m.has_role(chain::kRoleSponsor)) recipients.push_back({m.name, m.ed25519, m.x25519});
  std::sort(recipients.begin(), recipients.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  return recipients;
}

JournalCandidate journal_candidate(const std::string& run_id, std::uint64_t turn,
                                   const SealedModel& sealed, std::uint64_t train_samples,
                                   std::string metrics_json, std::string payload) {
  JournalCandidate jc;
  jc.run_id = run_id;
  jc.turn = turn;
  jc.object_key = sealed.object_key;
  jc.ciphertext_sha256 = sealed.blob_sha256.hex();
  jc.model_sha256 = sealed.model_sha256.hex();
  jc.envelope_json = sealed.envelope_json;
  jc.train_samples = train_samples;
  jc.metrics_json = std::move(metrics_json);
  jc.payload = std::move(payload);
  return jc;
}

chain::SaveRecord save_record_for(const SealedModel& sealed,
                                  const std::optional<chain::Hash>& parent,
                                  std::uint64_t train_samples, std::string metrics_json) {
  chain::SaveRecord r;
  r.parent_model_id = parent;
  r.object_key = sealed.object_key;
  r.ciphertext_sha256 = sealed.blob_sha256;
  r.model_sha256 = sealed.model_sha256;
  std::copy(sealed.envelope.key_commitment.begin(), sealed.envelope.key_commitment.end(),
            r.key_commitment.bytes.begin());
  for (const storage::WrappedKey& w : sealed.envelope.recipients) {
    r.wrapped_keys[w.member] =
        std::string(reinterpret_cast<const char*>(w.sealed.data()), w.sealed.size());
  }
  r.train_samples = train_samples;
  r.metrics_json = std::move(metrics_json);
  return r;
}

Result<storage::Envelope> envelope_for_member(const chain::SaveRecord& save,
                                              const std::string& name,
                                              const chain::X25519PublicKey& mine) {
  auto it = save.wrapped_keys.find(name);
  if (it == save.wrapped_keys.end()) {
    return make_error("the SaveRequest wraps no data key for " + name,
                      static_cast<int>(HandoffErrc::not_recipient));
  }
  if (it->second.size() != storage::kWrappedKeySize) {
    return make_error("the wrapped key for " + name + " is " + std::to_string(it->second.size()) +
                          " bytes, not a sealed box",
                      static_cast<int>(HandoffErrc::cannot_unwrap));
  }
  storage::Envelope envelope;
  std::copy(save.key_commitment.bytes.begin(), save.key_commitment.bytes.end(),
            envelope.key_commitment.begin());
  storage::WrappedKey w;
  w.member = name;
  w.recipient = mine;
  std::copy(it->second.begin(), it->second.end(), w.sealed.begin());
  envelope.recipients.push_back(std::move(w));
  envelope.blob_sha256 = save.ciphertext_sha256;
  return envelope;
}

}  // namespace baton::agent
