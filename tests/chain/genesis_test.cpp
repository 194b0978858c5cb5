#include "chain/genesis.h"

#include <gtest/gtest.h>

#include "chain/chain_spec.h"
#include "chain_fixture.h"

namespace baton::chain {
namespace {

using nlohmann::json;

json fixed_json() { return json::parse(encode_genesis(testing::fixed_genesis())); }

std::string parse_error(const json& j) {
  auto g = parse_genesis(j.dump(2));
  EXPECT_FALSE(g.ok()) << "accepted:\n" << j.dump(2);
  return g.ok() ? "" : g.error().message;
}

#define EXPECT_MENTIONS(text, part) \
  EXPECT_NE(std::string(text).find(part), std::string::npos) << "message: " << (text)

TEST(Genesis, FixedGenesisParses) {
  auto g = parse_genesis(encode_genesis(testing::fixed_genesis()));
  ASSERT_TRUE(g.ok()) << g.error().message;
  EXPECT_EQ(g->total_power(), 4u);
  EXPECT_EQ(g->members[0].name, "alice");
  EXPECT_TRUE(g->members[0].has_role("admin"));
  EXPECT_FALSE(g->members[1].has_role("admin"));
  EXPECT_FALSE(g->training_plan.has_value());
  EXPECT_TRUE(g->object_store.empty());
}

TEST(Genesis, HashIsSha256OfTheExactFileBytes) {
  const std::string text = encode_genesis(testing::fixed_genesis());
  EXPECT_EQ(genesis_hash(text), sha256(std::string_view(text)));
  // The same genesis with other whitespace is another network.
  EXPECT_NE(genesis_hash(text + " "), genesis_hash(text));
}

TEST(Genesis, MalformedJsonNamesThePosition) {
  const std::string e =
      parse_genesis("{\"format\": \"baton-genesis-v1\",\n \"chain_id\": }").error().message;
  EXPECT_MENTIONS(e, "not valid JSON");
  EXPECT_MENTIONS(e, "line 2");
}

// Found by tests/fuzz/chain_genesis_fuzz.cpp: nlohmann throws out_of_range,
// not parse_error, for a number that overflows a double.
TEST(Genesis, HugeNumberIsAnErrorNotACrash) {
  const std::string e = parse_genesis("{\"format\": 76e5306}").error().message;
  EXPECT_MENTIONS(e, "not valid JSON");
  EXPECT_MENTIONS(e, "number overflow");
}

TEST(Genesis, DuplicateMemberNamesAreRefused) {
  json j = fixed_json();
  j["members"][2]["name"] = "alice";
  const std::string e = parse_error(j);
  EXPECT_MENTIONS(e, "members[2]");
  EXPECT_MENTIONS(e, "same name");
}

TEST(Genesis, DuplicateEd25519KeysAreRefused) {
  json j = fixed_json();
  j["members"][3]["ed25519_public"] = j["members"][1]["ed25519_public"];
  const std::string e = parse_error(j);
  EXPECT_MENTIONS(e,
                  "members[3] (\"dave\") has the same ed25519_public key as members[1] (\"bob\")");
}

TEST(Genesis, DuplicateX25519KeysAreRefused) {
  json j = fixed_json();
  j["members"][1]["x25519_public"] = j["members"][0]["x25519_public"];
  EXPECT_MENTIONS(parse_error(j), "same x25519_public key");
}

TEST(Genesis, BadKeyEncodingIsNamed) {
  json j = fixed_json();
  j["members"][1]["ed25519_public"] = "zz" + std::string(62, '0');
  EXPECT_MENTIONS(parse_error(j), "members[1] (\"bob\").ed25519_public is not a valid key");
  j = fixed_json();
  j["members"][0]["x25519_public"] = "abcd";
  EXPECT_MENTIONS(parse_error(j), "x25519_public is not a valid key");
}

TEST(Genesis, MissingFieldsAreNamed) {
  for (const char* field : {"format", "chain_id", "genesis_time", "members"}) {
    json j = fixed_json();
    j.erase(field);
    EXPECT_MENTIONS(parse_error(j), std::string("missing the field \"") + field + "\"");
  }
  for (const char* field :
       {"name", "ed25519_public", "x25519_public", "p2p_address", "power", "roles"}) {
    json j = fixed_json();
    j["members"][2].erase(field);
    EXPECT_MENTIONS(parse_error(j), std::string("missing the field \"") + field + "\"") << field;
  }
}

TEST(Genesis, ZeroTotalPowerIsRefused) {
  json j = fixed_json();
  for (auto& m : j["members"]) {
    m["power"] = 0;
    m["roles"] = json::array({"partner"});
  }
  EXPECT_MENTIONS(parse_error(j), "total voting power is zero");
}

TEST(Genesis, BadChainIdIsRefused) {
  for (const char* id : {"", "-starts-with-dash", "has space", "slash/inside"}) {
    json j = fixed_json();
    j["chain_id"] = id;
    EXPECT_MENTIONS(parse_error(j), "chain id") << id;
  }
  json j = fixed_json();
  j["chain_id"] = std::string(65, 'a');
  EXPECT_MENTIONS(parse_error(j), "1 to 64 characters");
}

TEST(Genesis, NoMembersIsRefused) {
  json j = fixed_json();
  j["members"] = json::array();
  EXPECT_MENTIONS(parse_error(j), "no members");
}

TEST(Genesis, UnknownFieldsAreRefusedAsTypos) {
  json j = fixed_json();
  j["chian_id"] = "x";
  EXPECT_MENTIONS(parse_error(j), "unknown field \"chian_id\"");
  j = fixed_json();
  j["consensus"]["timeout_propse_ms"] = 5;
  EXPECT_MENTIONS(parse_error(j), "unknown field \"timeout_propse_ms\"");
  j = fixed_json();
  j["members"][0]["pwoer"] = 5;
  EXPECT_MENTIONS(parse_error(j), "unknown field \"pwoer\"");
}

TEST(Genesis, DuplicateJsonKeysAreRefused) {
  std::string text = encode_genesis(testing::fixed_genesis());
  const auto pos = text.find("\"chain_id\"");
  text.insert(pos, "\"chain_id\": \"other\",\n  ");
  auto g = parse_genesis(text);
  ASSERT_FALSE(g.ok());
  EXPECT_MENTIONS(g.error().message, "\"chain_id\" twice");
}

TEST(Genesis, PowerAndValidatorRoleMustAgree) {
  json j = fixed_json();
  j["members"][1]["roles"] = json::array({"partner"});
  EXPECT_MENTIONS(parse_error(j), "voting power 1 but not the \"validator\" role");
  j = fixed_json();
  j["members"][1]["power"] = 0;
  EXPECT_MENTIONS(parse_error(j), "\"validator\" role but voting power 0");
}

TEST(Genesis, UnknownAndRepeatedRolesAreRefused) {
  json j = fixed_json();
  j["members"][1]["roles"].push_back("king");
  EXPECT_MENTIONS(parse_error(j), "unknown role \"king\"");
  j = fixed_json();
  j["members"][1]["roles"].push_back("partner");
  EXPECT_MENTIONS(parse_error(j), "twice");
}

TEST(Genesis, WrongTypesAreNamed) {
  json j = fixed_json();
  j["members"][0]["power"] = -1;
  EXPECT_MENTIONS(parse_error(j), "power must be a non-negative integer");
  j = fixed_json();
  j["members"][0]["power"] = 1.5;
  EXPECT_MENTIONS(parse_error(j), "power must be a non-negative integer");
  j = fixed_json();
  j["consensus"]["max_tx_bytes"] = "big";
  EXPECT_MENTIONS(parse_error(j), "consensus.max_tx_bytes");
  j = fixed_json();
  j["training_plan"] = json::array();
  EXPECT_MENTIONS(parse_error(j), "\"training_plan\" must be a JSON object");
  EXPECT_MENTIONS(parse_genesis("[1, 2]").error().message, "must be a JSON object");
}

TEST(Genesis, BadP2pAddressIsRefused) {
  for (const char* addr : {"nohost", ":123", "host:", "host:99999", "host:12a"}) {
    json j = fixed_json();
    j["members"][0]["p2p_address"] = addr;
    EXPECT_MENTIONS(parse_error(j), "p2p_address") << addr;
  }
}

TEST(Genesis, ZeroTimeoutsAndImpossibleLimitsAreRefused) {
  json j = fixed_json();
  j["consensus"]["timeout_prevote_ms"] = 0;
  EXPECT_MENTIONS(parse_error(j), "timeout_prevote_ms must be greater than zero");
  j = fixed_json();
  j["consensus"]["max_tx_bytes"] = 2000;
  j["consensus"]["max_block_bytes"] = 1000;
  EXPECT_MENTIONS(parse_error(j), "max_tx_bytes is larger than");
}

TEST(Genesis, AbsentConsensusFieldsTakeDefaults) {
  json j = fixed_json();
  j["consensus"] = json::object({{"timeout_commit_ms", 250}});
  auto g = parse_genesis(j.dump());
  ASSERT_TRUE(g.ok()) << g.error().message;
  EXPECT_EQ(g->consensus.timeout_commit_ms, 250u);
  EXPECT_EQ(g->consensus.timeout_propose_ms, ConsensusParams{}.timeout_propose_ms);
}

TEST(Genesis, TimeMayBeUnixMilliseconds) {
  json j = fixed_json();
  j["genesis_time"] = 1795996800000;
  auto g = parse_genesis(j.dump());
  ASSERT_TRUE(g.ok()) << g.error().message;
  EXPECT_EQ(g->genesis_time_unix_ms, 1795996800000);
  j["genesis_time"] = "yesterday";
  EXPECT_MENTIONS(parse_error(j), "not RFC 3339");
}

// Expected values checked with GNU date: `date -u -d 2026-11-29T00:00:00Z +%s`.
TEST(Rfc3339, ParsesUtcOffsetsAndFractions) {
  EXPECT_EQ(parse_rfc3339_ms("1970-01-01T00:00:00Z").value(), 0);
  EXPECT_EQ(parse_rfc3339_ms("2026-11-29T00:00:00Z").value(), 1795910400000);
  EXPECT_EQ(parse_rfc3339_ms("2026-11-29T01:30:00+01:30").value(), 1795910400000);
  EXPECT_EQ(parse_rfc3339_ms("2026-11-28T23:00:00.25-01:00").value(), 1795910400250);
  EXPECT_EQ(parse_rfc3339_ms("2000-02-29T12:00:00Z").value(), 951825600000);
}

TEST(Rfc3339, RefusesImpossibleDatesAndJunk) {
  for (const char* t : {"2026-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-11-24T24:00:00Z",
                        "2026-11-24 00:00:00Z", "2026-11-24T00:00:00", "2026-11-24T00:00:00Zjunk",
                        "2026-11-24T00:00:00.Z", ""}) {
    EXPECT_FALSE(parse_rfc3339_ms(t).ok()) << t;
  }
}

TEST(Rfc3339, FormatsBackWhatItParses) {
  for (const char* t : {"1970-01-01T00:00:00Z", "2026-11-24T08:30:00Z", "2024-02-29T23:59:59.999Z",
                        "9999-12-31T23:59:59Z"}) {
    EXPECT_EQ(format_rfc3339_ms(parse_rfc3339_ms(t).value()), t);
  }
}

TEST(ChainSpec, LoadsHashAndValidatorsFromExactBytes) {
  const std::string text = encode_genesis(testing::fixed_genesis({1, 2, 3, 0}));
  auto spec = load_chain_spec(text);
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  EXPECT_EQ(spec->genesis_hash, sha256(std::string_view(text)));
  EXPECT_EQ(spec->validators.total_power(), 6u);
  EXPECT_FALSE(load_chain_spec("not json").ok());
}

}  // namespace
}  // namespace baton::chain
