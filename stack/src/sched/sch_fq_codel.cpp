// fq_codel (net/sched/sch_fq_codel.c of Linux 6.1) and the CoDel it runs per flow
// (include/net/codel.h, codel_impl.h), with the flow hash (skb_get_hash, net/core/flow_dissector.c)
// and ECN marking (include/net/inet_ecn.h) it relies on.
#include "vnic/stack/sch_fq_codel.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "vnic/stack/netdev.hpp"
#include "vnic/stack/wire/ethernet.hpp"
#include "vnic/stack/wire/ipv4.hpp"

namespace vnic::stack {

namespace {

constexpr uint16_t kEthPIp = 0x0800;  // ETH_P_IP
constexpr uint32_t kMinQuantum = 256;
constexpr uint32_t kMaxFlows = 65536;
constexpr uint32_t kMaxMemoryLimit = 1u << 31;
constexpr CodelTime kCodelDisabledThreshold = 0x7FFF'FFFFu;  // CODEL_DISABLED_THRESHOLD (INT_MAX)

// ---- The flow hash: Bob Jenkins' lookup3 over 32-bit words (Linux's jhash2), as
// flow_hash_from_keys runs it over the dissected flow keys.

constexpr uint32_t rol32(uint32_t w, unsigned s) { return (w << s) | (w >> (32 - s)); }

void jhash_mix(uint32_t& a, uint32_t& b, uint32_t& c) {
  a -= c, a ^= rol32(c, 4), c += b;
  b -= a, b ^= rol32(a, 6), a += c;
  c -= b, c ^= rol32(b, 8), b += a;
  a -= c, a ^= rol32(c, 16), c += b;
  b -= a, b ^= rol32(a, 19), a += c;
  c -= b, c ^= rol32(b, 4), b += a;
}

void jhash_final(uint32_t& a, uint32_t& b, uint32_t& c) {
  c ^= b, c -= rol32(b, 14);
  a ^= c, a -= rol32(c, 11);
  b ^= a, b -= rol32(a, 25);
  c ^= b, c -= rol32(b, 16);
  a ^= c, a -= rol32(c, 4);
  b ^= a, b -= rol32(a, 14);
  c ^= b, c -= rol32(b, 24);
}

uint32_t jhash2(const uint32_t* k, uint32_t n, uint32_t initval) {
  uint32_t a = 0xdeadbeefu + (n << 2) + initval;  // JHASH_INITVAL
  uint32_t b = a, c = a;
  while (n > 3) {
    a += k[0], b += k[1], c += k[2];
    jhash_mix(a, b, c);
    n -= 3, k += 3;
  }
  switch (n) {
    case 3: c += k[2]; [[fallthrough]];
    case 2: b += k[1]; [[fallthrough]];
    case 1:
      a += k[0];
      jhash_final(a, b, c);
      break;
    default: break;
  }
  return c;
}

// proto_ports_offset: where the 32 bits of ports sit in a transport header, if the protocol has
// them (TCP, UDP, DCCP, ESP, SCTP, UDP-Lite at 0; AH's SPI at 4). ICMP has none: the hash keys
// on addresses and protocol only.
int proto_ports_offset(uint8_t proto) {
  switch (proto) {
    case 6: case 17: case 33: case 50: case 132: case 136: return 0;
    case 51: return 4;
    default: return -1;
  }
}

// skb_get_hash of a packet whose hash is not cached yet (__skb_get_hash): the flow dissector's
// keys (EtherType, IP protocol, addresses, ports), made direction-independent as
// __flow_hash_consistentify does (the lower address first; equal addresses, the lower port),
// hashed with the seed; 0 becomes 1 (0 means "no hash" in Linux). Fragments hash without ports
// (skb_get_hash does not ask the dissector to parse first fragments). Not Linux's bits: the
// keys' memory layout and the per-boot random seed are not reproduced, only what the hash
// depends on. Non-IPv4 packets hash on their EtherType.
uint32_t flow_hash(const SkBuff& skb, uint32_t seed) {
  uint32_t words[4] = {uint32_t{skb.protocol} << 16, 0, 0, 0};
  uint32_t n = 1;
  if (skb.protocol == kEthPIp) {
    const auto ip = wire::Ipv4Packet::checked(skb.network_bytes(), wire::ChecksumCheck::Skip);
    if (ip) {
      const uint8_t proto = static_cast<uint8_t>(ip->protocol());
      uint32_t src = ip->src().to_u32(), dst = ip->dst().to_u32();
      uint16_t sport = 0, dport = 0;
      const int off = proto_ports_offset(proto);
      const auto l4 = ip->payload();
      if (!ip->is_fragment() && off >= 0 && l4.size() >= static_cast<std::size_t>(off) + 4) {
        sport = wire::load_be16(l4, static_cast<std::size_t>(off));
        dport = wire::load_be16(l4, static_cast<std::size_t>(off) + 2);
      }
      if (dst < src || (dst == src && dport < sport)) {
        std::swap(src, dst);
        std::swap(sport, dport);
      }
      words[0] |= uint32_t{proto} << 8;
      words[1] = uint32_t{sport} << 16 | dport;
      words[2] = src;
      words[3] = dst;
      n = 4;
    }
  }
  const uint32_t h = jhash2(words, n, seed);
  return h != 0 ? h : 1;
}

// skb_get_dsfield: the IPv4 header's tos byte; -1 for anything else.
int skb_get_dsfield(const SkBuff& skb) {
  if (skb.protocol != kEthPIp) return -1;
  const auto ip = wire::Ipv4Packet::checked(skb.network_bytes(), wire::ChecksumCheck::Skip);
  return ip ? int{ip->tos()} : -1;
}

// psched_mtu: dev->mtu + dev->hard_header_len; every device of this model is Ethernet (ETH_HLEN).
uint32_t psched_mtu(const NetDevice& dev) { return dev.mtu + static_cast<uint32_t>(wire::kEthHeaderLen); }

// iproute2's sprint_time (lib/utils.c) for a value in microseconds.
std::string tc_time(uint32_t us) {
  const double t = us;
  if (t >= 1e6) return fmt::format("{:.3g}s", t / 1e6);
  if (t >= 1e3) return fmt::format("{:.3g}ms", t / 1e3);
  return fmt::format("{}us", us);
}

// iproute2's sprint_size (lib/json_print_math.c).
std::string tc_size(uint32_t sz) {
  constexpr double kKilo = 1024, kMega = kKilo * kKilo;
  const double t = sz;
  if (t >= kMega && std::fabs(kMega * std::rint(t / kMega) - t) < 1024) return fmt::format("{}Mb", std::rint(t / kMega));
  if (t >= kKilo && std::fabs(kKilo * std::rint(t / kKilo) - t) < 16) return fmt::format("{}Kb", std::rint(t / kKilo));
  return fmt::format("{}b", sz);
}

}  // namespace

// ---------------------------------------------------------------------------------- CoDel helpers

void codel_newton_step(CodelVars& v) {
  // y' = y/2 * (3 - count * y^2) with y in Q0.32, built from the Q0.16 kept between steps; the
  // shifts keep every product within 64 bits.
  const uint32_t invsqrt = uint32_t{v.rec_inv_sqrt} << 16;
  const uint32_t invsqrt2 = static_cast<uint32_t>((uint64_t{invsqrt} * invsqrt) >> 32);
  uint64_t val = (uint64_t{3} << 32) - uint64_t{v.count} * invsqrt2;
  val >>= 2;
  val = (val * invsqrt) >> (32 - 2 + 1);
  v.rec_inv_sqrt = static_cast<uint16_t>(val >> 16);
}

bool inet_ecn_set_ce(SkBuff& skb) {
  // INET_ECN_set_ce looks at IPv4 only when 20 header bytes are there (VLAN-tagged protocols
  // are not unwrapped here: the model's egress packets carry none at the qdisc).
  if (skb.protocol != kEthPIp) return false;
  const auto ip = wire::Ipv4PacketMut::checked(skb.network_bytes(), wire::ChecksumCheck::Skip);
  if (!ip) return false;
  // IP_ECN_set_ce: (tos + 1) & 3 is 0 for CE, 1 for Not-ECT, 2 for ECT(1), 3 for ECT(0).
  const uint32_t ecn = (uint32_t{ip->tos()} + 1) & 3u;
  if ((ecn & 2u) == 0) return ecn == 0;  // CE already: marked; Not-ECT: no
  // The tos byte (the low half of the header's first 16-bit word) grows by 2 (ECT(1)) or 1
  // (ECT(0)); the checksum, its complement, shrinks by as much: add 0xFFFD or 0xFFFE in one's
  // complement arithmetic, the carry wrapped around (csum16_add).
  const uint32_t add = 0xFFFBu + ecn;
  uint32_t sum = uint32_t{ip->checksum()} + add;
  sum = (sum & 0xFFFFu) + (sum >> 16);
  ip->set_checksum(static_cast<uint16_t>(sum));
  ip->set_tos(static_cast<uint8_t>(ip->tos() | 3u));
  return true;
}

int fq_codel_validate(const FqCodelParams& p) {
  if (p.flows == 0 || p.flows > kMaxFlows) return -kEINVAL;
  if (p.quantum != 0 && std::max(kMinQuantum, p.quantum) > kFqCodelQuantumMax) return -kEINVAL;
  return 0;
}

// ---------------------------------------------------------------------------------- the qdisc

void FqCodel::FlowList::push_back(Flow* f) {
  f->next = nullptr;
  f->on = which;
  if (tail != nullptr) tail->next = f; else head = f;
  tail = f;
  ++len;
}

FqCodel::Flow* FqCodel::FlowList::pop_front() {
  Flow* f = head;
  if (f == nullptr) return nullptr;
  head = f->next;
  if (head == nullptr) tail = nullptr;
  f->next = nullptr;
  f->on = List::None;
  --len;
  return f;
}

FqCodel::FqCodel(NetDevice& dev, const FqCodelParams& p)
    : Qdisc(dev),
      limit_(p.limit),
      flows_cnt_(std::clamp<uint32_t>(p.flows, 1, kMaxFlows)),
      quantum_(p.quantum == 0 ? psched_mtu(dev) : std::clamp(p.quantum, kMinQuantum, kFqCodelQuantumMax)),
      drop_batch_size_(std::max(1u, p.drop_batch_size)),
      memory_limit_(std::min(kMaxMemoryLimit, p.memory_limit)),
      hash_seed_(p.hash_seed),
      target_(codel_duration(p.target)),
      interval_(codel_duration(p.interval)),
      ce_threshold_(p.ce_threshold_enabled ? codel_duration(p.ce_threshold) : kCodelDisabledThreshold),
      mtu_(psched_mtu(dev)),
      ecn_(p.ecn),
      ce_threshold_selector_(p.ce_threshold_selector),
      ce_threshold_mask_(p.ce_threshold_mask),
      flows_(flows_cnt_),
      backlogs_(flows_cnt_, 0) {}

uint32_t FqCodel::classify(const SkBuff& skb) const {
  // fq_codel_classify: a packet whose skb->priority names this qdisc's handle as its major
  // number and a bucket 1..flows as its minor goes to that bucket. The model's qdiscs are the
  // device's root qdisc with Linux's default handle 0 (`tc` prints "0:"), so any priority
  // 1..flows selects a bucket, as it does in Linux (TC_PRIO_INTERACTIVE, 6: bucket 5). Filters
  // (tcf_classify on the qdisc's block) are not modelled: nothing can attach one. Everything
  // else is hashed: reciprocal_scale(skb_get_hash(skb), flows).
  constexpr uint32_t kHandle = 0;
  const uint32_t major = skb.priority & 0xFFFF'0000u, minor = skb.priority & 0xFFFFu;
  if (major == kHandle && minor > 0 && minor <= flows_cnt_) return minor - 1;
  return reciprocal_scale(flow_hash(skb, hash_seed_), flows_cnt_);
}

uint32_t FqCodel::queue_len_with_requeued() const {
  // sch->q.qlen: Linux counts a packet the driver refused (dev_requeue_skb's gso_skb) in the
  // qdisc's qlen too; the model keeps those in Qdisc::requeued.
  uint32_t n = qlen_;
  for (const SkBuff* s = requeued; s != nullptr; s = s->next) ++n;
  return n;
}

QdiscRc FqCodel::enqueue(SkBuff* skb, Instant now) {
  // fq_codel_enqueue.
  const uint32_t idx = classify(*skb);
  skb->tstamp = now;  // codel_set_enqueue_time: CoDel reads it back as codel_time(tstamp)
  Flow& flow = flows_[idx];
  flow.q.push_back(skb);
  backlogs_[idx] += qdisc_pkt_len(*skb);
  stats.backlog_bytes += qdisc_pkt_len(*skb);
  if (flow.on == List::None) {
    new_flows_.push_back(&flow);
    ++new_flow_count_;
    flow.deficit = static_cast<int32_t>(quantum_);
  }
  // The codel cb's mem_usage: skb->truesize when queued (it does not change while queued).
  memory_usage_ += skb->truesize;
  const bool memory_limited = memory_usage_ > memory_limit_;
  ++qlen_;
  if (queue_len_with_requeued() <= limit_ && !memory_limited) return QdiscRc::Queued;

  // Over a limit: drop up to drop_batch_size packets from the fattest bucket (this one or
  // another). Its drops go to __qdisc_drop's to_free list, which __dev_xmit_skb frees with
  // SKB_DROP_REASON_QDISC_DROP once the qdisc lock is released; skb may be among them.
  const uint32_t prev_qlen = qlen_;
  const uint32_t fat = drop_batch(drop_batch_size_);
  const uint32_t dropped = prev_qlen - qlen_;
  drop_overlimit_ += dropped;
  if (memory_limited) drop_overmemory_ += dropped;
  // NET_XMIT_CN when this packet's own flow paid; the caller must not touch skb again.
  return fat == idx ? QdiscRc::Cn : QdiscRc::Queued;
}

uint32_t FqCodel::drop_batch(uint32_t max_packets) {
  // fq_codel_drop: the bucket with the most bytes (the first of equals), then packets from its
  // head until half its backlog is gone or max_packets went, whichever first (at least one).
  uint32_t maxbacklog = 0, idx = 0;
  for (uint32_t i = 0; i < flows_cnt_; ++i) {
    if (backlogs_[i] > maxbacklog) {
      maxbacklog = backlogs_[i];
      idx = i;
    }
  }
  const uint32_t threshold = maxbacklog >> 1;
  Flow& flow = flows_[idx];
  uint32_t len = 0, mem = 0, i = 0;
  do {
    SkBuff* skb = flow.q.pop_front();
    if (skb == nullptr) break;  // all backlogs 0 (zero-length packets): Linux would oops here
    len += qdisc_pkt_len(*skb);
    mem += skb->truesize;
    ++i;
    qdisc_drop(skb, SkbDropReason::QdiscDrop);  // qstats.drops, once per packet
  } while (i < max_packets && len < threshold);
  // The flow's CoDel is told it lost packets: its next drops come sooner.
  flow.cvars.count += i;
  backlogs_[idx] -= len;
  memory_usage_ -= mem;
  stats.backlog_bytes -= len;
  qlen_ -= i;
  return idx;
}

SkBuff* FqCodel::dequeue_head(Flow& f) {
  // dequeue_func: the flow's head packet, taken out of every account (codel_dequeue's caller
  // keeps the backlog in step through the same counters).
  SkBuff* skb = f.q.pop_front();
  if (skb == nullptr) return nullptr;
  const auto idx = static_cast<std::size_t>(&f - flows_.data());
  backlogs_[idx] -= qdisc_pkt_len(*skb);
  memory_usage_ -= skb->truesize;
  --qlen_;
  stats.backlog_bytes -= qdisc_pkt_len(*skb);
  return skb;
}

bool FqCodel::should_drop(const SkBuff* skb, CodelVars& v, CodelTime now) {
  // codel_should_drop: has the sojourn time stayed at or above target for a whole interval?
  if (skb == nullptr) {
    v.first_above_time = 0;
    return false;
  }
  v.ldelay = now - codel_time(skb->tstamp);
  maxpacket_ = std::max(maxpacket_, qdisc_pkt_len(*skb));
  // A backlog of at most one MTU is never a standing queue (the whole qdisc's, sch->qstats.backlog,
  // a u32 in Linux).
  if (codel_time_before(v.ldelay, target_) || static_cast<uint32_t>(stats.backlog_bytes) <= mtu_) {
    v.first_above_time = 0;
    return false;
  }
  if (v.first_above_time == 0) {
    v.first_above_time = now + interval_;  // just went above: wait an interval
    return false;
  }
  return codel_time_after(now, v.first_above_time);
}

SkBuff* FqCodel::codel_dequeue(Flow& f, CodelTime now) {
  // codel_dequeue (RFC 8289 section 5): the drop decision for one flow's head packet. Drops go
  // through drop_func: kfree_skb (SKB_DROP_REASON_NOT_SPECIFIED) and qdisc_qstats_drop.
  CodelVars& v = f.cvars;
  SkBuff* skb = dequeue_head(f);
  if (skb == nullptr) {
    v.dropping = false;
    return nullptr;
  }
  bool drop = should_drop(skb, v, now);
  if (v.dropping) {
    if (!drop) {
      v.dropping = false;  // sojourn below target: leave the dropping state
    } else if (codel_time_after_eq(now, v.drop_next)) {
      // Time for the next drop; with a large backlog several may be due at once.
      while (v.dropping && codel_time_after_eq(now, v.drop_next)) {
        ++v.count;
        codel_newton_step(v);
        if (ecn_ && inet_ecn_set_ce(*skb)) {
          ++ecn_mark_;
          qdisc_ecn_marked(*skb, uint64_t{v.ldelay} << kCodelShift);
          v.drop_next = codel_control_law(v.drop_next, interval_, v.rec_inv_sqrt);
          goto end;
        }
        qdisc_drop(skb, SkbDropReason::NotSpecified);
        skb = dequeue_head(f);
        if (!should_drop(skb, v, now)) {
          v.dropping = false;
        } else {
          v.drop_next = codel_control_law(v.drop_next, interval_, v.rec_inv_sqrt);
        }
      }
    }
  } else if (drop) {
    // Entering the dropping state: mark or drop this packet.
    if (ecn_ && inet_ecn_set_ce(*skb)) {
      ++ecn_mark_;
      qdisc_ecn_marked(*skb, uint64_t{v.ldelay} << kCodelShift);
    } else {
      qdisc_drop(skb, SkbDropReason::NotSpecified);
      skb = dequeue_head(f);
      drop = should_drop(skb, v, now);
    }
    v.dropping = true;
    // Back above target soon (within 16 intervals of the last drop) after a dropping spell:
    // start from the drop rate that controlled the queue then, not from 1.
    const uint32_t delta = v.count - v.lastcount;
    if (delta > 1 && codel_time_before(now - v.drop_next, 16 * interval_)) {
      v.count = delta;
      codel_newton_step(v);
    } else {
      v.count = 1;
      v.rec_inv_sqrt = 0xFFFFu;  // ~0U >> REC_INV_SQRT_SHIFT: 1.0
    }
    v.lastcount = v.count;
    v.drop_next = codel_control_law(now, interval_, v.rec_inv_sqrt);
  }
end:
  // ce_threshold (off by default): CE-mark packets that waited longer, whatever the state.
  if (skb != nullptr && codel_time_after(v.ldelay, ce_threshold_)) {
    bool set_ce = true;
    if (ce_threshold_mask_ != 0) {
      const int dsfield = skb_get_dsfield(*skb);
      set_ce = dsfield >= 0 && (static_cast<uint8_t>(dsfield) & ce_threshold_mask_) == ce_threshold_selector_;
    }
    if (set_ce && inet_ecn_set_ce(*skb)) ++ce_mark_;
  }
  return skb;
}

SkBuff* FqCodel::dequeue(Instant now) {
  // fq_codel_dequeue: new flows first, then old ones; deficit round robin of quantum bytes.
  const CodelTime cnow = codel_time(now);  // codel_get_time, once per codel_dequeue
  for (;;) {
    FlowList* head = &new_flows_;
    if (head->empty()) {
      head = &old_flows_;
      if (head->empty()) return nullptr;
    }
    Flow* flow = head->head;
    if (flow->deficit <= 0) {
      // Its turn is used up: a new quantum, and to the back of old_flows.
      flow->deficit += static_cast<int32_t>(quantum_);
      head->pop_front();
      old_flows_.push_back(flow);
      continue;
    }
    SkBuff* skb = codel_dequeue(*flow, cnow);
    if (skb == nullptr) {
      // Empty (or emptied by CoDel). A new flow goes through old_flows once before it is
      // forgotten, so that a flow cannot stay "new" forever by emptying itself every round and
      // starve the old ones; an old one leaves the lists.
      head->pop_front();
      if (head == &new_flows_ && !old_flows_.empty()) old_flows_.push_back(flow);
      continue;
    }
    flow->deficit -= static_cast<int32_t>(qdisc_pkt_len(*skb));
    // qdisc_bstats_update is the transmit core's (it counts what leaves); CoDel's drops were
    // counted one by one, so qdisc_tree_reduce_backlog has nothing to do for a root qdisc.
    return skb;
  }
}

std::string FqCodel::params() const {
  // iproute2 6.1 tc/q_fq_codel.c fq_codel_print_opt, from what fq_codel_dump reports (times in
  // microseconds through codel_time_to_us). iproute2 ends every option with a space; the
  // caller joins them, so the trailing one is left off.
  std::string s = fmt::format("limit {}p flows {} quantum {} target {}", limit_, flows_cnt_, quantum_,
                              tc_time(codel_time_to_us(target_)));
  if (ce_threshold_ != kCodelDisabledThreshold) {
    s += fmt::format(" ce_threshold {}", tc_time(codel_time_to_us(ce_threshold_)));
    if (ce_threshold_mask_ != 0 || ce_threshold_selector_ != 0) {
      // print_hhu's "%#x": 0 prints as "0", others with 0x.
      auto hex = [](uint8_t v) { return v == 0 ? std::string("0") : fmt::format("{:#x}", v); };
      s += fmt::format(" ce_threshold_selector {}/{}", hex(ce_threshold_selector_), hex(ce_threshold_mask_));
    }
  }
  s += fmt::format(" interval {} memory_limit {}", tc_time(codel_time_to_us(interval_)), tc_size(memory_limit_));
  if (ecn_) s += " ecn";
  s += fmt::format(" drop_batch {}", drop_batch_size_);
  return s;
}

std::string FqCodel::xstats() const {
  // iproute2 6.1 fq_codel_print_xstats for TCA_FQ_CODEL_XSTATS_QDISC (fq_codel_dump_stats);
  // ce_mark, memory_used and drop_overmemory only when nonzero. tc ends the block with a newline.
  std::string s = fmt::format("  maxpacket {} drop_overlimit {} new_flow_count {} ecn_mark {}", maxpacket_,
                              drop_overlimit_, new_flow_count_, ecn_mark_);
  if (ce_mark_ != 0) s += fmt::format(" ce_mark {}", ce_mark_);
  if (memory_usage_ != 0) s += fmt::format(" memory_used {}", memory_usage_);
  if (drop_overmemory_ != 0) s += fmt::format(" drop_overmemory {}", drop_overmemory_);
  s += fmt::format("\n  new_flows_len {} old_flows_len {}\n", new_flows_.len, old_flows_.len);
  return s;
}

}  // namespace vnic::stack
