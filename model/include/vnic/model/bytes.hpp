// Little-endian loads and stores on byte spans: how every descriptor and register image is read.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <type_traits>

namespace vnic::model {

template <typename T>
constexpr T load_le(std::span<const uint8_t> b, std::size_t off) {
  if constexpr (std::endian::native == std::endian::little) {
    if (!std::is_constant_evaluated()) {  // one unaligned load
      T v;
      std::memcpy(&v, b.data() + off, sizeof(T));
      return v;
    }
  }
  T v = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) v |= static_cast<T>(static_cast<T>(b[off + i]) << (8 * i));
  return v;
}

template <typename T>
constexpr void store_le(std::span<uint8_t> b, std::size_t off, T v) {
  if constexpr (std::endian::native == std::endian::little) {
    if (!std::is_constant_evaluated()) {  // one unaligned store
      std::memcpy(b.data() + off, &v, sizeof(T));
      return;
    }
  }
  for (std::size_t i = 0; i < sizeof(T); ++i) b[off + i] = static_cast<uint8_t>(v >> (8 * i));
}

}  // namespace vnic::model
