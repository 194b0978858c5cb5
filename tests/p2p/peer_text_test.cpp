// Peer-chosen text on its way to logs and JSON (p2p/peer_text.h).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "p2p/handshake.h"
#include "p2p/peer_text.h"

namespace baton::p2p {
namespace {

const std::string kHostile = std::string("evil\nWARN forged line\x1b[31m\\") + "\xff\xfe" + '\0';

bool all_printable(const std::string& s) {
  for (unsigned char c : s)
    if (c < 0x20 || c > 0x7e) return false;
  return true;
}

TEST(PeerText, EscapesEveryByteOutsidePrintableAsciiAndTheBackslash) {
  EXPECT_EQ(escape_peer_text("baton-testnet"), "baton-testnet");
  EXPECT_EQ(escape_peer_text(kHostile), "evil\\x0aWARN forged line\\x1b[31m\\\\\\xff\\xfe\\x00");
  EXPECT_TRUE(all_printable(escape_peer_text(kHostile)));
}

TEST(PeerText, CutsLongTextAndSaysHowLongItWas) {
  const std::string shown = escape_peer_text(std::string(500, 'a'), 10);
  EXPECT_EQ(shown, "aaaaaaaaaa...(500 bytes)");
}

TEST(PeerText, PrintableSentenceReplacesControlBytesOnly) {
  EXPECT_EQ(printable_sentence("a\\x0a b\n\x1b" + std::string("\xff")), "a\\x0a b???");
  EXPECT_EQ(printable_sentence(std::string(20, 'x'), 5), "xxxxx...");
}

TEST(PeerText, AHostileChainIdInAHelloIsEscapedInTheRefusal) {
  const auto alice = chain::SigningKey::generate();
  const auto mallory = chain::SigningKey::generate();
  HandshakeOptions mine;
  mine.chain_id = "hospitals";
  mine.genesis_hash = chain::sha256(std::string_view("genesis"));
  mine.members = {alice.public_key(), mallory.public_key()};
  Handshake me(alice, chain::X25519SecretKey::generate(), HandshakeRole::responder, mine);
  HelloMessage hello;
  hello.genesis_hash = mine.genesis_hash;
  hello.identity = mallory.public_key();
  hello.ephemeral = chain::X25519SecretKey::generate().public_key();
  hello.chain_id = kHostile;
  const HandshakeStep step = me.on_message(encode_hello(hello));
  ASSERT_EQ(step.refused, HandshakeRefusal::chain_id_mismatch);
  EXPECT_TRUE(all_printable(step.detail)) << step.detail;
  EXPECT_NE(step.detail.find("evil\\x0aWARN"), std::string::npos) << step.detail;
  // And it is valid JSON text as it stands.
  const nlohmann::json j{{"last_error", step.detail}};
  EXPECT_NO_THROW((void)j.dump());
}

}  // namespace
}  // namespace baton::p2p
