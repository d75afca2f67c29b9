// The ARP neighbour table: Linux 6.1's NUD state machine (net/core/neighbour.c) and ARP
// (net/ipv4/arp.c). See neighbour.hpp for what is and is not modelled.
#include "vnic/stack/neighbour.hpp"

#include <algorithm>
#include <cassert>

#include <fmt/format.h>

#include "vnic/stack/netdev.hpp"
#include "vnic/stack/wire/arp.hpp"
#include "vnic/stack/wire/ethernet.hpp"

namespace vnic::stack {

using model::MacAddr;
using wire::ArpOp;
using wire::ArpRepr;
using wire::EthernetRepr;
using wire::EtherType;
using wire::Ipv4Addr;

namespace {

constexpr uint16_t kArpRequest = 1;
constexpr uint16_t kArpReply = 2;

// max(retrans_time, HZ/100): neighbour.c never re-arms a probe sooner than two jiffies (HZ=250).
constexpr Duration kMinRetrans = kJiffy * (kHz / 100);

Duration max_d(Duration a, Duration b) { return a < b ? b : a; }

}  // namespace

const char* nud_state_name(uint8_t state) {
  switch (state) {  // iproute2's nud_state_n2a
    case kNudNone: return "NONE";
    case kNudIncomplete: return "INCOMPLETE";
    case kNudReachable: return "REACHABLE";
    case kNudStale: return "STALE";
    case kNudDelay: return "DELAY";
    case kNudProbe: return "PROBE";
    case kNudFailed: return "FAILED";
    case kNudNoarp: return "NOARP";
    case kNudPermanent: return "PERMANENT";
    default: return "UNKNOWN";
  }
}

NeighTable::NeighTable(Cpu& cpu, SkbPool& pool, XmitFn xmit, void* xmit_ctx, uint64_t seed, NeighParms parms)
    : cpu_(cpu), pool_(pool), xmit_(xmit), xmit_ctx_(xmit_ctx), rng_(seed), parms_(parms) {
  reachable_time_ = rand_reach_time();
}

NeighTable::~NeighTable() {
  while (!entries_.empty()) destroy(entries_.begin()->second.get(), SkbDropReason::NeighDead);
}

void NeighTable::set_parms(const NeighParms& p) {
  parms_ = p;
  reachable_time_ = rand_reach_time();
}

// neigh_rand_reach_time: base ? prandom_u32() % base + base / 2 : 0, in jiffies. The draw is
// SplitMix64 from the table's seed (deterministic), not the kernel's prandom.
Duration NeighTable::rand_reach_time() {
  const uint64_t base = static_cast<uint64_t>(parms_.base_reachable_time.ps() / kJiffy.ps());
  if (base == 0) return Duration{};
  rng_ += 0x9E3779B97F4A7C15ull;
  uint64_t z = rng_;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  const uint64_t r = static_cast<uint32_t>(z);  // prandom_u32
  return kJiffy * static_cast<int64_t>(r % base + (base >> 1));
}

void NeighTable::add_local_addr(NetDevice& dev, Ipv4Addr addr) { local_.emplace_back(&dev, addr); }

bool NeighTable::is_local(Ipv4Addr addr) const {
  return std::any_of(local_.begin(), local_.end(), [&](const auto& l) { return l.second == addr; });
}

Ipv4Addr NeighTable::local_addr(const NetDevice& dev) const {
  for (const auto& l : local_)
    if (l.first == &dev) return l.second;
  // inet_select_addr: another device's address, but not one of scope host (lo's 127.0.0.1).
  for (const auto& l : local_)
    if (!l.second.is_loopback()) return l.second;
  return {};
}

void NeighTable::netdev_up(NetDevice& dev) {
  // inetdev_event(NETDEV_UP) falls through to NETDEV_CHANGEADDR, which sends gratuitous ARP
  // (inetdev_send_gratuitous_arp) only if IN_DEV_ARP_NOTIFY.
  if (!parms_.arp_notify) return;
  for (const auto& l : local_) {
    if (l.first != &dev) continue;
    arp_send(kArpRequest, dev, l.second, l.second, nullptr, nullptr);
  }
}

// ---------------------------------------------------------------- entries

Neighbour* NeighTable::create(NetDevice& dev, Ipv4Addr addr) {
  auto n = std::make_unique<Neighbour>();
  n->dev = &dev;
  n->key = addr;
  const Instant now = cpu_.now();
  n->updated = now;
  n->used = now;
  // neigh_alloc: confirmed = jiffies - (base_reachable_time << 1): not confirmed yet.
  n->confirmed = now - parms_.base_reachable_time * 2;
  // arp_constructor: a loopback (or NOARP) device needs no resolution: NUD_NOARP with the
  // device's own address as the destination (lo's 00:00:00:00:00:00).
  if (dev.loopback) {
    n->nud_state = kNudNoarp;
    n->ha = dev.dev_addr;
  }
  ++stats_.allocs;
  Neighbour* p = n.get();
  entries_[Key{&dev, addr.to_u32()}] = std::move(n);
  return p;
}

void NeighTable::destroy(Neighbour* n, SkbDropReason reason) {
  del_timer(*n);
  while (SkBuff* s = n->arp_queue.pop_front()) drop(s, reason);
  n->arp_queue_len_bytes = 0;
  ++stats_.destroys;
  entries_.erase(Key{n->dev, n->key.to_u32()});
}

Neighbour* NeighTable::neigh_lookup(const NetDevice& dev, Ipv4Addr addr) {
  ++stats_.lookups;
  auto it = entries_.find(Key{&dev, addr.to_u32()});
  if (it == entries_.end()) return nullptr;
  ++stats_.hits;
  return it->second.get();
}

const Neighbour* NeighTable::find(const NetDevice& dev, Ipv4Addr addr) const {
  auto it = entries_.find(Key{&dev, addr.to_u32()});
  return it == entries_.end() ? nullptr : it->second.get();
}

void NeighTable::neigh_add(NetDevice& dev, Ipv4Addr addr, MacAddr lladdr, uint8_t state) {
  Neighbour* n = neigh_lookup(dev, addr);
  if (n == nullptr) n = create(dev, addr);
  update(*n, &lladdr, state, true, true);
}

void NeighTable::neigh_delete(NetDevice& dev, Ipv4Addr addr) {
  auto it = entries_.find(Key{&dev, addr.to_u32()});
  if (it != entries_.end()) destroy(it->second.get(), SkbDropReason::NeighDead);
}

void NeighTable::neigh_confirm(NetDevice& dev, Ipv4Addr addr) {
  // neigh_confirm only stamps `confirmed`; the timer turns DELAY (or REACHABLE) into REACHABLE.
  auto it = entries_.find(Key{&dev, addr.to_u32()});
  if (it != entries_.end()) it->second->confirmed = cpu_.now();
}

// ---------------------------------------------------------------- timers

void NeighTable::add_timer(Neighbour& n, Instant when) {
  del_timer(n);
  n.timer = cpu_.call_at(when, &NeighTable::timer_cb, this, reinterpret_cast<uintptr_t>(&n));
  n.timer_armed = true;
}

void NeighTable::del_timer(Neighbour& n) {
  if (!n.timer_armed) return;
  cpu_.cancel(n.timer);
  n.timer_armed = false;
}

void NeighTable::timer_cb(void* ctx, uint64_t arg) {
  auto* self = static_cast<NeighTable*>(ctx);
  auto* n = reinterpret_cast<Neighbour*>(static_cast<uintptr_t>(arg));
  n->timer_armed = false;
  self->timer_handler(*n);
}

uint32_t NeighTable::max_probes(const Neighbour& n) const {  // neigh_max_probes
  return parms_.ucast_solicit + parms_.app_solicit +
         ((n.nud_state & kNudProbe) != 0 ? parms_.mcast_resolicit : parms_.mcast_solicit);
}

void NeighTable::timer_handler(Neighbour& n) {  // neigh_timer_handler
  const uint8_t state = n.nud_state;
  const Instant now = cpu_.now();
  Instant next = now + Duration::s(1);
  if ((state & kNudInTimer) == 0) return;

  if ((state & kNudReachable) != 0) {
    if (now <= n.confirmed + reachable_time_) {
      next = n.confirmed + reachable_time_;
    } else if (now <= n.used + parms_.delay_first_probe_time) {
      n.nud_state = kNudDelay;  // used lately: probe soon rather than wait for a send
      n.updated = now;
      next = now + parms_.delay_first_probe_time;
    } else {
      n.nud_state = kNudStale;
      n.updated = now;
    }
  } else if ((state & kNudDelay) != 0) {
    if (now <= n.confirmed + parms_.delay_first_probe_time) {
      n.nud_state = kNudReachable;  // confirmed while delaying (neigh_confirm)
      n.updated = now;
      next = n.confirmed + reachable_time_;
    } else {
      n.nud_state = kNudProbe;
      n.updated = now;
      n.probes = 0;
      next = now + max_d(parms_.retrans_time, kMinRetrans);
    }
  } else {  // PROBE or INCOMPLETE
    next = now + max_d(parms_.retrans_time, kMinRetrans);
  }

  if ((n.nud_state & (kNudIncomplete | kNudProbe)) != 0 && n.probes >= max_probes(n)) {
    n.nud_state = kNudFailed;
    invalidate(n);
    return;
  }
  if ((n.nud_state & kNudInTimer) != 0) {
    if (next < now + kMinRetrans) next = now + kMinRetrans;
    add_timer(n, next);
  }
  if ((n.nud_state & (kNudIncomplete | kNudProbe)) != 0) probe(n);
}

void NeighTable::invalidate(Neighbour& n) {  // neigh_invalidate
  ++stats_.res_failed;
  // Each waiting packet is reported (neigh->ops->error_report = arp_error_report:
  // dst_link_failure, an ICMP host unreachable to its sender), then freed with NEIGH_FAILED,
  // while the entry stays FAILED; whatever is left after that (a report moved the entry on) is
  // purged by __skb_queue_purge: kfree_skb, NOT_SPECIFIED.
  while (n.nud_state == kNudFailed) {
    SkBuff* s = n.arp_queue.pop_front();
    if (s == nullptr) break;
    n.arp_queue_len_bytes -= std::min(n.arp_queue_len_bytes, s->truesize);
    if (error_report_ != nullptr) error_report_(error_ctx_, *s);
    drop(s, SkbDropReason::NeighFailed);
  }
  while (SkBuff* s = n.arp_queue.pop_front()) drop(s, SkbDropReason::NotSpecified);
  n.arp_queue_len_bytes = 0;
}

void NeighTable::probe(Neighbour& n) {  // neigh_probe
  solicit(n);
  ++n.probes;
}

void NeighTable::solicit(Neighbour& n) {  // arp_solicit (arp_announce 0: the device's address)
  const MacAddr* dst_hw = nullptr;
  int64_t probes = static_cast<int64_t>(n.probes) - parms_.ucast_solicit;
  if (probes < 0) {
    dst_hw = &n.ha;  // unicast to the address we have (PROBE)
  } else if (probes - static_cast<int64_t>(parms_.app_solicit) < 0) {
    return;  // neigh_app_ns: a user-space daemon would be asked; we have none
  }
  arp_send(kArpRequest, *n.dev, n.key, local_addr(*n.dev), dst_hw, nullptr);
}

// ---------------------------------------------------------------- state changes

bool NeighTable::event_send(Neighbour& n, SkBuff* skb) {  // __neigh_event_send
  const Instant now = cpu_.now();
  n.used = now;
  if ((n.nud_state & (kNudConnected | kNudDelay | kNudProbe)) != 0) return false;

  bool immediate_probe = false;
  if ((n.nud_state & (kNudStale | kNudIncomplete)) == 0) {  // NONE or FAILED
    if (parms_.mcast_solicit + parms_.app_solicit != 0) {
      n.probes = parms_.ucast_solicit;  // the unicast probes count as done: broadcasts follow
      del_timer(n);
      n.nud_state = kNudIncomplete;
      n.updated = now;
      immediate_probe = true;
      add_timer(n, now + max_d(parms_.retrans_time, kMinRetrans));
    } else {
      n.nud_state = kNudFailed;
      n.updated = now;
      if (skb != nullptr) drop(skb, SkbDropReason::NeighFailed);
      return true;
    }
  } else if ((n.nud_state & kNudStale) != 0) {
    n.nud_state = kNudDelay;
    n.updated = now;
    add_timer(n, now + parms_.delay_first_probe_time);
  }

  bool queued = false;
  if (n.nud_state == kNudIncomplete) {
    if (skb != nullptr) {
      // The queue is bounded in bytes of truesize; the OLDEST packets make room.
      while (n.arp_queue_len_bytes + skb->truesize > parms_.unres_qlen_bytes) {
        SkBuff* old = n.arp_queue.pop_front();
        if (old == nullptr) break;
        n.arp_queue_len_bytes -= old->truesize;
        drop(old, SkbDropReason::NeighQueuefull);
        ++stats_.unresolved_discards;
      }
      n.arp_queue.push_back(skb);
      n.arp_queue_len_bytes += skb->truesize;
    }
    queued = true;
  }
  if (immediate_probe) probe(n);
  return queued;
}

void NeighTable::update(Neighbour& n, const MacAddr* lladdr, uint8_t state, bool override, bool admin) {
  // neigh_update
  const uint8_t old = n.nud_state;
  uint8_t nw = state;
  const Instant now = cpu_.now();
  if (!admin && (old & (kNudNoarp | kNudPermanent)) != 0) return;

  if ((nw & kNudValid) == 0) {
    del_timer(n);
    n.nud_state = nw;
    if ((old & (kNudIncomplete | kNudProbe)) != 0 && (nw & kNudFailed) != 0) invalidate(n);
    return;
  }
  MacAddr addr;
  if (lladdr != nullptr) {
    addr = *lladdr;
  } else {
    if ((old & kNudValid) == 0) return;  // -EINVAL
    addr = n.ha;
  }
  const bool same_addr = (old & kNudValid) != 0 && addr == n.ha;
  if ((nw & kNudConnected) != 0) n.confirmed = now;

  if ((old & kNudValid) != 0) {
    if (!same_addr && !override) return;  // a different address within locktime: ignored
    if (same_addr && nw == kNudStale && !admin) nw = old;  // same address: keep the state
  }
  const bool addr_changes = !same_addr;  // Linux: lladdr != neigh->ha (the same pointer if unchanged)
  if (nw != old || addr_changes) n.updated = now;
  if (nw != old) {
    del_timer(n);
    if ((nw & kNudProbe) != 0) n.probes = 0;
    if ((nw & kNudInTimer) != 0) add_timer(n, now + ((nw & kNudReachable) != 0 ? reachable_time_ : Duration{}));
    n.nud_state = nw;
  }
  if (addr_changes) {
    n.ha = addr;
    if ((nw & kNudConnected) == 0) n.confirmed = now - parms_.base_reachable_time * 2;
  }
  if (nw == old) return;
  if ((old & kNudValid) == 0) {
    // Resolved: send what waited, in order, through the entry (a STALE entry moves to DELAY
    // on the first of them, as neigh_resolve_output does).
    SkbQueue q;
    q.splice_back(n.arp_queue);
    n.arp_queue_len_bytes = 0;
    while (SkBuff* s = q.pop_front()) {
      if ((n.nud_state & kNudValid) == 0) {  // "avoid dead loop if something went wrong"
        drop(s, SkbDropReason::NeighDead);
        continue;
      }
      if (!event_send(n, s)) resolved_output(n, s);
    }
  }
}

// ---------------------------------------------------------------- output

void NeighTable::neigh_output(SkBuff* skb, Ipv4Addr next_hop) {
  assert(skb != nullptr && skb->dev != nullptr);
  NetDevice& dev = *skb->dev;
  auto it = entries_.find(Key{&dev, next_hop.to_u32()});  // __ipv4_neigh_lookup_noref
  Neighbour* n = it != entries_.end() ? it->second.get() : create(dev, next_hop);  // __neigh_create
  if ((n->nud_state & (kNudConnected | kNudDelay | kNudProbe)) != 0) {  // neigh_event_send fast path
    n->used = cpu_.now();
    resolved_output(*n, skb);
    return;
  }
  if (!event_send(*n, skb)) resolved_output(*n, skb);  // STALE -> DELAY, sent at once
}

void NeighTable::emit(TraceKind k, uint32_t a, uint64_t b, uint64_t packet) {
  if (trace_ == nullptr) [[likely]] return;
  const uint64_t t = static_cast<uint64_t>(cpu_.now().ps());
  trace_->trace(trace_source_, TraceEvent{t, t, k, model::kNoStep, static_cast<uint16_t>(cpu_.id()), a, b, packet});
}

void NeighTable::drop(SkBuff* skb, SkbDropReason reason) {
  for_each_packet_id(*skb, [&](uint64_t id) { emit(TraceKind::Drop, static_cast<uint32_t>(reason), 0, id); });
  kfree_skb(skb, reason);
}

void NeighTable::consume(SkBuff* skb) {
  for_each_packet_id(*skb, [&](uint64_t id) { emit(TraceKind::Consumed, 0, 0, id); });
  consume_skb(skb);
}

void NeighTable::resolved_output(Neighbour& n, SkBuff* skb) {
  // dev_hard_header (eth_header): the 14-byte header before the network header.
  EthernetRepr eth;
  eth.dst = n.ha;
  eth.src = n.dev->dev_addr;
  eth.ethertype = skb->protocol != 0 ? static_cast<EtherType>(skb->protocol) : EtherType::Ipv4;
  std::span<uint8_t> hdr = skb_push(*skb, static_cast<uint32_t>(eth.header_len()));
  if (hdr.data() == nullptr) {  // Linux grows the headroom (skb_cow_head); our skbs have NET_SKB_PAD
    drop(skb, SkbDropReason::Nomem);
    return;
  }
  eth.emit(hdr);
  skb_reset_mac_header(*skb);
  skb->protocol = static_cast<uint16_t>(eth.ethertype);
  xmit_(xmit_ctx_, skb);
}

void NeighTable::arp_send(uint16_t op, NetDevice& dev, Ipv4Addr dest_ip, Ipv4Addr src_ip, const MacAddr* dest_hw,
                          const MacAddr* target_hw) {  // arp_create + arp_xmit
  const auto len = static_cast<uint32_t>(wire::kEthHeaderLen + ArpRepr::buffer_len());
  SkBuff* skb = pool_.alloc(len, SkbAlloc::AllocSkb);
  if (skb == nullptr) return;  // arp_create failed: nothing sent (Linux counts nothing either)
  EthernetRepr eth;
  eth.dst = dest_hw != nullptr ? *dest_hw : MacAddr::broadcast();
  eth.src = dev.dev_addr;
  eth.ethertype = EtherType::Arp;
  ArpRepr arp;
  arp.op = static_cast<ArpOp>(op);
  arp.sender_mac = dev.dev_addr;
  arp.sender_ip = src_ip;
  arp.target_mac = target_hw != nullptr ? *target_hw : MacAddr{};
  arp.target_ip = dest_ip;
  std::span<uint8_t> b = skb->bytes();
  eth.emit(b.first(wire::kEthHeaderLen));
  arp.emit(b.subspan(wire::kEthHeaderLen));
  skb->dev = &dev;
  skb->protocol = static_cast<uint16_t>(EtherType::Arp);
  skb_reset_mac_header(*skb);
  skb_set_network_header(*skb, static_cast<int>(wire::kEthHeaderLen));
  if (id_fn_ != nullptr) skb->trace_id = id_fn_(id_ctx_);
  emit(TraceKind::PacketMade, skb->len, op, skb->trace_id);
  if (op == kArpRequest) ++arp_stats_.requests_sent; else ++arp_stats_.replies_sent;
  xmit_(xmit_ctx_, skb);
}

// ---------------------------------------------------------------- input

void NeighTable::arp_rcv(SkBuff* skb) {  // arp_rcv + arp_process
  assert(skb != nullptr && skb->dev != nullptr);
  ++arp_stats_.rcv;
  NetDevice& dev = *skb->dev;
  if (skb->pkt_type == PktType::OtherHost) {  // not for us: consumed unread
    consume(skb);
    return;
  }
  auto parsed = ArpRepr::parse(skb->bytes());
  if (!parsed) {
    ++arp_stats_.malformed;
    drop(skb, SkbDropReason::NotSpecified);  // 6.1's arp_rcv/arp_process: kfree_skb
    return;
  }
  const ArpRepr& arp = *parsed;
  const Ipv4Addr sip = arp.sender_ip;
  const Ipv4Addr tip = arp.target_ip;
  // arp_process: requests for multicast or loopback targets are bogus.
  if (tip.is_multicast() || tip.is_loopback()) {
    ++arp_stats_.bad_target;
    drop(skb, SkbDropReason::NotSpecified);
    return;
  }
  const bool tip_local = is_local(tip);
  // RFC 5227 probe (sender 0.0.0.0): answered if for us, nothing learned.
  if (sip.is_unspecified()) {
    if (arp.op == ArpOp::Request && tip_local) {
      ++arp_stats_.requests_answered;
      arp_send(kArpReply, dev, sip, tip, &arp.sender_mac, &arp.sender_mac);
    }
    consume(skb);
    return;
  }
  if (arp.op == ArpOp::Request && tip_local) {
    // arp_ignore 0: any local address is answered. neigh_event_ns learns the sender as STALE
    // (RFC 826: the requester will talk to us; its address is merged in).
    Neighbour* n = neigh_lookup(dev, sip);
    if (n == nullptr) n = create(dev, sip);
    update(*n, &arp.sender_mac, kNudStale, true, false);
    ++arp_stats_.requests_answered;
    arp_send(kArpReply, dev, sip, tip, &arp.sender_mac, &arp.sender_mac);
    consume(skb);
    return;
  }
  // Update our table: only an existing entry (arp_accept 0 creates none).
  if (Neighbour* n = neigh_lookup(dev, sip)) {
    // arp_is_garp: sender and target address the same; a gratuitous reply also has tha == sha.
    const bool is_garp = tip == sip && (arp.op == ArpOp::Request || arp.target_mac == arp.sender_mac);
    const bool override = cpu_.now() > n->updated + parms_.locktime || is_garp;
    // A broadcast reply or a request only says the sender exists: STALE (RFC 1122 2.3.2.1).
    const uint8_t state = arp.op != ArpOp::Reply || skb->pkt_type != PktType::Host ? kNudStale : kNudReachable;
    update(*n, &arp.sender_mac, state, override, false);
  }
  consume(skb);
}

// ---------------------------------------------------------------- ip neigh

std::vector<std::string> NeighTable::ip_neigh_show() const {
  std::vector<const Neighbour*> v;
  for (const auto& [k, n] : entries_) {
    if (n->nud_state == kNudNone || n->nud_state == kNudNoarp) continue;
    v.push_back(n.get());
  }
  std::stable_sort(v.begin(), v.end(), [](const Neighbour* a, const Neighbour* b) {
    if (a->dev->name != b->dev->name) return a->dev->name < b->dev->name;
    return a->key < b->key;
  });
  std::vector<std::string> out;
  out.reserve(v.size());
  for (const Neighbour* n : v) {
    // iproute2's print_neigh: "ADDR dev DEV " then "lladdr MAC " when the kernel gives one
    // (neigh_fill_info: only in a NUD_VALID state), then the state.
    std::string line = fmt::format("{} dev {} ", n->key.str(), n->dev->name);
    if ((n->nud_state & kNudValid) != 0) line += fmt::format("lladdr {}", n->ha.str());
    line += ' ';
    line += nud_state_name(n->nud_state);
    out.push_back(std::move(line));
  }
  return out;
}

}  // namespace vnic::stack
