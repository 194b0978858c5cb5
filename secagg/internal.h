// Internal to secagg/: libsodium's one-time initialisation, and the
// preimage of a hash that holds secret bytes.
#pragma once

#include <sodium.h>

#include <cstdlib>
#include <string>
#include <string_view>

#include "chain/crypto.h"

namespace baton::secagg::detail {

// sodium_init is idempotent and thread-safe; a failure means the process
// cannot do crypto at all.
inline void ensure_sodium() {
  static const bool ready = [] {
    if (sodium_init() < 0) std::abort();
    return true;
  }();
  (void)ready;
}

// The bytes a SHA-256 is taken of, built in one buffer reserved up front and
// wiped on destruction. `capacity` must cover every byte added, so that no
// reallocation leaves a copy of a secret behind.
class Preimage {
 public:
  Preimage(std::string_view domain, std::size_t capacity) {
    bytes_.reserve(capacity);
    bytes_.append(domain);
  }
  Preimage(const Preimage&) = delete;
  Preimage& operator=(const Preimage&) = delete;
  ~Preimage() { sodium_memzero(bytes_.data(), bytes_.size()); }

  Preimage& add(chain::ByteView b) {
    bytes_.append(reinterpret_cast<const char*>(b.data()), b.size());
    return *this;
  }
  Preimage& add_u32le(std::uint32_t v) {
    for (int i = 0; i < 4; ++i) bytes_.push_back(static_cast<char>(v >> (8 * i)));
    return *this;
  }
  chain::Hash hash() const { return chain::sha256(chain::as_bytes(bytes_)); }

 private:
  std::string bytes_;
};

}  // namespace baton::secagg::detail
