// The partner agent's journal: what this node has already put on the way to
// the ledger, so that a restart never trains and submits a second, different
// candidate for one turn and never votes twice on one request.
//
// One JSON file (work_dir/journal.json), rewritten whole on every change:
// written to journal.json.tmp, fsync'ed, renamed over the old file, and the
// directory fsync'ed, so a crash leaves the old journal or the new one. It is
// always written BEFORE the transaction it records is submitted.
//
//   {"format":"baton-agent-journal/1",
//    "candidates":{"RUN/TURN":{"run_id","turn","object_key","ciphertext_sha256",
//                  "model_sha256","envelope_json","train_samples","metrics_json",
//                  "payload"}},     # payload: hex of the exact SaveRequest bytes
//    "votes":{"REQUEST_ID_HEX":{"kind":"load"|"save","run_id","turn","approve",
//                  "payload"}},     # hex of the exact LoadApproval / ModelVote bytes
//    "deleted":["OBJECT_KEY",...],  # rejected or expired candidates' blobs removed
//    "grants":{"RUN":{"model_id","recipient",
//                  "payload"}},    # hex of the exact KeyGrant bytes (issue 13)
//    "rounds":{"RUN/ROUND/KIND":{"kind":"share"|"upload"|"unmask","run_id","round",
//                  "object_key","payload"}}}  # hex of the exact RoundShare /
//                                             # RoundUpload / RoundUnmask bytes (issue 15)
//
// "grants" is absent from journals written before issue 13, "rounds" from
// those written before issue 15 (read as none).
//
// Not thread-safe: the agent's worker thread owns it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <set>
#include <string>

#include "chain/crypto.h"
#include "chain/result.h"

namespace baton::agent {

struct JournalCandidate {
  std::string run_id;
  std::uint64_t turn = 0;
  std::string object_key;
  std::string ciphertext_sha256;  // hex
  std::string model_sha256;       // hex
  std::string envelope_json;
  std::uint64_t train_samples = 0;
  std::string metrics_json;
  std::string payload;  // the serialized SaveRequest, submitted as is (also after a restart)
};

struct JournalVote {
  std::string kind;  // "load" or "save"
  std::string run_id;
  std::uint64_t turn = 0;
  bool approve = false;
  std::string payload;  // the serialized LoadApproval or ModelVote
};

// The KeyGrant this member made for a run's sponsor (agent/key_grant.h).
struct JournalGrant {
  std::string run_id;
  std::string model_id;   // hex
  std::string recipient;  // the sponsor
  std::string payload;    // the serialized KeyGrant, submitted as is (also after a restart)
};

// A federated round's transaction this member made (agent/round_step.h).
struct JournalRound {
  std::string kind;  // "share", "upload" or "unmask"
  std::string run_id;
  std::uint64_t round = 0;
  std::string object_key;  // upload: where its masked update is stored
  std::string payload;     // the serialized transaction, submitted as is (also after a restart)
};

class AgentJournal {
 public:
  // Reads `file` if it exists (an empty journal otherwise). A journal that
  // does not parse is an error: the operator must look at it, since starting
  // afresh could submit a second candidate for a turn.
  static Result<AgentJournal> open(const std::filesystem::path& file);

  const JournalCandidate* candidate(const std::string& run_id, std::uint64_t turn) const;
  const JournalVote* vote(const chain::Hash& request_id) const;
  bool deleted(const std::string& object_key) const { return deleted_.contains(object_key); }
  const std::map<std::string, JournalCandidate>& candidates() const { return candidates_; }
  const JournalGrant* grant(const std::string& run_id) const;
  const JournalRound* round(const std::string& run_id, std::uint64_t round,
                            const std::string& kind) const;

  // Each records one fact and rewrites the file durably before returning.
  [[nodiscard]] Status put_candidate(JournalCandidate candidate);
  [[nodiscard]] Status put_vote(const chain::Hash& request_id, JournalVote vote);
  [[nodiscard]] Status mark_deleted(const std::string& object_key);
  [[nodiscard]] Status put_grant(JournalGrant grant);
  [[nodiscard]] Status put_round(JournalRound entry);

 private:
  explicit AgentJournal(std::filesystem::path file) : file_(std::move(file)) {}
  Status save() const;

  std::filesystem::path file_;
  std::map<std::string, JournalCandidate> candidates_;  // "RUN/TURN"
  std::map<std::string, JournalVote> votes_;            // request id hex
  std::set<std::string> deleted_;
  std::map<std::string, JournalGrant> grants_;  // run id
  std::map<std::string, JournalRound> rounds_;  // "RUN/ROUND/KIND"
};

}  // namespace baton::agent
