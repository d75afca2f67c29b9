// fq_codel against Linux 6.1 (net/sched/sch_fq_codel.c, include/net/codel.h, codel_impl.h) and
// iproute2 6.1 (tc/q_fq_codel.c): defaults and `tc` output, flow hashing, the DRR over new and
// old flows (RFC 8290 section 4), CoDel's drop schedule (RFC 8289 section 5), ECN marking, and
// the batch drops when the packet or memory limit is exceeded.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "support/fake_cpu.hpp"
#include "support/stub_netdev.hpp"
#include "vnic/stack/dev_xmit.hpp"
#include "vnic/stack/sch_fq_codel.hpp"
#include "vnic/stack/wire/ipv4.hpp"

namespace {

using namespace vnic::stack;
using vnic::model::Duration;
using vnic::model::Instant;
using vnic::stack::testing::FakeMemory;
using vnic::stack::testing::StubNetDevice;
using wire::Ipv4Addr;

constexpr uint32_t kInterval = 97656;  // MS2TIME(100): 100 ms in 1024 ns units
constexpr uint32_t kTarget = 4882;     // MS2TIME(5)

// An instant `u` CoDel units (1024 ns) after boot: codel_get_time() reads exactly u there.
Instant at_units(int64_t u) { return Instant::from_ps(u * 1024 * 1000); }

struct Flow5 {
  Ipv4Addr src = Ipv4Addr::from_u32(0x0A000001), dst = Ipv4Addr::from_u32(0x0A000002);
  wire::IpProtocol proto = wire::IpProtocol::Udp;
  uint16_t sport = 1000, dport = 2000;
  uint8_t tos = 0;
};

struct Rig {
  FakeMemory mem;
  SkbPool pool{mem, 2048, 100000};
  StubNetDevice dev;
  std::unique_ptr<FqCodel> q;
  uint64_t next_id = 1;
  // What the qdisc dropped itself, through its drop callback: packet ids, reasons, when.
  std::vector<uint64_t> dropped;
  std::vector<SkbDropReason> reasons;
  std::vector<int64_t> drop_units;
  int64_t now_units = 0;

  explicit Rig(const FqCodelParams& p = {}) {
    q = std::make_unique<FqCodel>(dev, p);
    q->set_drop_fn(&Rig::on_drop, this);
  }
  static void on_drop(void* ctx, SkBuff* skb, SkbDropReason why) {
    auto* r = static_cast<Rig*>(ctx);
    r->dropped.push_back(skb->trace_id);
    r->reasons.push_back(why);
    r->drop_units.push_back(r->now_units);
    kfree_skb(skb, why);
  }

  // An Ethernet + IPv4 + UDP/TCP/ICMP frame of `len` bytes (what the qdisc sees: skb->len from
  // the MAC header), header checksum valid, network header set.
  SkBuff* packet(const Flow5& f, uint32_t len = 1514) {
    SkBuff* s = pool.alloc(len);
    EXPECT_NE(s, nullptr);
    auto b = s->bytes();
    std::fill(b.begin(), b.end(), uint8_t{0});
    b[12] = 0x08, b[13] = 0x00;
    wire::Ipv4Repr ip;
    ip.src = f.src;
    ip.dst = f.dst;
    ip.protocol = f.proto;
    ip.tos = f.tos;
    ip.payload_len = static_cast<uint16_t>(len - 14 - 20);
    ip.emit(b.subspan(14));
    wire::store_be16(b, 34, f.sport);
    wire::store_be16(b, 36, f.dport);
    s->protocol = 0x0800;
    EXPECT_TRUE(skb_set_network_header(*s, 14));
    s->trace_id = next_id++;
    return s;
  }
  QdiscRc enq(const Flow5& f, int64_t units, uint32_t len = 1514) {
    now_units = units;
    return q->enqueue(packet(f, len), at_units(units));
  }
  // One dequeue at `units`; returns the packet's id (0: none) and frees it as the driver would.
  uint64_t deq(int64_t units) {
    now_units = units;
    SkBuff* s = q->dequeue(at_units(units));
    if (s == nullptr) return 0;
    const uint64_t id = s->trace_id;
    consume_skb(s);
    return id;
  }
  uint32_t bucket(const Flow5& f) {
    SkBuff* s = packet(f, 100);
    const uint32_t b = q->classify(*s);
    consume_skb(s);
    return b;
  }
  // A flow like `f` (another source port) in another bucket than `other`.
  Flow5 other_flow(const Flow5& f, uint32_t other) {
    Flow5 g = f;
    for (g.sport = static_cast<uint16_t>(f.sport + 1); bucket(g) == other; ++g.sport) {}
    return g;
  }
};

// ------------------------------------------------------------------------------ defaults, tc

// fq_codel_init (6.1): limit 10*1024, flows 1024, quantum psched_mtu, memory_limit 32 MiB on
// x86-64, drop_batch_size 64, ecn on; codel_params_init: target MS2TIME(5), interval
// MS2TIME(100), ce_threshold disabled. iproute2 6.1 fq_codel_print_opt prints them.
TEST(FqCodelDefaults, MatchLinux61AndIproute2PrintsThem) {
  StubNetDevice dev;
  auto q = make_qdisc("fq_codel", dev);
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->kind(), "fq_codel");
  auto& fq = dynamic_cast<FqCodel&>(*q);
  EXPECT_EQ(fq.limit(), 10240u);
  EXPECT_EQ(fq.flows(), 1024u);
  EXPECT_EQ(fq.quantum(), 1514u);  // psched_mtu: 1500 + ETH_HLEN
  EXPECT_EQ(fq.target(), kTarget);
  EXPECT_EQ(fq.interval(), kInterval);
  EXPECT_EQ(fq.memory_limit(), 32u << 20);
  EXPECT_EQ(fq.drop_batch_size(), 64u);
  EXPECT_TRUE(fq.ecn());
  EXPECT_TRUE(fq.can_bypass());  // TCQ_F_CAN_BYPASS when limit >= 1
  // codel_time_to_us gives 4999 us and 99999 us; sprint_time's "%.3g" rounds them to 5 and 100.
  EXPECT_EQ(q->params(), "limit 10240p flows 1024 quantum 1514 target 5ms interval 100ms memory_limit 32Mb ecn drop_batch 64");
  EXPECT_EQ(q->xstats(), "  maxpacket 0 drop_overlimit 0 new_flow_count 0 ecn_mark 0\n  new_flows_len 0 old_flows_len 0\n");
  EXPECT_EQ(tc_s_qdisc(*q, "eth0"),
            "qdisc fq_codel 0: root refcnt 2 limit 10240p flows 1024 quantum 1514 target 5ms interval 100ms "
            "memory_limit 32Mb ecn drop_batch 64\n"
            " Sent 0 bytes 0 pkt (dropped 0, overlimits 0 requeues 0) \n backlog 0b 0p requeues 0\n"
            "  maxpacket 0 drop_overlimit 0 new_flow_count 0 ecn_mark 0\n  new_flows_len 0 old_flows_len 0\n");
}

