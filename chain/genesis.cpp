#include "chain/genesis.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "chain/keys.h"
#include "chain/training_plan.h"

namespace baton::chain {
namespace {

using nlohmann::json;

constexpr std::string_view kFormat = "baton-genesis-v1";

std::string in_quotes(std::string_view s) { return "\"" + std::string(s) + "\""; }

std::string member_label(std::size_t i, std::string_view name) {
  return "members[" + std::to_string(i) + "]" + (name.empty() ? "" : " (" + in_quotes(name) + ")");
}

// Parses JSON, refusing duplicate keys inside any object: nlohmann keeps the
// last value silently, and two readers of one genesis must never disagree.
Result<json> parse_strict_json(std::string_view text) {
  std::vector<std::set<std::string>> open_objects;
  std::string duplicate;
  const json::parser_callback_t callback = [&](int, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
        open_objects.emplace_back();
        break;
      case json::parse_event_t::object_end:
        if (!open_objects.empty()) open_objects.pop_back();
        break;
      case json::parse_event_t::key:
        if (!open_objects.empty() &&
            !open_objects.back().insert(parsed.get<std::string>()).second && duplicate.empty()) {
          duplicate = parsed.get<std::string>();
        }
        break;
      default:
        break;
    }
    return true;
  };
  json j;
  try {
    j = json::parse(text.begin(), text.end(), callback);
  } catch (const json::parse_error& e) {
    std::string what = e.what();
    if (auto pos = what.find("] "); pos != std::string::npos) what = what.substr(pos + 2);
    return make_error("genesis is not valid JSON: " + what + " (byte " + std::to_string(e.byte) +
                      ")");
  } catch (const json::exception& e) {
    // Not only syntax: e.g. a number too large for a double (out_of_range.406).
    std::string what = e.what();
    if (auto pos = what.find("] "); pos != std::string::npos) what = what.substr(pos + 2);
    return make_error("genesis is not valid JSON: " + what);
  }
  if (!duplicate.empty())
    return make_error("genesis has the key " + in_quotes(duplicate) +
                      " twice in one object; remove one");
  return j;
}

Status refuse_unknown_keys(const json& obj, std::initializer_list<std::string_view> known,
                           const std::string& where) {
  for (const auto& [key, value] : obj.items()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      return make_error("genesis: " + where + " has an unknown field " + in_quotes(key) +
                        " (check its spelling)");
    }
  }
  return {};
}

Result<const json*> require(const json& obj, const char* field, const std::string& where) {
  auto it = obj.find(field);
  if (it == obj.end())
    return make_error("genesis: " + where + " is missing the field " + in_quotes(field));
  return &*it;
}

Result<std::string> require_string(const json& obj, const char* field, const std::string& where) {
  auto v = require(obj, field, where);
  if (!v) return v.error();
  if (!(*v)->is_string())
    return make_error("genesis: " + where + "." + field + " must be a string");
  return (*v)->get<std::string>();
}

Result<std::uint64_t> as_unsigned(const json& v, const std::string& what) {
  if (!v.is_number_unsigned())
    return make_error("genesis: " + what + " must be a non-negative integer");
  return v.get<std::uint64_t>();
}

Status parse_consensus(const json& j, ConsensusParams& out) {
  if (!j.is_object()) return make_error("genesis: \"consensus\" must be a JSON object");
  struct Field {
    const char* name;
    std::uint64_t ConsensusParams::*member;
  };
  static constexpr Field kFields[] = {
      {"timeout_propose_ms", &ConsensusParams::timeout_propose_ms},
      {"timeout_propose_delta_ms", &ConsensusParams::timeout_propose_delta_ms},
      {"timeout_prevote_ms", &ConsensusParams::timeout_prevote_ms},
      {"timeout_prevote_delta_ms", &ConsensusParams::timeout_prevote_delta_ms},
      {"timeout_precommit_ms", &ConsensusParams::timeout_precommit_ms},
      {"timeout_precommit_delta_ms", &ConsensusParams::timeout_precommit_delta_ms},
      {"timeout_commit_ms", &ConsensusParams::timeout_commit_ms},
      {"max_block_txs", &ConsensusParams::max_block_txs},
      {"max_block_bytes", &ConsensusParams::max_block_bytes},
      {"max_tx_bytes", &ConsensusParams::max_tx_bytes},
      {"max_block_evidence", &ConsensusParams::max_block_evidence},
  };
  for (const auto& [key, value] : j.items()) {
    const Field* field = nullptr;
    for (const auto& f : kFields)
      if (key == f.name) field = &f;
    if (field == nullptr)
      return make_error("genesis: \"consensus\" has an unknown field " + in_quotes(key) +
                        " (check its spelling)");
    auto n = as_unsigned(value, "consensus." + key);
    if (!n) return n.error();
    out.*(field->member) = *n;
  }
  return {};
}

