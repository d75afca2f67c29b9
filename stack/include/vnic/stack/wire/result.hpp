// Result<T, E>: a value or the reason there is none, how every wire parser answers (GCC 12 has
// no std::expected). Parsers never throw and never abort on untrusted bytes; they return this.
// Error reasons are small enums, one per format (Ipv4Error, ...), named by name(e).
#pragma once

#include <cassert>
#include <type_traits>
#include <utility>
#include <variant>

namespace vnic::stack::wire {

// The error side of a Result: `return Err{Ipv4Error::BadChecksum};`.
template <typename E>
struct Err {
  E error;
};
template <typename E>
Err(E) -> Err<E>;

template <typename T, typename E>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<T, E>, "a Result needs distinct value and error types");

 public:
  constexpr Result(const T& v) : v_(std::in_place_index<0>, v) {}  // NOLINT: implicit on purpose
  constexpr Result(T&& v) : v_(std::in_place_index<0>, std::move(v)) {}
  constexpr Result(Err<E> e) : v_(std::in_place_index<1>, e.error) {}

  constexpr bool ok() const { return v_.index() == 0; }
  constexpr explicit operator bool() const { return ok(); }

  // Reading the wrong side is our bug, not the packet's: an assert in debug builds, and
  // std::variant's own check (bad_variant_access, so terminate) in release ones, never UB.
  constexpr const T& value() const& { assert(ok()); return std::get<0>(v_); }
  constexpr T& value() & { assert(ok()); return std::get<0>(v_); }
  constexpr const T& operator*() const& { return value(); }
  constexpr T& operator*() & { return value(); }
  constexpr const T* operator->() const { return &value(); }
  constexpr T* operator->() { return &value(); }
  constexpr E error() const { assert(!ok()); return std::get<1>(v_); }

 private:
  std::variant<T, E> v_;
};

// A check that has nothing to return but its verdict: `Result<void, E>{}` is success.
template <typename E>
class [[nodiscard]] Result<void, E> {
 public:
  constexpr Result() = default;
  constexpr Result(Err<E> e) : ok_(false), error_(e.error) {}  // NOLINT: implicit on purpose

  constexpr bool ok() const { return ok_; }
  constexpr explicit operator bool() const { return ok_; }
  constexpr E error() const { assert(!ok_); return error_; }

 private:
  bool ok_ = true;
  E error_{};
};

}  // namespace vnic::stack::wire
