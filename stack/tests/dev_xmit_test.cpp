// The transmit core and pfifo_fast against a fake driver: bypass of an empty qdisc, the priomap's
// bands, per-band limits of txqueuelen, requeue on NETDEV_TX_BUSY, the stop/wake cycle through
// NET_TX_SOFTIRQ, bulk dequeue within BQL's limit with xmit_more, the dev_tx_weight quota, noqueue,
// and `tc -s qdisc` output (net/core/dev.c __dev_queue_xmit, net/sched/sch_generic.c, 6.1).
#include <gtest/gtest.h>

#include <vector>

#include "support/fake_cpu.hpp"
#include "support/stub_netdev.hpp"
#include "vnic/stack/dev_xmit.hpp"

namespace {

using namespace vnic::stack;
using vnic::stack::testing::FakeCpu;
using vnic::stack::testing::FakeMemory;

// A driver whose ring holds `ring` packets until complete() is called.
class FakeDev final : public vnic::stack::testing::StubNetDevice {
 public:
  explicit FakeDev(uint32_t ring) : ring_(ring) {
    up = true;
    bql_enabled = false;
    netif_tx_start_queue();
  }
  NetdevTx start_xmit(SkBuff* skb, bool xmit_more) override {
    if (in_ring.size() >= ring_) return NetdevTx::Busy;  // the queue should have been stopped
    in_ring.push_back(skb);
    more.push_back(xmit_more);
    if (!xmit_more) ++doorbells;
    if (in_ring.size() >= ring_) netif_tx_stop_queue();
    return NetdevTx::Ok;
  }
  void complete_all() {
    for (SkBuff* s : in_ring) sent.push_back(s->priority), kfree_skb(s);
    in_ring.clear();
    netif_tx_wake_queue();
  }
  std::vector<SkBuff*> in_ring;
  std::vector<bool> more;
  std::vector<uint32_t> sent;  // priorities, in the order they completed
  int doorbells = 0;