// fq_codel_change's clamps and iproute2's units: quantum at least 256, sprint_size in Kb/b,
// sprint_time in us/ms, ecn left out when off, ce_threshold between target and interval.
TEST(FqCodelDefaults, ChangedParametersPrintAsIproute2PrintsThem) {
  StubNetDevice dev;
  dev.mtu = 9000;
  EXPECT_EQ(FqCodel(dev).quantum(), 9014u);
  FqCodelParams p;
  p.limit = 1000;
  p.flows = 64;
  p.quantum = 100;  // clamped to 256
  p.target = Duration::us(500);
  p.interval = Duration::ms(20);
  p.memory_limit = 100000;
  p.ecn = false;
  p.ce_threshold_enabled = true;
  p.ce_threshold = Duration::ms(1);
  p.drop_batch_size = 0;  // at least 1
  FqCodel q(dev, p);
  EXPECT_EQ(q.quantum(), 256u);
  EXPECT_EQ(q.drop_batch_size(), 1u);
  // 500 us: (500000 >> 10) = 488 units = 499712 ns, reported as 499 us.
  EXPECT_EQ(q.params(), "limit 1000p flows 64 quantum 256 target 499us ce_threshold 999us interval 20ms "
                        "memory_limit 100000b drop_batch 1");
  p.memory_limit = 4u << 20;
  p.ce_threshold_enabled = false;
  p.target = Duration::ms(5);
  EXPECT_EQ(FqCodel(dev, p).params(), "limit 1000p flows 64 quantum 256 target 5ms interval 20ms memory_limit 4Mb drop_batch 1");
  p.flows = 0;
  EXPECT_EQ(fq_codel_validate(p), -kEINVAL);
  p.flows = 65536;
  EXPECT_EQ(fq_codel_validate(p), 0);
  p.quantum = (1u << 20) + 1;
  EXPECT_EQ(fq_codel_validate(p), -kEINVAL);
}

// ------------------------------------------------------------------------------ classification

// fq_codel_hash: reciprocal_scale(skb_get_hash(skb), flows); the flow dissector's hash keys on
// addresses, protocol and ports, the same for both directions (__flow_hash_consistentify).
TEST(FqCodelHash, FiveTupleSelectsTheBucketTheSameBothWays) {
  Rig r;
  Flow5 a;
  const uint32_t b = r.bucket(a);
  EXPECT_LT(b, 1024u);
  EXPECT_EQ(r.bucket(a), b);
  Flow5 rev = a;
  std::swap(rev.src, rev.dst);
  std::swap(rev.sport, rev.dport);
  EXPECT_EQ(r.bucket(rev), b);
  // 1000 UDP flows spread over the 1024 buckets like a random hash (about 632 distinct expected).
  std::set<uint32_t> seen;
  for (uint16_t p = 0; p < 1000; ++p) {
    Flow5 f = a;
    f.sport = static_cast<uint16_t>(10000 + p);
    seen.insert(r.bucket(f));
  }
  EXPECT_GT(seen.size(), 580u);
  EXPECT_LT(seen.size(), 690u);
}

// The dissector takes ports for TCP/UDP only (proto_ports_offset): ICMP packets between two
// hosts share a bucket whatever bytes follow the IP header.
TEST(FqCodelHash, IcmpHashesOnAddressesAndProtocolOnly) {
  Rig r;
  Flow5 icmp;
  icmp.proto = wire::IpProtocol::Icmp;
  const uint32_t b = r.bucket(icmp);
  for (uint16_t id = 1; id < 50; ++id) {
    icmp.sport = id;  // the bytes where an echo's type/code and checksum would be
    icmp.dport = static_cast<uint16_t>(id * 7);
    EXPECT_EQ(r.bucket(icmp), b);
  }
  // ... while UDP's ports do select buckets.
  Flow5 udp;
  std::set<uint32_t> seen;
  for (uint16_t p = 1; p < 50; ++p) {
    udp.sport = p;
    seen.insert(r.bucket(udp));
  }
  EXPECT_GT(seen.size(), 40u);
}