Result<GenesisMember> parse_member(const json& j, std::size_t index) {
  std::string where = member_label(index, "");
  if (!j.is_object()) return make_error("genesis: " + where + " must be a JSON object");
  GenesisMember m;
  auto name = require_string(j, "name", where);
  if (!name) return name.error();
  if (auto s = validate_member_name(*name); !s)
    return make_error("genesis: " + where + ": " + s.error().message);
  m.name = *name;
  where = member_label(index, m.name);
  if (auto s = refuse_unknown_keys(
          j,
          {"name", "ed25519_public", "x25519_public", "p2p_address", "power", "roles", "balance"},
          where);
      !s)
    return s.error();
  auto ed = require_string(j, "ed25519_public", where);
  if (!ed) return ed.error();
  auto ed_key = PublicKey::from_hex(*ed);
  if (!ed_key)
    return make_error("genesis: " + where +
                      ".ed25519_public is not a valid key: " + ed_key.error().message);
  m.ed25519 = *ed_key;
  auto x = require_string(j, "x25519_public", where);
  if (!x) return x.error();
  auto x_key = X25519PublicKey::from_hex(*x);
  if (!x_key)
    return make_error("genesis: " + where +
                      ".x25519_public is not a valid key: " + x_key.error().message);
  m.x25519 = *x_key;
  auto addr = require_string(j, "p2p_address", where);
  if (!addr) return addr.error();
  m.p2p_address = *addr;
  auto power = require(j, "power", where);
  if (!power) return power.error();
  auto p = as_unsigned(**power, where + ".power");
  if (!p) return p.error();
  m.power = *p;
  auto roles = require(j, "roles", where);
  if (!roles) return roles.error();
  if (!(*roles)->is_array())
    return make_error("genesis: " + where + ".roles must be an array of strings");
  for (const auto& r : **roles) {
    if (!r.is_string())
      return make_error("genesis: " + where + ".roles must be an array of strings");
    m.roles.push_back(r.get<std::string>());
  }
  if (auto it = j.find("balance"); it != j.end()) {
    auto b = as_unsigned(*it, where + ".balance");
    if (!b) return b.error();
    m.balance = *b;
  }
  return m;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

}  // namespace

bool GenesisMember::has_role(std::string_view role) const {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

const GenesisMember* Genesis::find_member(const PublicKey& key) const {
  for (const auto& m : members)
    if (m.ed25519 == key) return &m;
  return nullptr;
}

const GenesisMember* Genesis::find_member(std::string_view name) const {
  for (const auto& m : members)
    if (m.name == name) return &m;
  return nullptr;
}

std::uint64_t Genesis::total_power() const {
  std::uint64_t total = 0;
  for (const auto& m : members) total += m.power;
  return total;
}

Status validate_p2p_address(std::string_view addr) {
  const auto colon = addr.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == addr.size()) {
    return make_error("p2p address " + in_quotes(addr) + " must look like host:port");
  }
  const auto port_text = addr.substr(colon + 1);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
    return make_error("p2p address " + in_quotes(addr) +
                      " has a port that is not a number from 0 to 65535");
  }
  return {};
}

Status validate_chain_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return make_error("a chain id must have 1 to 64 characters");
  auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  if (!alnum(id.front()))
    return make_error("chain id " + in_quotes(id) + " must start with a letter or digit");
  for (char c : id) {
    if (!alnum(c) && c != '.' && c != '_' && c != '-') {
      return make_error("chain id " + in_quotes(id) +
                        " may only use letters, digits, '.', '_' and '-'");
    }
  }
  return {};
}

