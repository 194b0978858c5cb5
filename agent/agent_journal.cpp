#include "agent/agent_journal.h"

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "storage/byte_stream.h"

namespace baton::agent {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kFormat = "baton-agent-journal/1";

std::string candidate_key(const std::string& run_id, std::uint64_t turn) {
  return run_id + "/" + std::to_string(turn);
}

std::string round_key(const std::string& run_id, std::uint64_t round, const std::string& kind) {
  return run_id + "/" + std::to_string(round) + "/" + kind;
}

std::string hex_of(const std::string& bytes) { return chain::to_hex(chain::as_bytes(bytes)); }

Result<std::string> bytes_of(const json& j, const char* key) {
  if (!j.contains(key) || !j[key].is_string()) return make_error(std::string("no ") + key);
  auto b = chain::from_hex(j[key].get<std::string>());
  if (!b) return make_error(std::string(key) + " is not hex");
  return std::string(b->begin(), b->end());
}

}  // namespace

Result<AgentJournal> AgentJournal::open(const fs::path& file) {
  AgentJournal journal(file);
  std::error_code ec;
  if (!fs::exists(file, ec)) return journal;
  std::ifstream in(file, std::ios::binary);
  std::ostringstream buf;
  buf << in.rdbuf();
  if (!in && !in.eof()) return make_error("cannot read the agent journal " + file.string());
  const auto bad = [&](const std::string& why) {
    return make_error("the agent journal " + file.string() + " is damaged (" + why +
                      "); move it aside only if no run is in progress for this node, since it "
                      "records the candidates and votes this node already submitted");
  };
  const json j = json::parse(buf.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return bad("not JSON");
  if (j.value("format", "") != kFormat) return bad("unknown format");
  try {
    for (const auto& [k, c] : j.at("candidates").items()) {
      JournalCandidate jc;
      jc.run_id = c.at("run_id").get<std::string>();
      jc.turn = c.at("turn").get<std::uint64_t>();
      jc.object_key = c.at("object_key").get<std::string>();
      jc.ciphertext_sha256 = c.at("ciphertext_sha256").get<std::string>();
      jc.model_sha256 = c.at("model_sha256").get<std::string>();
      jc.envelope_json = c.at("envelope_json").get<std::string>();
      jc.train_samples = c.at("train_samples").get<std::uint64_t>();
      jc.metrics_json = c.at("metrics_json").get<std::string>();
      auto payload = bytes_of(c, "payload");
      if (!payload) return bad("candidate " + k + ": " + payload.error().message);
      jc.payload = std::move(*payload);
      journal.candidates_[candidate_key(jc.run_id, jc.turn)] = std::move(jc);
    }
    for (const auto& [k, v] : j.at("votes").items()) {
      JournalVote jv;
      jv.kind = v.at("kind").get<std::string>();
      jv.run_id = v.at("run_id").get<std::string>();
      jv.turn = v.at("turn").get<std::uint64_t>();
      jv.approve = v.at("approve").get<bool>();
      auto payload = bytes_of(v, "payload");
      if (!payload) return bad("vote " + k + ": " + payload.error().message);
      jv.payload = std::move(*payload);
      journal.votes_[k] = std::move(jv);
    }
    for (const auto& d : j.at("deleted")) journal.deleted_.insert(d.get<std::string>());
    if (j.contains("grants")) {
      for (const auto& [k, g] : j.at("grants").items()) {
        JournalGrant jg;
        jg.run_id = g.at("run_id").get<std::string>();
        jg.model_id = g.at("model_id").get<std::string>();
        jg.recipient = g.at("recipient").get<std::string>();
        auto payload = bytes_of(g, "payload");
        if (!payload) return bad("grant " + k + ": " + payload.error().message);
        jg.payload = std::move(*payload);
        if (jg.run_id != k) return bad("grant " + k + " names run " + jg.run_id);
        journal.grants_[k] = std::move(jg);
      }
    }
    if (j.contains("rounds")) {
      for (const auto& [k, r] : j.at("rounds").items()) {
        JournalRound jr;
        jr.kind = r.at("kind").get<std::string>();
        jr.run_id = r.at("run_id").get<std::string>();
        jr.round = r.at("round").get<std::uint64_t>();
        jr.object_key = r.at("object_key").get<std::string>();
        auto payload = bytes_of(r, "payload");
        if (!payload) return bad("round entry " + k + ": " + payload.error().message);
        jr.payload = std::move(*payload);
        if (round_key(jr.run_id, jr.round, jr.kind) != k) return bad("round entry " + k);
        journal.rounds_[k] = std::move(jr);
      }
    }
  } catch (const json::exception& e) {
    return bad(e.what());
  }
  return journal;
}

const JournalCandidate* AgentJournal::candidate(const std::string& run_id,
                                                std::uint64_t turn) const {
  auto it = candidates_.find(candidate_key(run_id, turn));
  return it == candidates_.end() ? nullptr : &it->second;
}

const JournalVote* AgentJournal::vote(const chain::Hash& request_id) const {
  auto it = votes_.find(request_id.hex());
  return it == votes_.end() ? nullptr : &it->second;
}

Status AgentJournal::put_candidate(JournalCandidate candidate) {
  const std::string key = candidate_key(candidate.run_id, candidate.turn);
  candidates_[key] = std::move(candidate);
  return save();
}

Status AgentJournal::put_vote(const chain::Hash& request_id, JournalVote vote) {
  votes_[request_id.hex()] = std::move(vote);
  return save();
}

Status AgentJournal::mark_deleted(const std::string& object_key) {
  if (!deleted_.insert(object_key).second) return {};
  return save();
}

const JournalGrant* AgentJournal::grant(const std::string& run_id) const {
  auto it = grants_.find(run_id);
  return it == grants_.end() ? nullptr : &it->second;
}

Status AgentJournal::put_grant(JournalGrant grant) {
  const std::string key = grant.run_id;
  grants_[key] = std::move(grant);
  return save();
}

const JournalRound* AgentJournal::round(const std::string& run_id, std::uint64_t round,
                                        const std::string& kind) const {
  auto it = rounds_.find(round_key(run_id, round, kind));
  return it == rounds_.end() ? nullptr : &it->second;
}

Status AgentJournal::put_round(JournalRound entry) {
  const std::string key = round_key(entry.run_id, entry.round, entry.kind);
  rounds_[key] = std::move(entry);
  return save();
}

Status AgentJournal::save() const {
  json j;
  j["format"] = kFormat;
  j["candidates"] = json::object();
  for (const auto& [k, c] : candidates_) {
    j["candidates"][k] = {{"run_id", c.run_id},
                          {"turn", c.turn},
                          {"object_key", c.object_key},
                          {"ciphertext_sha256", c.ciphertext_sha256},
                          {"model_sha256", c.model_sha256},
                          {"envelope_json", c.envelope_json},
                          {"train_samples", c.train_samples},
                          {"metrics_json", c.metrics_json},
                          {"payload", hex_of(c.payload)}};
  }
  j["votes"] = json::object();
  for (const auto& [k, v] : votes_) {
    j["votes"][k] = {{"kind", v.kind},
                     {"run_id", v.run_id},
                     {"turn", v.turn},
                     {"approve", v.approve},
                     {"payload", hex_of(v.payload)}};
  }
  j["deleted"] = deleted_;
  j["grants"] = json::object();
  for (const auto& [k, g] : grants_) {
    j["grants"][k] = {{"run_id", g.run_id},
                      {"model_id", g.model_id},
                      {"recipient", g.recipient},
                      {"payload", hex_of(g.payload)}};
  }
  if (!rounds_.empty()) {
    j["rounds"] = json::object();
    for (const auto& [k, r] : rounds_) {
      j["rounds"][k] = {{"kind", r.kind},
                        {"run_id", r.run_id},
                        {"round", r.round},
                        {"object_key", r.object_key},
                        {"payload", hex_of(r.payload)}};
    }
  }
  return storage::write_file_durably(file_, j.dump(1) + "\n");
}

}  // namespace baton::agent
