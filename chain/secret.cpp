#include "chain/secret.h"

#include <sodium.h>

#include <cstdlib>

namespace baton::chain {
namespace detail {

std::uint8_t* allocate_secret(std::size_t size) {
  // sodium_malloc needs sodium_init (page size, canary); both are idempotent.
  static const bool ready = sodium_init() >= 0;
  if (!ready) std::abort();
  // sodium_malloc: own pages with guard pages around them, sodium_mlock'ed
  // (mlock + MADV_DONTDUMP, best effort). It fails only when the address
  // space is exhausted.
  auto* p = static_cast<std::uint8_t*>(sodium_malloc(size));
  if (p == nullptr) std::abort();
  sodium_memzero(p, size);
  return p;
}

// sodium_free wipes the bytes, unlocks and unmaps them.
void release_secret(std::uint8_t* bytes) { sodium_free(bytes); }

bool secret_equal(const std::uint8_t* a, const std::uint8_t* b, std::size_t size) {
  return sodium_memcmp(a, b, size) == 0;
}

}  // namespace detail

void wipe(std::string& text) {
  if (!text.empty()) sodium_memzero(text.data(), text.size());
  text.clear();
}

}  // namespace baton::chain
