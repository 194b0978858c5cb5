// Memory for secret key material: Ed25519 seeds, X25519 scalars, AES data
// keys, P2P session keys, and the text of key files.
//
// SecretBytes<N> keeps its N bytes in their own libsodium sodium_malloc()
// allocation, not in the ordinary heap or on the stack: the pages are locked
// in RAM (mlock, so they never reach swap), marked MADV_DONTDUMP (left out of
// core dumps), fenced by guard pages, and wiped (sodium_memzero) when the
// object dies. Locking is best effort: past RLIMIT_MEMLOCK (8 MiB by
// default, about 2,000 live secrets) the pages are still fenced, kept out of
// dumps and wiped, only not pinned. docs/OPERATIONS.md, "Key material".
//
// A SecretBytes always owns an allocation: copying makes a new one, and a
// "move" copies too, so no object is ever empty. Each costs a few pages of
// address space and a few system calls to make: hold keys, not thousands of
// them, and do not create them in a hot loop. Thread-safety as std::array
// (concurrent const reads are fine). Running out of address space aborts,
// as operator new would.
//
// SecretText holds text that contains a secret (a key file, hex of a seed)
// in an ordinary std::string that is wiped when it dies; it is move-only and
// never grows, so it leaves no stale copies behind in the heap itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

namespace baton::chain {

namespace detail {
// Zero-filled, locked, guarded, undumped storage of `size` bytes.
std::uint8_t* allocate_secret(std::size_t size);
// Wipes and frees what allocate_secret returned.
void release_secret(std::uint8_t* bytes);
// Constant-time comparison of two buffers of `size` bytes.
bool secret_equal(const std::uint8_t* a, const std::uint8_t* b, std::size_t size);
}  // namespace detail

// Overwrites the characters of `text` with zeros (sodium_memzero, which the
// compiler may not drop) and clears it.
void wipe(std::string& text);

template <std::size_t N>
class SecretBytes {
 public:
  SecretBytes() : bytes_(detail::allocate_secret(N)) {}
  SecretBytes(const SecretBytes& other) : SecretBytes() { std::memcpy(bytes_, other.bytes_, N); }
  SecretBytes& operator=(const SecretBytes& other) {
    if (this != &other) std::memcpy(bytes_, other.bytes_, N);
    return *this;
  }
  ~SecretBytes() { detail::release_secret(bytes_); }

  static constexpr std::size_t size() { return N; }
  std::uint8_t* data() { return bytes_; }
  const std::uint8_t* data() const { return bytes_; }
  std::span<const std::uint8_t> view() const { return {bytes_, N}; }

  bool operator==(const SecretBytes& other) const {
    return detail::secret_equal(bytes_, other.bytes_, N);
  }

 private:
  std::uint8_t* bytes_;
};

class SecretText {
 public:
  SecretText() = default;
  explicit SecretText(std::string text) : text_(std::move(text)) {}
  SecretText(SecretText&& other) noexcept : text_(std::move(other.text_)) { wipe(other.text_); }
  SecretText& operator=(SecretText&& other) noexcept {
    if (this != &other) {
      wipe(text_);
      text_ = std::move(other.text_);
      wipe(other.text_);
    }
    return *this;
  }
  SecretText(const SecretText&) = delete;
  SecretText& operator=(const SecretText&) = delete;
  ~SecretText() { wipe(text_); }

  std::string_view view() const { return text_; }

 private:
  std::string text_;
};

}  // namespace baton::chain
