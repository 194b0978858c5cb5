#include "api/members_json.h"

#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "chain/keys.h"

namespace baton::api {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxRoles = 4;  // the kRole* names, each at most once

Error malformed(const std::string& what) {
  return make_error("the node's GET /members answer is malformed: " + what);
}

Result<chain::GenesisMember> parse_member(const json& j, std::size_t index) {
  const std::string at = "members[" + std::to_string(index) + "]";
  if (!j.is_object()) return malformed(at + " is not an object");
  for (const char* key : {"name", "ed25519", "x25519", "p2p_address"})
    if (!j.contains(key) || !j[key].is_string())
      return malformed(at + " has no string \"" + key + "\"");
  chain::GenesisMember m;
  m.name = j["name"].get<std::string>();
  if (auto ok = chain::validate_member_name(m.name); !ok)
    return malformed(at + ": " + ok.error().message);
  auto ed = chain::PublicKey::from_hex(j["ed25519"].get<std::string>());
  if (!ed) return malformed(at + " (" + m.name + "): ed25519 is not 64 hex characters");
  m.ed25519 = *ed;
  auto x = chain::X25519PublicKey::from_hex(j["x25519"].get<std::string>());
  if (!x) return malformed(at + " (" + m.name + "): x25519 is not 64 hex characters");
  m.x25519 = *x;
  m.p2p_address = j["p2p_address"].get<std::string>();
  if (auto ok = chain::validate_p2p_address(m.p2p_address); !ok)
    return malformed(at + " (" + m.name + "): " + ok.error().message);
  if (!j.contains("power") || !j["power"].is_number_unsigned())
    return malformed(at + " (" + m.name + ") has no unsigned integer \"power\"");
  m.power = j["power"].get<std::uint64_t>();
  if (!j.contains("roles") || !j["roles"].is_array() || j["roles"].size() > kMaxRoles)
    return malformed(at + " (" + m.name + ") has no \"roles\" array of at most " +
                     std::to_string(kMaxRoles));
  for (const json& r : j["roles"]) {
    if (!r.is_string()) return malformed(at + " (" + m.name + "): a role is not a string");
    const std::string role = r.get<std::string>();
    if (role != chain::kRoleAdmin && role != chain::kRoleValidator && role != chain::kRolePartner &&
        role != chain::kRoleSponsor)
      return malformed(at + " (" + m.name + "): unknown role \"" + role.substr(0, 32) + "\"");
    if (m.has_role(role)) return malformed(at + " (" + m.name + "): role " + role + " twice");
    m.roles.push_back(role);
  }
  if ((m.power > 0) != m.has_role(chain::kRoleValidator))
    return malformed(at + " (" + m.name + "): power " + std::to_string(m.power) +
                     " disagrees with its validator role");
  return m;
}

}  // namespace

Result<NodeMembers> parse_node_members(std::string_view body) {
  if (body.size() > kMaxNodeMembersBytes)
    return malformed(std::to_string(body.size()) + " bytes, more than " +
                     std::to_string(kMaxNodeMembersBytes));
  const json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return malformed("not a JSON object");
  if (!j.contains("height") || !j["height"].is_number_unsigned())
    return malformed("no unsigned integer \"height\"");
  if (!j.contains("members") || !j["members"].is_array()) return malformed("no \"members\" array");
  const json& list = j["members"];
  if (list.empty()) return malformed("no members (a ledger always has one)");
  if (list.size() > kMaxNodeMembers)
    return malformed(std::to_string(list.size()) + " members, more than " +
                     std::to_string(kMaxNodeMembers));
  NodeMembers out;
  out.height = j["height"].get<std::uint64_t>();
  std::set<std::string> names;
  std::set<chain::PublicKey> eds;
  std::set<chain::X25519PublicKey> xs;
  for (std::size_t i = 0; i < list.size(); ++i) {
    auto m = parse_member(list[i], i);
    if (!m) return m.error();
    if (!names.insert(m->name).second) return malformed("member " + m->name + " is listed twice");
    if (!eds.insert(m->ed25519).second || !xs.insert(m->x25519).second)
      return malformed("member " + m->name + " has another member's key");
    out.members.push_back(std::move(*m));
  }
  return out;
}

}  // namespace baton::api
