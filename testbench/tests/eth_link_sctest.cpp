// EthLink: arrival times at every rate, back-to-back spacing, overlap detection, link up/down,
// bit errors and drops, pcap capture and its determinism, conservation of frames.
// (sc_main is the shared one in tests/support/sc_gtest_main.cpp, linked into every SystemC
// test binary; each TEST runs in its own process.)
#include <gtest/gtest.h>

#include <systemc>

#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/eth_tx.hpp"
#include "vnic/model/crc32.hpp"
#include "vnic/tb/eth_link.hpp"
#include "vnic/tb/splitmix.hpp"

namespace {
using vnic::hw::EventQueue;
using vnic::model::BitRate;
using vnic::model::Duration;
using vnic::model::Frame;
using vnic::model::FramePool;
using vnic::tb::EthLink;
using vnic::tb::EthLinkConfig;
using vnic::tb::LinkDirStats;
using vnic::tb::test::bytes_ps;
using vnic::tb::test::WireTx;

struct Rx {
  uint64_t at_ps;
  uint64_t id;
  unsigned side;  // the receiving side
  std::vector<uint8_t> bytes;
};

// A station that records what arrives and every link change.
struct Sink : vnic::hw::EthEndpoint {
  EventQueue* q = nullptr;
  unsigned side = 0;
  std::vector<Rx>* log = nullptr;  // optional: both sinks of a link in delivery order
  std::vector<Rx> rx;
  struct Change {
    uint64_t at_ps;
    bool up;
    BitRate rate;
  };
  std::vector<Change> changes;
  void eth_receive(Frame&& f) override {
    Rx r{q->now_ps(), f.id, side, std::vector<uint8_t>(f.bytes().begin(), f.bytes().end())};
    if (log != nullptr) log->push_back(r);
    rx.push_back(std::move(r));
  }
  void eth_link_changed(bool up, BitRate rate) override { changes.push_back({q->now_ps(), up, rate}); }
  std::vector<uint64_t> times() const {
    std::vector<uint64_t> t;
    for (const Rx& r : rx) t.push_back(r.at_ps);
    return t;
  }
};

// Sends `count` valid frames (addresses, seeded payload, FCS) of `len` bytes from `side`, one
// every `gap_ps` from `first_ps`, and hands each to the link when its last bit has left, as
// the NIC does. Frame ids are 1, 2, ...; sent[id - 1] keeps what was sent.
struct Sender {
  EventQueue& q;
  EthLink& link;
  unsigned side;
  std::size_t len;
  uint64_t gap_ps;
  int count;
  uint64_t first_ps = 0;
  FramePool pool{};
  WireTx tx{};
  uint64_t next_id = 1;
  std::vector<std::vector<uint8_t>> sent{};