Status validate_genesis(const Genesis& g) {
  if (auto s = validate_chain_id(g.chain_id); !s)
    return make_error("genesis: " + s.error().message);
  // Year 1970 to 9999: what RFC 3339 can write.
  if (g.genesis_time_unix_ms < 0 || g.genesis_time_unix_ms >= 253402300800000) {
    return make_error("genesis: genesis_time must lie between 1970 and 9999");
  }
  if (g.members.empty())
    return make_error("genesis has no members; add at least one with voting power");
  std::uint64_t total = 0;
  std::uint64_t credits = 0;  // genesis allocations: conserved ever after (chain/accounts.h)
  for (std::size_t i = 0; i < g.members.size(); ++i) {
    const auto& m = g.members[i];
    const std::string where = member_label(i, m.name);
    if (auto s = validate_member_name(m.name); !s)
      return make_error("genesis: " + where + ": " + s.error().message);
    if (auto s = validate_p2p_address(m.p2p_address); !s)
      return make_error("genesis: " + where + ".p2p_address: " + s.error().message);
    for (std::size_t j = 0; j < i; ++j) {
      const auto& o = g.members[j];
      const std::string other = member_label(j, o.name);
      if (o.name == m.name)
        return make_error("genesis: " + where + " has the same name as " + other);
      if (o.ed25519 == m.ed25519)
        return make_error("genesis: " + where + " has the same ed25519_public key as " + other);
      if (o.x25519 == m.x25519)
        return make_error("genesis: " + where + " has the same x25519_public key as " + other);
    }
    std::set<std::string_view> seen;
    for (const auto& r : m.roles) {
      if (r != kRoleAdmin && r != kRoleValidator && r != kRolePartner && r != kRoleSponsor) {
        return make_error("genesis: " + where + " has an unknown role " + in_quotes(r) +
                          "; roles are \"admin\", \"validator\", \"partner\" and \"sponsor\"");
      }
      if (!seen.insert(r).second)
        return make_error("genesis: " + where + " lists the role " + in_quotes(r) + " twice");
    }
    if (m.power > 0 && !m.has_role(kRoleValidator)) {
      return make_error("genesis: " + where + " has voting power " + std::to_string(m.power) +
                        " but not the \"validator\" role");
    }
    if (m.has_role(kRoleSponsor) &&
        (m.power > 0 || m.has_role(kRoleValidator) || m.has_role(kRolePartner))) {
      return make_error("genesis: " + where +
                        " is a \"sponsor\" and so must have power 0 and neither the \"validator\" "
                        "nor the \"partner\" role (a sponsor has no data and never votes)");
    }
    if (m.power == 0 && m.has_role(kRoleValidator)) {
      return make_error("genesis: " + where + " has the \"validator\" role but voting power 0");
    }
    // Quorum arithmetic multiplies the total by 3; keep it far from overflow.
    if (m.power > std::numeric_limits<std::uint64_t>::max() / 8 - total) {
      return make_error(
          "genesis: the total voting power is too large; use small integers such as 1 per member");
    }
    total += m.power;
    if (m.balance > std::numeric_limits<std::uint64_t>::max() - credits) {
      return make_error(
          "genesis: the members' balances add up to more than 2^64-1 credits; "
          "allocate fewer credits");
    }
    credits += m.balance;
  }
  if (total == 0)
    return make_error(
        "genesis: the total voting power is zero; give at least one member power and the "
        "\"validator\" role");
  const auto& c = g.consensus;
  struct Positive {
    const char* name;
    std::uint64_t value;
  };
  for (const auto& [name, value] :
       {Positive{"timeout_propose_ms", c.timeout_propose_ms},
        Positive{"timeout_prevote_ms", c.timeout_prevote_ms},
        Positive{"timeout_precommit_ms", c.timeout_precommit_ms},
        Positive{"max_block_txs", c.max_block_txs}, Positive{"max_block_bytes", c.max_block_bytes},
        Positive{"max_tx_bytes", c.max_tx_bytes}}) {
    if (value == 0)
      return make_error(std::string("genesis: consensus.") + name + " must be greater than zero");
  }
  if (c.max_tx_bytes > c.max_block_bytes) {
    return make_error(
        "genesis: consensus.max_tx_bytes is larger than consensus.max_block_bytes; no block could "
        "hold such a transaction");
  }
  // No plan: no run at genesis. Otherwise the plan must be valid for these
  // members (docs/PROTOCOL.md §18.1); its run starts at block 1.
  if (g.training_plan) {
    if (auto s = validate_plan(g, *g.training_plan); !s)
      return make_error("genesis: " + s.error().message);
    // §23: no DataSummary exists before block 1, so no schema to derive.
    if (!g.training_plan->schema_id.empty())
      return make_error(
          "genesis: the training plan names dataset.schema_id, but no hospital can have posted "
          "its summary before the chain starts; leave it out of the genesis plan and start that "
          "run with `baton run start` once the summaries are on the ledger");
  }
  if (!g.object_store.is_object())
    return make_error("genesis: \"object_store\" must be a JSON object");
  return {};
}

