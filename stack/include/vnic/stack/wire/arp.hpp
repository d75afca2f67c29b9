// ARP (RFC 826) for IPv4 over Ethernet: the checked view (any address sizes), ArpRepr parse/emit
// for the one combination the stack speaks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <type_traits>

#include "vnic/model/mac_addr.hpp"
#include "vnic/stack/wire/endian.hpp"
#include "vnic/stack/wire/ethernet.hpp"
#include "vnic/stack/wire/ipv4.hpp"
#include "vnic/stack/wire/result.hpp"

namespace vnic::stack::wire {

enum class ArpOp : uint16_t { Request = 1, Reply = 2 };

// ar_hrd. Linux's arp_process takes 6 (IEEE 802 networks) on an Ethernet device as well as 1,
// after RFC 2625; both parse, and the value is kept.
enum class ArpHardware : uint16_t { Ethernet = 1, Ieee802 = 6 };

inline constexpr std::size_t kArpFixedLen = 8;        // hrd, pro, hln, pln, op
inline constexpr std::size_t kArpEthIpv4Len = 28;     // + two 6-byte and two 4-byte addresses

// Why a buffer is not an Ethernet/IPv4 ARP packet, in the order Linux 6.1 tests them. Linux counts
// none of them in a MIB: the skb is freed (arp_rcv, arp_process).
enum class ArpError : uint8_t {
  Truncated,             // fewer bytes than the fixed part and the addresses it announces
                         // (Linux pulls the 28 bytes of Ethernet/IPv4 ARP first: arp_rcv)
  BadAddressLength,      // hln is not 6 or pln is not 4 (arp_rcv)
  UnsupportedHardware,   // hrd is not Ethernet (1) or IEEE 802 (6) (arp_process)
  UnsupportedProtocol,   // pro is not IPv4, 0x0800 (arp_process)
  UnsupportedOperation,  // op is not request (1) or reply (2) (arp_process; RARP, InARP, ...)
};
std::string_view name(ArpError e);

// A checked view: the fixed part and the four addresses of the sizes it announces are inside
// the buffer (RFC 826's layout: hrd, pro, hln, pln, op, sha, spa, tha, tpa).
template <typename Byte>
class BasicArpPacket {
  static_assert(std::is_same_v<std::remove_const_t<Byte>, uint8_t>);
  static constexpr bool kMutable = !std::is_const_v<Byte>;

 public:
  static constexpr Result<BasicArpPacket, ArpError> checked(std::span<Byte> b) {
    if (b.size() < kArpFixedLen) return Err{ArpError::Truncated};
    const BasicArpPacket p(b);
    if (b.size() < p.packet_len()) return Err{ArpError::Truncated};
    return p;
  }

  constexpr uint16_t hardware_type() const { return load_be16(b_, 0); }
  constexpr uint16_t protocol_type() const { return load_be16(b_, 2); }
  constexpr uint8_t hardware_len() const { return b_[4]; }
  constexpr uint8_t protocol_len() const { return b_[5]; }
  constexpr uint16_t operation() const { return load_be16(b_, 6); }
  constexpr std::size_t packet_len() const { return kArpFixedLen + 2 * (std::size_t{hardware_len()} + protocol_len()); }

  constexpr std::span<Byte> sender_hardware_addr() const { return b_.subspan(kArpFixedLen, hardware_len()); }
  constexpr std::span<Byte> sender_protocol_addr() const {
    return b_.subspan(kArpFixedLen + hardware_len(), protocol_len());
  }
  constexpr std::span<Byte> target_hardware_addr() const {
    return b_.subspan(kArpFixedLen + hardware_len() + protocol_len(), hardware_len());
  }
  constexpr std::span<Byte> target_protocol_addr() const {
    return b_.subspan(kArpFixedLen + 2 * std::size_t{hardware_len()} + protocol_len(), protocol_len());
  }
  constexpr std::span<Byte> bytes() const { return b_; }

  constexpr void set_operation(ArpOp op) const requires kMutable { store_be16(b_, 6, static_cast<uint16_t>(op)); }

 private:
  constexpr explicit BasicArpPacket(std::span<Byte> b) : b_(b) {}
  std::span<Byte> b_;
};

using ArpPacket = BasicArpPacket<const uint8_t>;
using ArpPacketMut = BasicArpPacket<uint8_t>;

// An Ethernet/IPv4 ARP packet as plain values (RFC 826's field names in words).
struct ArpRepr {
  ArpOp op = ArpOp::Request;
  ArpHardware hardware = ArpHardware::Ethernet;
  MacAddr sender_mac;
  Ipv4Addr sender_ip;
  MacAddr target_mac;  // ignored in a request; zero as Linux sends it
  Ipv4Addr target_ip;

  static Result<ArpRepr, ArpError> parse(std::span<const uint8_t> bytes);
  static constexpr std::size_t buffer_len() { return kArpEthIpv4Len; }
  // Writes the 28 bytes; `out` must hold them (our bug if not). Padding to the Ethernet minimum
  // is the caller's.
  void emit(std::span<uint8_t> out) const;
  constexpr bool operator==(const ArpRepr&) const = default;
};

}  // namespace vnic::stack::wire
