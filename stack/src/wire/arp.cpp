// ARP for Ethernet/IPv4: ArpRepr parse/emit.
#include "vnic/stack/wire/arp.hpp"

#include <cassert>

namespace vnic::stack::wire {

std::string_view name(ArpError e) {
  switch (e) {
    case ArpError::Truncated: return "Truncated";
    case ArpError::BadAddressLength: return "BadAddressLength";
    case ArpError::UnsupportedHardware: return "UnsupportedHardware";
    case ArpError::UnsupportedProtocol: return "UnsupportedProtocol";
    case ArpError::UnsupportedOperation: return "UnsupportedOperation";
  }
  return "?";
}

Result<ArpRepr, ArpError> ArpRepr::parse(std::span<const uint8_t> bytes) {
  // Linux pulls what an Ethernet/IPv4 packet needs before it reads a field (arp_hdr_len).
  // Then the address sizes, before it would pull what other sizes announce.
  if (bytes.size() < kArpEthIpv4Len) return Err{ArpError::Truncated};
  if (bytes[4] != kEthAddrLen || bytes[5] != 4) return Err{ArpError::BadAddressLength};
  const auto p = ArpPacket::checked(bytes);  // holds now: 28 bytes are what 6 and 4 announce
  if (!p) return Err{p.error()};
  const uint16_t hrd = p->hardware_type();
  if (hrd != static_cast<uint16_t>(ArpHardware::Ethernet) && hrd != static_cast<uint16_t>(ArpHardware::Ieee802)) {
    return Err{ArpError::UnsupportedHardware};
  }
  if (p->protocol_type() != static_cast<uint16_t>(EtherType::Ipv4)) return Err{ArpError::UnsupportedProtocol};
  const uint16_t op = p->operation();
  if (op != static_cast<uint16_t>(ArpOp::Request) && op != static_cast<uint16_t>(ArpOp::Reply)) {
    return Err{ArpError::UnsupportedOperation};
  }
  ArpRepr r;
  r.op = static_cast<ArpOp>(op);
  r.hardware = static_cast<ArpHardware>(hrd);
  r.sender_mac = load_mac(p->sender_hardware_addr(), 0);
  r.sender_ip = load_ipv4(p->sender_protocol_addr(), 0);
  r.target_mac = load_mac(p->target_hardware_addr(), 0);
  r.target_ip = load_ipv4(p->target_protocol_addr(), 0);
  return r;
}

void ArpRepr::emit(std::span<uint8_t> out) const {
  assert(out.size() >= kArpEthIpv4Len);
  store_be16(out, 0, static_cast<uint16_t>(hardware));
  store_be16(out, 2, static_cast<uint16_t>(EtherType::Ipv4));
  out[4] = kEthAddrLen;
  out[5] = 4;
  store_be16(out, 6, static_cast<uint16_t>(op));
  store_mac(out, 8, sender_mac);
  store_ipv4(out, 14, sender_ip);
  store_mac(out, 18, target_mac);
  store_ipv4(out, 24, target_ip);
}

}  // namespace vnic::stack::wire