// fq_codel_classify: TC_H_MAJ(skb->priority) == sch->handle (0 for a default root qdisc) and a
// minor in 1..flows picks bucket minor - 1 without hashing.
TEST(FqCodelHash, PriorityWithTheQdiscsHandleSelectsTheBucket) {
  Rig r;
  Flow5 f;
  SkBuff* s = r.packet(f, 100);
  s->priority = 6;  // TC_PRIO_INTERACTIVE
  EXPECT_EQ(r.q->classify(*s), 5u);
  s->priority = 1024;
  EXPECT_EQ(r.q->classify(*s), 1023u);
  s->priority = 1025;  // beyond flows: hashed
  EXPECT_EQ(r.q->classify(*s), r.bucket(f));
  s->priority = 0x10006;  // major 1: not this qdisc's handle
  EXPECT_EQ(r.q->classify(*s), r.bucket(f));
  consume_skb(s);
}

// ------------------------------------------------------------------------------ DRR

// fq_codel_dequeue (RFC 8290 section 4.2): each flow's turn lasts while its deficit is positive
// and a used-up flow gets another quantum at the back of old_flows. With 500-byte packets and a
// 1514-byte quantum: 4 packets each the first round (1514 -> -486), then 3 (1028 -> -472), 3, ...
TEST(FqCodelDrr, TwoBackloggedFlowsAlternateByQuantumBytes) {
  Rig r;
  Flow5 a;
  Flow5 b = r.other_flow(a, r.bucket(a));
  std::map<uint64_t, char> who;
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(r.enq(a, 0, 500), QdiscRc::Queued);
    who[r.next_id - 1] = 'A';
    ASSERT_EQ(r.enq(b, 0, 500), QdiscRc::Queued);
    who[r.next_id - 1] = 'B';
  }
  EXPECT_EQ(r.q->new_flows_len(), 2u);
  EXPECT_EQ(r.q->new_flow_count(), 2u);
  std::string order;
  for (int i = 0; i < 20; ++i) order += who[r.deq(0)];
  EXPECT_EQ(order, "AAAABBBBAAABBBAAABBB");
  EXPECT_EQ(r.q->new_flows_len(), 0u);  // both on old_flows now
  EXPECT_EQ(r.q->old_flows_len(), 2u);
  EXPECT_EQ(r.q->backlog(r.bucket(a)), 10u * 500);
  EXPECT_EQ(r.q->backlog(r.bucket(b)), 10u * 500);
  EXPECT_EQ(r.q->stats.backlog_bytes, 20u * 500);
  EXPECT_EQ(r.q->qlen(), 20u);
  EXPECT_TRUE(r.dropped.empty());
}

// RFC 8290 section 1.3 / 4.1: a flow with nothing queued comes back as a new flow and is served
// before the old ones: a sparse flow's packet leaves next, not behind a backlogged flow's queue.
TEST(FqCodelDrr, ASparseFlowIsServedFromNewFlowsAheadOfABackloggedFlow) {
  Rig r;
  Flow5 bulk;
  Flow5 sparse = r.other_flow(bulk, r.bucket(bulk));
  for (int i = 0; i < 100; ++i) r.enq(bulk, 0);
  int64_t t = 0;
  for (int round = 0; round < 5; ++round) {
    // A few bulk packets leave (the bulk flow is on old_flows after its first quantum).
    for (int i = 0; i < 3; ++i) EXPECT_NE(r.deq(t), 0u);
    r.enq(sparse, t, 100);  // a small packet (a DNS query, a VoIP frame)
    const uint64_t sparse_id = r.next_id - 1;
    EXPECT_EQ(r.q->new_flows_len(), 1u);
    EXPECT_EQ(r.deq(t), sparse_id);  // next out, ahead of ~90 queued bulk packets
    // Empty now, it leaves the lists within the next dequeue (via old_flows: see the next test),
    // so its next packet finds it "new" again.
    EXPECT_NE(r.deq(t), 0u);
    EXPECT_EQ(r.q->new_flows_len(), 0u);
    EXPECT_EQ(r.q->old_flows_len(), 1u);
    t += 100;  // 100 units: far below target, CoDel stays quiet
  }
  EXPECT_EQ(r.q->new_flow_count(), 6u);  // bulk once, sparse each time
  EXPECT_TRUE(r.dropped.empty());
}

