// GRO for TCP over IPv4 (net/core/gro.c dev_gro_receive, napi_gro_flush, gro_normal_one;
// net/ipv4/af_inet.c inet_gro_receive; net/ipv4/tcp_offload.c tcp4_gro_receive and
// tcp_gro_receive; net/core/skbuff.c skb_gro_receive), as Linux 6.1 runs it for a driver that
// calls napi_gro_receive from its poll.
//
// A segment joins the skb held for its flow when it is next in sequence, carries the same ACK,
// window, flags (but PSH and FIN) and options (the timestamp), the same TTL and TOS, is no larger
// than the first segment (gso_size) and the merged skb stays under 64 KiB; a segment shorter
// than gso_size, or with PSH, FIN, RST, SYN or URG, joins (when it can) and sends the skb up at
// once. The IP ids must advance by one a segment (or stay fixed with DF) and DF must not change.
// Anything that cannot join sends the held skb up first. Merging copies the payload into
// one linear buffer (Linux chains page frags); truesize is the sum of the segments', as Linux
// charges it. The segments' ids travel in the merged skb (SkBuff::seg_ids); each gets a
// gro.merge event.
#include <algorithm>
#include <cstring>

#include "vnic/stack/softnet.hpp"
#include "vnic/stack/wire/checksum.hpp"
#include "vnic/stack/wire/endian.hpp"
#include "vnic/stack/wire/ipv4.hpp"
#include "vnic/stack/wire/tcp.hpp"

