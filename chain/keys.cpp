#include "chain/keys.h"

#include <nlohmann/json.hpp>

namespace baton::chain {
namespace {

using nlohmann::json;

Result<json> parse_object(std::string_view text, const char* what) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return make_error(std::string(what) + " is not valid JSON");
  if (!j.is_object()) return make_error(std::string(what) + " must be a JSON object");
  return j;
}

Result<std::string> string_field(const json& j, const char* field, const char* what) {
  auto it = j.find(field);
  if (it == j.end()) return make_error(std::string(what) + " has no \"" + field + "\" field");
  if (!it->is_string())
    return make_error(std::string(what) + ": \"" + field + "\" must be a string");
  return it->get<std::string>();
}

}  // namespace

Status validate_member_name(std::string_view name) {
  if (name.empty() || name.size() > 64)
    return make_error("a member name must have 1 to 64 characters");
  if (name.front() == '.') return make_error("a member name must not start with '.'");
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok)
      return make_error("member name \"" + std::string(name) +
                        "\" may only use letters, digits, '.', '_' and '-'");
  }
  return {};
}

MemberSecretKeys generate_member_keys(std::string name) {
  return MemberSecretKeys{std::move(name), SigningKey::generate(), X25519SecretKey::generate()};
}

std::string encode_secret_keys(const MemberSecretKeys& keys) {
  json j = {{"format", "baton-key-v1"},
            {"name", keys.name},
            {"ed25519_seed", to_hex(keys.signing.seed())},
            {"x25519_secret", to_hex(keys.x25519.secret())}};
  return j.dump(2) + "\n";
}

Result<MemberSecretKeys> parse_secret_keys(std::string_view text) {
  const char* what = "the key file";
  auto j = parse_object(text, what);
  if (!j) return j.error();
  auto format = string_field(*j, "format", what);
  if (!format) return format.error();
  if (*format != "baton-key-v1")
    return make_error("the key file has format \"" + *format + "\"; expected \"baton-key-v1\"");
  auto name = string_field(*j, "name", what);
  if (!name) return name.error();
  if (auto s = validate_member_name(*name); !s) return s.error();
  auto seed_hex = string_field(*j, "ed25519_seed", what);
  if (!seed_hex) return seed_hex.error();
  auto seed = from_hex(*seed_hex);
  if (!seed || seed->size() != 32)
    return make_error("the key file's \"ed25519_seed\" must be 64 hex characters");
  auto x_hex = string_field(*j, "x25519_secret", what);
  if (!x_hex) return x_hex.error();
  auto x = from_hex(*x_hex);
  if (!x || x->size() != 32)
    return make_error("the key file's \"x25519_secret\" must be 64 hex characters");
  return MemberSecretKeys{*name, SigningKey::from_seed(*seed).value(),
                          X25519SecretKey::from_bytes(*x).value()};
}

std::string encode_public_keys(const MemberPublicKeys& keys) {
  json j = {{"format", "baton-pub-v1"},
            {"name", keys.name},
            {"ed25519_public", keys.ed25519.hex()},
            {"x25519_public", keys.x25519.hex()},
            {"p2p_address", keys.p2p_address}};
  return j.dump(2) + "\n";
}

Result<MemberPublicKeys> parse_public_keys(std::string_view text) {
  const char* what = "the public key file";
  auto j = parse_object(text, what);
  if (!j) return j.error();
  auto name = string_field(*j, "name", what);
  if (!name) return name.error();
  if (auto s = validate_member_name(*name); !s) return s.error();
  auto ed = string_field(*j, "ed25519_public", what);
  if (!ed) return ed.error();
  auto ed_key = PublicKey::from_hex(*ed);
  if (!ed_key) return make_error("member \"" + *name + "\": " + ed_key.error().message);
  auto x = string_field(*j, "x25519_public", what);
  if (!x) return x.error();
  auto x_key = X25519PublicKey::from_hex(*x);
  if (!x_key) return make_error("member \"" + *name + "\": " + x_key.error().message);
  MemberPublicKeys out{*name, *ed_key, *x_key};
  if (j->contains("p2p_address")) {
    auto addr = string_field(*j, "p2p_address", what);
    if (!addr) return addr.error();
    out.p2p_address = *addr;
  }
  return out;
}

}  // namespace baton::chain
