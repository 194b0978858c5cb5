// The admin API's TLS identity and its pin (issue 12; docs/OPERATIONS.md,
// "Admin API"). Off loopback the admin API speaks only TLS, and its clients
// (baton-agent, the `baton` CLI, the tests) trust no certificate authority:
// they pin the node's certificate by its SHA-256 fingerprint and refuse any
// other before they send a byte of a request (so never a token).
//
//   admin-tls.crt  (public, mode 0644)  the certificate, PEM
//   admin-tls.key  (secret, mode 0600)  its private key, PEM (PKCS#8)
//
// With `[admin_api] tls = true` and no tls_cert/tls_key of its own, batond
// creates both beside node.toml at its first start: a self-signed
// certificate for an ECDSA P-256 key, subject "CN=batond NAME", valid for
// 10 years (pinning makes its dates matter to no Baton client). An operator
// may instead name a certificate (chain) and key of their own; batond then
// creates nothing.
//
// A fingerprint is the SHA-256 of the certificate's DER encoding, what
// `openssl x509 -in admin-tls.crt -noout -fingerprint -sha256` prints;
// written as 64 lower-case hex characters (parse_cert_sha256 also takes
// openssl's upper-case, colon-separated form).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "chain/result.h"
#include "chain/secret.h"

namespace baton::api {

inline constexpr std::string_view kAdminTlsCertFileName = "admin-tls.crt";
inline constexpr std::string_view kAdminTlsKeyFileName = "admin-tls.key";

struct TlsIdentity {
  std::string cert_pem;  // the certificate, then any chain certificates
  chain::SecretText key_pem;
  std::string cert_sha256;  // the (first) certificate's fingerprint, 64 hex
};

// The identity in `cert_path` and `key_path`. When both files are absent and
// `may_create`, creates them first (key mode 0600, certificate 0644; never
// overwriting a file). Refuses a key file that group or others may read
// ("chmod 600 it"), one file without the other, and a key that does not
// belong to the certificate; errors are sentences naming the file.
Result<TlsIdentity> load_or_create_tls_identity(const std::filesystem::path& cert_path,
                                                const std::filesystem::path& key_path,
                                                bool may_create, std::string_view node_name);

// The fingerprint of the first certificate in `pem`.
Result<std::string> certificate_sha256(std::string_view pem);

// A pin as an operator writes it: 64 hex characters, upper or lower case,
// optionally in pairs separated by ':' (openssl's form), optionally after
// "sha256:" or openssl's "SHA256 Fingerprint=". Returns 64 lower-case hex.
Result<std::string> parse_cert_sha256(std::string_view text);

}  // namespace baton::api