namespace vnic::stack {

namespace {
constexpr uint32_t kGroMaxSize = 65536;  // gro_max_size (GRO_LEGACY_MAX_SIZE)
uint16_t be16(const uint8_t* p) { return wire::load_be16(std::span<const uint8_t>(p, 2), 0); }
uint32_t be32(const uint8_t* p) { return wire::load_be32(std::span<const uint8_t>(p, 4), 0); }

// What inet_gro_receive and tcp4_gro_receive look at. ok false: not a segment GRO can take
// (it goes up as it came, past any skb held for its flow, as in Linux: IP options, a fragment,
// a bad IP or TCP checksum). ip_flush: inet_gro_receive's own flush (a total length other than
// the skb's, the reserved fragment bit): the skb held for its flow goes up first, then this one.
struct GroView {
  bool ok = false;
  bool ip_flush = false;
  bool df = false;
  uint16_t ip_id = 0;
  uint32_t ihl = 0, thlen = 0, payload = 0;
  uint32_t saddr = 0, daddr = 0, ports = 0, seq = 0, ack = 0, flag_word = 0;
  uint8_t tos = 0, ttl = 0;
  uint8_t flags = 0;
};

constexpr uint16_t kIpDf = 0x4000;

GroView gro_view(const SkBuff& skb) {
  GroView v;
  if (skb.protocol != 0x0800 || skb.len < 40) return v;
  const uint8_t* ip = skb.head + skb.data;
  // inet_gro_receive: IPv4 without options, not a fragment, its header checksum right, TCP
  if (ip[0] != 0x45) return v;
  const uint16_t frag = be16(ip + 6);
  if ((frag & 0x3FFF) != 0) return v;  // ip_is_fragment: MF or an offset
  if (!wire::checksum_ok(std::span<const uint8_t>(ip, 20))) return v;
  if (ip[9] != 6) return v;
  const uint32_t tot = be16(ip + 2);
  // flush = (tot_len ^ skb_gro_len) | (frag_off & ~IP_DF): padding or truncation, the reserved bit
  v.ip_flush = tot != skb.len || (frag & ~kIpDf) != 0;
  const uint8_t* th = ip + 20;
  const uint32_t thlen = (th[12] >> 4) * 4u;
  if (thlen < 20 || 20 + thlen > std::min<uint32_t>(tot, skb.len)) return v;
  v.ihl = 20;
  v.thlen = thlen;
  v.payload = tot - 20 - thlen;
  v.df = (frag & kIpDf) != 0;
  v.ip_id = be16(ip + 4);
  v.saddr = be32(ip + 12);
  v.daddr = be32(ip + 16);
  v.ports = be32(th);
  v.seq = be32(th + 4);
  v.ack = be32(th + 8);
  v.flag_word = be32(th + 12);
  v.flags = th[13];
  v.tos = ip[1];
  v.ttl = ip[8];
  // tcp4_gro_receive -> skb_gro_checksum_validate (not for an skb already flushed): a segment
  // whose checksum fails goes up as it came (TCP counts it)
  if (!v.ip_flush) {
    const std::span<const uint8_t> l4(th, tot - 20);
    if (skb.ip_summed != IpSummed::Unnecessary &&
        !wire::ipv4_pseudo_sum(wire::Ipv4Addr::from_u32(v.saddr), wire::Ipv4Addr::from_u32(v.daddr), 6, l4).verifies()) {
      return v;
    }
  }
  v.ok = true;
  return v;
}

constexpr uint8_t kFlushFlags = wire::kTcpUrg | wire::kTcpPsh | wire::kTcpRst | wire::kTcpSyn | wire::kTcpFin;
}  // namespace

void Softnet::gro_normal_one(Napi& n, SkBuff* skb, uint32_t segs) {
  skb->next = nullptr;
  if (n.rx_list_tail != nullptr) n.rx_list_tail->next = skb; else n.rx_list_head = skb;
  n.rx_list_tail = skb;
  n.rx_count += segs;
  if (n.rx_count >= gro_normal_batch) gro_normal_list(n);
}

void Softnet::gro_normal_list(Napi& n) {
  // netif_receive_skb_list_internal: each in order
  SkBuff* s = n.rx_list_head;
  n.rx_list_head = n.rx_list_tail = nullptr;
  n.rx_count = 0;
  while (s != nullptr) {
    SkBuff* next = s->next;
    s->next = nullptr;
    netif_receive_skb(s);
    s = next;
  }
}

void Softnet::gro_complete(Napi& n, SkBuff* skb) {
  // napi_gro_complete -> inet_gro_complete -> tcp4_gro_complete: the IP header's total length
  // and checksum for the merged skb; one segment alone goes up as a plain skb
  const uint32_t segs = skb->gso_segs;
  if (segs <= 1) {
    skb->gso_size = 0;
    skb->gso_segs = 0;
  } else {
    uint8_t* ip = skb->head + skb->data;
    const std::span<uint8_t> h(ip, 20);
    wire::store_be16(h, 2, static_cast<uint16_t>(skb->len));
    wire::store_be16(h, 10, 0);
    wire::store_be16(h, 10, wire::internet_checksum(h));
    ++n.gro_skbs;
    n.gro_packets += segs;
    n.gro_bytes += skb->len - 20u - ((ip[32] >> 4) * 4u);
  }
  emit(TraceKind::GroFlush, segs, skb->len, skb->trace_id);
  gro_normal_one(n, skb, std::max<uint32_t>(segs, 1));
}

void Softnet::gro_flush_held(Napi& n, unsigned i) {
  SkBuff* skb = n.gro[i].skb;
  for (unsigned j = i + 1; j < n.gro_count; ++j) n.gro[j - 1] = n.gro[j];
  --n.gro_count;
  n.gro[n.gro_count] = Napi::GroHeld{};
  gro_complete(n, skb);
}

void Softnet::napi_gro_flush(Napi& n) {
  // napi_gro_flush(napi, false): every held skb, oldest first
  while (n.gro_count > 0) gro_flush_held(n, 0);
}

void Softnet::napi_gro_receive(Napi& n, SkBuff* skb) {
  cpu_.charge(cpu_.costs().gro_receive);
  if (skb->dev == nullptr || !skb->dev->gro) {
    ++n.gro_normal;
    gro_normal_one(n, skb, 1);
    return;
  }
  const GroView v = gro_view(*skb);
  if (!v.ok) {
    ++n.gro_normal;
    gro_normal_one(n, skb, 1);
    return;
  }
  if (!v.ip_flush) skb->ip_summed = IpSummed::Unnecessary;  // validated here (CHECKSUM_UNNECESSARY)
  unsigned found = n.gro_count;
  for (unsigned i = 0; i < n.gro_count; ++i) {
    if (n.gro[i].saddr == v.saddr && n.gro[i].daddr == v.daddr && n.gro[i].ports == v.ports) {
      found = i;
      break;
    }
  }
  bool flush_new = false;
  if (found < n.gro_count) {
    Napi::GroHeld& h = n.gro[found];
    SkBuff* p = h.skb;
    const uint8_t* ip2 = p->head + p->data;
    const uint8_t* th2 = ip2 + 20;
    const uint32_t mss = p->gso_size;
    bool flush = v.ip_flush;
    // inet_gro_receive: DF the same; the IP id: fixed (an atomic flow: DF set, the id not
    // advancing) or one more per segment held. tcp_gro_receive decides which at the second segment.
    flush |= v.df != ((be16(ip2 + 6) & kIpDf) != 0);
    uint16_t flush_id = static_cast<uint16_t>(v.ip_id - be16(ip2 + 4));
    if (!h.is_atomic || !v.df) flush_id = (flush_id ^ p->gso_segs) != 0 ? 0xFFFF : 0;
    if (flush_id != 1 || p->gso_segs != 1 || !h.is_atomic) {
      flush |= flush_id != 0;
    } else {
      h.is_atomic = false;  // incrementing ids from here on
    }
    flush |= (v.flags & wire::kTcpCwr) != 0;
    // the flag word: data offset, flags but CWR, FIN and PSH, and the window
    constexpr uint32_t kCwrFinPsh = (uint32_t{wire::kTcpCwr} | wire::kTcpFin | wire::kTcpPsh) << 16;
    flush |= ((v.flag_word ^ be32(th2 + 12)) & ~kCwrFinPsh) != 0;
    flush |= v.ack != be32(th2 + 8);
    const uint8_t* th = skb->head + skb->data + 20;
    flush |= std::memcmp(th + 20, th2 + 20, v.thlen - 20) != 0;  // the options (doff equal above)
    flush |= v.tos != ip2[1] || v.ttl != ip2[8];
    flush |= v.payload - 1u >= mss;  // larger than the first segment, or no payload
    flush |= v.seq != h.next_seq;
    if (!flush && p->len + v.payload >= kGroMaxSize) flush = true;  // skb_gro_receive: -E2BIG
    if (!flush) {
      // skb_gro_receive: the payload joins p's (one linear buffer: the first merge moves p to a
      // buffer that holds 64 KiB)
      if (p->tailroom() < v.payload) {
        const uint32_t mac = p->data - (p->mac_header != SkBuff::kNoHeader ? p->mac_header : p->data);
        SkBuff* big = p->pool->alloc(kGroMaxSize + mac, SkbAlloc::AllocSkb);
        if (big == nullptr) {
          flush = true;  // no memory: the held skb goes up, this one starts again
        } else {
          std::memcpy(big->head + big->data, p->head + p->data - mac, mac + p->len);
          big->data += mac;
          big->len = p->len;
          big->mac_header = p->mac_header != SkBuff::kNoHeader ? static_cast<uint16_t>(big->data - mac) : SkBuff::kNoHeader;
          big->mac_len = p->mac_len;
          big->network_header = static_cast<uint16_t>(big->data);
          big->transport_header = static_cast<uint16_t>(big->data + 20);
          big->protocol = p->protocol;
          big->pkt_type = p->pkt_type;
          big->ip_summed = p->ip_summed;
          big->dev = p->dev;
          big->tstamp = p->tstamp;
          big->trace_id = p->trace_id;
          big->seg_ids = std::move(p->seg_ids);
          big->gso_size = p->gso_size;
          big->gso_segs = p->gso_segs;
          big->truesize = p->truesize;  // the sum of what the segments came in
          p->pool->free(p);
          p = h.skb = big;
        }
      }
      if (!flush) {
        std::memcpy(p->head + p->tail(), skb->head + skb->data + 20 + v.thlen, v.payload);
        p->len += v.payload;
        p->truesize += skb->truesize;
        ++p->gso_segs;
        p->seg_ids.push_back(skb->trace_id);
        p->head[p->data + 20 + 13] |= static_cast<uint8_t>(v.flags & (wire::kTcpFin | wire::kTcpPsh));
        h.next_seq = v.seq + v.payload;
        emit(TraceKind::GroMerge, v.payload, p->trace_id, skb->trace_id);
        cpu_.charge(Duration::ps(cpu_.costs().copy_per_kib.ps() * static_cast<int64_t>(v.payload) / 1024));
        skb->trace_id = 0;  // its id travels in p now
        skb->pool->free(skb);
        // out_check_final: a short or pushed segment sends the skb up now
        if (v.payload < mss || (v.flags & kFlushFlags) != 0) gro_flush_held(n, found);
        return;
      }
    }
    // cannot join: the held skb goes up; this one is held anew unless it must go up too
    gro_flush_held(n, found);
  }
  flush_new = v.ip_flush || v.payload < 1 || (v.flags & kFlushFlags) != 0;
  if (flush_new) {
    ++n.gro_normal;
    gro_normal_one(n, skb, 1);
    return;
  }
  // a new flow's first segment: held (gro_flush_oldest when the list is full)
  if (n.gro_count == Napi::kMaxGroSkbs) gro_flush_held(n, 0);
  ++n.gro_held;
  skb->gso_size = static_cast<uint16_t>(v.payload);
  skb->gso_segs = 1;
  Napi::GroHeld& h = n.gro[n.gro_count++];
  h.skb = skb;
  h.saddr = v.saddr;
  h.daddr = v.daddr;
  h.ports = v.ports;
  h.next_seq = v.seq + v.payload;
  h.is_atomic = v.df;  // NAPI_GRO_CB(skb)->is_atomic
}

}  // namespace vnic::stack
