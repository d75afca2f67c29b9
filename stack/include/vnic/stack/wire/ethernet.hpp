// Ethernet II frames with up to two VLAN tags (IEEE 802.1Q C-tag, 802.1ad S-tag): EtherTypes, the
// checked view and EthernetRepr parse/emit. Frames as the stack sees them: no preamble, no FCS.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <type_traits>

#include "vnic/model/mac_addr.hpp"
#include "vnic/stack/wire/endian.hpp"
#include "vnic/stack/wire/result.hpp"

namespace vnic::stack::wire {

using model::MacAddr;

// The type field's values we name; any other 16-bit value is representable (and kept as is).
enum class EtherType : uint16_t {
  Ipv4 = 0x0800,
  Arp = 0x0806,
  Vlan = 0x8100,  // IEEE 802.1Q tag (C-tag); Linux's ETH_P_8021Q
  QinQ = 0x88A8,  // IEEE 802.1ad service tag (S-tag); Linux's ETH_P_8021AD
  Ipv6 = 0x86DD,
};

// Below this the field is an IEEE 802.3 length, not a type (Linux's ETH_P_802_3_MIN; eth_type_trans
// then looks for 802.2 LLC). The view reports the raw value either way.
inline constexpr uint16_t kEthP8023Min = 0x0600;

inline constexpr std::size_t kEthAddrLen = 6;
inline constexpr std::size_t kEthHeaderLen = 14;  // dst, src, type
inline constexpr std::size_t kVlanTagLen = 4;     // TPID, TCI
// Tags read before the type: an S-tag and a C-tag (QinQ). A third tag is left as the payload's
// type, as Linux's receive path untags one tag a round and two cover every stacking it sees.
inline constexpr std::size_t kMaxVlanTags = 2;

constexpr bool is_vlan_tpid(uint16_t type) {
  return type == static_cast<uint16_t>(EtherType::Vlan) || type == static_cast<uint16_t>(EtherType::QinQ);
}

constexpr MacAddr load_mac(std::span<const uint8_t> b, std::size_t off) {
  MacAddr m;
  for (std::size_t i = 0; i < kEthAddrLen; ++i) m.b[i] = b[off + i];
  return m;
}
constexpr void store_mac(std::span<uint8_t> b, std::size_t off, const MacAddr& m) {
  for (std::size_t i = 0; i < kEthAddrLen; ++i) b[off + i] = m.b[i];
}

enum class EthernetError : uint8_t {
  Truncated,     // shorter than the 14-byte header
  TruncatedTag,  // a TPID announces a tag, but the tag and the type after it are not all there
};
std::string_view name(EthernetError e);

// A VLAN tag's TCI (IEEE 802.1Q 9.6): priority (PCP), drop eligible (DEI), VLAN id. VID 0 tags a
// frame's priority only; 0xFFF is reserved. Neither is refused here (Linux accepts both on input).
struct VlanTag {
  EtherType tpid = EtherType::Vlan;
  uint8_t pcp = 0;   // 3 bits
  bool dei = false;  // 1 bit
  uint16_t vid = 0;  // 12 bits

  constexpr uint16_t tci() const {
    return static_cast<uint16_t>((pcp & 7u) << 13 | (dei ? 1u : 0u) << 12 | (vid & 0xFFFu));
  }
  static constexpr VlanTag from_tci(EtherType tpid, uint16_t tci) {
    return VlanTag{tpid, static_cast<uint8_t>(tci >> 13), ((tci >> 12) & 1u) != 0, static_cast<uint16_t>(tci & 0xFFFu)};
  }
  constexpr bool operator==(const VlanTag&) const = default;
};

// A checked view over a frame: Byte is `const uint8_t` to read, `uint8_t` to edit in place.
template <typename Byte>
class BasicEthernetFrame {
  static_assert(std::is_same_v<std::remove_const_t<Byte>, uint8_t>);
  static constexpr bool kMutable = !std::is_const_v<Byte>;

 public:
  // Every field and tag the frame announces is inside `b`; nothing else is judged.
  static constexpr Result<BasicEthernetFrame, EthernetError> checked(std::span<Byte> b) {
    if (b.size() < kEthHeaderLen) return Err{EthernetError::Truncated};
    std::size_t tags = 0;
    while (tags < kMaxVlanTags && is_vlan_tpid(load_be16(b, 12 + kVlanTagLen * tags))) {
      if (b.size() < kEthHeaderLen + kVlanTagLen * (tags + 1)) return Err{EthernetError::TruncatedTag};
      ++tags;
    }
    return BasicEthernetFrame(b, static_cast<uint8_t>(tags));
  }

  constexpr MacAddr dst() const { return load_mac(b_, 0); }
  constexpr MacAddr src() const { return load_mac(b_, 6); }
  // The field after the source address: the outer tag's TPID on a tagged frame.
  constexpr uint16_t outer_type() const { return load_be16(b_, 12); }
  constexpr std::size_t tag_count() const { return tags_; }
  constexpr VlanTag tag(std::size_t i) const {  // i < tag_count(), outermost first
    const std::size_t at = 12 + kVlanTagLen * i;
    return VlanTag::from_tci(static_cast<EtherType>(load_be16(b_, at)), load_be16(b_, at + 2));
  }
  // The type after the tags: what the payload is.
  constexpr EtherType ethertype() const { return static_cast<EtherType>(load_be16(b_, 12 + kVlanTagLen * tags_)); }
  constexpr std::size_t header_len() const { return kEthHeaderLen + kVlanTagLen * tags_; }
  constexpr std::span<Byte> bytes() const { return b_; }
  constexpr std::span<Byte> payload() const { return b_.subspan(header_len()); }

  constexpr void set_dst(const MacAddr& m) const requires kMutable { store_mac(b_, 0, m); }
  constexpr void set_src(const MacAddr& m) const requires kMutable { store_mac(b_, 6, m); }
  constexpr void set_ethertype(EtherType t) const requires kMutable {
    store_be16(b_, 12 + kVlanTagLen * tags_, static_cast<uint16_t>(t));
  }

  constexpr operator BasicEthernetFrame<const uint8_t>() const requires kMutable {  // NOLINT: a view may narrow
    return BasicEthernetFrame<const uint8_t>(b_, tags_);
  }

 private:
  template <typename>
  friend class BasicEthernetFrame;
  constexpr BasicEthernetFrame(std::span<Byte> b, uint8_t tags) : b_(b), tags_(tags) {}

  std::span<Byte> b_;
  uint8_t tags_ = 0;
};

using EthernetFrame = BasicEthernetFrame<const uint8_t>;
using EthernetFrameMut = BasicEthernetFrame<uint8_t>;

// An Ethernet header as plain values. The payload follows at header_len().
struct EthernetRepr {
  MacAddr dst;
  MacAddr src;
  std::array<VlanTag, kMaxVlanTags> tags{};  // the first tag_count are used, outermost first
  uint8_t tag_count = 0;
  EtherType ethertype = EtherType::Ipv4;

  static Result<EthernetRepr, EthernetError> parse(std::span<const uint8_t> frame);
  static EthernetRepr from(const EthernetFrame& f);
  constexpr std::size_t header_len() const { return kEthHeaderLen + kVlanTagLen * tag_count; }
  // Writes the header_len() header bytes; `out` must hold them (our bug if not).
  void emit(std::span<uint8_t> out) const;
  bool operator==(const EthernetRepr& o) const;
};

}  // namespace vnic::stack::wire
