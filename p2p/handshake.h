// The P2P handshake as a pure state machine: no sockets, clocks or threads,
// so that tests and fuzzers drive it directly. Byte layouts are in
// docs/PROTOCOL.md ("P2P transport"); in short:
//
//   1. On connect each side sends a Hello (plaintext frame):
//        u8 0x01 || u16be version || genesis_hash(32) || identity(32, Ed25519)
//        || ephemeral(32, X25519) || u8 len(chain_id) || chain_id
//   2. On receiving the peer's Hello each side checks version, chain id,
//      genesis hash, that the identity is a genesis member and not itself
//      (and, when it dialled, that it is the member it meant to reach), then
//      sends an Auth:
//        u8 0x02 || signature(64)
//      where the signature, by the sender's Ed25519 identity, covers
//        domain_separated("baton/p2p-handshake/v1", chain_id,
//                         transcript || u8 sender_role)
//        transcript = u16be version || genesis_hash || initiator identity
//                     || initiator ephemeral || responder identity
//                     || responder ephemeral
//        sender_role = 0x01 initiator (dialler), 0x02 responder
//   3. On receiving a valid Auth the handshake is complete. Session keys:
//        shared = X25519(own ephemeral secret, peer ephemeral public)
//        th     = SHA-256(transcript)
//        k_i2r  = BLAKE2b-256(key = shared, "baton/p2p-key/i2r/v1" || th)
//        k_r2i  = BLAKE2b-256(key = shared, "baton/p2p-key/r2i/v1" || th)
//
// Anything unexpected refuses the peer with a reason; the caller closes the
// connection. The handshake timeout belongs to the caller (it owns clocks).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <set>
#include <string>

#include "chain/crypto.h"
#include "p2p/secure_channel.h"

namespace baton::p2p {

inline constexpr std::uint16_t kP2pProtocolVersion = 1;
inline constexpr std::size_t kMaxChainIdSize = 64;

enum class HandshakeRole : std::uint8_t { initiator = 0x01, responder = 0x02 };

// Why a handshake was refused. Stable numbers (they appear in logs).
enum class HandshakeRefusal {
  malformed = 1,       // a message that does not parse
  unexpected_message,  // a message out of order (e.g. Auth before Hello)
  version_mismatch,    // the peer speaks another protocol version
  chain_id_mismatch,   // the peer is on another chain
  genesis_mismatch,    // same chain id, different genesis hash
  unknown_peer,        // the identity is not a genesis member
  self_connection,     // the peer presents our own identity
  unexpected_peer,     // we dialled member X and someone else answered
  weak_ephemeral_key,  // the X25519 key is of low order (shared secret 0)
  bad_signature,       // the Auth signature does not verify
  timeout,             // not finished in time (reported by the caller)
};
const char* to_string(HandshakeRefusal refusal);

// Who we are and whom we accept. All fields are copied; nothing is borrowed.
struct HandshakeOptions {
  std::string chain_id;
  chain::Hash genesis_hash;
  std::set<chain::PublicKey> members;             // genesis members (may include us)
  std::optional<chain::PublicKey> expected_peer;  // set when we dialled someone
  std::uint16_t version = kP2pProtocolVersion;
};

// What the handshake produced when it completed.
struct HandshakeResult {
  chain::PublicKey peer;  // the peer's verified Ed25519 identity
  SessionKeys keys;       // send = our direction, receive = theirs
  chain::Hash transcript_hash;
};

// One step's outcome: at most one message to send (as a plaintext frame body),
// and either refusal, completion or neither (keep reading).
struct HandshakeStep {
  std::optional<chain::Bytes> send;
  std::optional<HandshakeRefusal> refused;
  std::string detail;  // a sentence for the log when refused
  std::optional<HandshakeResult> done;
};

class Handshake {
 public:
  // `identity` signs the transcript; `ephemeral` is a fresh X25519 key for
  // this connection only (tests pass fixed keys to get fixed bytes).
  Handshake(const chain::SigningKey& identity, chain::X25519SecretKey ephemeral, HandshakeRole role,
            HandshakeOptions options);
  ~Handshake();
  Handshake(const Handshake&) = delete;
  Handshake& operator=(const Handshake&) = delete;

  // Our Hello, to send as the first frame. May be called at any time.
  chain::Bytes hello() const;

  // Feeds one received handshake frame body. After a step with `refused` or
  // `done`, further calls are a caller bug and return `unexpected_message`.
  HandshakeStep on_message(chain::ByteView body);

  bool finished() const { return state_ == State::done || state_ == State::refused; }
  HandshakeRole role() const { return role_; }

 private:
  enum class State { await_hello, await_auth, done, refused };
  HandshakeStep refuse(HandshakeRefusal reason, std::string detail);
  HandshakeStep on_hello(chain::ByteView body);
  HandshakeStep on_auth(chain::ByteView body);
  chain::Bytes signed_bytes(HandshakeRole signer) const;

  chain::SigningKey identity_;
  chain::X25519SecretKey ephemeral_;
  HandshakeRole role_;
  HandshakeOptions options_;
  State state_ = State::await_hello;
  chain::PublicKey peer_identity_;
  chain::X25519PublicKey peer_ephemeral_;
  chain::Bytes transcript_;
  chain::SecretBytes<32> shared_;  // X25519 result; wiped once keys are derived
};

// --- The wire messages, exposed for tests and fuzzers -------------------------

struct HelloMessage {
  std::uint16_t version = kP2pProtocolVersion;
  chain::Hash genesis_hash;
  chain::PublicKey identity;
  chain::X25519PublicKey ephemeral;
  std::string chain_id;
};
chain::Bytes encode_hello(const HelloMessage& hello);
// Strict: exact length, known tag, 1..64-byte chain id. nullopt otherwise.
std::optional<HelloMessage> parse_hello(chain::ByteView body);

struct AuthMessage {
  chain::Signature signature;
};
chain::Bytes encode_auth(const AuthMessage& auth);
std::optional<AuthMessage> parse_auth(chain::ByteView body);

}  // namespace baton::p2p