Result<Genesis> parse_genesis(std::string_view text) {
  auto parsed = parse_strict_json(text);
  if (!parsed) return parsed.error();
  const json& j = *parsed;
  if (!j.is_object()) return make_error("genesis must be a JSON object");
  if (auto s = refuse_unknown_keys(j,
                                   {"format", "chain_id", "genesis_time", "consensus", "members",
                                    "training_plan", "object_store"},
                                   "the top level");
      !s)
    return s.error();
  Genesis g;
  auto format = require_string(j, "format", "the top level");
  if (!format) return format.error();
  if (*format != kFormat)
    return make_error("genesis has format " + in_quotes(*format) + "; expected " +
                      in_quotes(kFormat));
  auto chain_id = require_string(j, "chain_id", "the top level");
  if (!chain_id) return chain_id.error();
  g.chain_id = *chain_id;
  if (auto s = validate_chain_id(g.chain_id); !s)
    return make_error("genesis: " + s.error().message);

  auto time = require(j, "genesis_time", "the top level");
  if (!time) return time.error();
  if ((*time)->is_string()) {
    auto ms = parse_rfc3339_ms((*time)->get<std::string>());
    if (!ms) return make_error("genesis: genesis_time: " + ms.error().message);
    g.genesis_time_unix_ms = *ms;
  } else if ((*time)->is_number_integer()) {
    g.genesis_time_unix_ms = (*time)->get<std::int64_t>();
  } else {
    return make_error(
        "genesis: genesis_time must be an RFC 3339 string such as \"2026-11-24T00:00:00Z\" or unix "
        "milliseconds");
  }

  if (auto it = j.find("consensus"); it != j.end()) {
    if (auto s = parse_consensus(*it, g.consensus); !s) return s.error();
  }
  auto members = require(j, "members", "the top level");
  if (!members) return members.error();
  if (!(*members)->is_array()) return make_error("genesis: \"members\" must be an array");
  for (std::size_t i = 0; i < (*members)->size(); ++i) {
    auto m = parse_member((**members)[i], i);
    if (!m) return m.error();
    g.members.push_back(std::move(*m));
  }
  if (auto it = j.find("training_plan"); it != j.end()) {
    if (!it->is_object()) return make_error("genesis: \"training_plan\" must be a JSON object");
    // Decoded here, once; validate_genesis checks it against the members.
    auto plan = decode_plan_json(*it);
    if (!plan) return make_error("genesis: " + plan.error().message);
    g.training_plan = std::move(*plan);
  }
  if (auto it = j.find("object_store"); it != j.end()) g.object_store = *it;
  if (auto s = validate_genesis(g); !s) return s.error();
  return g;
}

std::string encode_genesis(const Genesis& g) {
  // nlohmann::ordered_json keeps insertion order, so the file reads top-down.
  using ojson = nlohmann::ordered_json;
  const auto& c = g.consensus;
  ojson consensus = {
      {"timeout_propose_ms", c.timeout_propose_ms},
      {"timeout_propose_delta_ms", c.timeout_propose_delta_ms},
      {"timeout_prevote_ms", c.timeout_prevote_ms},
      {"timeout_prevote_delta_ms", c.timeout_prevote_delta_ms},
      {"timeout_precommit_ms", c.timeout_precommit_ms},
      {"timeout_precommit_delta_ms", c.timeout_precommit_delta_ms},
      {"timeout_commit_ms", c.timeout_commit_ms},
      {"max_block_txs", c.max_block_txs},
      {"max_block_bytes", c.max_block_bytes},
      {"max_tx_bytes", c.max_tx_bytes},
      {"max_block_evidence", c.max_block_evidence},
  };
  ojson members = ojson::array();
  for (const auto& m : g.members) {
    ojson member{{"name", m.name},
                 {"ed25519_public", m.ed25519.hex()},
                 {"x25519_public", m.x25519.hex()},
                 {"p2p_address", m.p2p_address},
                 {"power", m.power},
                 {"roles", m.roles}};
    // Written only when allocated, so that genesis files without accounts
    // (and their hashes) stay as they were.
    if (m.balance > 0) member["balance"] = m.balance;
    members.push_back(std::move(member));
  }
  ojson j = {{"format", kFormat},
             {"chain_id", g.chain_id},
             {"genesis_time", format_rfc3339_ms(g.genesis_time_unix_ms)},
             {"consensus", consensus},
             {"members", members},
             {"training_plan", g.training_plan ? ojson::parse(plan_to_json(*g.training_plan).dump())
                                               : ojson::object()},
             {"object_store", ojson::parse(g.object_store.dump())}};
  return j.dump(2) + "\n";
}

