// MAC addresses: a 6-octet value type, its register image, and the multicast hash index.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vnic::model {

struct MacAddr {
  std::array<uint8_t, 6> b{};

  static constexpr MacAddr broadcast() { return MacAddr{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}; }
  constexpr bool is_broadcast() const { return *this == broadcast(); }
  // I/G bit: the least significant bit of the first octet.
  constexpr bool is_multicast() const { return (b[0] & 1u) != 0; }
  constexpr bool is_unicast() const { return !is_multicast(); }
  constexpr auto operator<=>(const MacAddr&) const = default;

  // Register image: octet 0 in MAC_LO bits 7:0 ... octet 5 in MAC_HI bits 15:8.
  constexpr uint32_t lo_word() const {
    return uint32_t{b[0]} | uint32_t{b[1]} << 8 | uint32_t{b[2]} << 16 | uint32_t{b[3]} << 24;
  }
  constexpr uint32_t hi_word() const { return uint32_t{b[4]} | uint32_t{b[5]} << 8; }
  static constexpr MacAddr from_words(uint32_t lo, uint32_t hi) {
    return MacAddr{{static_cast<uint8_t>(lo), static_cast<uint8_t>(lo >> 8),
                    static_cast<uint8_t>(lo >> 16), static_cast<uint8_t>(lo >> 24),
                    static_cast<uint8_t>(hi), static_cast<uint8_t>(hi >> 8)}};
  }

  std::string str() const;  // "02:00:00:00:00:01"
  static std::optional<MacAddr> parse(std::string_view s);
};

// Multicast hash filter index (0..63): the 6 most significant bits of the IEEE CRC-32 (the FCS
// CRC: reflected, init and final XOR 0xFFFFFFFF) over the 6 destination octets.
// Index i is bit i of the 64-bit filter: MC_HASH_LO bit i for i < 32, MC_HASH_HI bit i-32 otherwise.
unsigned mc_hash_index(const MacAddr& a);

}  // namespace vnic::model
