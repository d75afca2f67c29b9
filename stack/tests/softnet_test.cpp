// Tests of the softnet loop: backlog limits, budget and time squeezes, NAPI state, softnet_stat.
#include <gtest/gtest.h>

#include <vector>

#include "support/fake_cpu.hpp"
#include "support/stub_netdev.hpp"
#include "vnic/stack/co.hpp"
#include "vnic/stack/softnet.hpp"

namespace vnic::stack {
namespace {

using testing::FakeCpu;
using testing::FakeMemory;

struct Sink {
  std::vector<uint32_t> lens;
  static void rx(void* ctx, SkBuff* skb) {
    static_cast<Sink*>(ctx)->lens.push_back(skb->len);
    kfree_skb(skb);
  }
};

struct Fixture : ::testing::Test {
  FakeCpu cpu;
  FakeMemory mem;
  SkbPool pool{mem, 2048, 100000};
  NetCoreSysctls sys{};
  SkBuff* skb(uint32_t len) {
    SkBuff* s = pool.alloc(len);
    EXPECT_NE(s, nullptr);
    return s;
  }
};

TEST_F(Fixture, DefaultsAreLinux61) {
  EXPECT_EQ(sys.netdev_budget, 300);
  EXPECT_EQ(sys.netdev_budget_usecs, 8000u);
  EXPECT_EQ(sys.dev_weight, 64);
  EXPECT_EQ(sys.netdev_max_backlog, 1000u);
  EXPECT_EQ(usecs_to_jiffies(8000), 2u);
  EXPECT_EQ(usecs_to_jiffies(1), 1u);
  EXPECT_EQ(usecs_to_jiffies(4001), 2u);
}

TEST_F(Fixture, BacklogHoldsMaxPlusOneAndCountsTheRest) {
  Softnet sd(cpu, sys);
  Sink sink;
  sd.set_rx_handler(&Sink::rx, &sink);
  int drops = 0;
  for (int i = 0; i < 1100; ++i) drops += sd.netif_rx(skb(60));
  EXPECT_EQ(drops, 1100 - 1001);
  EXPECT_EQ(sd.stats().dropped, 99u);
  EXPECT_EQ(sd.backlog_len(), 1001u);
  EXPECT_TRUE(cpu.softirq_pending(Softirq::NetRx));
  cpu.run();
  EXPECT_EQ(sink.lens.size(), 1001u);
  EXPECT_EQ(sd.stats().processed, 1001u);
  // net_rx_action polls each NAPI on its list once, then re-raises: 15 polls of 64, one of 41.
  EXPECT_EQ(sd.stats().net_rx_action, 16u);
  EXPECT_EQ(sd.stats().time_squeeze, 0u);
  EXPECT_EQ(pool.live(), 0u);
}

TEST_F(Fixture, BacklogQuotaFollowsDevWeight) {
  sys.dev_weight = 16;
  sys.netdev_budget = 1000;
  Softnet sd(cpu, sys);
  Sink sink;
  sd.set_rx_handler(&Sink::rx, &sink);
  for (int i = 0; i < 100; ++i) sd.netif_rx(skb(60));
  cpu.run();
  EXPECT_EQ(sink.lens.size(), 100u);
  EXPECT_EQ(sd.stats().time_squeeze, 0u);
}

// A NAPI that reports `per_poll` packets of work each poll (at most its budget) and charges `cost`
// for each; it completes when its packets run out.
struct FakeDev {
  Softnet* sd = nullptr;
  Napi napi;
  int left = 0;
  Duration cost{};
  int completes = 0;
  static int poll(Napi* n, int budget) {
    auto& d = *static_cast<FakeDev*>(n->owner);
    int done = 0;
    while (done < budget && d.left > 0) {
      --d.left;
      ++done;
      d.sd->cpu().charge(d.cost);
    }
    if (done < budget && d.sd->napi_complete_done(*n, done)) ++d.completes;
    return done;
  }
};

TEST_F(Fixture, SmallBudgetSqueezesEveryFullPoll) {
  sys.netdev_budget = 50;  // below the NAPI weight: a full poll of 64 exhausts it
  Softnet sd(cpu, sys);
  FakeDev d;
  d.sd = &sd;
  d.left = 1000;
  sd.netif_napi_add(d.napi, &FakeDev::poll, &d, 64);
  sd.napi_enable(d.napi);
  sd.napi_schedule(d.napi);
  cpu.run();
  EXPECT_EQ(d.left, 0);
  EXPECT_EQ(d.completes, 1);
  EXPECT_EQ(d.napi.full_polls, 15u);  // 15 x 64 + 40
  EXPECT_EQ(sd.stats().squeeze_budget, 15u);
  EXPECT_EQ(sd.stats().squeeze_time, 0u);
}

TEST_F(Fixture, ManyNapisShareTheBudget) {
  Softnet sd(cpu, sys);
  std::vector<FakeDev> devs(5);
  for (auto& d : devs) {
    d.sd = &sd;
    d.left = 640;
    sd.netif_napi_add(d.napi, &FakeDev::poll, &d, 64);
    sd.napi_enable(d.napi);
    sd.napi_schedule(d.napi);
  }
  cpu.run();
  // Each run polls the five once: 320 > 300, so the fifth poll squeezes; ten such runs.
  EXPECT_EQ(sd.stats().squeeze_budget, 10u);
  for (auto& d : devs) EXPECT_EQ(d.completes, 1);
}

TEST_F(Fixture, DefaultBudgetNeverSqueezesOneNapi) {
  Softnet sd(cpu, sys);
  FakeDev d;
  d.sd = &sd;
  d.left = 5000;
  sd.netif_napi_add(d.napi, &FakeDev::poll, &d, 64);
  sd.napi_enable(d.napi);
  sd.napi_schedule(d.napi);
  cpu.run();
  EXPECT_EQ(d.left, 0);
  EXPECT_EQ(sd.stats().time_squeeze, 0u);
}

TEST_F(Fixture, TimeSqueezeWhenPollsAreSlow) {
  Softnet sd(cpu, sys);
  FakeDev d;
  d.sd = &sd;
  d.left = 128;
  d.cost = Duration::us(100);  // 6.4 ms a poll of 64
  sd.netif_napi_add(d.napi, &FakeDev::poll, &d, 64);
  sd.napi_enable(d.napi);
  sd.napi_schedule(d.napi);
  // Run 1 starts in jiffy 0 (limit 2) and ends at 6.4 ms, jiffy 1: in time.
  EXPECT_TRUE(cpu.run_softirqs());
  EXPECT_EQ(sd.stats().time_squeeze, 0u);
  // Run 2 starts in jiffy 1 (limit 3) and ends at 12.8 ms, jiffy 3: squeezed.
  EXPECT_TRUE(cpu.run_softirqs());
  EXPECT_EQ(sd.stats().squeeze_time, 1u);
  EXPECT_EQ(sd.stats().squeeze_budget, 0u);
  EXPECT_EQ(d.left, 0);
  cpu.run();
  EXPECT_EQ(d.completes, 1);
}

TEST_F(Fixture, NoSqueezeWhenCheap) {
  Softnet sd(cpu, sys);
  FakeDev d;
  d.sd = &sd;
  d.left = 200;
  d.cost = Duration::ns(500);
  sd.netif_napi_add(d.napi, &FakeDev::poll, &d, 64);
  sd.napi_enable(d.napi);
  sd.napi_schedule(d.napi);
  cpu.run();
  EXPECT_EQ(sd.stats().time_squeeze, 0u);
  EXPECT_EQ(d.completes, 1);
}

TEST_F(Fixture, ScheduleWhilePollingIsNotLost) {
  Softnet sd(cpu, sys);
  struct Dev {
    Softnet* sd;
    Napi napi;
    int polls = 0;
    static int poll(Napi* n, int) {
      auto& d = *static_cast<Dev*>(n->owner);
      if (++d.polls == 1) d.sd->napi_schedule(*n);  // an interrupt while polling: MISSED
      EXPECT_EQ(d.sd->napi_complete_done(*n, 1), d.polls != 1);
      return 1;
    }
  } d{&sd, {}};
  sd.netif_napi_add(d.napi, &Dev::poll, &d, 64);
  sd.napi_enable(d.napi);
  sd.napi_schedule(d.napi);
  cpu.run();
  EXPECT_EQ(d.polls, 2);
  EXPECT_FALSE(d.napi.sched);
}

TEST_F(Fixture, DisabledNapiIsNotScheduled) {
  Softnet sd(cpu, sys);
  FakeDev d;
  d.sd = &sd;
  d.left = 10;
  sd.netif_napi_add(d.napi, &FakeDev::poll, &d, 64);
  sd.napi_schedule(d.napi);  // not enabled yet
  EXPECT_FALSE(cpu.softirq_pending(Softirq::NetRx));
  sd.napi_enable(d.napi);
  TaskScope scope;
  bool disabled = false;
  auto task = [](Softnet& s, Napi& n, bool& flag) -> Co<void> {
    co_await s.napi_disable(n);
    flag = true;
  };
  sd.napi_schedule(d.napi);            // scheduled, then disable waits for the poll
  scope.spawn(task(sd, d.napi, disabled));
  EXPECT_FALSE(disabled);
  cpu.run();
  EXPECT_TRUE(disabled);
  EXPECT_EQ(scope.running(), 0u);
  sd.napi_schedule(d.napi);
  EXPECT_FALSE(cpu.softirq_pending(Softirq::NetRx));
}

TEST_F(Fixture, SoftnetStatLineFormat) {
  Softnet sd(cpu, sys);
  Sink sink;
  sd.set_rx_handler(&Sink::rx, &sink);
  for (int i = 0; i < 1010; ++i) sd.netif_rx(skb(60));
  EXPECT_EQ(sd.softnet_stat_line(),
            "00000000 00000009 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 "
            "00000000 000003e9 00000000");
  cpu.run();
  EXPECT_EQ(sd.softnet_stat_line().substr(0, 27), "000003e9 00000009 00000000 ");
}

TEST_F(Fixture, NoHandlerCountsAndFrees) {
  Softnet sd(cpu, sys);
  sd.netif_receive_skb(skb(60));
  EXPECT_EQ(sd.stats().rx_nohandler, 1u);
  EXPECT_EQ(pool.live(), 0u);
}

TEST_F(Fixture, EthTypeTransClassifies) {
  vnic::stack::testing::StubNetDevice dev;
  dev.dev_addr = model::MacAddr{{2, 0, 0, 0, 0, 1}};
  SkBuff* s = skb(60);
  auto b = s->bytes();
  const uint8_t hdr[14] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00};
  std::copy(hdr, hdr + 14, b.begin());
  ASSERT_TRUE(eth_type_trans(*s, dev));
  EXPECT_EQ(s->protocol, 0x0800);
  EXPECT_EQ(s->pkt_type, PktType::Host);
  EXPECT_EQ(s->len, 46u);
  EXPECT_EQ(s->mac_bytes().size(), 60u);
  s->data -= 14;
  s->len += 14;
  s->head[s->data] = 0xFF;
  std::fill(s->head + s->data, s->head + s->data + 6, uint8_t{0xFF});
  ASSERT_TRUE(eth_type_trans(*s, dev));
  EXPECT_EQ(s->pkt_type, PktType::Broadcast);
  s->data -= 14;
  s->len = 10;
  EXPECT_FALSE(eth_type_trans(*s, dev));
  kfree_skb(s);
}

TEST_F(Fixture, PoolLimitsAndRecycles) {
  SkbPool small(mem, 2048, 2);
  SkBuff* a = small.alloc(100);
  SkBuff* b = small.alloc(100);
  EXPECT_EQ(small.alloc(100), nullptr);
  EXPECT_EQ(small.alloc(4000), nullptr);
  EXPECT_EQ(small.stats().failed, 2u);
  kfree_skb(a);
  kfree_skb(a);
  EXPECT_EQ(small.stats().double_frees, 1u);
  SkBuff* c = small.alloc(10);
  EXPECT_EQ(c, a);  // recycled
  EXPECT_EQ(c->headroom(), SkbPool::kHeadroom);
  kfree_skb(b);
  kfree_skb(c);
  EXPECT_EQ(small.stats().buffers, 2u);
}

}  // namespace
}  // namespace vnic::stack