Hash genesis_hash(std::string_view exact_file_bytes) { return sha256(exact_file_bytes); }

Result<std::int64_t> parse_rfc3339_ms(std::string_view t) {
  const auto bad = [&] {
    return make_error("time " + in_quotes(t) +
                      " is not RFC 3339 (expected e.g. \"2026-11-24T08:30:00Z\")");
  };
  auto digits = [&](std::size_t pos, std::size_t n, int& out) {
    if (pos + n > t.size()) return false;
    out = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
      if (t[i] < '0' || t[i] > '9') return false;
      out = out * 10 + (t[i] - '0');
    }
    return true;
  };
  int year, month, day, hour, minute, second;
  if (!digits(0, 4, year) || t.size() < 20 || t[4] != '-' || !digits(5, 2, month) || t[7] != '-' ||
      !digits(8, 2, day) || (t[10] != 'T' && t[10] != 't') || !digits(11, 2, hour) ||
      t[13] != ':' || !digits(14, 2, minute) || t[16] != ':' || !digits(17, 2, second)) {
    return bad();
  }
  std::size_t pos = 19;
  int millis = 0;
  if (pos < t.size() && t[pos] == '.') {
    ++pos;
    int n = 0;
    while (pos < t.size() && t[pos] >= '0' && t[pos] <= '9') {
      if (n < 3) millis = millis * 10 + (t[pos] - '0');
      ++n;
      ++pos;
    }
    if (n == 0) return bad();
    for (int i = n; i < 3; ++i) millis *= 10;
  }
  std::int64_t offset_minutes = 0;
  if (pos < t.size() && (t[pos] == 'Z' || t[pos] == 'z')) {
    ++pos;
  } else if (pos < t.size() && (t[pos] == '+' || t[pos] == '-')) {
    int oh, om;
    if (!digits(pos + 1, 2, oh) || pos + 3 >= t.size() || t[pos + 3] != ':' ||
        !digits(pos + 4, 2, om) || oh > 23 || om > 59)
      return bad();
    offset_minutes = (t[pos] == '+' ? 1 : -1) * (oh * 60 + om);
    pos += 6;
  } else {
    return bad();
  }
  if (pos != t.size()) return bad();
  static constexpr int kDaysInMonth[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (month < 1 || month > 12 || day < 1 || day > kDaysInMonth[month - 1] ||
      (month == 2 && day == 29 && !leap) || hour > 23 || minute > 59 || second > 60) {
    return make_error("time " + in_quotes(t) + " names a date or time that does not exist");
  }
  const std::int64_t days =
      days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  const std::int64_t secs =
      days * 86400 + hour * 3600 + minute * 60 + std::min(second, 59) - offset_minutes * 60;
  return secs * 1000 + millis;
}

std::string format_rfc3339_ms(std::int64_t unix_ms) {
  std::int64_t secs = unix_ms / 1000;
  std::int64_t ms = unix_ms % 1000;
  if (ms < 0) {
    ms += 1000;
    secs -= 1;
  }
  std::int64_t days = secs / 86400;
  std::int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    days -= 1;
  }
  std::int64_t y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  char buf[64];
  if (ms == 0) {
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lldZ",
                  static_cast<long long>(y), m, d, static_cast<long long>(rem / 3600),
                  static_cast<long long>(rem / 60 % 60), static_cast<long long>(rem % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ",
                  static_cast<long long>(y), m, d, static_cast<long long>(rem / 3600),
                  static_cast<long long>(rem / 60 % 60), static_cast<long long>(rem % 60),
                  static_cast<long long>(ms));
  }
  return buf;
}

}  // namespace baton::chain