  void start() { q.at_ps<&Sender::send>(first_ps, this); }
  void send(uint64_t) {
    const uint64_t start_ps = q.now_ps();
    Frame f = pool.alloc(len);
    f.id = next_id++;
    auto b = f.bytes();
    uint64_t s = f.id * 1000 + side;
    for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<uint8_t>(vnic::tb::splitmix64(s));
    const uint8_t hdr[14] = {0x02, 0, 0, 0, 0, static_cast<uint8_t>(1 - side), 0x02, 0, 0, 0, 0,
                             static_cast<uint8_t>(side), 0x88, 0xB5};
    for (std::size_t i = 0; i < sizeof hdr && i < b.size(); ++i) b[i] = hdr[i];
    vnic::model::write_fcs(b);
    sent.emplace_back(b.begin(), b.end());
    tx.send(q, link, side, std::move(f), start_ps);
    if (--count > 0) q.at_ps<&Sender::send>(start_ps + gap_ps, this);
  }
};

struct Rig {
  EventQueue q;
  EthLink link;
  Sink a, b;
  std::vector<Rx> log;
  explicit Rig(EthLinkConfig c = {}, const std::string& name = "link")
      : q((name + "_q").c_str()), link(name.c_str(), q, c) {
    a.q = b.q = &q;
    a.side = 0;
    b.side = 1;
    a.log = b.log = &log;
    link.attach(0, &a);
    link.attach(1, &b);
  }
};

void expect_conserved(const EthLink& l, unsigned dir) {
  const LinkDirStats& s = l.stats(dir);
  EXPECT_EQ(s.frames + s.duplicated, s.delivered + s.dropped_fault + s.dropped_link_down + l.in_flight(dir))
      << "dir " << dir;
}

std::string temp_path(const std::string& stem) {
  return std::string(::testing::TempDir()) + stem + std::to_string(::getpid()) + ".pcap";
}

std::vector<char> file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

int bit_distance(const std::vector<uint8_t>& x, const std::vector<uint8_t>& y) {
  int d = 0;
  for (std::size_t i = 0; i < x.size() && i < y.size(); ++i) d += std::popcount(static_cast<unsigned>(x[i] ^ y[i]));
  return d;
}

TEST(EthLink, FullSizeFrameArrivesAfterPreambleFrameAndPropagation) {
  Rig r;
  Sender s{r.q, r.link, 0, 1518, 1'230'400, 3};  // 1500 B payload back to back: 1538 B x 800 ps
  s.start();
  sc_core::sc_start();
  ASSERT_EQ(r.b.rx.size(), 3u);
  EXPECT_EQ(r.b.rx[0].at_ps, (8u + 1518u) * 800u + 5000u);
  EXPECT_EQ(r.b.rx[1].at_ps - r.b.rx[0].at_ps, 1'230'400u);
  EXPECT_EQ(r.b.rx[2].at_ps - r.b.rx[1].at_ps, 1'230'400u);
  for (const Rx& x : r.b.rx) EXPECT_EQ(x.bytes, s.sent[x.id - 1]);
  EXPECT_EQ(r.link.stats(0).tx_overlap_errors, 0u);
  EXPECT_EQ(r.link.stats(0).delivered, 3u);
  EXPECT_EQ(r.link.stats(0).bytes, 3u * 1518u);
  EXPECT_TRUE(r.a.rx.empty());
}

TEST(EthLink, MinimumFramesBackToBackArrive67_2nsApartAndAllocateNothing) {
  Rig r;
  Sender s{r.q, r.link, 0, 64, 67'200, 2000};  // 84 B x 800 ps: 14.88 Mframes/s
  s.start();
  sc_core::sc_start();
  ASSERT_EQ(r.b.rx.size(), 2000u);
  EXPECT_EQ(r.b.rx[0].at_ps, 72u * 800u + 5000u);
  for (std::size_t i = 1; i < r.b.rx.size(); ++i) {
    ASSERT_EQ(r.b.rx[i].at_ps - r.b.rx[i - 1].at_ps, 67'200u) << i;
    ASSERT_EQ(r.b.rx[i].id, i + 1);
  }
  EXPECT_EQ(r.link.stats(0).tx_overlap_errors, 0u);
  // Frames move through the link: the sender's pool never needed more than the few buffers on
  // the wire at once, and has every one of them back.
  EXPECT_LE(s.pool.buffers(), 3u);
  EXPECT_EQ(s.pool.in_use(), 0u);
}

class EthLinkRate : public ::testing::TestWithParam<uint64_t> {};

TEST_P(EthLinkRate, FullSizeFramesBackToBackArriveOnTime) {
  EthLinkConfig c;
  c.rate = BitRate::gbps(GetParam());
  Rig r(c);
  const uint64_t slot = bytes_ps(c.rate, 1538);  // preamble + SFD + 1518 + IFG
  EXPECT_EQ(slot, 1538u * 8000u / GetParam());
  Sender s{r.q, r.link, 0, 1518, slot, 5};
  s.start();
  sc_core::sc_start();
  ASSERT_EQ(r.b.rx.size(), 5u);
  EXPECT_EQ(r.b.rx[0].at_ps, 1526u * 8000u / GetParam() + 5000u);
  for (std::size_t i = 1; i < 5; ++i) EXPECT_EQ(r.b.rx[i].at_ps - r.b.rx[i - 1].at_ps, slot);
  EXPECT_EQ(r.link.stats(0).tx_overlap_errors, 0u);
}

INSTANTIATE_TEST_SUITE_P(Rates, EthLinkRate, ::testing::Values(1u, 10u, 25u, 40u, 100u));

TEST(EthLink, MinimumFramesAt25GWithALongCable) {
  EthLinkConfig c;
  c.rate = BitRate::gbps(25);
  c.propagation = Duration::ns(100);
  Rig r(c);
  Sender s{r.q, r.link, 0, 64, 26'880, 2};  // 84 B x 320 ps
  s.start();
  sc_core::sc_start();
  ASSERT_EQ(r.b.rx.size(), 2u);
  EXPECT_EQ(r.b.rx[0].at_ps, 72u * 320u + 100'000u);
  EXPECT_EQ(r.b.rx[1].at_ps - r.b.rx[0].at_ps, 26'880u);
}

TEST(EthLink, BothDirectionsAreIndependent) {
  Rig r;
  Sender s0{r.q, r.link, 0, 1518, 1'230'400, 4};
  Sender s1{r.q, r.link, 1, 64, 67'200, 10};
  s0.start();
  s1.start();
  sc_core::sc_start();
  ASSERT_EQ(r.b.rx.size(), 4u);
  ASSERT_EQ(r.a.rx.size(), 10u);
  EXPECT_EQ(r.a.rx[0].at_ps, 72u * 800u + 5000u);
  EXPECT_EQ(r.b.rx[0].at_ps, 1526u * 800u + 5000u);
  EXPECT_EQ(r.a.rx[0].bytes, s1.sent[0]);
  EXPECT_EQ(r.link.stats(0).tx_overlap_errors + r.link.stats(1).tx_overlap_errors, 0u);
  EXPECT_EQ(r.link.stats(1).frames, 10u);
  EXPECT_EQ(r.link.stats(1).bytes, 640u);
}

TEST(EthLink, StartingInsideTheInterFrameGapIsCountedAsOverlapAndStillDelivered) {
  Rig r;
  Sender s{r.q, r.link, 0, 64, 60'000, 3};  // 64 B needs 67.2 ns with IFG
  s.start();
  sc_core::sc_start();
  EXPECT_EQ(r.link.stats(0).tx_overlap_errors, 2u);
  ASSERT_EQ(r.b.rx.size(), 3u);
  EXPECT_EQ(r.b.rx[1].at_ps - r.b.rx[0].at_ps, 60'000u);
}

TEST(EthLink, ExactlyTheInterFrameGapIsNoOverlap) {
  Rig r;
  Sender s{r.q, r.link, 0, 64, 67'199, 2};  // one ps too early
  Sender t{r.q, r.link, 1, 64, 67'200, 2};  // just in time
  s.start();
  t.start();
  sc_core::sc_start();
  EXPECT_EQ(r.link.stats(0).tx_overlap_errors, 1u);
  EXPECT_EQ(r.link.stats(1).tx_overlap_errors, 0u);
}

// Hands frames to the link at chosen times with chosen (possibly wrong) start times.
struct Poke {
  EventQueue& q;
  EthLink& link;
  struct Item {
    uint64_t at_ps, start_ps;
    std::size_t len;
  };
  std::vector<Item> items;
  FramePool pool{};
  void go() {
    for (std::size_t i = 0; i < items.size(); ++i) q.at_ps<&Poke::fire>(items[i].at_ps, this, i);
  }
  void fire(uint64_t i) {
    Frame f = pool.alloc(items[i].len);
    f.id = i + 1;
    link.transmit(0, std::move(f), items[i].start_ps);
  }
};

TEST(EthLink, FramesWithAnImpossibleStartKeepTheirOrderAndArriveNoEarlierThanNow) {
  const std::string path = temp_path("vnic_link_order_");
  {
    EthLinkConfig c;
    c.propagation = Duration::us(1);
    Rig r(c);
    r.link.capture_to(path);
    // A: 1518 B started at 0, handed over correctly at 1220.8 ns: arrives at 2220.8 ns.
    // B: 64 B handed over at 1221 ns claiming a start at 1100 ns, inside A: by its own
    //    start it would arrive at 2157.6 ns, before A. It may not overtake A.
    // C: 64 B handed over at 1230.4 ns claiming a start at 0: it would arrive at 1057.6 ns,
    //    in the past. It arrives after B, not in the past.
    Poke p{r.q, r.link, {{1'220'800, 0, 1518}, {1'221'000, 1'100'000, 64}, {1'230'400, 0, 64}}};
    p.go();
    sc_core::sc_start();
    ASSERT_EQ(r.b.rx.size(), 3u);
    for (uint64_t i = 0; i < 3; ++i) {
      EXPECT_EQ(r.b.rx[i].id, i + 1);
      EXPECT_EQ(r.b.rx[i].at_ps, 2'220'800u) << i;
    }
    EXPECT_EQ(r.link.stats(0).tx_overlap_errors, 2u);
    r.link.close_capture();
    const auto recs = vnic::tb::read_pcap(path, nullptr);
    ASSERT_TRUE(recs);
    ASSERT_EQ(recs->size(), 3u);
    for (const auto& rec : *recs) EXPECT_EQ(rec.ts_ns, 2220u);  // the time the receiver saw
  }
  std::remove(path.c_str());
}

TEST(EthLink, LinkDownDropsFramesInFlightAndRefusesNewOnes) {
  EthLinkConfig c;
  c.propagation = Duration::us(2);  // a long cable, so frames are in flight
  Rig r(c);
  Sender s{r.q, r.link, 0, 1518, 1'230'400, 10};
  s.start();
  r.link.schedule_link_change(sc_core::sc_time(3000, sc_core::SC_NS), false);
  r.link.schedule_link_change(sc_core::sc_time(8000, sc_core::SC_NS), true);
  sc_core::sc_start();
  const auto& st = r.link.stats(0);
  // Frame k starts at k x 1.2304 us and is handed over 1.2208 us later. Frames 0 and 1 are
  // on the cable (arriving at 3.22 and 4.46 us) when the link drops at 3 us: lost. Frames
  // 2..5 are handed over while it is down: refused. Frames 6..9 arrive.
  EXPECT_EQ(st.dropped_link_down, 2u);
  EXPECT_EQ(s.tx.refused, 4);
  ASSERT_EQ(r.b.rx.size(), 4u);
  EXPECT_EQ(r.b.rx[0].id, 7u);
  EXPECT_EQ(st.frames, 6u);  // refused frames are the sender's to count
  EXPECT_EQ(st.frames, st.delivered + st.dropped_link_down);
  EXPECT_EQ(s.pool.in_use(), 0u);  // lost and refused buffers went back to the pool
}

TEST(EthLink, LinkChangesReachBothEndpointsAtTheirTimeWithTheRate) {
  EthLinkConfig c;
  c.rate = BitRate::gbps(25);
  Rig r(c);
  auto at = [](uint64_t ns) { return sc_core::sc_time(static_cast<double>(ns), sc_core::SC_NS); };
  r.link.schedule_link_change(at(1000), false);
  r.link.schedule_link_change(at(1500), false);  // already down: nothing to tell
  r.link.schedule_link_change(at(2000), true);
  r.link.schedule_link_change(at(3000), false);  // down and up again in the same instant
  r.link.schedule_link_change(at(3000), true);
  sc_core::sc_start();
  for (const Sink* s : {&r.a, &r.b}) {
    ASSERT_EQ(s->changes.size(), 4u) << s->side;
    const bool want_up[] = {false, true, false, true};
    const uint64_t want_ps[] = {1'000'000, 2'000'000, 3'000'000, 3'000'000};
    for (std::size_t i = 0; i < 4; ++i) {
      EXPECT_EQ(s->changes[i].up, want_up[i]) << s->side << " " << i;
      EXPECT_EQ(s->changes[i].at_ps, want_ps[i]) << s->side << " " << i;
      EXPECT_EQ(s->changes[i].rate, BitRate::gbps(25));
    }
  }
  EXPECT_TRUE(r.link.up());
}

TEST(EthLink, ALinkThatStartsDownRefusesUntilSetUp) {
  EthLinkConfig c;
  c.start_up = false;
  Rig r(c);
  Sender s{r.q, r.link, 0, 64, 1'000'000, 4};  // at 0, 1, 2, 3 us
  s.start();
  r.link.schedule_link_change(sc_core::sc_time(1500, sc_core::SC_NS), true);
  sc_core::sc_start();
  EXPECT_EQ(s.tx.refused, 2);
  EXPECT_EQ(r.b.rx.size(), 2u);
  ASSERT_EQ(r.a.changes.size(), 1u);
  EXPECT_TRUE(r.a.changes[0].up);
}

TEST(EthLink, BitErrorsBreakTheFcsOfExactlyTheFramesCountedCorrupted) {
  EthLinkConfig c;
  c.faults.bit_error_rate = 2e-5;  // ~0.24 errors per 1518 B frame
  c.seed = 11;
  Rig r(c);
  Sender s{r.q, r.link, 0, 1518, 1'230'400, 2000};
  s.start();
  sc_core::sc_start();
  const auto& st = r.link.stats(0);
  const auto& fs = r.link.fault_stats(0);
  ASSERT_EQ(r.b.rx.size(), 2000u);
  uint64_t bad_fcs = 0, changed = 0, bits = 0;
  for (const Rx& x : r.b.rx) {
    const bool ok = vnic::model::fcs_ok(x.bytes);
    const int d = bit_distance(x.bytes, s.sent[x.id - 1]);
    EXPECT_EQ(ok, d == 0) << "frame " << x.id << " with " << d << " flipped bits";
    bad_fcs += ok ? 0 : 1;
    changed += d == 0 ? 0 : 1;
    bits += static_cast<uint64_t>(d);
  }
  EXPECT_GT(st.corrupted, 300u);  // 1 - exp(-12144 x 2e-5) = 21.6 % of 2000
  EXPECT_LT(st.corrupted, 570u);
  EXPECT_EQ(bad_fcs, st.corrupted);
  EXPECT_EQ(changed, st.corrupted);
  EXPECT_EQ(fs.frames_corrupted, st.corrupted);
  EXPECT_EQ(fs.bits_flipped, bits);
  EXPECT_GT(bits, st.corrupted);  // some frames took more than one hit
  EXPECT_EQ(st.dropped_fault, 0u);
  expect_conserved(r.link, 0);
}

TEST(EthLink, RandomDropsAreCountedOnceAndNeverDelivered) {
  EthLinkConfig c;
  c.faults.drop_probability = 0.1;
  c.seed = 3;
  Rig r(c);
  Sender s{r.q, r.link, 0, 64, 67'200, 3000};
  s.start();
  sc_core::sc_start();
  const auto& st = r.link.stats(0);
  EXPECT_NEAR(static_cast<double>(st.dropped_fault), 300.0, 5 * std::sqrt(3000 * 0.1 * 0.9));
  EXPECT_EQ(st.dropped_fault, r.link.fault_stats(0).frames_dropped);
  EXPECT_EQ(r.b.rx.size() + st.dropped_fault, 3000u);
  EXPECT_EQ(st.delivered, r.b.rx.size());
  EXPECT_EQ(st.corrupted, 0u);
  uint64_t prev = 0, missing = 0;
  for (const Rx& x : r.b.rx) {
    ASSERT_GT(x.id, prev);
    missing += x.id - prev - 1;
    prev = x.id;
  }
  missing += 3000 - prev;
  EXPECT_EQ(missing, st.dropped_fault);
  EXPECT_EQ(s.pool.in_use(), 0u);
  expect_conserved(r.link, 0);
}

TEST(EthLink, EveryNthDropAndCorruptionAreExact) {
  EthLinkConfig c;
  c.faults.drop_every = 4;
  c.faults.corrupt_every = 3;
  Rig r(c);
  Sender s{r.q, r.link, 1, 100, 100'000, 120};
  s.start();
  sc_core::sc_start();
  EXPECT_EQ(r.link.stats(1).dropped_fault, 30u);
  EXPECT_EQ(r.link.stats(1).corrupted, 30u);  // multiples of 3 that are not multiples of 4
  ASSERT_EQ(r.a.rx.size(), 90u);
  for (const Rx& x : r.a.rx) {
    EXPECT_NE(x.id % 4, 0u) << x.id;
    EXPECT_EQ(vnic::model::fcs_ok(x.bytes), x.id % 3 != 0) << x.id;
    EXPECT_EQ(bit_distance(x.bytes, s.sent[x.id - 1]), x.id % 3 == 0 ? 1 : 0) << x.id;
  }
}

TEST(EthLink, CaptureHoldsEveryFrameAsReceivedAtItsArrivalTime) {
  const std::string path = temp_path("vnic_link_capture_");
  {
    Rig r;
    r.link.capture_to(path);
    Sender s0{r.q, r.link, 0, 1518, 1'230'400, 40};
    Sender s1{r.q, r.link, 1, 60 + 4, 100'000, 300};
    s0.start();
    s1.start();
    sc_core::sc_start();
    EXPECT_EQ(r.link.captured(), 340u);
    r.link.close_capture();
    std::string err;
    const auto recs = vnic::tb::read_pcap(path, &err);
    ASSERT_TRUE(recs) << err;
    ASSERT_EQ(recs->size(), 340u);
    ASSERT_EQ(r.log.size(), 340u);
    for (std::size_t i = 0; i < recs->size(); ++i) {
      const auto& rec = (*recs)[i];
      EXPECT_TRUE(vnic::model::fcs_ok(rec.bytes)) << i;
      EXPECT_EQ(rec.ts_ns, r.log[i].at_ps / 1000) << i;
      EXPECT_EQ(rec.bytes, r.log[i].bytes) << i;
      if (i > 0) {
        EXPECT_GE(rec.ts_ns, (*recs)[i - 1].ts_ns) << i;
      }
    }
    EXPECT_EQ((*recs)[0].bytes.size(), 64u);  // the first arrival is a small frame from side 1
    EXPECT_EQ((*recs)[0].ts_ns, 62u);         // 72 B x 0.8 ns + 5 ns = 62.6 ns, truncated
  }
  std::remove(path.c_str());
}

TEST(EthLink, CaptureShowsCorruptionAndLeavesOutDrops) {
  const std::string path = temp_path("vnic_link_faults_");
  {
    EthLinkConfig c;
    c.faults.bit_error_rate = 1e-4;
    c.faults.drop_every = 5;
    Rig r(c);
    r.link.capture_to(path);
    Sender s{r.q, r.link, 0, 512, 500'000, 200};
    s.start();
    sc_core::sc_start();
    r.link.close_capture();
    std::string err;
    const auto recs = vnic::tb::read_pcap(path, &err);
    ASSERT_TRUE(recs) << err;
    ASSERT_EQ(recs->size(), 160u);
    uint64_t bad = 0;
    for (std::size_t i = 0; i < recs->size(); ++i) {
      bad += vnic::model::fcs_ok((*recs)[i].bytes) ? 0 : 1;
      EXPECT_EQ((*recs)[i].bytes, r.b.rx[i].bytes) << i;
    }
    EXPECT_GT(bad, 0u);
    EXPECT_EQ(bad, r.link.stats(0).corrupted);
  }
  std::remove(path.c_str());
}

TEST(EthLink, SameSeedGivesAByteIdenticalCaptureAnotherSeedOtherFaults) {
  const std::string paths[3] = {temp_path("vnic_seed_a_"), temp_path("vnic_seed_b_"), temp_path("vnic_seed_c_")};
  {
    // Three links side by side in one simulation: seeds 7, 7 and 8.
    const uint64_t seeds[3] = {7, 7, 8};
    std::vector<std::unique_ptr<Rig>> rigs;
    std::vector<std::unique_ptr<Sender>> senders;
    for (int i = 0; i < 3; ++i) {
      EthLinkConfig c;
      c.faults.bit_error_rate = 1e-5;
      c.faults.drop_probability = 0.02;
      c.seed = seeds[i];
      rigs.push_back(std::make_unique<Rig>(c, "link" + std::to_string(i)));
      rigs.back()->link.capture_to(paths[i]);
      for (unsigned side = 0; side < 2; ++side) {
        senders.emplace_back(new Sender{rigs.back()->q, rigs.back()->link, side, 1518, 1'230'400, 500});
        senders.back()->start();
      }
    }
    sc_core::sc_start();
    for (auto& r : rigs) r->link.close_capture();
    for (unsigned d = 0; d < 2; ++d) {
      EXPECT_GT(rigs[0]->link.stats(d).corrupted, 0u);
      EXPECT_GT(rigs[0]->link.stats(d).dropped_fault, 0u);
      EXPECT_EQ(rigs[0]->link.fault_stats(d).bits_flipped, rigs[1]->link.fault_stats(d).bits_flipped);
    }
  }
  const auto a = file_bytes(paths[0]), b = file_bytes(paths[1]), c = file_bytes(paths[2]);
  EXPECT_GT(a.size(), 900u * 1518u);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  for (const auto& p : paths) std::remove(p.c_str());
}

// Checks the conservation identity of both directions at a given time.
struct Probe {
  EthLink& link;
  int checks = 0;
  uint64_t max_in_flight = 0;
  void check(uint64_t) {
    for (unsigned d = 0; d < 2; ++d) {
      expect_conserved(link, d);
      max_in_flight = std::max<uint64_t>(max_in_flight, link.in_flight(d));
    }
    ++checks;
  }
};

TEST(EthLink, EveryFrameIsDeliveredOrCountedInExactlyOneDropCounter) {
  EthLinkConfig c;
  c.propagation = Duration::us(1);
  c.faults.bit_error_rate = 1e-5;
  c.faults.drop_probability = 0.05;
  c.seed = 99;
  Rig r(c);
  Sender s0{r.q, r.link, 0, 1518, 1'230'400, 400};
  Sender s1{r.q, r.link, 1, 64, 67'200, 4000};
  s0.start();
  s1.start();
  r.link.schedule_link_change(sc_core::sc_time(100'000, sc_core::SC_NS), false);
  r.link.schedule_link_change(sc_core::sc_time(150'000, sc_core::SC_NS), true);
  Probe p{r.link};
  for (uint64_t t = 0; t < 500'000'000; t += 3'333'000) r.q.at_ps<&Probe::check>(t, &p);
  sc_core::sc_start();
  EXPECT_GT(p.checks, 100);
  EXPECT_GT(p.max_in_flight, 5u);  // the probes saw frames on the cable
  const Sink* rx[2] = {&r.b, &r.a};
  const Sender* senders[2] = {&s0, &s1};
  for (unsigned d = 0; d < 2; ++d) {
    const auto& st = r.link.stats(d);
    EXPECT_EQ(r.link.in_flight(d), 0u);
    EXPECT_EQ(st.delivered, rx[d]->rx.size());
    EXPECT_EQ(st.frames, st.delivered + st.dropped_fault + st.dropped_link_down) << d;
    EXPECT_EQ(st.frames + static_cast<uint64_t>(senders[d]->tx.refused), senders[d]->sent.size()) << d;
    EXPECT_GT(st.dropped_link_down, 0u) << d;
    EXPECT_GT(st.dropped_fault, 0u) << d;
    EXPECT_GT(senders[d]->tx.refused, 0) << d;
    EXPECT_EQ(senders[d]->pool.in_use(), 0u) << d;
  }
}

TEST(EthLink, CaptureToAnUnwritablePathThrowsWithThePath) {
  Rig r;
  try {
    r.link.capture_to("/nonexistent-dir/x.pcap");
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/x.pcap"), std::string::npos);
  }
  // The link still works without a capture.
  Sender s{r.q, r.link, 0, 64, 67'200, 2};
  s.start();
  sc_core::sc_start();
  EXPECT_EQ(r.b.rx.size(), 2u);
  EXPECT_EQ(r.link.captured(), 0u);
}

TEST(EthLink, FaultsApplyToTheDirectionTheyNameAndListedFramesAreCountedThere) {
  using vnic::tb::FaultDirection;
  const FaultDirection dirs[2] = {FaultDirection::AToB, FaultDirection::BToA};
  std::vector<std::unique_ptr<Rig>> rigs;
  std::vector<std::unique_ptr<Sender>> senders;
  for (int i = 0; i < 2; ++i) {
    EthLinkConfig c;
    c.faults.direction = dirs[i];
    c.faults.drop_frames = {2, 7};
    rigs.push_back(std::make_unique<Rig>(c, "link" + std::to_string(i)));
    for (unsigned side = 0; side < 2; ++side) {
      senders.emplace_back(new Sender{rigs.back()->q, rigs.back()->link, side, 64, 100'000, 10});
      senders.back()->start();
    }
  }
  sc_core::sc_start();
  for (unsigned faulted = 0; faulted < 2; ++faulted) {  // rig i faults direction i
    const Rig& r = *rigs[faulted];
    const Sink* rx[2] = {&r.b, &r.a};
    EXPECT_EQ(r.link.stats(faulted).dropped_fault, 2u);
    EXPECT_EQ(r.link.stats(1 - faulted).dropped_fault, 0u);
    EXPECT_EQ(r.link.fault_stats(1 - faulted).frames_seen, 0u);  // no injector on that way
    ASSERT_EQ(rx[faulted]->rx.size(), 8u);
    ASSERT_EQ(rx[1 - faulted]->rx.size(), 10u);
    for (const Rx& x : rx[faulted]->rx) EXPECT_TRUE(x.id != 2 && x.id != 7) << x.id;
    for (unsigned d = 0; d < 2; ++d) expect_conserved(r.link, d);
  }
}

// Records the link's own trace events (reorder, duplicate, losses).
struct LinkEvents : vnic::model::TraceSink {
  std::vector<vnic::model::TraceEvent> ev;
  void trace(const char*, const vnic::model::TraceEvent& e) override { ev.push_back(e); }
  std::vector<uint64_t> ids(vnic::model::TraceKind k) const {
    std::vector<uint64_t> v;
    for (const auto& e : ev) {
      if (e.kind == k) v.push_back(e.packet);
    }
    return v;
  }
};

TEST(EthLink, AHeldFrameIsPassedByExactlyTheNextKFramesAndArrivesRightAfterTheKth) {
  EthLinkConfig c;
  c.faults.reorder_rate = 0.05;
  c.faults.reorder_depth = 3;
  c.seed = 21;
  Rig r(c);
  LinkEvents le;
  r.link.set_trace(&le);
  Sender s{r.q, r.link, 0, 200, 1'000'000, 2000};  // one every 1 us, far below the 1 ms timeout
  s.start();
  sc_core::sc_start();
  const auto held = le.ids(vnic::model::TraceKind::LinkReorder);
  const auto& st = r.link.stats(0);
  EXPECT_EQ(st.reordered, held.size());
  EXPECT_NEAR(static_cast<double>(held.size()), 100.0, 5 * std::sqrt(2000 * 0.05 * 0.95));
  for (const auto& e : le.ev) {
    if (e.kind == vnic::model::TraceKind::LinkReorder) {
      EXPECT_EQ(e.a, 3u);
    }
  }
  ASSERT_EQ(r.b.rx.size(), 2000u);
  EXPECT_EQ(st.delivered, 2000u);
  std::vector<bool> is_held(2001, false);
  for (uint64_t id : held) is_held[id] = true;
  std::vector<std::size_t> pos(2001);
  for (std::size_t i = 0; i < r.b.rx.size(); ++i) {
    pos[r.b.rx[i].id] = i;
    EXPECT_EQ(r.b.rx[i].bytes, s.sent[r.b.rx[i].id - 1]);
  }
  uint64_t checked = 0;
  for (uint64_t h : held) {
    // The k-th frame sent after h that is not held itself.
    uint64_t kth = h, n = 0;
    while (n < 3 && kth < 2000) {
      if (!is_held[++kth]) ++n;
    }
    if (n < 3) continue;  // the tail: released by its deadline (below)
    ++checked;
    // Exactly the 3 unheld followers passed it; it arrives at the time of the 3rd's last bit.
    uint64_t passed = 0;
    for (uint64_t j = h + 1; j <= 2000; ++j) {
      if (!is_held[j] && pos[j] < pos[h]) ++passed;
    }
    EXPECT_EQ(passed, 3u) << h;
    EXPECT_EQ(r.b.rx[pos[h]].at_ps, r.b.rx[pos[kth]].at_ps) << h;
    EXPECT_GT(pos[h], pos[kth]) << h;
  }
  EXPECT_GT(checked, 80u);
  expect_conserved(r.link, 0);
  EXPECT_EQ(r.link.held(0), 0u);
  EXPECT_EQ(s.pool.in_use(), 0u);
}

TEST(EthLink, AHeldFrameWithoutEnoughFollowersGoesAtItsDeadline) {
  EthLinkConfig c;
  c.faults.reorder_rate = 1.0;  // every frame held: none passes another
  c.faults.reorder_depth = 1;
  c.faults.reorder_max_ns = 50'000;
  Rig r(c);
  Sender s{r.q, r.link, 0, 64, 1'000'000, 3};
  s.start();
  sc_core::sc_start();
  ASSERT_EQ(r.b.rx.size(), 3u);
  for (unsigned i = 0; i < 3; ++i) {
    // Frame i leaves at i us; its last bit would arrive 72 x 800 ps + 5 ns after the start.
    EXPECT_EQ(r.b.rx[i].id, i + 1);
    EXPECT_EQ(r.b.rx[i].at_ps, i * 1'000'000u + 72u * 800u + 5000u + 50'000'000u) << i;
  }
  EXPECT_EQ(r.link.stats(0).reordered, 3u);
  expect_conserved(r.link, 0);
}

TEST(EthLink, HeldFramesAreLostWhenTheLinkGoesDownAndCountedThere) {
  EthLinkConfig c;
  c.faults.reorder_rate = 1.0;
  c.faults.duplicate_rate = 1.0;  // each held with its copy
  Rig r(c);
  LinkEvents le;
  r.link.set_trace(&le);
  Sender s{r.q, r.link, 0, 64, 1'000'000, 2};
  s.start();
  r.link.schedule_link_change(sc_core::sc_time(100, sc_core::SC_US), false);
  Probe p{r.link};
  r.q.at_ps<&Probe::check>(50'000'000, &p);
  sc_core::sc_start();
  EXPECT_EQ(p.max_in_flight, 4u);  // two frames and their copies, held
  EXPECT_TRUE(r.b.rx.empty());
  const auto& st = r.link.stats(0);
  EXPECT_EQ(st.frames, 2u);
  EXPECT_EQ(st.duplicated, 2u);
  EXPECT_EQ(st.dropped_link_down, 4u);
  EXPECT_EQ(r.link.in_flight(0), 0u);
  expect_conserved(r.link, 0);
  std::vector<uint64_t> lost;
  for (const auto& e : le.ev) {
    if (e.kind == vnic::model::TraceKind::RxDrop) {
      EXPECT_EQ(e.b, vnic::model::host_drop(vnic::model::HostDrop::LinkDown));
      lost.push_back(e.packet);
    }
  }
  using vnic::model::duplicate_id;
  EXPECT_EQ(lost, (std::vector<uint64_t>{1, duplicate_id(1, 1), 2, duplicate_id(2, 1)}));
  EXPECT_EQ(s.pool.in_use(), 0u);
}

TEST(EthLink, ADuplicatedFrameIsDeliveredTwiceTheCopyRightAfterItWithItsOwnId) {
  EthLinkConfig c;
  c.faults.duplicate_rate = 0.1;
  c.faults.drop_probability = 0.02;
  c.seed = 5;
  Rig r(c);
  LinkEvents le;
  r.link.set_trace(&le);
  Sender s{r.q, r.link, 1, 300, 500'000, 3000};
  s.start();
  sc_core::sc_start();
  using vnic::model::duplicate_id;
  const auto& st = r.link.stats(1);
  EXPECT_NEAR(static_cast<double>(st.duplicated), 0.1 * 0.98 * 3000, 5 * std::sqrt(3000 * 0.1));
  EXPECT_EQ(st.delivered, 3000u - st.dropped_fault + st.duplicated);
  ASSERT_EQ(r.a.rx.size(), st.delivered);
  uint64_t copies = 0;
  std::vector<uint64_t> made;
  for (const auto& e : le.ev) {
    if (e.kind != vnic::model::TraceKind::LinkDuplicate) continue;
    EXPECT_EQ(e.packet, duplicate_id(e.b, 1));
    EXPECT_EQ(e.a, 300u);
    made.push_back(e.b);
  }
  EXPECT_EQ(made.size(), st.duplicated);
  for (std::size_t i = 0; i < r.a.rx.size(); ++i) {
    const Rx& x = r.a.rx[i];
    if ((x.id >> 62 & 1) == 0) continue;
    ++copies;
    ASSERT_GT(i, 0u);
    const uint64_t orig = x.id & ~(uint64_t{1} << 62) & ~(uint64_t{0xFF} << 40);
    EXPECT_EQ(r.a.rx[i - 1].id, orig);  // right after its original, at the same time
    EXPECT_EQ(r.a.rx[i - 1].at_ps, x.at_ps);
    EXPECT_EQ(x.bytes, s.sent[orig - 1]);
  }
  EXPECT_EQ(copies, st.duplicated);
  expect_conserved(r.link, 1);
  EXPECT_EQ(s.pool.in_use(), 0u);
}

TEST(EthLink, EveryFrameAndCopyEndsOnceWithReorderDuplicationDropsAndLinkDown) {
  EthLinkConfig c;
  c.propagation = Duration::us(1);
  c.faults.drop_probability = 0.03;
  c.faults.bit_error_rate = 1e-6;
  c.faults.reorder_rate = 0.05;
  c.faults.reorder_depth = 4;
  c.faults.reorder_max_ns = 20'000;
  c.faults.duplicate_rate = 0.05;
  c.seed = 77;
  Rig r(c);
  LinkEvents le;
  r.link.set_trace(&le);
  Sender s0{r.q, r.link, 0, 1518, 1'230'400, 400};
  Sender s1{r.q, r.link, 1, 64, 67'200, 4000};
  s1.next_id = 100'001;
  s0.start();
  s1.start();
  r.link.schedule_link_change(sc_core::sc_time(100'000, sc_core::SC_NS), false);
  r.link.schedule_link_change(sc_core::sc_time(150'000, sc_core::SC_NS), true);
  Probe p{r.link};
  for (uint64_t t = 0; t < 500'000'000; t += 1'111'000) r.q.at_ps<&Probe::check>(t, &p);
  sc_core::sc_start();
  const Sink* rx[2] = {&r.b, &r.a};
  for (unsigned d = 0; d < 2; ++d) {
    const auto& st = r.link.stats(d);
    EXPECT_EQ(r.link.in_flight(d), 0u);
    EXPECT_EQ(st.delivered, rx[d]->rx.size());
    EXPECT_EQ(st.frames + st.duplicated, st.delivered + st.dropped_fault + st.dropped_link_down) << d;
    EXPECT_GT(st.reordered, 0u) << d;
    EXPECT_GT(st.duplicated, 0u) << d;
    EXPECT_GT(st.dropped_link_down, 0u) << d;
  }
  // Per id (the two senders' ids apart): delivered or lost, exactly once.
  std::map<uint64_t, int> ends;
  for (unsigned d = 0; d < 2; ++d) {
    for (const Rx& x : rx[d]->rx) ++ends[x.id];
  }
  for (const auto& e : le.ev) {
    if (e.kind == vnic::model::TraceKind::RxDrop) ++ends[e.packet];
  }
  uint64_t made = 0;
  for (unsigned d = 0; d < 2; ++d) made += r.link.stats(d).frames + r.link.stats(d).duplicated;
  EXPECT_EQ(ends.size(), made);
  for (const auto& [id, n] : ends) EXPECT_EQ(n, 1) << std::hex << id;
  EXPECT_GT(made, 3000u);
}
}  // namespace
