// Generic segmentation offload in software (net/core/gso.c skb_gso_segment, net/ipv4/af_inet.c
// inet_gso_segment, net/ipv4/tcp_offload.c tcp_gso_segment, net/core/skbuff.c skb_segment) for
// the one GSO type the model's stack makes, TCP over IPv4: a GSO skb of up to 64 KiB from TCP is
// cut, at the device (validate_xmit_skb), into segments of gso_size payload bytes, each with a
// copy of the Ethernet, IPv4 and TCP headers: IP total length, identifier (+1 per segment) and
// header checksum rewritten; TCP sequence number advanced, CWR kept on the first segment only,
// FIN and PSH on the last only, the checksum computed (the model's device offers no checksum
// offload, so skb_segment sums each segment in software, as Linux does for such a device).
#include <cstring>

#include "vnic/stack/dev_xmit.hpp"
#include "vnic/stack/sock.hpp"
#include "vnic/stack/wire/checksum.hpp"
#include "vnic/stack/wire/endian.hpp"
#include "vnic/stack/wire/tcp.hpp"

namespace vnic::stack {

using wire::load_be16;
using wire::load_be32;
using wire::store_be16;
using wire::store_be32;

uint32_t gso_header_len(const SkBuff& skb) {
  // skb_transport_offset + tcp_hdrlen: the bytes every segment repeats
  if (skb.transport_header == SkBuff::kNoHeader || skb.transport_header < skb.data) return 0;
  const uint32_t th = skb.transport_header;
  if (th + 20 > skb.tail()) return 0;
  const uint32_t doff = (skb.head[th + 12] >> 4) * 4u;
  return th - skb.data + doff;
}

uint32_t qdisc_pkt_len(const SkBuff& skb) {
  // qdisc_pkt_len_init: a GSO skb counts the headers of every segment it will become
  if (!skb_is_gso(skb) || skb.gso_segs <= 1) return skb.len;
  return skb.len + (skb.gso_segs - 1u) * gso_header_len(skb);
}

SkBuff* skb_gso_segment(Cpu& cpu, SkBuff* gso, const GsoTrace& tr) {
  const uint32_t hdr = gso_header_len(*gso);
  const uint32_t mss = gso->gso_size;
  if (hdr == 0 || gso->network_header == SkBuff::kNoHeader || gso->len <= hdr || mss == 0 || gso->pool == nullptr) {
    return nullptr;
  }
  const uint32_t mac_off = gso->network_header - gso->data;  // the link header's bytes
  const uint32_t ip_off = mac_off;
  const uint32_t th_off = gso->transport_header - gso->data;
  const uint32_t payload = gso->len - hdr;
  const uint32_t nsegs = (payload + mss - 1) / mss;
  const uint8_t* src = gso->head + gso->data;
  const std::span<const uint8_t> in(src, gso->len);
  const uint16_t id0 = load_be16(in, ip_off + 4);
  const uint32_t seq0 = load_be32(in, th_off + 4);
  const uint8_t flags0 = src[th_off + 13];
  const wire::Ipv4Addr saddr = wire::load_ipv4(in, ip_off + 12);
  const wire::Ipv4Addr daddr = wire::load_ipv4(in, ip_off + 16);
  SkBuff* first = nullptr;
  SkBuff* last = nullptr;
  uint64_t truesize = 0;
  for (uint32_t i = 0; i < nsegs; ++i) {
    const uint32_t off = i * mss;
    const uint32_t plen = std::min(mss, payload - off);
    cpu.charge(cpu.costs().skb_alloc +
               Duration::ps(cpu.costs().copy_per_kib.ps() * static_cast<int64_t>(hdr + plen) / 1024));
    SkBuff* s = gso->pool->alloc(hdr + plen, SkbAlloc::AllocSkb);
    if (s == nullptr) {
      // skb_segment's -ENOMEM: validate_xmit_skb frees the whole GSO skb (the caller's drop)
      while (first != nullptr) {
        SkBuff* n = first->next;
        first->next = nullptr;
        gso->pool->free(first);
        first = n;
      }
      return nullptr;
    }
    uint8_t* d = s->head + s->data;
    std::memcpy(d, src, hdr);
    std::memcpy(d + hdr, src + hdr + off, plen);
    s->mac_header = gso->mac_header != SkBuff::kNoHeader ? static_cast<uint16_t>(s->data) : SkBuff::kNoHeader;
    s->mac_len = gso->mac_len;
    s->network_header = static_cast<uint16_t>(s->data + ip_off);
    s->transport_header = static_cast<uint16_t>(s->data + th_off);
    s->protocol = gso->protocol;
    s->pkt_type = gso->pkt_type;
    s->priority = gso->priority;
    s->mark = gso->mark;
    s->queue_mapping = gso->queue_mapping;
    s->dev = gso->dev;
    s->tstamp = gso->tstamp;
    s->rt_type = gso->rt_type;
    // IPv4: total length, identifier, checksum
    const std::span<uint8_t> ip(d + ip_off, hdr - ip_off + plen);
    store_be16(ip, 2, static_cast<uint16_t>(ip.size()));
    store_be16(ip, 4, static_cast<uint16_t>(id0 + i));
    store_be16(ip, 10, 0);
    const uint32_t ihl = (ip[0] & 0x0F) * 4u;
    store_be16(ip, 10, wire::internet_checksum(ip.first(ihl)));
    // TCP: sequence number, flags, checksum
    const std::span<uint8_t> th(d + th_off, hdr - th_off + plen);
    store_be32(th, 4, seq0 + off);
    uint8_t f = flags0;
    if (i > 0) f &= static_cast<uint8_t>(~wire::kTcpCwr);
    if (i + 1 < nsegs) f &= static_cast<uint8_t>(~(wire::kTcpFin | wire::kTcpPsh));
    th[13] = f;
    store_be16(th, 16, 0);
    store_be16(th, 16, wire::tcp_checksum(saddr, daddr, th));
    s->ip_summed = IpSummed::None;
    s->trace_id = i == 0 ? gso->trace_id : (i - 1 < gso->seg_ids.size() ? gso->seg_ids[i - 1] : 0);
    if (tr.fn != nullptr) tr.fn(tr.ctx, s->trace_id, i, gso->trace_id);
    truesize += s->truesize;
    s->next = nullptr;
    if (last != nullptr) last->next = s; else first = s;
    last = s;
  }
  // tcp_gso_segment's copy_destructor: the segments carry the socket's charge from here on
  if (gso->sk != nullptr && gso->destructor != nullptr) {
    Sock* sk = gso->sk;
    for (SkBuff* s = first; s != nullptr; s = s->next) {
      s->sk = sk;
      s->destructor = gso->destructor;
    }
    sk->wmem_alloc += static_cast<uint32_t>(truesize);
    sk->wmem_alloc -= std::min(sk->wmem_alloc, gso->truesize);
    gso->destructor = nullptr;
    gso->sk = nullptr;
  }
  return first;
}

}  // namespace vnic::stack
