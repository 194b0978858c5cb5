#include "node/membership_follow.h"

#include "chain/membership.h"
#include "chain/membership_state.h"

namespace baton::node {
namespace {

bool same_members(const std::vector<chain::GenesisMember>& a,
                  const std::vector<chain::GenesisMember>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!chain::same_member(a[i], b[i])) return false;
  }
  return true;
}

}  // namespace

MembershipFollower::Changes MembershipFollower::observe(const chain::ChainSpec& spec,
                                                        const chain::LedgerState& state) {
  const std::vector<chain::GenesisMember>& now = chain::current_members(spec, state);
  Changes out;
  if (seen_ && same_members(members_, now)) return out;
  out.members = true;
  members_ = now;
  std::vector<consensus::Validator> voting;
  for (const auto& v : chain::current_validators(spec, state).members()) {
    if (v.power > 0) voting.push_back(consensus::Validator{v.key, v.power});
  }
  const bool same_set = validators_ && validators_->members() == voting;
  out.validators = !same_set;
  if (!same_set) {
    if (voting.empty()) {
      validators_.reset();
    } else {
      validators_.emplace(std::move(voting));
    }
  }
  seen_ = true;
  return out;
}

std::vector<p2p::MemberAddress> p2p_members(const std::vector<chain::GenesisMember>& members,
                                            const api::NodeConfig& config,
                                            const chain::PublicKey& me,
                                            std::vector<std::string>& warnings) {
  std::vector<p2p::MemberAddress> out;
  out.reserve(members.size());
  for (const auto& m : members) {
    p2p::MemberAddress addr{m.ed25519, "", 0};
    if (const auto over = config.p2p_dial.find(m.name);
        over != config.p2p_dial.end() && m.ed25519 != me) {
      addr.host = over->second.host;
      addr.port = over->second.port;
    } else if (auto hp = api::parse_host_port(m.p2p_address)) {
      addr.host = hp->host;
      addr.port = hp->port;
    } else if (m.ed25519 != me) {
      warnings.push_back("member " + m.name + " has p2p_address '" + m.p2p_address +
                         "' that cannot be dialled (" + hp.error().message +
                         "); waiting for it to dial us");
    }
    out.push_back(addr);
  }
  return out;
}

}  // namespace baton::node
