// Verdict<T, Reason>: the outcome of checking something a peer or a user sent.
// Either the checked value (decoded, ready to use) or the reason it is invalid.
// Invalid input is not an error (nothing failed) and not a bug (nothing is
// broken): the caller decides the consequence (refuse a block, drop a peer).
#pragma once

#include <cstdlib>
#include <utility>
#include <variant>

namespace baton::chain {

template <class T, class Reason>
class [[nodiscard]] Verdict {
 public:
  Verdict(T value)
      : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Verdict(Reason reason)
      : v_(std::in_place_index<1>, std::move(reason)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // Precondition: ok(). Calling value() on an invalid verdict is a bug and aborts.
  const T& value() const& {
    check(true);
    return std::get<0>(v_);
  }
  T& value() & {
    check(true);
    return std::get<0>(v_);
  }
  T&& value() && {
    check(true);
    return std::get<0>(std::move(v_));
  }
  const T* operator->() const { return &value(); }
  const T& operator*() const& { return value(); }

  // Precondition: !ok().
  const Reason& reason() const {
    check(false);
    return std::get<1>(v_);
  }

 private:
  void check(bool want_ok) const {
    if (ok() != want_ok) std::abort();
  }
  std::variant<T, Reason> v_;
};

}  // namespace baton::chain
