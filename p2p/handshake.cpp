#include "p2p/handshake.h"

#include <sodium.h>

#include <cstring>
#include <string_view>

#include "p2p/peer_text.h"

namespace baton::p2p {
namespace {

constexpr std::uint8_t kHelloTag = 0x01;
constexpr std::uint8_t kAuthTag = 0x02;
constexpr std::size_t kHelloFixedSize = 1 + 2 + 32 + 32 + 32 + 1;  // + chain id
constexpr std::size_t kAuthSize = 1 + 64;
constexpr std::string_view kHandshakeDomain = "baton/p2p-handshake/v1";
constexpr std::string_view kKeyI2R = "baton/p2p-key/i2r/v1";
constexpr std::string_view kKeyR2I = "baton/p2p-key/r2i/v1";

void append(chain::Bytes& out, chain::ByteView bytes) {
  out.insert(out.end(), bytes.begin(), bytes.end());
}

void append_u16(chain::Bytes& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}

SessionKey derive_key(const chain::SecretBytes<32>& shared, std::string_view label,
                      const chain::Hash& transcript_hash) {
  chain::Bytes input(label.begin(), label.end());
  append(input, transcript_hash.view());
  SessionKey key;
  crypto_generichash(key.data(), key.size(), input.data(), input.size(), shared.data(),
                     shared.size());
  return key;
}

}  // namespace

const char* to_string(HandshakeRefusal refusal) {
  switch (refusal) {
    case HandshakeRefusal::malformed:
      return "malformed handshake message";
    case HandshakeRefusal::unexpected_message:
      return "handshake message out of order";
    case HandshakeRefusal::version_mismatch:
      return "protocol version mismatch";
    case HandshakeRefusal::chain_id_mismatch:
      return "chain id mismatch";
    case HandshakeRefusal::genesis_mismatch:
      return "genesis hash mismatch";
    case HandshakeRefusal::unknown_peer:
      return "peer is not a genesis member";
    case HandshakeRefusal::self_connection:
      return "peer presented our own identity";
    case HandshakeRefusal::unexpected_peer:
      return "a different member answered";
    case HandshakeRefusal::weak_ephemeral_key:
      return "peer's ephemeral key is of low order";
    case HandshakeRefusal::bad_signature:
      return "handshake signature does not verify";
    case HandshakeRefusal::timeout:
      return "handshake timed out";
  }
  return "unknown handshake refusal";
}

chain::Bytes encode_hello(const HelloMessage& hello) {
  chain::Bytes out;
  out.reserve(kHelloFixedSize + hello.chain_id.size());
  out.push_back(kHelloTag);
  append_u16(out, hello.version);
  append(out, hello.genesis_hash.view());
  append(out, hello.identity.bytes);
  append(out, hello.ephemeral.bytes);
  out.push_back(static_cast<std::uint8_t>(hello.chain_id.size()));
  append(out, chain::as_bytes(hello.chain_id));
  return out;
}

std::optional<HelloMessage> parse_hello(chain::ByteView body) {
  if (body.size() < kHelloFixedSize + 1 || body[0] != kHelloTag) return std::nullopt;
  HelloMessage hello;
  std::size_t at = 1;
  hello.version = static_cast<std::uint16_t>((body[at] << 8) | body[at + 1]);
  at += 2;
  std::memcpy(hello.genesis_hash.bytes.data(), body.data() + at, 32);
  at += 32;
  std::memcpy(hello.identity.bytes.data(), body.data() + at, 32);
  at += 32;
  std::memcpy(hello.ephemeral.bytes.data(), body.data() + at, 32);
  at += 32;
  const std::size_t chain_id_size = body[at++];
  if (chain_id_size == 0 || chain_id_size > kMaxChainIdSize) return std::nullopt;
  if (body.size() != at + chain_id_size) return std::nullopt;
  hello.chain_id.assign(reinterpret_cast<const char*>(body.data() + at), chain_id_size);
  return hello;
}

chain::Bytes encode_auth(const AuthMessage& auth) {
  chain::Bytes out;
  out.reserve(kAuthSize);
  out.push_back(kAuthTag);
  append(out, auth.signature.bytes);
  return out;
}

std::optional<AuthMessage> parse_auth(chain::ByteView body) {
  if (body.size() != kAuthSize || body[0] != kAuthTag) return std::nullopt;
  AuthMessage auth;
  std::memcpy(auth.signature.bytes.data(), body.data() + 1, 64);
  return auth;
}

Handshake::Handshake(const chain::SigningKey& identity, chain::X25519SecretKey ephemeral,
                     HandshakeRole role, HandshakeOptions options)
    : identity_(identity),
      ephemeral_(std::move(ephemeral)),
      role_(role),
      options_(std::move(options)) {}

Handshake::~Handshake() { sodium_memzero(shared_.data(), shared_.size()); }

chain::Bytes Handshake::hello() const {
  HelloMessage hello;
  hello.version = options_.version;
  hello.genesis_hash = options_.genesis_hash;
  hello.identity = identity_.public_key();
  hello.ephemeral = ephemeral_.public_key();
  hello.chain_id = options_.chain_id;
  return encode_hello(hello);
}

HandshakeStep Handshake::refuse(HandshakeRefusal reason, std::string detail) {
  state_ = State::refused;
  HandshakeStep step;
  step.refused = reason;
  step.detail = std::move(detail);
  return step;
}

HandshakeStep Handshake::on_message(chain::ByteView body) {
  switch (state_) {
    case State::await_hello:
      return on_hello(body);
    case State::await_auth:
      return on_auth(body);
    case State::done:
    case State::refused:
      break;
  }
  return refuse(HandshakeRefusal::unexpected_message,
                "A handshake message arrived after the handshake had finished.");
}

HandshakeStep Handshake::on_hello(chain::ByteView body) {
  if (!body.empty() && body[0] == kAuthTag) {
    return refuse(HandshakeRefusal::unexpected_message,
                  "The peer sent its handshake signature before its hello.");
  }
  const std::optional<HelloMessage> hello = parse_hello(body);
  if (!hello) {
    return refuse(HandshakeRefusal::malformed,
                  "The peer's hello does not parse (" + std::to_string(body.size()) + " bytes).");
  }
  if (hello->version != options_.version) {
    return refuse(HandshakeRefusal::version_mismatch,
                  "The peer speaks P2P protocol version " + std::to_string(hello->version) +
                      ", this node speaks " + std::to_string(options_.version) +
                      "; upgrade the older node.");
  }
  if (hello->chain_id != options_.chain_id) {
    // The peer's chain id is unauthenticated bytes of its choice: escaped
    // before it can reach a log line or /status (p2p/peer_text.h).
    return refuse(HandshakeRefusal::chain_id_mismatch, "The peer is on chain '" +
                                                           escape_peer_text(hello->chain_id) +
                                                           "', this node on '" + options_.chain_id +
                                                           "'; check the peer's genesis file.");
  }
  if (hello->genesis_hash != options_.genesis_hash) {
    return refuse(HandshakeRefusal::genesis_mismatch,
                  "The peer's genesis hash " + hello->genesis_hash.hex() + " differs from ours " +
                      options_.genesis_hash.hex() +
                      "; all members must use the same genesis file.");
  }
  if (hello->identity == identity_.public_key()) {
    return refuse(HandshakeRefusal::self_connection,
                  "The peer presented this node's own key; a member lists our own address, or "
                  "two nodes share one key file.");
  }
  if (!options_.members.contains(hello->identity)) {
    return refuse(HandshakeRefusal::unknown_peer,
                  "Key " + hello->identity.hex() + " is not a member of this chain's genesis.");
  }
  if (options_.expected_peer && hello->identity != *options_.expected_peer) {
    return refuse(HandshakeRefusal::unexpected_peer,
                  "Dialled member " + options_.expected_peer->hex() + " but member " +
                      hello->identity.hex() + " answered; check the members' P2P addresses.");
  }
  // crypto_scalarmult refuses low-order points (an all-zero shared secret),
  // which would let a peer fix the session keys.
  if (crypto_scalarmult(shared_.data(), ephemeral_.secret().data(),
                        hello->ephemeral.bytes.data()) != 0) {
    return refuse(HandshakeRefusal::weak_ephemeral_key,
                  "Member " + hello->identity.hex() + " sent a low-order ephemeral key.");
  }
  peer_identity_ = hello->identity;
  peer_ephemeral_ = hello->ephemeral;

  const bool initiator = role_ == HandshakeRole::initiator;
  const chain::PublicKey& i_id = initiator ? identity_.public_key() : peer_identity_;
  const chain::X25519PublicKey& i_eph = initiator ? ephemeral_.public_key() : peer_ephemeral_;
  const chain::PublicKey& r_id = initiator ? peer_identity_ : identity_.public_key();
  const chain::X25519PublicKey& r_eph = initiator ? peer_ephemeral_ : ephemeral_.public_key();
  transcript_.clear();
  append_u16(transcript_, options_.version);
  append(transcript_, options_.genesis_hash.view());
  append(transcript_, i_id.bytes);
  append(transcript_, i_eph.bytes);
  append(transcript_, r_id.bytes);
  append(transcript_, r_eph.bytes);

  state_ = State::await_auth;
  HandshakeStep step;
  step.send = encode_auth(AuthMessage{identity_.sign(signed_bytes(role_))});
  return step;
}

chain::Bytes Handshake::signed_bytes(HandshakeRole signer) const {
  chain::Bytes body = transcript_;
  body.push_back(static_cast<std::uint8_t>(signer));
  return chain::domain_separated(kHandshakeDomain, options_.chain_id, body);
}

HandshakeStep Handshake::on_auth(chain::ByteView body) {
  const std::optional<AuthMessage> auth = parse_auth(body);
  if (!auth) {
    return refuse(HandshakeRefusal::malformed,
                  "The peer's handshake signature message does not "
                  "parse (" +
                      std::to_string(body.size()) + " bytes).");
  }
  const HandshakeRole peer_role =
      role_ == HandshakeRole::initiator ? HandshakeRole::responder : HandshakeRole::initiator;
  if (!chain::verify_signature(peer_identity_, signed_bytes(peer_role), auth->signature)) {
    return refuse(HandshakeRefusal::bad_signature,
                  "Member " + peer_identity_.hex() +
                      "'s handshake signature does not verify; the peer does not hold the key "
                      "it claims.");
  }
  HandshakeResult result;
  result.peer = peer_identity_;
  result.transcript_hash = chain::sha256(transcript_);
  // Derived straight into the result's SecretBytes: no other copy.
  SessionKey& i2r = role_ == HandshakeRole::initiator ? result.keys.send : result.keys.receive;
  SessionKey& r2i = role_ == HandshakeRole::initiator ? result.keys.receive : result.keys.send;
  i2r = derive_key(shared_, kKeyI2R, result.transcript_hash);
  r2i = derive_key(shared_, kKeyR2I, result.transcript_hash);
  sodium_memzero(shared_.data(), shared_.size());
  state_ = State::done;
  HandshakeStep step;
  step.done = std::move(result);
  return step;
}

}  // namespace baton::p2p
