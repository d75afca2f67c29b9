// The per-packet journey: a pktgen packet through driver, NIC, wire, NIC, driver and softnet,
// its steps in the order of the reference flow, on every path that exists (netif_receive_skb,
// netif_rx), dropped at the NIC and in softnet; its times against the pcap and the link's rule;
// and the step table against what the code emits.
#include <gtest/gtest.h>

#include <pcap/pcap.h>

#include <cstdio>
#include <set>
#include <vector>

#include "support/driver_rig.hpp"
#include "vnic/tb/journey.hpp"

namespace {

using vnic::model::Step;
using vnic::model::TraceKind;
using vnic::tb::Branch;
using vnic::tb::JourneyRecorder;
using vnic::tb::testing::driver_scenario;
namespace model = vnic::model;

// Every event seen, for the step-table check.
struct StepSet : model::TraceSink {
  std::set<std::pair<int, int>> seen;
  void trace(const char*, const model::TraceEvent& e) override {
    if (!e.step.none()) seen.insert({static_cast<int>(e.step.path), e.step.n});
  }
};

struct PairRun {
  vnic::tb::Platform p;
  JourneyRecorder rec;
  explicit PairRun(const vnic::tb::Scenario& s, vnic::tb::JourneyConfig jc = {}, model::TraceSink* next = nullptr)
      : p(s), rec(jc, next) {
    p.driver_host("a").set_trace(&rec, 0);
    p.driver_host("b").set_trace(&rec, uint64_t{1} << 32);
    p.run();
  }
  const vnic::tb::Journey& journey(uint64_t id) {
    const auto it = rec.journeys().find(id);
    EXPECT_NE(it, rec.journeys().end()) << "no journey for packet " << id;
    static const vnic::tb::Journey none;
    return it == rec.journeys().end() ? none : it->second;
  }
};

std::vector<std::pair<TraceKind, Step>> chain(const vnic::tb::Journey& j, Branch b) {
  std::vector<std::pair<TraceKind, Step>> out;
  for (const auto* s : j.branch(b)) out.emplace_back(s->kind, s->step);
  return out;
}

void expect_monotonic(const vnic::tb::Journey& j) {
  for (Branch b : {Branch::Forward, Branch::Completion}) {
    const auto steps = j.branch(b);
    for (std::size_t k = 1; k < steps.size(); ++k) EXPECT_LE(steps[k - 1]->t_ps, steps[k]->t_ps);
  }
}

using model::egress;
using model::ingress;
constexpr Step kNone{};

const std::vector<std::pair<TraceKind, Step>> kSenderToNic = {
    {TraceKind::PacketMade, kNone}, {TraceKind::TxMap, egress(15)}, {TraceKind::TxRing, egress(12)},
    {TraceKind::TxLaunch, egress(16)}, {TraceKind::TxWire, kNone},  {TraceKind::RxArrive, ingress(1)},
    {TraceKind::RxAccept, ingress(2)}, {TraceKind::RxDma, ingress(3)}, {TraceKind::RxComplete, ingress(4)},
    {TraceKind::Irq, ingress(5)},      {TraceKind::HardIrq, ingress(6)}, {TraceKind::NapiSchedule, ingress(7)},
    {TraceKind::SoftirqRaise, ingress(8)}, {TraceKind::RxPoll, ingress(9)}, {TraceKind::SkbAlloc, ingress(10)},
    {TraceKind::EthTypeTrans, ingress(11)}};

const std::vector<std::pair<TraceKind, Step>> kCompletion = {
    {TraceKind::TxDone, egress(17)},       {TraceKind::Irq, egress(17)},     {TraceKind::HardIrq, egress(18)},
    {TraceKind::NapiSchedule, egress(19)}, {TraceKind::SoftirqRaise, egress(19)}, {TraceKind::TxClean, egress(20)},
    {TraceKind::IrqEnable, egress(14)}};

TEST(Journey, APktgenPacketThroughNetifReceiveSkbPassesEveryStepInOrder) {
  PairRun r(driver_scenario(50, 0, 100, 1500));
  const auto& j = r.journey(1);
  auto want = kSenderToNic;
  want.push_back({TraceKind::ReceiveSkb, ingress(12)});
  want.push_back({TraceKind::ReceiveCore, ingress(13)});  // the stack hands it to its ptype handler
  want.push_back({TraceKind::Consumed, kNone});
  EXPECT_EQ(chain(j, Branch::Forward), want);
  EXPECT_EQ(chain(j, Branch::Completion), kCompletion);
  EXPECT_TRUE(j.ended);
  EXPECT_TRUE(j.dropped_at.empty());
  expect_monotonic(j);
  // Every packet sent was followed to its consumer: pktgen's 50, and every frame the stacks
  // gave their NICs (ids with bit 31 set: the ping's echo requests and replies and the ARP
  // exchange before them; none is dropped on this clean link).
  uint64_t pktgen = 0, stack = 0;
  for (const auto& [id, jr] : r.rec.journeys()) {
    EXPECT_TRUE(jr.ended) << id;
    EXPECT_TRUE(jr.dropped_at.empty()) << id;
    expect_monotonic(jr);
    ((id & vnic::stack::NetStack::kStackIdBit) != 0 ? stack : pktgen) += 1;
  }
  EXPECT_EQ(pktgen, 50u);
  uint64_t stack_frames = 0, arp_frames = 0;
  for (const char* h : {"a", "b"}) {
    const auto& dh = r.p.driver_host(h);
    stack_frames += dh.driver().tx_from_core;
    arp_frames += dh.driver().tx_from_core - dh.net().ip_mib().OutRequests;
  }
  EXPECT_EQ(stack, stack_frames);
  EXPECT_EQ(stack_frames, arp_frames + 10);  // ping -c 5: 5 echo requests, 5 replies
  EXPECT_GT(arp_frames, 0u);
  // The breakdown covers every consecutive pair and the whole: each journey once end to end,
  // pktgen's (and ARP's, which also go from the packet's making to a consumer with no numbered
  // step of their own) from packet.made to consumed.
  const auto b = r.rec.breakdown();
  ASSERT_FALSE(b.empty());
  uint64_t e2e = 0, made_to_consumed = 0;
  for (const auto& s : b) {
    EXPECT_LE(s.p50_ps, s.p99_ps);
    EXPECT_LE(s.p99_ps, s.max_ps);
    if (s.from.rfind("end to end", 0) == 0) {
      e2e += s.count;
      if (s.from.find("packet.made") != std::string::npos && s.to.rfind("- consumed", 0) == 0) {
        made_to_consumed += s.count;
      }
    }
  }
  EXPECT_EQ(e2e, r.rec.journeys().size());
  EXPECT_EQ(made_to_consumed, 50u + arp_frames);
  EXPECT_NE(r.rec.format(j).find("egress:16"), std::string::npos);
  EXPECT_NE(r.rec.json().find("\"breakdown\""), std::string::npos);
}

TEST(Journey, ThroughNetifRxThePacketPassesTheBacklog) {
  auto s = driver_scenario(20, 0, 100, 1500);
  s.driver.rx_handoff = "netif_rx";
  PairRun r(s);
  // Packet 1 finds nic_b's NAPI already polling (the interrupt of the ARP exchange before the
  // ping, whose frames come first): it has no interrupt steps (ingress 5-8) of its own.
  std::vector<std::pair<TraceKind, Step>> want;
  for (const auto& st : kSenderToNic) {
    if (st.second != ingress(5) && st.second != ingress(6) && st.second != ingress(7) && st.second != ingress(8)) {
      want.push_back(st);
    }
  }
  want.push_back({TraceKind::NetifRx, ingress(14)});
  want.push_back({TraceKind::ReceiveSkb, ingress(12)});
  want.push_back({TraceKind::ReceiveCore, ingress(13)});
  want.push_back({TraceKind::Consumed, kNone});
  EXPECT_EQ(chain(r.journey(1), Branch::Forward), want);
  expect_monotonic(r.journey(1));
}

TEST(Journey, AFrameDroppedAtTheNicEndsAtTheCounterThatTookIt) {
  auto s = driver_scenario(200, 0, 100, 1500);
  s.link().faults.corrupt_every = 10;  // every 10th frame reaches nic_b with a bad FCS
  PairRun r(s);
  int dropped = 0;
  for (const auto& [id, j] : r.rec.journeys()) {
    if (j.dropped_at.empty()) continue;
    ++dropped;
    EXPECT_EQ(j.dropped_at, "rx_crc_errors");
    const auto fwd = j.branch(Branch::Forward);
    ASSERT_FALSE(fwd.empty());
    EXPECT_EQ(fwd.back()->kind, TraceKind::RxDrop);
    EXPECT_EQ(fwd.back()->step, ingress(2));
    EXPECT_EQ(fwd[fwd.size() - 2]->kind, TraceKind::RxArrive);
  }
  EXPECT_EQ(dropped, 20);
  EXPECT_EQ(static_cast<uint64_t>(dropped), r.p.nic("b").stat(model::regs::Stat::rx_crc_errors));
}

TEST(Journey, APacketDroppedInSoftnetEndsAtTheBacklog) {
  auto s = driver_scenario(3000, 0, 60, 60);
  s.driver.rx_handoff = "netif_rx";
  for (auto& h : s.host_list) h.sysctl.core.netdev_max_backlog = 4;  // a NAPI poll of 64 overflows it
  PairRun r(s);
  int dropped = 0;
  for (const auto& [id, j] : r.rec.journeys()) {
    if (j.dropped_at != "softnet_stat.dropped") continue;
    ++dropped;
    const auto fwd = j.branch(Branch::Forward);
    EXPECT_EQ(fwd.back()->step, ingress(14));
    EXPECT_EQ(fwd[fwd.size() - 2]->kind, TraceKind::EthTypeTrans);
  }
  EXPECT_GT(dropped, 0);
  EXPECT_EQ(static_cast<uint64_t>(dropped), r.p.driver_host("b").softnet_total().dropped);
}

TEST(Journey, TimesAgreeWithThePcapAndTheLinkTiming) {
  auto s = driver_scenario(40, 0, 100, 1500);
  const std::string pcap = ::testing::TempDir() + "journey.pcap";
  s.link().pcap = pcap;
  PairRun r(s);
  r.p.link().close_capture();
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* pc = pcap_open_offline_with_tstamp_precision(pcap.c_str(), PCAP_TSTAMP_PRECISION_NANO, err);
  ASSERT_NE(pc, nullptr) << err;
  pcap_pkthdr* h = nullptr;
  const u_char* data = nullptr;
  uint64_t id = 1;
  uint64_t stack_frames = 0;
  while (pcap_next_ex(pc, &h, &data) == 1) {
    // The stacks' frames (ARP, the ping's ICMP) share the link: pktgen's are the 0x88B5 ones,
    // in the order of their ids.
    ASSERT_GE(h->caplen, 14u);
    if (data[12] != 0x88 || data[13] != 0xB5) {
      ++stack_frames;
      continue;
    }
    const auto& j = r.journey(id++);
    const vnic::tb::JourneyStep* wire = nullptr;
    const vnic::tb::JourneyStep* arrive = nullptr;
    for (const auto& st : j.steps) {
      if (st.kind == TraceKind::TxWire) wire = &st;
      if (st.kind == TraceKind::RxArrive) arrive = &st;
    }
    ASSERT_TRUE(wire && arrive);
    const uint64_t pcap_ns = static_cast<uint64_t>(h->ts.tv_sec) * 1000'000'000u + static_cast<uint64_t>(h->ts.tv_usec);
    EXPECT_EQ(arrive->t_ps / 1000, pcap_ns) << "packet " << j.packet;
    // Last bit in at the peer: preamble start + (8 + bytes) x 8 bit times + propagation.
    const uint64_t bits = (8ull + h->caplen) * 8;
    const uint64_t expect = wire->t_ps + bits * 100 /* ps a bit at 10 Gb/s */ + 5000 /* 5 ns */;
    EXPECT_EQ(arrive->t_ps, expect) << "packet " << j.packet;
  }
  pcap_close(pc);
  EXPECT_EQ(id, 41u);
  EXPECT_EQ(stack_frames, r.p.driver_host("a").driver().tx_from_core + r.p.driver_host("b").driver().tx_from_core);
  std::remove(pcap.c_str());
}

TEST(Journey, EveryStepTheTableCallsEmittedIsEmittedAndNoneOther) {
  // Both ways at line rate passes every step the model builds on its usual path; a step marked
  // not built must not appear, and must name the issue that builds it. The conditional ones
  // have their own tests (ingress:14 through netif_rx above; egress:13 below).
  StepSet seen;
  PairRun r(driver_scenario(3000, 3000, 60, 1500), vnic::tb::JourneyConfig{1000, "", 10}, &seen);
  // The interrupt steps stand for egress 17-19 when they serve a TX completion: the journeys say so.
  for (const auto& [id, j] : r.rec.journeys()) {
    for (const auto& st : j.steps) {
      if (!st.step.none()) seen.seen.insert({static_cast<int>(st.step.path), st.step.n});
    }
  }
  for (const model::StepInfo& i : model::steps()) {
    const bool in = seen.seen.count({static_cast<int>(i.step.path), i.step.n}) != 0;
    SCOPED_TRACE(std::string(model::step_name(i.step)));
    switch (i.state) {
      case model::StepState::Emitted:
        EXPECT_TRUE(in) << "no code emitted it; the table says " << i.by;
        break;
      case model::StepState::Conditional:  // each has its own test
        break;
      case model::StepState::NotBuilt:
        EXPECT_FALSE(in);
        EXPECT_NE(i.by.find("issue"), std::string_view::npos);
        break;
    }
  }
  EXPECT_EQ(model::steps().size(), 44u);
}

TEST(Journey, AStoppedTxQueueWakesThroughEgress13) {
  // A small TX ring without BQL: the driver stops its queue when the ring is nearly full and
  // its TX clean wakes it (netif_tx_wake_queue, where NET_TX_SOFTIRQ would run the qdisc).
  auto s = driver_scenario(2000, 0, 1500, 1500);
  s.nic_side("a").host.tx_ring = 64;
  s.driver.bql = false;
  StepSet seen;
  PairRun r(s, vnic::tb::JourneyConfig{1, "", 10'000}, &seen);
  EXPECT_EQ(seen.seen.count({static_cast<int>(model::Path::Egress), 13}), 1u);
  int woken = 0;
  for (const auto& [id, j] : r.rec.journeys()) {
    for (const auto* st : j.branch(Branch::Completion)) woken += st->step == egress(13) ? 1 : 0;
  }
  EXPECT_GT(woken, 0);
}

}  // namespace
