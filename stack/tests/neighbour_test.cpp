// The ARP neighbour table against Linux 6.1's net/core/neighbour.c and net/ipv4/arp.c: resolution
// on the first send (__neigh_event_send), the retransmit schedule and FAILED (neigh_timer_handler,
// neigh_invalidate), unres_qlen_bytes dropping the oldest, REACHABLE -> STALE -> DELAY -> PROBE
// and back (neigh_update, neigh_confirm), arp_process answering and learning (RFC 826), malformed
// ARP, gratuitous ARP (arp_notify) and `ip neigh show`.
#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <optional>
#include <vector>

#include "support/fake_cpu.hpp"
#include "support/stub_netdev.hpp"
#include "vnic/stack/neighbour.hpp"
#include "vnic/stack/wire/arp.hpp"
#include "vnic/stack/wire/ethernet.hpp"

namespace {

using namespace vnic::stack;
using vnic::model::MacAddr;
using vnic::stack::testing::FakeCpu;
using vnic::stack::testing::FakeMemory;
using vnic::stack::wire::ArpHardware;
using vnic::stack::wire::ArpOp;
using vnic::stack::wire::ArpRepr;
using vnic::stack::wire::EthernetRepr;
using vnic::stack::wire::EtherType;
using vnic::stack::wire::Ipv4Addr;

const MacAddr kOurMac{{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}};
const MacAddr kPeerMac{{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}};
const MacAddr kOtherMac{{0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc}};
const Ipv4Addr kOurIp = *Ipv4Addr::parse("192.168.1.2");
const Ipv4Addr kPeerIp = *Ipv4Addr::parse("192.168.1.1");

struct Sent {
  Instant at;
  EthernetRepr eth;
  std::optional<ArpRepr> arp;  // when an ARP frame
  uint32_t mark = 0;           // the test's tag for IP packets
};

struct Rig {
  FakeCpu cpu;
  FakeMemory mem;
  SkbPool pool{mem, 2048, 100000};
  vnic::stack::testing::StubNetDevice dev;
  std::vector<Sent> tx;
  std::vector<std::pair<uint32_t, SkbDropReason>> freed;  // (mark, reason) of freed IP packets
  std::deque<std::function<void()>> later;
  NeighTable tbl;

  explicit Rig(NeighParms p = {}, uint64_t seed = 42) : tbl(cpu, pool, &Rig::xmit, this, seed, p) {
    dev.name = "eth0";
    dev.dev_addr = kOurMac;
    dev.up = true;
    tbl.add_local_addr(dev, kOurIp);
    pool.set_free_hook(&Rig::on_free, this);
  }

  static void xmit(void* ctx, SkBuff* s) {
    auto* r = static_cast<Rig*>(ctx);
    Sent e{r->cpu.now(), *EthernetRepr::parse(s->bytes()), std::nullopt, s->mark};
    if (e.eth.ethertype == EtherType::Arp) e.arp = *ArpRepr::parse(s->bytes().subspan(e.eth.header_len()));
    r->tx.push_back(e);
    consume_skb(s);  // the transmit core's job, later
  }
  static void on_free(void* ctx, const SkBuff& s, SkbDropReason reason) {
    if (s.mark == 0 || reason == SkbDropReason::NotDroppedYet) return;  // not a test packet, or sent
    static_cast<Rig*>(ctx)->freed.emplace_back(s.mark, reason);
  }

  // An IP packet (data at the network header) tagged with `mark`.
  SkBuff* ip_packet(uint32_t mark, uint32_t len = 100) {
    SkBuff* s = pool.alloc(len, SkbAlloc::AllocSkb);
    s->dev = &dev;
    s->protocol = static_cast<uint16_t>(EtherType::Ipv4);
    s->mark = mark;
    skb_reset_network_header(*s);
    return s;
  }
  void send(uint32_t mark, Ipv4Addr to = kPeerIp) { tbl.neigh_output(ip_packet(mark), to); }

