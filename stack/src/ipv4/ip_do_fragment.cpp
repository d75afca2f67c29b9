// IPv4 fragmentation (net/ipv4/ip_output.c, Linux 6.1): ip_do_fragment's slow path, which
// copies a linear datagram into new skbs of at most the MTU (ip_frag_init, ip_frag_next,
// ip_frag_ipcb, ip_copy_metadata), with ip_options_fragment (net/ipv4/ip_options.c). Egress 9.
// The model's skbs have no frag_list, so 6.1's fast path (ip_fraglist_*) never applies.
#include <algorithm>
#include <cstring>

#include "vnic/stack/ip_frag.hpp"
#include "vnic/stack/net.hpp"
#include "vnic/stack/sock.hpp"
#include "vnic/stack/wire/checksum.hpp"

namespace vnic::stack {

namespace {

constexpr uint64_t kFragFailed = model::host_drop(model::HostDrop::IpFragFails);

// ip_options_fragment: after the first fragment has been cut, the options whose copied flag
// (RFC 791 3.1, the type's top bit) is clear become No Operation octets in the original's
// header, so every later fragment carries only the copied ones. The header keeps its length.
void ip_options_fragment(std::span<uint8_t> hdr) {
  std::span<uint8_t> o = hdr.subspan(wire::kIpv4MinHeaderLen);
  std::size_t i = 0;
  while (i < o.size()) {
    const uint8_t type = o[i];
    if (type == 0) return;  // IPOPT_END
    if (type == 1) {        // IPOPT_NOOP
      ++i;
      continue;
    }
    if (o.size() - i < 2) return;
    const uint8_t optlen = o[i + 1];
    if (optlen < 2 || optlen > o.size() - i) return;
    if ((type & 0x80) == 0) std::fill_n(o.begin() + static_cast<std::ptrdiff_t>(i), optlen, uint8_t{1});
    i += optlen;
  }
}

// skb_checksum_help: a CHECKSUM_PARTIAL datagram gets its transport checksum now, since each
// fragment would carry only part of what the device sums. The checksum field holds the
// pseudo-header's sum (as the transport seeded it); the sum from csum_start to the end, folded
// and complemented, goes there (0 becomes CSUM_MANGLED_0, 0xFFFF).
void skb_checksum_help(SkBuff& s) {
  const uint32_t start = s.csum_start;
  if (start < s.data || start + s.csum_offset + 2u > s.tail()) return;  // nothing sane to fill
  const std::span<uint8_t> from{s.head + start, s.tail() - start};
  uint16_t v = wire::InternetChecksum{}.add(from).checksum();
  if (v == 0) v = 0xFFFF;
  wire::store_be16(from, s.csum_offset, v);
  s.ip_summed = IpSummed::None;
}

}  // namespace

int NetStack::ip_do_fragment(Cpu& cpu, SkBuff* skb, uint32_t mtu, FragOutput output, void* ctx) {
  // egress 9: ip_fragment -> ip_do_fragment.
  const auto ip = wire::Ipv4Packet::checked(skb->bytes(), wire::ChecksumCheck::Skip);
  if (!ip) {  // our own datagram, or one ip_rcv_core checked: a caller's bug, not a packet's
    ++mib_.FragFails;
    drop(cpu, skb, SkbDropReason::NotSpecified, model::egress(9), kFragFailed);
    return -kEINVAL;
  }
  // ip_fragment: DF set and no skb->ignore_df (the model has none: nothing asks to fragment a DF
  // datagram anyway) is refused: FragFails, ICMP fragmentation needed with the MTU, kfree_skb.
  if (ip->dont_fragment()) {
    ++mib_.FragFails;
    icmp_send(cpu, *skb, 3, 4, mtu);  // ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, htonl(mtu)
    drop(cpu, skb, SkbDropReason::NotSpecified, model::egress(9), kFragFailed);
    return -kEMSGSIZE;
  }
  if (skb->ip_summed == IpSummed::Partial) skb_checksum_help(*skb);

  // ip_frag_init: the data space per fragment, where the payload starts, the original's offset
  // and MF (a fragment cut again at a router keeps both).
  const uint32_t hlen = static_cast<uint32_t>(ip->header_len());
  if (mtu < hlen + 8) {  // Linux never sees this (an IPv4 device's MTU is at least 68)
    ++mib_.FragFails;
    drop(cpu, skb, SkbDropReason::NotSpecified, model::egress(9), kFragFailed);
    return -kEINVAL;
  }
  const uint32_t room = mtu - hlen;
  uint32_t left = skb->len - hlen;
  uint32_t ptr = hlen;
  uint32_t offset = ip->frag_offset();
  const bool not_last_frag = ip->more_fragments();
  const uint64_t id = skb->trace_id;
  std::span<uint8_t> orig = skb->bytes();
  bool id_passed_on = false;  // the first fragment has gone out under the original's id
  int err = 0;

  while (left > 0) {
    const bool first_frag = offset == 0;
    // ip_frag_next: as much as fits, a multiple of 8 octets unless it is the end (RFC 791 3.2).
    uint32_t len = std::min(left, room);
    if (len < left) len &= ~7u;
    cpu.charge(cpu.costs().ip_fragment + cpu.costs().copy_per_kib * ((len + hlen + 1023) / 1024));
    SkBuff* f = pool_.alloc(len + hlen, SkbAlloc::AllocSkb);
    if (f == nullptr) {
      err = -kENOMEM;
      break;
    }
    // alloc_skb(len + hlen + LL_RESERVED_SPACE): the pool reserves NET_SKB_PAD of headroom (room
    // for the link header); the truesize is Linux's for that request.
    f->truesize = alloc_skb_truesize(len + hlen + kLlReservedSpaceEth);
    // ip_copy_metadata (the route, skb_dst_copy, is rt_type here); the delivery time.
    f->pkt_type = skb->pkt_type;
    f->priority = skb->priority;
    f->protocol = skb->protocol;
    f->dev = skb->dev;
    f->mark = skb->mark;
    f->rt_type = skb->rt_type;
    f->tstamp = skb->tstamp;
    skb_reset_network_header(*f);
    skb_set_transport_header(*f, static_cast<int>(hlen));
    // ip_frag_next: "charge the memory for the fragment to any owner it might possess".
    if (skb->sk != nullptr && skb->destructor == &sock_wfree) skb_set_owner_w(f, *skb->sk);
    std::span<uint8_t> out = f->bytes();
    std::memcpy(out.data(), orig.data(), hlen);
    std::memcpy(out.data() + hlen, orig.data() + ptr, len);
    left -= len;
    // The header: the offset, MF unless this is the end of the original (which may itself be a
    // fragment with MF), DF only for IPSKB_FRAG_PMTU (a reassembled datagram forwarded, which
    // this model does not make), the length and the checksum.
    uint16_t frag_off = static_cast<uint16_t>(offset >> 3);
    if (left > 0 || not_last_frag) frag_off |= wire::kIpv4FlagMf;
    wire::store_be16(out, 6, frag_off);
    wire::store_be16(out, 2, static_cast<uint16_t>(len + hlen));
    (*wire::Ipv4PacketMut::checked(out, wire::ChecksumCheck::Skip)).fill_checksum();
    // ip_frag_ipcb: the options are fixed once, on the original, after the first fragment.
    if (first_frag) ip_options_fragment(orig.first(hlen));
    // The first fragment goes on under the datagram's id; every other one is a packet of its
    // own, numbered by its offset in the original datagram (so a router's second cut of a
    // fragment cannot collide with it), and IpFragment is its first event.
    f->trace_id = ptr == hlen ? id : model::fragment_id(id, offset);
    trace_event(cpu, TraceKind::IpFragment, model::egress(9), f->trace_id, offset, f->len);
    id_passed_on = true;
    ptr += len;
    offset += len;
    err = output(ctx, cpu, f);  // owns f from here, whatever it answers
    if (err != 0) break;
    ++mib_.FragCreates;
  }
  if (err == 0) {
    // consume_skb: the original's id lives on in the first fragment, so it has no end of its own.
    skb->trace_id = 0;
    cpu.charge(cpu.costs().skb_free);
    consume_skb(skb);
    ++mib_.FragOKs;
    return 0;
  }
  // fail: kfree_skb and FragFails. Before any fragment took its id the original ends here.
  ++mib_.FragFails;
  if (!id_passed_on) {
    drop(cpu, skb, SkbDropReason::NotSpecified, model::egress(9), kFragFailed);
  } else {
    skb->trace_id = 0;
    cpu.charge(cpu.costs().skb_free);
    kfree_skb(skb, SkbDropReason::NotSpecified);
  }
  return err;
}

}  // namespace vnic::stack
