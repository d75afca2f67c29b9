// UDP's wire format (RFC 768): checks, the pseudo-header checksum, parse and emit.
#include "vnic/stack/wire/udp.hpp"

namespace vnic::stack::wire {

std::string_view name(UdpError e) {
  switch (e) {
    case UdpError::Truncated: return "truncated";
    case UdpError::BadLength: return "bad length";
    case UdpError::BadChecksum: return "bad checksum";
  }
  return "?";
}

InternetChecksum udp_pseudo_sum(Ipv4Addr src, Ipv4Addr dst, std::span<const uint8_t> udp) {
  return ipv4_pseudo_sum(src, dst, kIpprotoUdp, udp);
}

uint16_t udp_checksum(Ipv4Addr src, Ipv4Addr dst, std::span<const uint8_t> udp) {
  const uint16_t c = udp_pseudo_sum(src, dst, udp).checksum();
  return c == 0 ? 0xFFFF : c;  // CSUM_MANGLED_0
}

bool udp_checksum_ok(Ipv4Addr src, Ipv4Addr dst, std::span<const uint8_t> udp) {
  if (udp.size() >= kUdpHeaderLen && load_be16(udp, 6) == 0) return true;  // no checksum (IPv4 only)
  return udp_pseudo_sum(src, dst, udp).verifies();
}

Result<UdpRepr, UdpError> UdpRepr::parse(std::span<const uint8_t> b, Ipv4Addr src, Ipv4Addr dst, ChecksumCheck check) {
  const auto p = UdpPacket::checked(b);
  if (!p) return Err{p.error()};
  if (check == ChecksumCheck::Verify && !p->verify(src, dst)) return Err{UdpError::BadChecksum};
  UdpRepr r;
  r.src_port = p->src_port();
  r.dst_port = p->dst_port();
  r.payload_len = static_cast<uint16_t>(p->length() - kUdpHeaderLen);
  return r;
}

void UdpRepr::emit(std::span<uint8_t> b, Ipv4Addr src, Ipv4Addr dst, bool checksum) const {
  const std::span<uint8_t> d = b.first(total_len());
  store_be16(d, 0, src_port);
  store_be16(d, 2, dst_port);
  store_be16(d, 4, static_cast<uint16_t>(total_len()));
  store_be16(d, 6, 0);
  if (checksum) store_be16(d, 6, udp_checksum(src, dst, d));
}

}  // namespace vnic::stack::wire