// fq_codel_dequeue (RFC 8290 section 4.2): a new flow found empty is not forgotten but moved to
// the tail of old_flows when other flows wait there, so a flow cannot stay "new" (and ahead of
// everyone) by sending one packet per round; a packet it sends before its old_flows turn waits
// for that turn. Bulk 500-byte packets keep the bulk flow's deficit positive through it all.
TEST(FqCodelDrr, AnEmptiedNewFlowGoesThroughOldFlowsBeforeItIsNewAgain) {
  Rig r;
  Flow5 bulk;
  Flow5 sparse = r.other_flow(bulk, r.bucket(bulk));
  const uint32_t bi = r.bucket(bulk);
  for (int i = 0; i < 20; ++i) r.enq(bulk, 0, 500);
  for (int i = 0; i < 5; ++i) r.deq(0);  // 4 on its new_flows quantum, then 1 from old_flows
  EXPECT_EQ(r.q->old_flows_len(), 1u);
  EXPECT_EQ(r.q->flow_deficit(bi), 528);  // -486 + 1514 - 500
  r.enq(sparse, 0, 100);
  const uint64_t s1 = r.next_id - 1;
  EXPECT_EQ(r.deq(0), s1);
  // Found empty at new_flows' head: to old_flows' tail, behind bulk, which is served.
  EXPECT_NE(r.deq(0), 0u);
  EXPECT_EQ(r.q->new_flows_len(), 0u);
  EXPECT_EQ(r.q->old_flows_len(), 2u);
  EXPECT_EQ(r.q->flow_deficit(bi), 28);
  // Its next packet is not a new flow's: it waits until bulk's quantum is used up.
  r.enq(sparse, 0, 100);
  const uint64_t s2 = r.next_id - 1;
  EXPECT_EQ(r.q->new_flow_count(), 2u);
  EXPECT_EQ(r.q->new_flows_len(), 0u);
  EXPECT_NE(r.deq(0), s2);  // bulk, its deficit 28 -> -472
  EXPECT_EQ(r.deq(0), s2);
}

// ------------------------------------------------------------------------------ CoDel

// RFC 8289 section 5 / codel_should_drop + codel_dequeue + codel_control_law: once the sojourn
// time has been at or above target for a whole interval, the head packet is dropped and the
// state machine enters dropping; each next drop comes interval/sqrt(count) after the previous
// one's schedule. Linux computes 1/sqrt(count) with one Newton step per count in Q0.16
// (codel_Newton_step), so the expected schedule is that recurrence, computed here in floating
// point: y1 = 1, y(k) = y(k-1)/2 * (3 - k*y(k-1)^2). (For small counts it differs from the true
// 1/sqrt(k): count 2 gives 0.5, not 0.707; by count 8 it is within 1%.) The fixed point loses up
// to ~2.5 units (2.5 us) against it per step, so each drop is bracketed within 3 units per count.
TEST(Codel, DropsStartAfterAnIntervalAboveTargetAndFollowTheControlLaw) {
  Rig r;
  Flow5 f;
  const uint32_t idx = r.bucket(f);
  for (int i = 0; i < 400; ++i) r.enq(f, 0);
  // 10 ms in: the sojourn is above target, so an interval's wait begins.
  const int64_t u0 = 9766;
  EXPECT_NE(r.deq(u0), 0u);
  EXPECT_EQ(r.q->codel_vars(idx).first_above_time, u0 + kInterval);
  EXPECT_EQ(r.q->codel_vars(idx).ldelay, u0);
  EXPECT_FALSE(r.q->codel_vars(idx).dropping);
  // Not yet at first_above_time itself (codel_time_after is strict) ...
  EXPECT_NE(r.deq(u0 + kInterval), 0u);
  EXPECT_TRUE(r.dropped.empty());
  // ... one unit later: the first drop; the packet behind it is sent.
  const int64_t t1 = u0 + kInterval + 1;
  EXPECT_NE(r.deq(t1), 0u);
  ASSERT_EQ(r.dropped.size(), 1u);
  EXPECT_EQ(r.drop_units[0], t1);
  EXPECT_TRUE(r.q->codel_vars(idx).dropping);
  EXPECT_EQ(r.q->codel_vars(idx).count, 1u);

  double y = 1.0;
  double next = static_cast<double>(t1) + kInterval * y;  // when drop 2 is due
  for (uint32_t k = 2; k <= 12; ++k) {
    const double tol = 3.0 * k;
    EXPECT_NEAR(static_cast<double>(r.q->codel_vars(idx).drop_next), next, tol) << "count " << k - 1;
    const std::size_t before = r.dropped.size();
    const auto early = static_cast<int64_t>(std::floor(next - tol));
    const auto late = static_cast<int64_t>(std::ceil(next + tol));
    EXPECT_NE(r.deq(early), 0u);
    EXPECT_EQ(r.dropped.size(), before) << "drop " << k << " came early";
    EXPECT_NE(r.deq(late), 0u);
    ASSERT_EQ(r.dropped.size(), before + 1) << "drop " << k << " did not come";
    EXPECT_EQ(r.q->codel_vars(idx).count, k);
    y = y / 2 * (3 - k * y * y);
    if (k >= 8) {
      EXPECT_NEAR(y, 1 / std::sqrt(static_cast<double>(k)), 0.01 / std::sqrt(static_cast<double>(k)));
    }
    next += kInterval * y;
  }
  for (SkbDropReason why : r.reasons) EXPECT_EQ(why, SkbDropReason::NotSpecified);  // drop_func: kfree_skb
  EXPECT_EQ(r.q->stats.drops, 12u);
  EXPECT_EQ(r.q->maxpacket(), 1514u);
  EXPECT_EQ(r.q->drop_overlimit(), 0u);
}