 private:
  uint32_t ring_;
};

struct Rig {
  FakeCpu cpu;
  FakeMemory mem;
  SkbPool pool{mem, 2048, 100000};
  NetCoreSysctls sys;
  TxCore core{cpu, sys};
  FakeDev dev;
  explicit Rig(uint32_t ring, const char* qdisc = "pfifo_fast", uint32_t txqueuelen = 1000) : dev(ring) {
    dev.tx_queue_len = txqueuelen;
    core.attach(dev, make_qdisc(qdisc, dev));
  }
  NetXmit send(uint32_t prio = 0, uint32_t len = 100) {
    SkBuff* s = pool.alloc(len);
    s->dev = &dev;
    s->priority = prio;
    return core.dev_queue_xmit(s);
  }
  Qdisc& q() { return *dev.qdisc; }
};

TEST(DevQueueXmit, AnEmptyPfifoFastSendsStraightToTheDriverAndCountsIt) {
  Rig r(8);
  EXPECT_EQ(r.send(), NetXmit::Success);
  EXPECT_EQ(r.dev.in_ring.size(), 1u);
  EXPECT_EQ(r.core.stats().bypass, 1u);
  EXPECT_EQ(r.q().stats.packets, 1u);
  EXPECT_EQ(r.q().stats.bytes, 100u);
  EXPECT_EQ(r.q().qlen(), 0u);
}

TEST(DevQueueXmit, AStoppedQueueHoldsPacketsInTheirBandsAndTheWakeSendsBand0First) {
  Rig r(2);
  r.send();
  r.send();  // the ring is full: the driver stopped its queue
  ASSERT_TRUE(r.dev.netif_xmit_stopped());
  // The qdisc is still empty, so the next packet takes the bypass, finds the queue stopped and
  // is requeued (__dev_xmit_skb, then sch_direct_xmit's dev_requeue_skb), as in Linux.
  EXPECT_EQ(r.send(2), NetXmit::Success);
  EXPECT_EQ(r.q().stats.requeues, 1u);
  // TC_PRIO_BESTEFFORT 0 -> band 1, TC_PRIO_INTERACTIVE 6 -> band 0, TC_PRIO_BULK 2 -> band 2.
  for (uint32_t prio : {0u, 6u, 2u}) EXPECT_EQ(r.send(prio), NetXmit::Success);
  auto& pf = static_cast<PfifoFast&>(r.q());
  EXPECT_EQ(pf.band_len(0), 1u);
  EXPECT_EQ(pf.band_len(1), 1u);
  EXPECT_EQ(pf.band_len(2), 1u);
  r.dev.complete_all();  // wake: NET_TX_SOFTIRQ runs the qdisc
  EXPECT_TRUE(r.cpu.softirq_pending(Softirq::NetTx));
  r.cpu.run();
  ASSERT_EQ(r.dev.in_ring.size(), 2u);  // the requeued packet first, then band 0
  EXPECT_EQ(r.dev.in_ring[0]->priority, 2u);
  EXPECT_EQ(r.dev.in_ring[1]->priority, 6u);
  r.dev.complete_all();
  r.cpu.run();
  ASSERT_EQ(r.dev.in_ring.size(), 2u);  // then band 1, then band 2
  EXPECT_EQ(r.dev.in_ring[0]->priority, 0u);
  EXPECT_EQ(r.dev.in_ring[1]->priority, 2u);
  EXPECT_GE(r.core.stats().net_tx_action, 2u);
}

TEST(DevQueueXmit, EachBandHoldsTxqueuelenAndAFullBandDrops) {
  Rig r(1, "pfifo_fast", 4);
  r.send();      // in the ring; the queue stops
  r.send(6);     // requeued by the bypass
  for (int i = 0; i < 4; ++i) EXPECT_EQ(r.send(0), NetXmit::Success);
  EXPECT_EQ(r.send(0), NetXmit::Drop);     // band 1 holds txqueuelen (4): full
  EXPECT_EQ(r.send(6), NetXmit::Success);  // band 0 still takes one
  EXPECT_EQ(r.q().stats.drops, 1u);
  EXPECT_EQ(r.q().qlen(), 5u);
  EXPECT_EQ(r.q().stats.backlog_bytes, 600u);  // the requeued packet counts in the backlog too
}

TEST(DevQueueXmit, ARefusedPacketIsRequeuedCountedAndSentFirst) {
  // A driver that refuses without having stopped its queue (NETDEV_TX_BUSY): dev_requeue_skb.
  Rig r(1);
  r.dev.netif_tx_start_queue();
  r.send();                 // taken; the queue stops
  r.dev.netif_tx_start_queue();  // a buggy driver: running again with its ring full
  r.send(6);                // bypass: refused, requeued
  EXPECT_EQ(r.q().stats.requeues, 1u);
  ASSERT_NE(r.q().requeued, nullptr);
  EXPECT_TRUE(r.cpu.softirq_pending(Softirq::NetTx));
  r.dev.complete_all();
  r.cpu.run();
  ASSERT_EQ(r.dev.in_ring.size(), 1u);
  EXPECT_EQ(r.dev.in_ring[0]->priority, 6u);
  EXPECT_EQ(r.q().requeued, nullptr);
}

TEST(DevQueueXmit, WithBqlRoomTheQdiscHandsOverABurstWithXmitMore) {
  Rig r(64);
  r.dev.bql_enabled = true;
  r.dev.dql.reset(0);
  r.dev.dql.adj_limit = 10000;  // BQL has grown its limit: room for the whole backlog
  r.dev.netif_tx_stop_queue();
  r.send();                              // requeued by the bypass
  for (int i = 0; i < 5; ++i) r.send();  // queued while stopped
  r.dev.netif_tx_wake_queue();
  r.cpu.run();
  ASSERT_EQ(r.dev.in_ring.size(), 6u);
  // The requeued packet alone, then try_bulk_dequeue_skb: one list with xmit_more on all but
  // the last, one doorbell for it.
  EXPECT_EQ(r.dev.more, (std::vector<bool>{false, true, true, true, true, false}));
  EXPECT_EQ(r.dev.doorbells, 2);
}

TEST(DevQueueXmit, ARunStopsAfterDevTxWeightPacketsAndGoesOnFromTheSoftirq) {
  Rig r(100000);
  r.dev.netif_tx_stop_queue();
  for (int i = 0; i < 200; ++i) r.send();
  r.dev.netif_tx_wake_queue();  // no BQL: one packet a dequeue
  EXPECT_EQ(r.dev.in_ring.size(), 0u);  // the wake only schedules
  r.cpu.run_softirqs();
  EXPECT_EQ(r.dev.in_ring.size(), 64u);  // dev_tx_weight = dev_weight 64 x dev_weight_tx_bias 1
  EXPECT_EQ(r.core.stats().quota_exhausted, 1u);
  r.cpu.run();
  EXPECT_EQ(r.dev.in_ring.size(), 200u);
}

TEST(DevQueueXmit, NoqueueSendsOrDropsAndCountsTheDeviceDrop) {
  Rig r(1, "noqueue");
  EXPECT_EQ(r.send(), NetXmit::Success);
  EXPECT_EQ(r.send(), NetXmit::NetDown);  // the ring is full: nothing to queue it in
  EXPECT_EQ(r.dev.tx_dropped_core, 1u);
  EXPECT_EQ(make_qdisc("fq_codel_not_yet", r.dev), nullptr);
}

TEST(TcQdisc, PrintsAsIproute2Does) {
  Rig r(1);
  r.send();
  r.send(0, 70);  // requeued
  r.send(0, 60);  // queued
  const std::string s = tc_s_qdisc(r.q(), "eth0");
  EXPECT_EQ(s,
            "qdisc pfifo_fast 0: root refcnt 2 bands 3 priomap 1 2 2 2 1 2 0 0 1 1 1 1 1 1 1 1\n"
            " Sent 170 bytes 2 pkt (dropped 0, overlimits 0 requeues 1) \n"
            " backlog 130b 2p requeues 1\n");
}

}  // namespace
