// baton_vault_probe seal|open IN OUT: seals IN to OUT (or opens OUT from IN)
// with a fixed test key, and nothing else, so that a test can measure the
// vault's own peak memory from outside (tests/vault/memory_test.cpp). Not
// installed; test use only.
#include <cstdio>
#include <cstring>

#include "storage/vault.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: baton_vault_probe seal|open IN OUT\n");
    return 2;
  }
  std::uint8_t raw[32];
  for (int i = 0; i < 32; ++i) raw[i] = static_cast<std::uint8_t>(i);
  const auto key = *baton::storage::DataKey::from_bytes(raw);
  const auto ad = baton::chain::as_bytes("probe");
  const bool seal = std::strcmp(argv[1], "seal") == 0;
  auto r = seal ? baton::storage::seal_file(argv[2], argv[3], key, ad)
                : baton::storage::open_file(argv[2], argv[3], key, ad);
  if (!r) {
    std::fprintf(stderr, "baton_vault_probe: %s\n", r.error().message.c_str());
    return 1;
  }
  return 0;
}