// Drives one flow into CoDel's dropping state with `drops` drops, then brings in packets that
// wait less than target and shows them leaving it. Returns the time (units) it left.
int64_t drop_then_recover(Rig& r, const Flow5& f, uint32_t drops) {
  const uint32_t idx = r.bucket(f);
  for (int i = 0; i < 200; ++i) r.enq(f, 0);
  int64_t t = 9766;
  r.deq(t);
  t += kInterval + 1;
  r.deq(t);  // first drop
  while (r.q->codel_vars(idx).count < drops) {
    t = r.q->codel_vars(idx).drop_next;
    r.deq(t);
  }
  // Fresh packets behind the old ones; the old ones leave before the next drop is due.
  r.enq(f, t);
  const uint64_t fresh = r.next_id - 1;
  for (int i = 0; i < 5; ++i) r.enq(f, t);
  while (r.deq(t) != fresh) {}
  // The fresh packet waited 0 < target: out of the dropping state.
  EXPECT_FALSE(r.q->codel_vars(idx).dropping);
  EXPECT_EQ(r.q->codel_vars(idx).first_above_time, 0u);
  return t;
}

// RFC 8289 section 5.5 / codel_dequeue: a sojourn time below target leaves the dropping state
// and no more drops follow while it stays below.
TEST(Codel, SojournBelowTargetStopsDropping) {
  Rig r;
  Flow5 f;
  const int64_t t = drop_then_recover(r, f, 4);
  const std::size_t drops = r.dropped.size();
  EXPECT_EQ(drops, 4u);
  const uint32_t idx = r.bucket(f);
  // More packets, three at a time (a backlog above one MTU), each leaving 1 ms after it came,
  // also past the next drop's old schedule: never a drop again.
  while (r.q->qlen() > 0) r.deq(t);  // the fresh ones drop_then_recover left
  int64_t at = t;
  for (int i = 0; i < 50; ++i) {
    for (int k = 0; k < 3; ++k) r.enq(f, at);
    for (int k = 0; k < 3; ++k) EXPECT_NE(r.deq(at + 977), 0u);
    at += 2000;
  }
  EXPECT_EQ(r.dropped.size(), drops);
  EXPECT_FALSE(r.q->codel_vars(idx).dropping);
  EXPECT_EQ(r.q->qlen(), 0u);
}

// codel_dequeue: back above target within 16 intervals of the last scheduled drop, with more
// than one drop last time, the new dropping spell starts at count - lastcount (and one Newton
// step), not at 1; after longer than 16 intervals it starts at 1 again.
TEST(Codel, ReenteringSoonReusesTheLastDropRate) {
  for (const bool soon : {true, false}) {
    Rig r;
    Flow5 f;
    const uint32_t idx = r.bucket(f);
    const int64_t t = drop_then_recover(r, f, 6);
    const CodelVars before = r.q->codel_vars(idx);
    EXPECT_EQ(before.count, 6u);
    EXPECT_EQ(before.lastcount, 1u);
    // A new standing queue: everything queued at `start` waits longer than target again.
    const int64_t start = soon ? t + 1000 : before.drop_next + 16 * int64_t{kInterval} + 1000;
    while (r.q->qlen() > 0) r.deq(start);  // empty the flow first
    for (int i = 0; i < 100; ++i) r.enq(f, start);
    const int64_t above = start + kTarget + 10;
    r.deq(above);
    const int64_t enter = above + kInterval + 1;
    const std::size_t drops = r.dropped.size();
    r.deq(enter);
    EXPECT_EQ(r.dropped.size(), drops + 1);
    const CodelVars& v = r.q->codel_vars(idx);
    EXPECT_TRUE(v.dropping);
    if (soon) {
      EXPECT_EQ(v.count, 5u);  // 6 - 1
      EXPECT_EQ(v.lastcount, 5u);
      // One Newton step from 1/sqrt(6) towards 1/sqrt(5), in floating point.
      const double y6 = static_cast<double>(before.rec_inv_sqrt) / 65536.0;
      const double y5 = y6 / 2 * (3 - 5 * y6 * y6);
      EXPECT_NEAR(static_cast<double>(v.drop_next - static_cast<uint32_t>(enter)), kInterval * y5, 3.0);
    } else {
      EXPECT_EQ(v.count, 1u);
      EXPECT_EQ(v.rec_inv_sqrt, 0xFFFFu);
      EXPECT_EQ(v.drop_next, static_cast<uint32_t>(enter) + 97654u);  // interval * 0xFFFF0000 >> 32
    }
  }
}

// codel_should_drop: a backlog of at most one MTU (the whole qdisc's, against psched_mtu) is
// never a standing queue, however long its packet waited: a link slower than one packet per
// target is not CoDel's to fix.
TEST(Codel, ABacklogOfOneMtuNeverDrops) {
  Rig r;
  Flow5 f;
  const uint32_t idx = r.bucket(f);
  int64_t t = 0;
  for (int i = 0; i < 20; ++i) {
    r.enq(f, t);
    r.enq(f, t);
    t += 48828;  // 50 ms later, ten times target
    EXPECT_NE(r.deq(t), 0u);  // 1514 bytes left behind: not above mtu
    EXPECT_EQ(r.q->codel_vars(idx).first_above_time, 0u);
    EXPECT_NE(r.deq(t), 0u);
  }
  EXPECT_TRUE(r.dropped.empty());
  EXPECT_EQ(r.q->codel_vars(idx).ldelay, 48828u);
}

