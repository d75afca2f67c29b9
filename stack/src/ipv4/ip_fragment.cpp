// IPv4 reassembly of one namespace (net/ipv4/ip_fragment.c and net/ipv4/inet_fragment.c, Linux
// 6.1): ip_defrag for ip_local_deliver (ingress 18), the queues and their memory limit, RFC 5722's
// overlap rule, ip_frag_too_far's per-source distance, ip_expire's timeout and ip_frag_reasm.
//
// The trace: every fragment queued emits IpDefrag; each fragment ends exactly once, joined to the
// datagram (Consumed, kConsumedJoined) or dropped (Drop, HostDrop::FragQueueDropped), except the
// offset-0 fragment of a completed datagram, whose id the reassembled skb carries on (IpReasm).
#include <cstring>
#include <iterator>
#include <utility>

#include "vnic/stack/ip_frag.hpp"
#include "vnic/stack/net.hpp"
#include "vnic/stack/wire/checksum.hpp"

namespace vnic::stack {

// ------------------------------------------------------------------ inet_fragment.c

FragInsert inet_frag_queue_insert(IpFragQueue& q, SkBuff* skb, int offset, int end) {
  const IpFragQueue::Frag* last = q.tail();
  const int len = end - offset;
  if (last == nullptr) {
    q.runs[offset] = IpFragQueue::Run{len, {{skb, offset}}};  // the first fragment: fragrun_create
    return FragInsert::Ok;
  }
  const int last_end = last->offset + static_cast<int>(last->skb->len);
  if (last_end < end) {
    // The common case: it goes to the end. Overlapping the tail is an error.
    if (offset < last_end) return FragInsert::Overlap;
    if (offset == last_end) {
      IpFragQueue::Run& r = q.runs.rbegin()->second;  // fragrun_append_to_last
      r.len += len;
      r.frags.push_back({skb, offset});
    } else {
      q.runs[offset] = IpFragQueue::Run{len, {{skb, offset}}};
    }
    return FragInsert::Ok;
  }
  // The rb-tree search: runs do not overlap one another, so the first run ending after `offset`
  // is the only one that can hold the fragment whole; meeting any run otherwise is an overlap.
  auto it = q.runs.upper_bound(offset);
  if (it != q.runs.begin()) {
    auto prev = std::prev(it);
    if (prev->first + prev->second.len > offset) it = prev;
  }
  if (it != q.runs.end() && it->first < end) {
    const int run_end = it->first + it->second.len;
    return offset >= it->first && end <= run_end ? FragInsert::Dup : FragInsert::Overlap;
  }
  q.runs[offset] = IpFragQueue::Run{len, {{skb, offset}}};  // a run of its own (fragcb_clear)
  return FragInsert::Ok;
}

namespace {

constexpr uint64_t kFragDropped = model::host_drop(model::HostDrop::FragQueueDropped);
constexpr model::Step kStep = model::ingress(18);

// The IP header of a queued fragment (its data pulled past it and trimmed to the payload, so
// the header's total length no longer matches what follows; ip_defrag checked it on entry).
std::span<const uint8_t> queued_ip_header(const SkBuff& s) {
  const std::span<const uint8_t> nb = s.network_bytes();
  return nb.first(std::size_t{nb[0] & 0x0Fu} * 4);
}

// inet_frag_kill: the queue leaves the table and its timer stops; the caller owns it now.
std::unique_ptr<IpFragQueue> frag_kill(NetStack& net, IpFrags& f, IpFragQueue& q) {
  if (q.timer_armed) {
    net.cpu(0).cancel(q.timer);
    q.timer_armed = false;
  }
  q.flags |= kInetFragComplete;
  auto it = f.queues.find(q.key);
  std::unique_ptr<IpFragQueue> owned = std::move(it->second);
  f.queues.erase(it);
  return owned;
}

// inet_frag_rbtree_purge: every queued fragment freed (kfree_skb: NOT_SPECIFIED in 6.1);
// returns their truesize.
uint64_t frag_purge(NetStack& net, Cpu& cpu, IpFragQueue& q) {
  uint64_t sum = 0;
  for (auto& [off, run] : q.runs) {
    for (const IpFragQueue::Frag& fr : run.frags) {
      sum += fr.skb->truesize;
      net.drop(cpu, fr.skb, SkbDropReason::NotSpecified, kStep, kFragDropped);
    }
  }
  q.runs.clear();
  return sum;
}

void peer_put(IpFrags& f, IpFragQueue& q) {
  if (!q.has_peer) return;
  auto it = f.peers.find(q.key.saddr);
  if (it != f.peers.end() && --it->second.refs == 0) f.peers.erase(it);
  q.has_peer = false;
}

// inet_frag_destroy (the last ipq_put): what is still queued is freed, the queue's memory returned.
void frag_destroy(NetStack& net, IpFrags& f, Cpu& cpu, std::unique_ptr<IpFragQueue> q) {
  f.mem -= frag_purge(net, cpu, *q) + kIpqSize;
  peer_put(f, *q);
}

// ip_expire's timer, at jiffies + ipfrag_time (from the queue's creation or ip_frag_reinit; a
// fragment arriving does not re-arm it: RFC 791's "prolong by the TTL" is what 6.1 refuses).
void arm_timer(NetStack& net, IpFrags& f, IpFragQueue& q) {
  Cpu& c0 = net.cpu(0);
  if (q.timer_armed) c0.cancel(q.timer);
  const uint64_t expires = jiffies(c0.now()) + static_cast<uint64_t>(net.config().ipv4.ipfrag_time_s) * kHz;
  q.timer = c0.call_at(Instant::from_ps(static_cast<int64_t>(expires) * kJiffy.ps()), f.expire, &net,
                       reinterpret_cast<uintptr_t>(&q));
  q.timer_armed = true;
}

// inet_frag_pull_head: the offset-0 fragment out of the queue (ip_expire's ICMP quotes it).
SkBuff* frag_pull_head(IpFrags& f, IpFragQueue& q) {
  if (q.runs.empty()) return nullptr;
  auto it = q.runs.begin();
  IpFragQueue::Run& r = it->second;
  SkBuff* head = r.frags.front().skb;
  r.frags.erase(r.frags.begin());
  if (r.frags.empty()) {
    q.runs.erase(it);
  } else {
    // The rest of the run takes the head's place in the tree (rb_replace_node).
    IpFragQueue::Run rest = std::move(r);
    rest.len -= static_cast<int>(head->len);
    q.runs.erase(it);
    const int off = rest.frags.front().offset;
    q.runs.emplace(off, std::move(rest));
  }
  f.mem -= head->truesize;
  return head;
}

// ip_frag_too_far: more than ipfrag_max_dist fragments from this source since the queue last
// saw one of its own (it counts ReasmFails); then ip_frag_reinit empties it and starts its
// timer anew.
void ip_frag_too_far(NetStack& net, IpFrags& f, Cpu& cpu, IpFragQueue& q) {
  const auto max = static_cast<uint32_t>(net.config().ipv4.ipfrag_max_dist);
  if (!q.has_peer || max == 0) return;
  const uint32_t start = q.rid;
  const uint32_t end = ++f.peers[q.key.saddr].rid;
  q.rid = end;
  if (q.tail() == nullptr || end - start <= max) return;
  ++net.ip_mib().ReasmFails;
  // ip_frag_reinit (mod_timer finds the timer pending: in this model it always is while the
  // queue is in the table).
  arm_timer(net, f, q);
  f.mem -= frag_purge(net, cpu, q);
  q.flags = 0;
  q.len = 0;
  q.meat = 0;
  q.iif = 0;
  q.ecn = 0;
}

// ip_frag_reasm: one linear skb with the offset-0 fragment's IP header and every payload in
// order. Returns nullptr when it failed (counted; the caller destroys the queue).
SkBuff* ip_frag_reasm(NetStack& net, IpFrags& f, Cpu& cpu, IpFragQueue& q, SkBuff* skb) {
  const uint8_t ecn = ip_frag_ecn_table(q.ecn);
  if (ecn == 0xFF) {  // RFC 3168 5.3: Not-ECT mixed with ECT or CE
    ++net.ip_mib().ReasmFails;
    return nullptr;
  }
  SkBuff* head = q.runs.begin()->second.frags.front().skb;  // offset 0: FIRST_IN and meat == len
  const std::span<const uint8_t> hdr = queued_ip_header(*head);
  const uint32_t total = static_cast<uint32_t>(hdr.size()) + static_cast<uint32_t>(q.len);
  if (total > wire::kIpv4MaxTotalLen) {
    // out_oversize: "Oversized IP packet from %pI4" (net_info_ratelimited; the model logs nothing).
    ++net.ip_mib().ReasmFails;
    return nullptr;
  }
  // Linux chains the fragments (frag_list, or coalesced page frags) onto the head; the model
  // copies them into one linear skb (the pool's 64 KiB class above 16 KiB). When the pool cannot
  // make it (its limit, host memory), that fails as inet_frag_reasm_prepare's out_nomem does
  // (ReasmFails; IpFrags::reasm_too_big for a datagram above 16 KiB).
  SkBuff* out = net.pool().alloc(total, SkbAlloc::AllocSkb);
  if (out == nullptr) {
    if (total > SkbPool::kLargeBuf - SkbPool::kHeadroom) ++f.reasm_too_big;
    ++net.ip_mib().ReasmFails;
    return nullptr;
  }
  std::memcpy(out->bytes().data(), hdr.data(), hdr.size());
  uint32_t at = static_cast<uint32_t>(hdr.size());
  uint32_t truesize = 0;
  uint32_t joined = 0;
  bool same_summed = true;
  for (const auto& [off, run] : q.runs) {
    for (const IpFragQueue::Frag& fr : run.frags) {
      std::memcpy(out->bytes().data() + at, fr.skb->bytes().data(), fr.skb->len);
      at += fr.skb->len;
      truesize += fr.skb->truesize;
      same_summed = same_summed && fr.skb->ip_summed == head->ip_summed;
      ++joined;
    }
  }
  // skb_morph(skb, head): the head's metadata; the completing fragment's device and route
  // (ip_frag_queue restores its _skb_refdst); q.stamp; the truesize the fragments add up to
  // (6.1's coalescing of page-fragment heads trims 256 bytes a fragment: not modelled).
  out->protocol = head->protocol;
  out->pkt_type = head->pkt_type;
  out->priority = head->priority;
  out->mark = head->mark;
  out->queue_mapping = head->queue_mapping;
  out->dev = skb->dev;
  out->rt_type = skb->rt_type;
  out->tstamp = q.stamp;
  out->truesize = truesize;
  out->trace_id = head->trace_id;
  if (head->mac_header != SkBuff::kNoHeader && head->mac_len != 0 && head->mac_len <= out->headroom() &&
      head->mac_header + head->mac_len <= head->network_header) {
    std::memcpy(out->head + out->data - head->mac_len, head->head + head->mac_header, head->mac_len);
    out->mac_header = static_cast<uint16_t>(out->data - head->mac_len);
    out->mac_len = head->mac_len;
  }
  skb_reset_network_header(*out);
  skb_set_transport_header(*out, static_cast<int>(hdr.size()));
  // inet_frag_reasm_finish: CHECKSUM_NONE unless every fragment agrees; a CHECKSUM_COMPLETE sum
  // is the fragments' sums added (taken here over the datagram: valid headers add nothing).
  out->ip_summed = same_summed ? head->ip_summed : IpSummed::None;
  wire::store_be16(out->bytes(), 2, static_cast<uint16_t>(total));  // before the view checks it
  const auto ip = *wire::Ipv4PacketMut::checked(out->bytes(), wire::ChecksumCheck::Skip);
  ip.set_tos(static_cast<uint8_t>(ip.tos() | ecn));
  // DF only if the largest fragment had DF (IPSKB_FRAG_PMTU: ip_fragment would refuse to send a
  // DF datagram larger than what its sender sent); frag_off otherwise 0.
  wire::store_be16(ip.bytes(), 6, q.max_df_size == q.max_size ? wire::kIpv4FlagDf : uint16_t{0});
  ip.fill_checksum();
  if (out->ip_summed == IpSummed::Complete) out->csum = wire::InternetChecksum{}.add(out->bytes()).sum();
  ++net.ip_mib().ReasmOKs;

  // The fragments: the head's id goes on in `out` (freed with no end of its own), the others
  // are joined to it. Their memory leaves the queue.
  for (auto& [off, run] : q.runs) {
    for (const IpFragQueue::Frag& fr : run.frags) {
      f.mem -= fr.skb->truesize;
      if (fr.skb == head) {
        fr.skb->trace_id = 0;  // its id lives on in the datagram
        consume_skb(fr.skb);
      } else {
        net.consume(cpu, fr.skb, kStep, model::kConsumedJoined);
      }
    }
  }
  q.runs.clear();
  net.trace_event(cpu, TraceKind::IpReasm, kStep, out->trace_id, total, joined);
  return out;
}

// ip_frag_queue: one fragment (skb->data at its IP header) into its queue. Returns the datagram
// when it completed it; nullptr otherwise (queued, or dropped and counted). `qp` is nulled when
// the queue was killed (and destroyed).
SkBuff* ip_frag_queue(NetStack& net, IpFrags& f, Cpu& cpu, IpFragQueue*& qp, SkBuff* skb) {
  IpFragQueue& q = *qp;
  IpMib& mib = net.ip_mib();
  ip_frag_too_far(net, f, cpu, q);  // (IPSKB_FRAG_COMPLETE: no looped-back local fragments here)

  const auto ip = *wire::Ipv4Packet::checked(skb->network_bytes(), wire::ChecksumCheck::Skip);
  const uint8_t ecn = ip4_frag_ecn(ip.tos());
  const int offset = ip.frag_offset();
  const bool mf = ip.more_fragments();
  const bool df = ip.dont_fragment();
  const int ihl = static_cast<int>(ip.header_len());
  int end = offset + static_cast<int>(skb->len) - skb_network_offset(*skb) - ihl;

  bool discard = false;
  if (!mf) {
    // The last fragment: data already beyond its end, or a different end, is corruption.
    if (end < q.len || ((q.flags & kInetFragLastIn) != 0 && end != q.len)) {
      discard = true;
    } else {
      q.flags |= kInetFragLastIn;
      q.len = end;
    }
  } else {
    if ((end & 7) != 0) {
      end &= ~7;  // RFC 791: a fragment other than the last carries a multiple of 8 octets
      if (skb->ip_summed != IpSummed::Unnecessary) skb->ip_summed = IpSummed::None;
    }
    if (end > q.len) {
      if ((q.flags & kInetFragLastIn) != 0) discard = true;  // bits beyond the end
      else q.len = end;
    }
  }
  if (!discard && end == offset) discard = true;  // an empty fragment
  FragInsert ins = FragInsert::Ok;
  if (!discard) {
    skb_pull(*skb, static_cast<uint32_t>(skb_network_offset(*skb) + ihl));
    skb_trim(*skb, static_cast<uint32_t>(end - offset));  // pskb_trim_rcsum
    ins = inet_frag_queue_insert(q, skb, offset, end);
    if (ins == FragInsert::Dup) {
      // RFC 5722 4 (Errata 3089): a duplicate is ignored; the queue goes on. No counter.
      net.drop(cpu, skb, SkbDropReason::NotSpecified, kStep, kFragDropped);
      return nullptr;
    }
    if (ins == FragInsert::Overlap) {
      ++mib.ReasmOverlaps;
      discard = true;
    }
  }
  if (discard) {
    // discard_qp: the whole datagram goes (inet_frag_kill, ReasmFails), this fragment first.
    std::unique_ptr<IpFragQueue> owned = frag_kill(net, f, q);
    qp = nullptr;
    ++mib.ReasmFails;
    net.drop(cpu, skb, SkbDropReason::NotSpecified, kStep, kFragDropped);
    frag_destroy(net, f, cpu, std::move(owned));
    return nullptr;
  }

  if (skb->dev != nullptr) q.iif = net.ifindex_of(*skb->dev);
  q.stamp = skb->tstamp;
  q.meat += static_cast<int>(skb->len);
  q.ecn |= ecn;
  f.mem += skb->truesize;
  if (offset == 0) q.flags |= kInetFragFirstIn;
  const auto fragsize = static_cast<uint16_t>(skb->len + static_cast<uint32_t>(ihl));
  if (fragsize > q.max_size) q.max_size = fragsize;
  if (df && fragsize > q.max_df_size) q.max_df_size = fragsize;
  net.trace_event(cpu, TraceKind::IpDefrag, kStep, skb->trace_id, static_cast<uint32_t>(offset), ip.ident());

  if (q.flags == (kInetFragFirstIn | kInetFragLastIn) && q.meat == q.len) {
    std::unique_ptr<IpFragQueue> owned = frag_kill(net, f, q);  // ipq_kill, first thing in ip_frag_reasm
    qp = nullptr;
    SkBuff* out = ip_frag_reasm(net, f, cpu, q, skb);
    frag_destroy(net, f, cpu, std::move(owned));  // a failed one's fragments go with it
    return out;
  }
  return nullptr;  // -EINPROGRESS
}

}  // namespace

// ------------------------------------------------------------------ NetStack

void NetStack::ip_frags_init() {
  frags_ = new IpFrags;
  // ip_expire. A lambda of a member function: it may use NetStack's private parts.
  frags_->expire = [](void* ctx, uint64_t arg) {
    auto* net = static_cast<NetStack*>(ctx);
    IpFrags& f = *net->frags_;
    auto* q = reinterpret_cast<IpFragQueue*>(static_cast<uintptr_t>(arg));
    q->timer_armed = false;
    Cpu& cpu = *net->cpus_[0];
    std::unique_ptr<IpFragQueue> owned = frag_kill(*net, f, *q);  // ipq_kill
    ++net->mib_.ReasmFails;
    ++net->mib_.ReasmTimeout;
    SkBuff* head = nullptr;
    if ((q->flags & kInetFragFirstIn) != 0) head = frag_pull_head(f, *q);
    if (head != nullptr) {
      // RFC 792 / RFC 1122 3.2.2: time exceeded, fragment reassembly time exceeded (code 1),
      // quoting the first fragment, if its device is still there and a route back in exists
      // (ip_route_input_noref again: the fragment's dst was dropped when it was queued). For
      // IP_DEFRAG_LOCAL_DELIVER 6.1 does not look at the route's type (frag_expire_skip_icmp).
      NetDevice* dev = net->dev_by_index(q->iif);
      if (dev != nullptr) {
        head->dev = dev;
        const std::span<const uint8_t> h = queued_ip_header(*head);
        const RouteIn r = net->ip_route_input(*head, wire::load_ipv4(h, 16), wire::load_ipv4(h, 12), *dev);
        if (r.err == 0) {
          head->rt_type = r.rt_type;
          net->icmp_send(cpu, *head, 11, 1, 0);  // ICMP_TIME_EXCEEDED, ICMP_EXC_FRAGTIME
        }
      }
      net->drop(cpu, head, SkbDropReason::NotSpecified, kStep, kFragDropped);  // kfree_skb(head)
    }
    frag_destroy(*net, f, cpu, std::move(owned));  // ipq_put: the other fragments
  };
}

void NetStack::ip_frags_exit() {
  // fqdir_pre_exit + fqdir_exit: timers stopped, what is queued freed (kfree_skb) without trace
  // events: a teardown is not part of the run.
  if (frags_ == nullptr) return;
  for (auto& [key, q] : frags_->queues) {
    if (q->timer_armed) cpus_[0]->cancel(q->timer);
    for (auto& [off, run] : q->runs) {
      for (const IpFragQueue::Frag& fr : run.frags) kfree_skb(fr.skb);
    }
  }
  delete frags_;
  frags_ = nullptr;
}

std::size_t NetStack::frag_queues() const { return frags_->queues.size(); }
uint64_t NetStack::frag_mem() const { return frags_->mem; }

SkBuff* NetStack::ip_defrag(Cpu& cpu, SkBuff* skb) {
  // ingress 18: ip_defrag(net, skb, IP_DEFRAG_LOCAL_DELIVER). (Its CPU cost, CpuCosts::ip_defrag,
  // is charged by the caller, ip_local_deliver.)
  IpFrags& f = *frags_;
  ++mib_.ReasmReqds;
  skb_orphan(*skb);
  const auto ip = wire::Ipv4Packet::checked(skb->network_bytes(), wire::ChecksumCheck::Skip);
  if (!ip) {  // ip_rcv_core let nothing like this through: a caller's bug, not a packet's
    drop(cpu, skb, SkbDropReason::IpInhdr, model::ingress(18));
    return nullptr;
  }
  // inet_frag_find: with ipfrag_high_thresh 0, or more memory in use than it, no queue is found
  // or made: the fragment is refused (ReasmFails, -ENOMEM).
  const uint64_t high = cfg_.ipv4.ipfrag_high_thresh;
  if (high == 0 || f.mem > high) {
    ++mib_.ReasmFails;
    drop(cpu, skb, SkbDropReason::NotSpecified, model::ingress(18), kFragDropped);
    return nullptr;
  }
  const IpFragKey key{ip->src().to_u32(), ip->dst().to_u32(), kIpDefragLocalDeliver, ip->ident(),
                      static_cast<uint8_t>(ip->protocol())};
  auto it = f.queues.find(key);
  IpFragQueue* q = nullptr;
  if (it != f.queues.end()) {
    q = it->second.get();
  } else {
    // inet_frag_create: ip4_frag_init (a peer when ipfrag_max_dist is set), qsize charged, the
    // timer started.
    auto n = std::make_unique<IpFragQueue>();
    n->key = key;
    if (cfg_.ipv4.ipfrag_max_dist != 0) {
      ++f.peers[key.saddr].refs;
      n->has_peer = true;
    }
    f.mem += kIpqSize;
    q = n.get();
    f.queues.emplace(key, std::move(n));
    arm_timer(*this, f, *q);
  }
  return ip_frag_queue(*this, f, cpu, q, skb);
}

}  // namespace vnic::stack
