#include "tools/signed_submit.h"

#include <algorithm>
#include <charconv>
#include <chrono>

#include "api/members_json.h"
#include "chain/transaction.h"
#include "tools/cli.h"
#include "tools/node_connect.h"

namespace baton::tools {

using nlohmann::json;

std::uint64_t credits_argument(const std::string& text, const std::string& flag) {
  std::uint64_t v = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || text[0] < '0' || text[0] > '9' || ec != std::errc() || ptr != end || v == 0)
    fail(flag + " " + text + ": give a positive whole number of credits (1 to 2^64-1)",
         Exit::usage);
  return v;
}

MemberSigner load_member_signer(const std::string& genesis_file, const std::string& key_file) {
  auto spec = chain::load_chain_spec(read_file(genesis_file, "genesis file"));
  if (!spec) fail("genesis file " + genesis_file + " is not valid: " + spec.error().message);
  auto keys = chain::parse_secret_keys(read_secret_file(key_file, "key file").view());
  if (!keys) fail("key file " + key_file + " is not a Baton key: " + keys.error().message);
  const auto* member = spec->genesis.find_member(keys->signing.public_key());
  if (member == nullptr) {
    fail("the key in " + key_file + " is not a member of chain " + spec->chain_id() + " (genesis " +
         genesis_file + "); use a member's NAME.key");
  }
  std::string name = member->name;
  return MemberSigner{std::move(*spec), std::move(*keys), std::move(name)};
}

namespace {

// GET /members of the node, or why not: 404 (a batond before issue 18) is
// the genesis' members.
Result<std::vector<chain::GenesisMember>> fetch_node_members(const chain::Genesis& genesis,
                                                             const std::string& node_url) {
  auto client = connect_node(node_url, std::chrono::seconds(10));
  if (!client) return client.error();
  auto r = (*client)->request("GET", "/members", {}, "application/json");
  if (!r) return r.error();
  if (r->status == 404) return genesis.members;
  if (r->status != 200) {
    return make_error("the node at " + node_url + " answered GET /members with " +
                      std::to_string(r->status));
  }
  auto parsed = api::parse_node_members(r->body);
  if (!parsed) return make_error("the node at " + node_url + ": " + parsed.error().message);
  return std::move(parsed->members);
}

}  // namespace

std::vector<chain::GenesisMember> node_members(const chain::Genesis& genesis,
                                               const std::string& node_url) {
  auto members = fetch_node_members(genesis, node_url);
  if (!members) fail(members.error().message, Exit::unavailable);
  return std::move(*members);
}

std::optional<std::vector<chain::GenesisMember>> try_node_members(const chain::Genesis& genesis,
                                                                  const std::string& node_url) {
  auto members = fetch_node_members(genesis, node_url);
  if (!members) return std::nullopt;
  return std::move(*members);
}

MemberSigner load_current_signer(const std::string& genesis_file, const std::string& key_file,
                                 const std::vector<chain::GenesisMember>& members) {
  auto spec = chain::load_chain_spec(read_file(genesis_file, "genesis file"));
  if (!spec) fail("genesis file " + genesis_file + " is not valid: " + spec.error().message);
  auto keys = chain::parse_secret_keys(read_secret_file(key_file, "key file").view());
  if (!keys) fail("key file " + key_file + " is not a Baton key: " + keys.error().message);
  const auto me = std::find_if(members.begin(), members.end(), [&](const auto& m) {
    return m.ed25519 == keys->signing.public_key();
  });
  if (me == members.end()) {
    fail("the key in " + key_file + " (" + keys->signing.public_key().hex() +
         ") is no current member of chain " + spec->chain_id() +
         "; use this hospital's node key file (key_file in node.toml)");
  }
  std::string name = me->name;
  return MemberSigner{std::move(*spec), std::move(*keys), std::move(name)};
}

json submit_signed(const MemberSigner& signer, const std::string& node_url, chain::pb::TxType type,
                   const std::string& payload) {
  auto client = connect_node(node_url, std::chrono::seconds(10));
  if (!client) fail(client.error().message, Exit::usage);
  auto get = [&](const std::string& target) {
    auto r = (*client)->request("GET", target, {}, "application/json");
    if (!r) fail(r.error().message, Exit::unavailable);
    json j = json::parse(r->body, nullptr, false);
    if (j.is_discarded() || r->status != 200)
      fail("the node at " + node_url + " did not answer " + target, Exit::unavailable);
    return j;
  };
  const json st = get("/status");
  if (st.value("genesis_hash", "") != signer.spec.genesis_hash.hex()) {
    fail("the node at " + node_url + " runs genesis " + st.value("genesis_hash", "") + ", not " +
         signer.spec.genesis_hash.hex() + "; use that node's genesis file");
  }
  const std::uint64_t nonce =
      get("/nonce/" + signer.keys.signing.public_key().hex())["next_nonce"].get<std::uint64_t>();
  const std::string tx = chain::encode_transaction(
      chain::make_transaction(signer.spec.network(), signer.keys.signing, nonce, type, payload));
  auto r = (*client)->request("POST", "/tx", tx, "application/octet-stream");
  if (!r) fail(r.error().message, Exit::unavailable);
  json j = json::parse(r->body, nullptr, false);
  if (j.is_discarded() || !j.value("accepted", false)) {
    fail("the node refused the " + chain::pb::TxType_Name(type) + " transaction: " +
             (j.is_discarded() ? r->body : j.value("error", std::string("no reason given"))),
         r->status == 503 ? Exit::unavailable : Exit::failure);
  }
  return {{"accepted", true}, {"hash", j.value("hash", "")}, {"nonce", nonce}};
}

}  // namespace baton::tools