// codel_time_after and friends compare modulo 2^32 (RFC 1982 serial numbers): CoDel works
// across the wrap of its 32-bit clock (every 2^42 ns, about 73 minutes).
TEST(Codel, TimeComparisonsAndDropsSurviveTheClockWrap) {
  EXPECT_TRUE(codel_time_after(5u, 0xFFFF'FFF0u));
  EXPECT_TRUE(codel_time_before(0xFFFF'FFF0u, 5u));
  EXPECT_TRUE(codel_time_after_eq(7u, 7u));
  Rig r;
  Flow5 f;
  const uint32_t idx = r.bucket(f);
  const int64_t base = (int64_t{1} << 32) - 50000;  // the clock wraps 50000 units in
  for (int i = 0; i < 50; ++i) r.enq(f, base);
  r.deq(base + 9766);
  EXPECT_EQ(r.q->codel_vars(idx).first_above_time, static_cast<uint32_t>(base + 9766 + kInterval));
  r.deq(base + 9766 + kInterval);
  EXPECT_TRUE(r.dropped.empty());
  r.deq(base + 9766 + kInterval + 1);
  EXPECT_EQ(r.dropped.size(), 1u);
}

// ------------------------------------------------------------------------------ ECN

// codel_dequeue with params->ecn (RFC 8289 section 5, RFC 3168): where CoDel would drop an
// ECN-capable packet it sets CE instead (INET_ECN_set_ce -> IP_ECN_set_ce, the header checksum
// updated incrementally) and sends it, counting ecn_mark; a Not-ECT packet is dropped.
TEST(FqCodelEcn, AnEctPacketIsMarkedCeInsteadOfDropped) {
  for (const uint8_t ecn_bits : {uint8_t{2}, uint8_t{1}}) {  // ECT(0), ECT(1)
    Rig r;
    Flow5 f;
    f.tos = static_cast<uint8_t>(0xB8 | ecn_bits);  // DSCP EF + ECT
    const uint32_t idx = r.bucket(f);
    std::vector<SkBuff*> sent;
    for (int i = 0; i < 20; ++i) r.enq(f, 0);
    auto deq_keep = [&](int64_t u) {
      r.now_units = u;
      SkBuff* s = r.q->dequeue(at_units(u));
      sent.push_back(s);
      return s;
    };
    deq_keep(9766);
    deq_keep(9766 + kInterval);
    SkBuff* marked = deq_keep(9766 + kInterval + 1);  // where a drop would be
    ASSERT_NE(marked, nullptr);
    EXPECT_TRUE(r.dropped.empty());
    EXPECT_EQ(r.q->ecn_mark(), 1u);
    EXPECT_TRUE(r.q->codel_vars(idx).dropping);
    auto ip = wire::Ipv4Packet::checked(marked->network_bytes(), wire::ChecksumCheck::Verify);
    ASSERT_TRUE(ip) << "the checksum no longer verifies";
    EXPECT_EQ(ip->ecn(), 3u);     // CE
    EXPECT_EQ(ip->dscp(), 0x2Eu); // DSCP untouched
    // The packet before it was not marked.
    auto ip0 = wire::Ipv4Packet::checked(sent[1]->network_bytes());
    ASSERT_TRUE(ip0);
    EXPECT_EQ(ip0->ecn(), ecn_bits);
    // The next scheduled "drop" marks as well (codel_dequeue's while loop).
    SkBuff* second = deq_keep(r.q->codel_vars(idx).drop_next);
    ASSERT_NE(second, nullptr);
    EXPECT_EQ(r.q->ecn_mark(), 2u);
    EXPECT_EQ(r.q->codel_vars(idx).count, 2u);
    EXPECT_TRUE(wire::Ipv4Packet::checked(second->network_bytes()));
    EXPECT_EQ(r.q->stats.drops, 0u);
    EXPECT_EQ(r.q->xstats(), "  maxpacket 1514 drop_overlimit 0 new_flow_count 1 ecn_mark 2 memory_used " +
                                 std::to_string(r.q->memory_usage()) + "\n  new_flows_len 0 old_flows_len 1\n");
    for (SkBuff* s : sent) consume_skb(s);
  }
}

TEST(FqCodelEcn, NotEctOrEcnOffIsDropped) {
  for (const bool ecn_on : {true, false}) {
    FqCodelParams p;
    p.ecn = ecn_on;
    Rig r(p);
    Flow5 f;
    f.tos = ecn_on ? 0 : 2;  // Not-ECT with ecn on; ECT(0) with ecn off
    for (int i = 0; i < 20; ++i) r.enq(f, 0);
    r.deq(9766);
    r.deq(9766 + kInterval);
    r.deq(9766 + kInterval + 1);
    EXPECT_EQ(r.dropped.size(), 1u);
    EXPECT_EQ(r.q->ecn_mark(), 0u);
  }
}

// IP_ECN_set_ce on its own: CE already set counts as marked without a change; the incremental
// checksum equals a full recomputation.
TEST(FqCodelEcn, SetCeKeepsTheHeaderChecksumRight) {
  Rig r;
  for (uint8_t tos = 0; tos < 255; ++tos) {
    Flow5 f;
    f.tos = tos;
    SkBuff* s = r.packet(f, 200);
    const bool ect = (tos & 3u) == 1 || (tos & 3u) == 2;
    const bool ce = (tos & 3u) == 3;
    EXPECT_EQ(inet_ecn_set_ce(*s), ect || ce) << int{tos};
    auto ip = wire::Ipv4PacketMut::checked(s->network_bytes(), wire::ChecksumCheck::Verify);
    ASSERT_TRUE(ip) << int{tos};
    EXPECT_EQ(ip->tos(), ect ? (tos | 3) : tos);
    const uint16_t got = ip->checksum();
    ip->fill_checksum();
    EXPECT_EQ(ip->checksum(), got) << int{tos};
    consume_skb(s);
  }
  SkBuff* arp = r.pool.alloc(60);
  arp->protocol = 0x0806;
  EXPECT_FALSE(inet_ecn_set_ce(*arp));
  consume_skb(arp);
}

// ------------------------------------------------------------------------------ overflow

// fq_codel_enqueue + fq_codel_drop: over the limit, packets go from the head of the fattest
// bucket until half its backlog is gone (at most drop_batch_size), counted in drop_overlimit and
// qstats.drops, freed with SKB_DROP_REASON_QDISC_DROP (__dev_xmit_skb's to_free list); NET_XMIT_CN
// when the enqueuer's bucket was the fattest, success otherwise. The dropped flow's CoDel count
// grows by as many.
TEST(FqCodelOverflow, LimitDropsHalfTheFattestFlowFromItsHead) {
  FqCodelParams p;
  p.limit = 20;
  Rig r(p);
  Flow5 fat;
  Flow5 thin = r.other_flow(fat, r.bucket(fat));
  const uint32_t fi = r.bucket(fat), ti = r.bucket(thin);
  std::vector<uint64_t> fat_ids;
  for (int i = 0; i < 16; ++i) {
    ASSERT_EQ(r.enq(fat, 0, 1000), QdiscRc::Queued);
    fat_ids.push_back(r.next_id - 1);
  }
  for (int i = 0; i < 4; ++i) ASSERT_EQ(r.enq(thin, 0, 100), QdiscRc::Queued);
  EXPECT_EQ(r.q->qlen(), 20u);
  // The 21st packet, the thin flow's: the fat flow (16000 bytes) loses packets until 8000 bytes
  // (threshold 8000 = 16000 >> 1) are gone: 8 packets.
  EXPECT_EQ(r.enq(thin, 0, 100), QdiscRc::Queued);
  EXPECT_EQ(r.dropped, std::vector<uint64_t>(fat_ids.begin(), fat_ids.begin() + 8));
  EXPECT_EQ(r.q->drop_overlimit(), 8u);
  EXPECT_EQ(r.q->drop_overmemory(), 0u);
  EXPECT_EQ(r.q->stats.drops, 8u);
  EXPECT_EQ(r.q->qlen(), 13u);
  EXPECT_EQ(r.q->backlog(fi), 8000u);
  EXPECT_EQ(r.q->backlog(ti), 500u);
  EXPECT_EQ(r.q->stats.backlog_bytes, 8500u);
  EXPECT_EQ(r.q->codel_vars(fi).count, 8u);
  // Fill up with fat packets; the one over the limit is the fat flow's own: NET_XMIT_CN, and the
  // fat flow (16000 bytes with it) loses 8 from its head again (threshold 8000).
  for (int i = 0; i < 7; ++i) {
    ASSERT_EQ(r.enq(fat, 0, 1000), QdiscRc::Queued);
    fat_ids.push_back(r.next_id - 1);
  }
  EXPECT_EQ(r.enq(fat, 0, 1000), QdiscRc::Cn);
  fat_ids.push_back(r.next_id - 1);
  ASSERT_EQ(r.dropped.size(), 16u);
  EXPECT_EQ(std::vector<uint64_t>(r.dropped.begin() + 8, r.dropped.end()),
            std::vector<uint64_t>(fat_ids.begin() + 8, fat_ids.begin() + 16));
  EXPECT_EQ(r.q->drop_overlimit(), 16u);
  EXPECT_EQ(r.q->qlen(), 13u);
  EXPECT_EQ(r.q->backlog(fi), 8000u);
  EXPECT_EQ(r.q->stats.backlog_bytes, 8500u);
  // Every drop reported once, with QDISC_DROP.
  EXPECT_EQ(std::set<uint64_t>(r.dropped.begin(), r.dropped.end()).size(), r.dropped.size());
  for (SkbDropReason why : r.reasons) EXPECT_EQ(why, SkbDropReason::QdiscDrop);
  // What is left leaves: the dequeues account for every remaining byte.
  uint32_t n = 0;
  while (r.deq(0) != 0) ++n;
  EXPECT_EQ(n, 13u);
  EXPECT_EQ(r.q->stats.backlog_bytes, 0u);
  EXPECT_EQ(r.q->memory_usage(), 0u);
  EXPECT_EQ(r.pool.live(), 0u);
}

// fq_codel_drop's loop stops at drop_batch_size packets even when half the backlog is not gone,
// and drops at least one packet whatever the threshold.
TEST(FqCodelOverflow, DropBatchSizeCapsTheBatch) {
  FqCodelParams p;
  p.limit = 40;
  p.drop_batch_size = 4;
  Rig r(p);
  Flow5 f;
  for (int i = 0; i < 40; ++i) r.enq(f, 0, 200);
  EXPECT_EQ(r.enq(f, 0, 200), QdiscRc::Cn);
  EXPECT_EQ(r.dropped.size(), 4u);
  EXPECT_EQ(r.q->drop_overlimit(), 4u);
  EXPECT_EQ(r.q->qlen(), 37u);
  EXPECT_EQ(r.q->stats.backlog_bytes, 37u * 200);
}

// fq_codel_enqueue: memory_usage (the sum of queued skbs' truesize) above memory_limit drops a
// batch too, counted in drop_overmemory as well as drop_overlimit; tc shows both, and
// memory_used while packets are queued.
TEST(FqCodelOverflow, MemoryLimitDropsABatchAndCountsOvermemory) {
  Rig probe;
  SkBuff* one = probe.packet(Flow5{}, 1514);
  const uint32_t truesize = one->truesize;  // napi_alloc_skb(1514): 2176
  consume_skb(one);
  EXPECT_EQ(truesize, 2176u);
  FqCodelParams p;
  p.memory_limit = 10 * truesize;
  Rig r(p);
  Flow5 a;
  Flow5 b = r.other_flow(a, r.bucket(a));
  for (int i = 0; i < 6; ++i) ASSERT_EQ(r.enq(a, 0), QdiscRc::Queued);
  for (int i = 0; i < 4; ++i) ASSERT_EQ(r.enq(b, 0), QdiscRc::Queued);
  EXPECT_EQ(r.q->memory_usage(), 10 * truesize);  // at the limit is not over it
  EXPECT_TRUE(r.dropped.empty());
  // One more for b: 11 truesizes > limit; a (6 x 1514) is fattest: 3 of its packets go.
  EXPECT_EQ(r.enq(b, 0), QdiscRc::Queued);
  EXPECT_EQ(r.dropped.size(), 3u);
  EXPECT_EQ(r.q->drop_overmemory(), 3u);
  EXPECT_EQ(r.q->drop_overlimit(), 3u);
  EXPECT_EQ(r.q->memory_usage(), 8 * truesize);
  EXPECT_EQ(r.q->stats.backlog_bytes, 8u * 1514);
  EXPECT_EQ(r.q->qlen(), 8u);
  EXPECT_EQ(r.q->xstats(), "  maxpacket 0 drop_overlimit 3 new_flow_count 2 ecn_mark 0 memory_used " +
                               std::to_string(8 * truesize) + " drop_overmemory 3\n  new_flows_len 2 old_flows_len 0\n");
  for (SkbDropReason why : r.reasons) EXPECT_EQ(why, SkbDropReason::QdiscDrop);
}

// ------------------------------------------------------------------------------ with TxCore

// Through the transmit core (__dev_xmit_skb): fq_codel from make_qdisc, the driver's queue
// stopped so packets wait; the overflow's NET_XMIT_CN reaches the sender, the qdisc's own drops
// are freed once with QDISC_DROP, and every packet is accounted for.
class StoppedDev final : public StubNetDevice {
 public:
  StoppedDev() {
    up = true;
    bql_enabled = false;
    netif_tx_stop_queue();
  }
  NetdevTx start_xmit(SkBuff* skb, bool) override {
    ++sent;
    consume_skb(skb);
    return NetdevTx::Ok;
  }
  int sent = 0;
};

TEST(FqCodelTxCore, OverflowReturnsCnAndEveryPacketIsAccountedFor) {
  vnic::stack::testing::FakeCpu cpu;
  FakeMemory mem;
  SkbPool pool{mem, 2048, 100000};
  std::map<SkbDropReason, int> freed;
  int consumed = 0;
  struct Ctx {
    std::map<SkbDropReason, int>* freed;
    int* consumed;
  } ctx{&freed, &consumed};
  pool.set_free_hook(
      [](void* c, const SkBuff&, SkbDropReason why) {
        auto* x = static_cast<Ctx*>(c);
        if (why == SkbDropReason::NotDroppedYet) ++*x->consumed; else ++(*x->freed)[why];
      },
      &ctx);
  NetCoreSysctls sys;
  TxCore core{cpu, sys};
  StoppedDev dev;
  dev.tx_queue_len = 1000;
  auto q = make_qdisc("fq_codel", dev);
  ASSERT_NE(q, nullptr);
  core.attach(dev, std::move(q));
  auto& fq = static_cast<FqCodel&>(*dev.qdisc);
  int cn = 0;
  for (int i = 0; i < 10241; ++i) {
    SkBuff* s = pool.alloc(100);
    s->dev = &dev;
    s->protocol = 0x0800;  // no network header: hashed on the EtherType, one bucket
    if (core.dev_queue_xmit(s) == NetXmit::Cn) ++cn;
  }
  // The first packet took the bypass and was requeued (the queue is stopped): Linux counts it in
  // sch->q.qlen, so the limit of 10240 is reached one packet earlier.
  EXPECT_EQ(dev.qdisc->stats.requeues, 1u);
  EXPECT_EQ(cn, 1);
  EXPECT_EQ(fq.drop_overlimit(), 64u);  // the batch cap: half of 10239 packets is more than 64
  EXPECT_EQ(freed[SkbDropReason::QdiscDrop], 64);
  EXPECT_EQ(fq.qlen(), 10240u - 64);
  dev.netif_tx_wake_queue();
  cpu.run();
  EXPECT_EQ(dev.sent, 10241 - 64);
  EXPECT_EQ(consumed, 10241 - 64);
  EXPECT_EQ(pool.live(), 0u);
  EXPECT_EQ(dev.qdisc->stats.drops, 64u);
  EXPECT_EQ(dev.qdisc->stats.backlog_bytes, 0u);
}

}  // namespace
