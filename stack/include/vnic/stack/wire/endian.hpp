// Big-endian (network order) loads and stores on byte spans: how every header field on the wire
// is read and written (the little-endian ones of descriptors are in vnic/model/bytes.hpp). Byte by
// byte, so no alignment, aliasing or host byte order matters.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace vnic::stack::wire {

template <typename T>
constexpr T load_be(std::span<const uint8_t> b, std::size_t off) {
  T v = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) v = static_cast<T>(static_cast<T>(v << 8) | b[off + i]);
  return v;
}

template <typename T>
constexpr void store_be(std::span<uint8_t> b, std::size_t off, T v) {
  for (std::size_t i = 0; i < sizeof(T); ++i) b[off + i] = static_cast<uint8_t>(v >> (8 * (sizeof(T) - 1 - i)));
}

constexpr uint16_t load_be16(std::span<const uint8_t> b, std::size_t off) { return load_be<uint16_t>(b, off); }
constexpr uint32_t load_be32(std::span<const uint8_t> b, std::size_t off) { return load_be<uint32_t>(b, off); }
constexpr void store_be16(std::span<uint8_t> b, std::size_t off, uint16_t v) { store_be<uint16_t>(b, off, v); }
constexpr void store_be32(std::span<uint8_t> b, std::size_t off, uint32_t v) { store_be<uint32_t>(b, off, v); }

}  // namespace vnic::stack::wire