  // An ARP packet as arp_rcv gets it (Ethernet header pulled).
  void receive(const ArpRepr& a, PktType type = PktType::Host) {
    SkBuff* s = pool.alloc(static_cast<uint32_t>(ArpRepr::buffer_len()));
    a.emit(s->bytes());
    s->dev = &dev;
    s->pkt_type = type;
    tbl.arp_rcv(s);
  }
  void receive_bytes(std::vector<uint8_t> b) {
    SkBuff* s = pool.alloc(static_cast<uint32_t>(b.size()));
    std::copy(b.begin(), b.end(), s->bytes().begin());
    s->dev = &dev;
    tbl.arp_rcv(s);
  }
  void reply_from_peer(MacAddr mac = kPeerMac) {
    receive(ArpRepr{ArpOp::Reply, ArpHardware::Ethernet, mac, kPeerIp, kOurMac, kOurIp});
  }
  // Runs fn at `t` on the fake CPU.
  void at(Instant t, std::function<void()> fn) {
    later.push_back(std::move(fn));
    cpu.call_at(t, [](void* c, uint64_t) {
      auto* r = static_cast<Rig*>(c);
      auto f = std::move(r->later.front());
      r->later.pop_front();
      f();
    }, this, 0);
  }
  uint8_t state(Ipv4Addr a = kPeerIp) const {
    const Neighbour* n = tbl.find(dev, a);
    return n == nullptr ? 0xFF : n->nud_state;
  }
  std::vector<const Sent*> arp_sent() const {
    std::vector<const Sent*> v;
    for (const Sent& s : tx)
      if (s.arp) v.push_back(&s);
    return v;
  }
  std::vector<uint32_t> ip_sent() const {
    std::vector<uint32_t> v;
    for (const Sent& s : tx)
      if (!s.arp) v.push_back(s.mark);
    return v;
  }
};

Instant at_s(double s) { return Instant::from_ps(static_cast<int64_t>(s * 1e12)); }

TEST(Neigh, DefaultsAreLinux61ArpTbl) {  // net/ipv4/arp.c arp_tbl, Documentation/networking/ip-sysctl
  NeighParms p;
  EXPECT_EQ(p.base_reachable_time, Duration::s(30));
  EXPECT_EQ(p.retrans_time, Duration::s(1));
  EXPECT_EQ(p.delay_first_probe_time, Duration::s(5));
  EXPECT_EQ(p.gc_staletime, Duration::s(60));
  EXPECT_EQ(p.locktime, Duration::s(1));
  EXPECT_EQ(p.ucast_solicit, 3u);
  EXPECT_EQ(p.mcast_solicit, 3u);
  EXPECT_EQ(p.app_solicit, 0u);
  EXPECT_EQ(p.mcast_resolicit, 0u);
  EXPECT_EQ(p.unres_qlen_bytes, 212992u);
  EXPECT_EQ(p.gc_thresh1, 128u);
  EXPECT_EQ(p.gc_thresh2, 512u);
  EXPECT_EQ(p.gc_thresh3, 1024u);
  EXPECT_FALSE(p.arp_notify);
}

TEST(Neigh, ReachableTimeRandomisedWithinBoundsAndDeterministic) {  // neigh_rand_reach_time
  for (uint64_t seed = 0; seed < 50; ++seed) {
    Rig a({}, seed), b({}, seed);
    EXPECT_GE(a.tbl.reachable_time(), Duration::s(15));
    EXPECT_LT(a.tbl.reachable_time(), Duration::s(45));
    EXPECT_EQ(a.tbl.reachable_time(), b.tbl.reachable_time());
  }
  EXPECT_NE(Rig({}, 1).tbl.reachable_time(), Rig({}, 2).tbl.reachable_time());
}

TEST(Neigh, FirstSendCreatesIncompleteQueuesAndBroadcastsRequest_NeighEventSend) {
  Rig r;
  r.send(1);
  r.send(2);
  r.send(3);
  EXPECT_EQ(r.state(), kNudIncomplete);
  ASSERT_EQ(r.tx.size(), 1u);  // one request; the packets wait
  const Sent& req = r.tx[0];
  EXPECT_EQ(req.eth.dst, MacAddr::broadcast());
  EXPECT_EQ(req.eth.src, kOurMac);
  ASSERT_TRUE(req.arp);
  EXPECT_EQ(req.arp->op, ArpOp::Request);
  EXPECT_EQ(req.arp->sender_mac, kOurMac);
  EXPECT_EQ(req.arp->sender_ip, kOurIp);
  EXPECT_EQ(req.arp->target_mac, MacAddr{});  // RFC 826: unknown, sent as zero (arp_create)
  EXPECT_EQ(req.arp->target_ip, kPeerIp);
  EXPECT_EQ(r.tbl.find(r.dev, kPeerIp)->arp_queue.size(), 3u);

  r.reply_from_peer();  // neigh_update(REACHABLE): the queue goes out in order
  EXPECT_EQ(r.state(), kNudReachable);
  EXPECT_EQ(r.ip_sent(), (std::vector<uint32_t>{1, 2, 3}));
  for (const Sent& s : r.tx) {
    if (s.arp) continue;
    EXPECT_EQ(s.eth.dst, kPeerMac);
    EXPECT_EQ(s.eth.src, kOurMac);
    EXPECT_EQ(s.eth.ethertype, EtherType::Ipv4);
  }
  r.send(4);  // resolved: straight out
  EXPECT_EQ(r.ip_sent().back(), 4u);
  EXPECT_EQ(r.tbl.stats().allocs, 1u);
  EXPECT_EQ(r.tbl.stats().res_failed, 0u);
  EXPECT_TRUE(r.freed.empty());
}

TEST(Neigh, RetransmitEveryRetransTimeThenFailedDropsQueue_NeighTimerHandler) {
  Rig r;
  r.send(1);
  r.send(2);
  r.cpu.run();
  // mcast_solicit (3) broadcast requests, one per retrans_time, then FAILED one retrans_time later.
  const auto reqs = r.arp_sent();
  ASSERT_EQ(reqs.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(reqs[i]->at, at_s(i));
    EXPECT_EQ(reqs[i]->eth.dst, MacAddr::broadcast());
  }
  EXPECT_EQ(r.state(), kNudFailed);
  EXPECT_EQ(r.cpu.now(), at_s(3));
  EXPECT_EQ(r.freed, (std::vector<std::pair<uint32_t, SkbDropReason>>{{1, SkbDropReason::NeighFailed},
                                                                       {2, SkbDropReason::NeighFailed}}));
  EXPECT_EQ(r.tbl.stats().res_failed, 1u);
  EXPECT_TRUE(r.ip_sent().empty());
  // A send on FAILED starts over (__neigh_event_send: not STALE/INCOMPLETE -> INCOMPLETE).
  r.send(3);
  EXPECT_EQ(r.state(), kNudIncomplete);
  EXPECT_EQ(r.arp_sent().size(), 4u);
}

TEST(Neigh, UnresQlenBytesOverflowDropsOldest_NeighEventSend) {
  Rig r;
  SkBuff* sample = r.ip_packet(0);
  const uint32_t truesize = sample->truesize;
  consume_skb(sample);
  const uint32_t fit = NeighParms{}.unres_qlen_bytes / truesize;
  const uint32_t n = fit + 3;
  for (uint32_t i = 1; i <= n; ++i) r.send(i);
  EXPECT_EQ(r.tbl.stats().unresolved_discards, 3u);
  EXPECT_EQ(r.freed, (std::vector<std::pair<uint32_t, SkbDropReason>>{{1, SkbDropReason::NeighQueuefull},
                                                                       {2, SkbDropReason::NeighQueuefull},
                                                                       {3, SkbDropReason::NeighQueuefull}}));
  const Neighbour* e = r.tbl.find(r.dev, kPeerIp);
  EXPECT_EQ(e->arp_queue.size(), fit);
  EXPECT_LE(e->arp_queue_len_bytes, NeighParms{}.unres_qlen_bytes);
  r.reply_from_peer();
  const auto sent = r.ip_sent();
  ASSERT_EQ(sent.size(), fit);
  for (uint32_t i = 0; i < fit; ++i) EXPECT_EQ(sent[i], i + 4);
}

TEST(Neigh, ReachableToStaleToDelayToProbeToFailed_NeighTimerHandler) {
  Rig r;
  r.send(1);
  r.reply_from_peer();
  const Duration rt = r.tbl.reachable_time();
  r.cpu.run();  // nothing sent since: REACHABLE -> STALE after reachable_time (no timer in STALE)
  EXPECT_EQ(r.state(), kNudStale);
  // The timer fires at confirmed + reachable_time, where time_before_eq still holds: it re-arms
  // for the minimum HZ/100 (2 jiffies, 8 ms) and ages the entry then, as 6.1's handler does.
  EXPECT_EQ(r.cpu.now(), Instant{} + rt + Duration::ms(8));
  EXPECT_GE(r.cpu.now(), at_s(15));
  EXPECT_LT(r.cpu.now(), at_s(45));

  const Instant t0 = r.cpu.now();
  const std::size_t before = r.tx.size();
  r.send(2);  // STALE: sent at once with the old address, DELAY
  EXPECT_EQ(r.state(), kNudDelay);
  ASSERT_EQ(r.tx.size(), before + 1);
  EXPECT_EQ(r.tx.back().eth.dst, kPeerMac);
  r.cpu.run();  // no confirmation: PROBE after delay_first_probe_time, ucast_solicit unicasts, FAILED
  std::vector<const Sent*> probes;
  for (std::size_t i = before; i < r.tx.size(); ++i)
    if (r.tx[i].arp) probes.push_back(&r.tx[i]);
  ASSERT_EQ(probes.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(probes[i]->at, t0 + Duration::s(5 + i));
    EXPECT_EQ(probes[i]->eth.dst, kPeerMac);  // arp_solicit: unicast to the cached address
    EXPECT_EQ(probes[i]->arp->target_ip, kPeerIp);
  }
  EXPECT_EQ(r.state(), kNudFailed);
  EXPECT_EQ(r.cpu.now(), t0 + Duration::s(8));
  EXPECT_EQ(r.tbl.stats().res_failed, 1u);
  EXPECT_EQ(r.tbl.ip_neigh_show(), (std::vector<std::string>{"192.168.1.1 dev eth0  FAILED"}));
}

TEST(Neigh, ProbeAnsweredReturnsToReachable_NeighUpdate) {
  Rig r;
  r.send(1);
  r.reply_from_peer();
  r.cpu.run();
  ASSERT_EQ(r.state(), kNudStale);
  const Instant t0 = r.cpu.now();
  r.send(2);
  r.at(t0 + Duration::ms(5500), [&] {
    EXPECT_EQ(r.state(), kNudProbe);
    r.reply_from_peer();
    EXPECT_EQ(r.state(), kNudReachable);
    r.send(3);
  });
  r.cpu.run();
  std::size_t probes = 0;
  for (const Sent& s : r.tx)
    if (s.arp && s.at > t0) ++probes;
  EXPECT_EQ(probes, 1u);  // the first unicast probe at t0 + 5 s; none after the reply
  EXPECT_EQ(r.ip_sent(), (std::vector<uint32_t>{1, 2, 3}));
  EXPECT_EQ(r.state(), kNudStale);  // aged again after reachable_time, no more traffic
  EXPECT_EQ(r.tbl.stats().res_failed, 0u);
}

TEST(Neigh, NeighConfirmInDelayReturnsToReachableWithoutProbe_NeighConfirm) {
  Rig r;
  r.send(1);
  r.reply_from_peer();
  r.cpu.run();
  const Instant t0 = r.cpu.now();
  r.send(2);
  ASSERT_EQ(r.state(), kNudDelay);
  r.at(t0 + Duration::s(1), [&] { r.tbl.neigh_confirm(r.dev, kPeerIp); });  // e.g. a TCP ACK
  r.at(t0 + Duration::s(5) + Duration::ms(1), [&] { EXPECT_EQ(r.state(), kNudReachable); });
  r.cpu.run();
  for (const Sent& s : r.tx) EXPECT_FALSE(s.arp && s.at > t0);
}

TEST(Neigh, UsedWithinDelayProbeTimeGoesReachableToDelay_NeighTimerHandler) {
  Rig r;
  r.send(1);
  r.reply_from_peer();
  const Instant expiry = Instant{} + r.tbl.reachable_time();
  r.at(expiry - Duration::s(1), [&] { r.send(2); });  // used in the last delay_first_probe_time
  r.at(expiry + Duration::ms(10), [&] { EXPECT_EQ(r.state(), kNudDelay); });
  r.cpu.run();
  EXPECT_EQ(r.state(), kNudFailed);  // never confirmed: PROBE, then FAILED
}

TEST(Neigh, RequestForOurAddressAnsweredAndSenderLearnedStale_ArpProcess) {
  Rig r;
  const Ipv4Addr asker = *Ipv4Addr::parse("192.168.1.7");
  r.receive(ArpRepr{ArpOp::Request, ArpHardware::Ethernet, kOtherMac, asker, MacAddr{}, kOurIp},
            PktType::Broadcast);
  ASSERT_EQ(r.tx.size(), 1u);
  const Sent& rep = r.tx[0];
  EXPECT_EQ(rep.eth.dst, kOtherMac);
  EXPECT_EQ(rep.eth.src, kOurMac);
  EXPECT_EQ(rep.eth.ethertype, EtherType::Arp);
  ASSERT_TRUE(rep.arp);
  EXPECT_EQ(*rep.arp, (ArpRepr{ArpOp::Reply, ArpHardware::Ethernet, kOurMac, kOurIp, kOtherMac, asker}));
  EXPECT_EQ(r.state(asker), kNudStale);  // neigh_event_ns
  EXPECT_EQ(r.tbl.find(r.dev, asker)->ha, kOtherMac);
  EXPECT_EQ(r.tbl.arp_stats().requests_answered, 1u);

  // A request for someone else's address: not answered, and (arp_accept 0) nothing created.
  const Ipv4Addr third = *Ipv4Addr::parse("192.168.1.8");
  r.receive(ArpRepr{ArpOp::Request, ArpHardware::Ethernet, kPeerMac, third, MacAddr{}, kPeerIp},
            PktType::Broadcast);
  EXPECT_EQ(r.tx.size(), 1u);
  EXPECT_EQ(r.state(third), 0xFF);
  // An unsolicited reply for an unknown sender creates nothing either.
  r.reply_from_peer();
  EXPECT_EQ(r.state(kPeerIp), 0xFF);
  EXPECT_EQ(r.tbl.size(), 1u);
  // Sending to the learned STALE entry goes out at once, moving it to DELAY.
  r.send(5, asker);
  EXPECT_EQ(r.state(asker), kNudDelay);
  EXPECT_EQ(r.tx.back().eth.dst, kOtherMac);
}

TEST(Neigh, ReplyWithinLocktimeDoesNotOverrideAddress_ArpProcessLocktime) {
  Rig r;
  r.send(1);
  r.reply_from_peer();
  r.reply_from_peer(kOtherMac);  // same instant: within locktime, not a gratuitous ARP
  EXPECT_EQ(r.tbl.find(r.dev, kPeerIp)->ha, kPeerMac);
  r.cpu.set_now(at_s(2));
  r.reply_from_peer(kOtherMac);  // after locktime: override
  EXPECT_EQ(r.tbl.find(r.dev, kPeerIp)->ha, kOtherMac);
  EXPECT_EQ(r.state(), kNudReachable);
}

TEST(Neigh, MalformedArpCountedAndFreed_ArpRcv) {
  Rig r;
  r.receive_bytes({0x00, 0x01, 0x08, 0x00, 0x06});                          // truncated
  r.receive_bytes({0x00, 0x01, 0x08, 0x00, 0x08, 0x04, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0,
                   0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});  // hln 8
  std::vector<uint8_t> op3(28, 0);
  ArpRepr{ArpOp::Request, ArpHardware::Ethernet, kPeerMac, kPeerIp, MacAddr{}, kOurIp}.emit(op3);
  op3[7] = 3;  // RARP request
  r.receive_bytes(op3);
  EXPECT_EQ(r.tbl.arp_stats().malformed, 3u);
  EXPECT_EQ(r.tbl.arp_stats().rcv, 3u);
  EXPECT_TRUE(r.tx.empty());
  EXPECT_EQ(r.tbl.size(), 0u);
  EXPECT_EQ(r.pool.live(), 0u);  // every skb freed
  EXPECT_EQ(r.pool.stats().dropped, 3u);
}

TEST(Neigh, GratuitousArpOnUpOnlyWithArpNotify_InetdevEvent) {
  Rig quiet;  // arp_notify 0 (the default): nothing
  quiet.tbl.netdev_up(quiet.dev);
  EXPECT_TRUE(quiet.tx.empty());

  NeighParms p;
  p.arp_notify = true;
  Rig loud(p);
  loud.tbl.netdev_up(loud.dev);
  ASSERT_EQ(loud.tx.size(), 1u);
  const Sent& g = loud.tx[0];
  EXPECT_EQ(g.eth.dst, MacAddr::broadcast());
  ASSERT_TRUE(g.arp);
  EXPECT_EQ(g.arp->op, ArpOp::Request);
  EXPECT_EQ(g.arp->sender_ip, kOurIp);
  EXPECT_EQ(g.arp->target_ip, kOurIp);
  EXPECT_EQ(g.arp->sender_mac, kOurMac);
}

TEST(Neigh, IpNeighShowLinesAsIproute2) {
  Rig r;
  r.send(1);
  r.reply_from_peer();  // 192.168.1.1 REACHABLE
  r.send(2, *Ipv4Addr::parse("192.168.1.9"));  // INCOMPLETE
  r.tbl.neigh_add(r.dev, *Ipv4Addr::parse("192.168.1.20"), kOtherMac, kNudPermanent);
  r.tbl.neigh_add(r.dev, *Ipv4Addr::parse("192.168.1.3"), kOtherMac, kNudStale);
  EXPECT_EQ(r.tbl.ip_neigh_show(), (std::vector<std::string>{
                                       "192.168.1.1 dev eth0 lladdr 52:54:00:12:34:56 REACHABLE",
                                       "192.168.1.3 dev eth0 lladdr 52:54:00:aa:bb:cc STALE",
                                       "192.168.1.9 dev eth0  INCOMPLETE",
                                       "192.168.1.20 dev eth0 lladdr 52:54:00:aa:bb:cc PERMANENT",
                                   }));
  r.tbl.neigh_delete(r.dev, *Ipv4Addr::parse("192.168.1.9"));
  EXPECT_EQ(r.freed.back(), (std::pair<uint32_t, SkbDropReason>{2, SkbDropReason::NeighDead}));
  EXPECT_EQ(r.tbl.stats().destroys, 1u);
  EXPECT_EQ(r.tbl.ip_neigh_show().size(), 3u);
}

}  // namespace
