#include "api/admin_tls.h"

#include <sys/stat.h>

#include <array>
#include <cctype>
#include <memory>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "chain/crypto.h"
#include "storage/byte_stream.h"
#include "storage/secret_file.h"

namespace baton::api {
namespace {

namespace fs = std::filesystem;

template <typename T, void (*Free)(T*)>
struct OsslFree {
  void operator()(T* p) const { Free(p); }
};
using Bio = std::unique_ptr<BIO, OsslFree<BIO, BIO_free_all>>;
using PKey = std::unique_ptr<EVP_PKEY, OsslFree<EVP_PKEY, EVP_PKEY_free>>;
using Cert = std::unique_ptr<X509, OsslFree<X509, X509_free>>;

constexpr long kValiditySeconds = 10L * 365 * 24 * 3600;
constexpr std::size_t kMaxPemBytes = 256 * 1024;

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(n > 0 ? n : 0));
}

Result<Cert> first_certificate(std::string_view pem) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  Cert cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!cert) return make_error("it holds no PEM certificate");
  return cert;
}

std::string fingerprint(X509* cert) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int n = 0;
  X509_digest(cert, EVP_sha256(), md.data(), &n);
  return chain::to_hex(std::span<const std::uint8_t>(md.data(), n));
}

// A fresh self-signed P-256 certificate and key, PEM.
Result<std::pair<std::string, chain::SecretText>> make_self_signed(std::string_view node_name) {
  PKey key(EVP_EC_gen("P-256"));
  Cert cert(X509_new());
  if (!key || !cert) return make_error("OpenSSL could not create a P-256 key");
  std::array<unsigned char, 16> serial{};
  RAND_bytes(serial.data(), static_cast<int>(serial.size()));
  serial[0] &= 0x7f;  // a positive serial number
  BIGNUM* bn = BN_bin2bn(serial.data(), static_cast<int>(serial.size()), nullptr);
  ASN1_INTEGER* sn = X509_get_serialNumber(cert.get());
  BN_to_ASN1_INTEGER(bn, sn);
  BN_free(bn);
  X509_set_version(cert.get(), 2);  // v3
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), kValiditySeconds);
  X509_NAME* name = X509_get_subject_name(cert.get());
  const std::string cn = "batond " + std::string(node_name.substr(0, 48));
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn.data()),
                             static_cast<int>(cn.size()), -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509_set_pubkey(cert.get(), key.get());
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0)
    return make_error("OpenSSL could not sign the admin API's certificate");
  Bio cert_bio(BIO_new(BIO_s_mem()));
  Bio key_bio(BIO_new(BIO_s_mem()));
  if (!cert_bio || !key_bio || PEM_write_bio_X509(cert_bio.get(), cert.get()) != 1 ||
      PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) !=
          1) {
    return make_error("OpenSSL could not write the admin API's certificate");
  }
  std::string key_text = bio_text(key_bio.get());
  chain::SecretText key_pem(std::move(key_text));
  return std::make_pair(bio_text(cert_bio.get()), std::move(key_pem));
}

Status write_new(const fs::path& path, std::string_view text, unsigned mode) {
  auto file = storage::AtomicFile::create(path, /*overwrite=*/false, mode);
  if (!file) return file.error();
  if (auto s = (*file)->write(chain::as_bytes(text)); !s) return s.error();
  return (*file)->commit();
}

Status check_key_private(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
    return make_error("the admin API's TLS key " + path.string() + " is not a readable file");
  if ((st.st_mode & 077) != 0) {
    return make_error("the admin API's TLS key " + path.string() +
                      " may be read or written by other users; chmod 600 it");
  }
  return {};
}

}  // namespace

Result<std::string> certificate_sha256(std::string_view pem) {
  auto cert = first_certificate(pem);
  if (!cert) return cert.error();
  return fingerprint(cert->get());
}

Result<std::string> parse_cert_sha256(std::string_view text) {
  const std::string shown(text);
  for (std::string_view prefix : {"sha256:", "SHA256 Fingerprint=", "sha256 Fingerprint="}) {
    if (text.starts_with(prefix)) text.remove_prefix(prefix.size());
  }
  std::string hex;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == ':' && i % 3 == 2 && text.size() == 95) continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) {
      hex.clear();
      break;
    }
    hex.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  if (hex.size() != 64) {
    return make_error("'" + shown +
                      "' is not a certificate fingerprint: give the 64 hex characters of its "
                      "SHA-256, as batond logs at start or `openssl x509 -in admin-tls.crt "
                      "-noout -fingerprint -sha256` prints");
  }
  return hex;
}

Result<TlsIdentity> load_or_create_tls_identity(const fs::path& cert_path, const fs::path& key_path,
                                                bool may_create, std::string_view node_name) {
  std::error_code ec;
  const bool have_cert = fs::exists(cert_path, ec);
  const bool have_key = fs::exists(key_path, ec);
  if (!have_cert && !have_key && may_create) {
    auto made = make_self_signed(node_name);
    if (!made) return made.error();
    if (auto s = write_new(key_path, made->second.view(), 0600); !s) {
      return make_error("cannot write the admin API's TLS key: " + s.error().message);
    }
    if (auto s = write_new(cert_path, made->first, 0644); !s) {
      return make_error("cannot write the admin API's TLS certificate: " + s.error().message);
    }
  } else if (!have_cert || !have_key) {
    const fs::path& missing = have_cert ? key_path : cert_path;
    return make_error("the admin API's TLS " + std::string(have_cert ? "key " : "certificate ") +
                      missing.string() + " does not exist" +
                      (may_create
                           ? " while its other half does; restore it, or delete the other to have "
                             "batond make a new pair (clients must then pin the new fingerprint)"
                           : "; check tls_cert and tls_key in node.toml's [admin_api]"));
  }
  if (auto s = check_key_private(key_path); !s) return s.error();
  auto key_text = storage::read_secret_file(key_path, kMaxPemBytes);
  if (!key_text) return key_text.error();
  auto cert_text =
      storage::read_secret_file(cert_path, kMaxPemBytes, storage::SecretFileAccess::any);
  if (!cert_text) return cert_text.error();
  TlsIdentity id{std::string(cert_text->view()), std::move(*key_text), {}};
  auto cert = first_certificate(id.cert_pem);
  if (!cert)
    return make_error("the admin API's TLS certificate " + cert_path.string() + ": " +
                      cert.error().message);
  Bio key_bio(
      BIO_new_mem_buf(id.key_pem.view().data(), static_cast<int>(id.key_pem.view().size())));
  PKey key(key_bio ? PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!key) {
    return make_error("the admin API's TLS key " + key_path.string() +
                      " holds no unencrypted PEM private key");
  }
  if (X509_check_private_key(cert->get(), key.get()) != 1) {
    return make_error("the admin API's TLS key " + key_path.string() +
                      " does not belong to the certificate " + cert_path.string());
  }
  id.cert_sha256 = fingerprint(cert->get());
  return id;
}

}  // namespace baton::api
