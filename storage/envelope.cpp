#include "storage/envelope.h"

#include <sodium.h>

#include <nlohmann/json.hpp>
#include <set>

namespace baton::storage {

namespace {

constexpr std::string_view kFormat = "baton-envelope-v1";
constexpr std::string_view kCipher = "AES-256-GCM";

Error envelope_error(std::string message) {
  return make_error("the key envelope is not valid: " + std::move(message),
                    static_cast<int>(VaultErrc::bad_envelope));
}

template <std::size_t N>
Result<std::array<std::uint8_t, N>> hex_field(const nlohmann::json& obj, const char* name) {
  if (!obj.contains(name) || !obj[name].is_string())
    return envelope_error(std::string("field \"") + name + "\" is missing or not a string");
  auto b = chain::from_hex(obj[name].get<std::string>());
  if (!b || b->size() != N) {
    return envelope_error(std::string("field \"") + name + "\" must be " + std::to_string(2 * N) +
                          " hex characters");
  }
  std::array<std::uint8_t, N> out{};
  std::copy(b->begin(), b->end(), out.begin());
  return out;
}

}  // namespace

WrappedKey wrap_key_for(const DataKey& key, std::string member,
                        const chain::X25519PublicKey& recipient) {
  WrappedKey w;
  w.member = std::move(member);
  w.recipient = recipient;
  if (sodium_init() < 0) std::abort();
  if (crypto_box_seal(w.sealed.data(), key.bytes().data(), key.bytes().size(),
                      recipient.bytes.data()) != 0) {
    std::abort();
  }
  return w;
}

Result<Envelope> make_envelope(const DataKey& key,
                               const std::vector<chain::MemberPublicKeys>& members) {
  if (members.empty()) {
    return make_error("an envelope needs at least one recipient",
                      static_cast<int>(VaultErrc::invalid_argument));
  }
  Envelope env;
  env.key_commitment = key.commitment();
  std::set<chain::X25519PublicKey> seen;
  for (const auto& m : members) {
    if (!seen.insert(m.x25519).second) {
      return make_error("member " + m.name + " is listed twice as a recipient (same x25519 key)",
                        static_cast<int>(VaultErrc::invalid_argument));
    }
    env.recipients.push_back(wrap_key_for(key, m.name, m.x25519));
  }
  return env;
}

Result<DataKey> unwrap(const Envelope& envelope, const chain::X25519SecretKey& secret) {
  const auto& mine = secret.public_key();
  for (const auto& w : envelope.recipients) {
    if (w.recipient != mine) continue;
    std::array<std::uint8_t, kDataKeySize> raw{};
    if (sodium_init() < 0) std::abort();
    if (crypto_box_seal_open(raw.data(), w.sealed.data(), w.sealed.size(), mine.bytes.data(),
                             secret.secret().data()) != 0) {
      return envelope_error("the wrapped key for " + w.member +
                            " does not open with this secret key; the envelope is corrupted");
    }
    auto key = DataKey::from_bytes(raw);
    sodium_memzero(raw.data(), raw.size());
    if (!key) return key.error();
    if (sodium_memcmp(key->commitment().data(), envelope.key_commitment.data(), 32) != 0) {
      return envelope_error("the key wrapped for " + w.member +
                            " does not match the envelope's key commitment");
    }
    return key;
  }
  return make_error("the envelope holds no wrapped key for this member's x25519 key " + mine.hex() +
                        "; ask a recipient to re-wrap the key for you",
                    static_cast<int>(VaultErrc::not_recipient));
}

std::string encode_envelope(const Envelope& envelope) {
  nlohmann::ordered_json j;
  j["format"] = kFormat;
  j["cipher"] = kCipher;
  j["key_commitment"] = chain::to_hex(envelope.key_commitment);
  auto arr = nlohmann::ordered_json::array();
  for (const auto& w : envelope.recipients) {
    nlohmann::ordered_json r;
    r["name"] = w.member;
    r["x25519_public"] = w.recipient.hex();
    r["wrapped_key"] = chain::to_hex(w.sealed);
    arr.push_back(std::move(r));
  }
  j["recipients"] = std::move(arr);
  if (envelope.blob_size) j["blob_size"] = *envelope.blob_size;
  if (envelope.blob_sha256) j["blob_sha256"] = envelope.blob_sha256->hex();
  return j.dump(2) + "\n";
}

Result<Envelope> parse_envelope(std::string_view json_text) {
  nlohmann::json j = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return envelope_error("it is not a JSON object");
  if (!j.contains("format") || j["format"] != kFormat) {
    return envelope_error("\"format\" must be \"baton-envelope-v1\"");
  }
  if (!j.contains("cipher") || j["cipher"] != kCipher)
    return envelope_error("\"cipher\" must be \"AES-256-GCM\"");
  Envelope env;
  auto commit = hex_field<32>(j, "key_commitment");
  if (!commit) return commit.error();
  env.key_commitment = *commit;
  if (!j.contains("recipients") || !j["recipients"].is_array() || j["recipients"].empty()) {
    return envelope_error("\"recipients\" must be a non-empty array");
  }
  std::set<chain::X25519PublicKey> seen;
  for (const auto& r : j["recipients"]) {
    if (!r.is_object()) return envelope_error("each recipient must be a JSON object");
    WrappedKey w;
    if (!r.contains("name") || !r["name"].is_string())
      return envelope_error("a recipient has no \"name\"");
    w.member = r["name"].get<std::string>();
    auto pub = hex_field<32>(r, "x25519_public");
    if (!pub) return pub.error();
    w.recipient.bytes = *pub;
    auto sealed = hex_field<kWrappedKeySize>(r, "wrapped_key");
    if (!sealed) return sealed.error();
    w.sealed = *sealed;
    if (!seen.insert(w.recipient).second)
      return envelope_error("recipient " + w.member + " appears twice");
    env.recipients.push_back(std::move(w));
  }
  if (j.contains("blob_size")) {
    if (!j["blob_size"].is_number_unsigned())
      return envelope_error("\"blob_size\" must be a non-negative integer");
    env.blob_size = j["blob_size"].get<std::uint64_t>();
  }
  if (j.contains("blob_sha256")) {
    auto h = hex_field<32>(j, "blob_sha256");
    if (!h) return h.error();
    env.blob_sha256 = chain::Hash{*h};
  }
  return env;
}

}  // namespace baton::storage
