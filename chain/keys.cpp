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

// 64 hex characters into `out`, without an intermediate buffer.
bool decode_hex_into(std::string_view hex, SecretBytes<32>& out) {
  if (hex.size() != 64) return false;
  auto value = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < 32; ++i) {
    const int hi = value(hex[2 * i]), lo = value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out.data()[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return true;
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
  // The same text as nlohmann's dump(2) of the object (keys sorted), written
  // into one buffer reserved up front: no temporary hex strings and no
  // reallocation that would leave copies of the secret in freed memory.
  const std::string name = json(keys.name).dump();  // quoted and escaped; not secret
  const auto seed = keys.signing.seed();
  const auto x = keys.x25519.secret();
  std::string out;
  out.reserve(128 + name.size() + 2 * (seed.size() + x.size()));
  auto append_hex = [&out](ByteView bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    for (std::uint8_t b : bytes) {
      out.push_back(kDigits[b >> 4]);
      out.push_back(kDigits[b & 0xf]);
    }
  };
  out += "{\n  \"ed25519_seed\": \"";
  append_hex(seed);
  out += "\",\n  \"format\": \"baton-key-v1\",\n  \"name\": ";
  out += name;
  out += ",\n  \"x25519_secret\": \"";
  append_hex(x);
  out += "\"\n}\n";
  return out;
}

namespace {

// Wipes the secret strings inside a parsed key file before it is freed.
void wipe_secret_fields(json& j) {
  for (const char* field : {"ed25519_seed", "x25519_secret"}) {
    auto it = j.find(field);
    if (it != j.end() && it->is_string()) wipe(it->get_ref<std::string&>());
  }
}

Result<MemberSecretKeys> parse_secret_fields(const json& j) {
  const char* what = "the key file";
  auto format = string_field(j, "format", what);
  if (!format) return format.error();
  if (*format != "baton-key-v1")
    return make_error("the key file has format \"" + *format + "\"; expected \"baton-key-v1\"");
  auto name = string_field(j, "name", what);
  if (!name) return name.error();
  if (auto s = validate_member_name(*name); !s) return s.error();
  // Decoded straight from the JSON's own strings (no copies) into
  // SecretBytes; the JSON strings are wiped by the caller.
  auto secret_field = [&](const char* field, SecretBytes<32>& out) -> Status {
    auto it = j.find(field);
    if (it == j.end()) return make_error(std::string(what) + " has no \"" + field + "\" field");
    if (!it->is_string())
      return make_error(std::string(what) + ": \"" + field + "\" must be a string");
    const std::string& hex = it->get_ref<const std::string&>();
    if (!decode_hex_into(hex, out))
      return make_error(std::string("the key file's \"") + field + "\" must be 64 hex characters");
    return {};
  };
  SecretBytes<32> seed, x;
  if (auto s = secret_field("ed25519_seed", seed); !s) return s.error();
  if (auto s = secret_field("x25519_secret", x); !s) return s.error();
  return MemberSecretKeys{*name, SigningKey::from_seed(seed.view()).value(),
                          X25519SecretKey::from_bytes(x.view()).value()};
}

}  // namespace

Result<MemberSecretKeys> parse_secret_keys(std::string_view text) {
  auto j = parse_object(text, "the key file");
  if (!j) return j.error();
  auto keys = parse_secret_fields(*j);
  wipe_secret_fields(*j);
  return keys;
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
