// EthSwitch: learning (first frame flooded, later ones to one port), ageing at the default 300 s
// and at a short value, store-and-forward timing to the picosecond at equal and unequal port
// rates, a 10G sender into a 1G port (tail drops counted, frames conserved), same-port
// filtering, port down, per-port pcap, and the per-packet account of flood copies and drops.
// (sc_main is the shared one in tests/support/sc_gtest_main.cpp; each TEST runs in its own process.)
#include <gtest/gtest.h>

#include <systemc>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "support/eth_tx.hpp"
#include "vnic/model/crc32.hpp"
#include "vnic/tb/eth_switch.hpp"
#include "vnic/tb/packet_account.hpp"

namespace {
using vnic::hw::EventQueue;
using vnic::model::BitRate;
using vnic::model::Duration;
using vnic::model::Frame;
using vnic::model::FramePool;
using vnic::model::MacAddr;
using vnic::tb::EthSwitch;
using vnic::tb::EthSwitchConfig;
using vnic::tb::SwitchPortStats;
using vnic::tb::test::bytes_ps;
using vnic::tb::test::WireTx;

MacAddr mac(unsigned i) { return MacAddr{{0x02, 0, 0, 0, 0, static_cast<uint8_t>(i)}}; }

// A station on one switch port: sends frames as a NIC does (handed over when the last bit has
// left, with the preamble's start) and records what arrives and each link change.
struct Station : vnic::hw::EthEndpoint {
  EventQueue* q = nullptr;
  vnic::hw::EthMedium* port = nullptr;
  FramePool pool{};
  struct Rx {
    uint64_t at_ps;
    uint64_t id;
    MacAddr dst, src;
    std::size_t len;
  };
  std::vector<Rx> rx;
  std::vector<bool> changes;
  WireTx tx;
  uint64_t free_at_ps = 0;
  uint64_t next_id = 1;
  uint64_t id_base = 0;

  void eth_receive(Frame&& f) override {
    Rx r{q->now_ps(), f.id, {}, {}, f.size()};
    std::copy_n(f.data(), 6, r.dst.b.begin());
    std::copy_n(f.data() + 6, 6, r.src.b.begin());
    rx.push_back(r);
  }
  void eth_link_changed(bool up, BitRate) override { changes.push_back(up); }

  // Queues a frame from src to dst of len bytes (with FCS) whose preamble starts at
  // max(at_ps, the end of the previous frame's IFG), as a NIC's transmitter would.
  void send(const MacAddr& dst, const MacAddr& src, std::size_t len, uint64_t at_ps) {
    const uint64_t start = std::max(at_ps, free_at_ps);
    free_at_ps = start + bytes_ps(port->rate(), len + 20);
    Frame f = pool.alloc(len);
    f.id = id_base + next_id++;
    auto b = f.bytes();
    std::fill(b.begin(), b.end(), uint8_t{0x5A});
    std::copy(dst.b.begin(), dst.b.end(), b.begin());
    std::copy(src.b.begin(), src.b.end(), b.begin() + 6);
    b[12] = 0x88;
    b[13] = 0xB5;
    vnic::model::write_fcs(b);
    tx.send(*q, *port, 0, std::move(f), start);
  }
  std::size_t count_from(const MacAddr& src) const {
    return static_cast<std::size_t>(std::count_if(rx.begin(), rx.end(), [&](const Rx& r) { return r.src == src; }));
  }
};

struct Rig {
  EventQueue q{"q"};
  EthSwitch sw;
  std::vector<std::unique_ptr<Station>> st;
  explicit Rig(EthSwitchConfig c = {}, unsigned stations = 3) : sw("sw", q, c) {
    for (unsigned i = 0; i < stations; ++i) {
      st.push_back(std::make_unique<Station>());
      st.back()->q = &q;
      st.back()->port = &sw.port(i);
      st.back()->id_base = uint64_t{i} << 32;
      sw.port(i).attach(0, st.back().get());
    }
  }
  Station& operator[](unsigned i) { return *st[i]; }
};

// The switch's own sum, and each port's station -> switch sum.
void expect_conserved(const EthSwitch& sw, const std::vector<uint64_t>& handed) {
  uint64_t in = 0, copies = 0, out = 0, drops = 0, inside = 0;
  for (unsigned k = 0; k < sw.num_ports(); ++k) {
    const SwitchPortStats& s = sw.stats(k);
    in += s.rx_frames;
    copies += s.flood_copies;
    out += s.tx_frames;
    drops += s.dropped_queue_full + s.dropped_filtered + s.tx_dropped_link_down;
    inside += sw.in_tx(k);
    if (k < handed.size()) {
      EXPECT_EQ(handed[k], s.rx_frames + s.rx_dropped_link_down + sw.in_rx(k)) << "port " << k;
    }
  }
  EXPECT_EQ(in + copies, out + drops + inside);
}

TEST(EthSwitch, FirstFrameIsFloodedThenTheLearnedPortAlone) {
  Rig r;
  r[0].send(mac(1), mac(0), 100, 0);          // to b: unknown, flooded to b and c
  r[1].send(mac(0), mac(1), 100, 10'000'000);  // b answers: a is known, to a alone
  r[0].send(mac(1), mac(0), 100, 20'000'000);  // b is known now: to b alone
  r[2].send(MacAddr::broadcast(), mac(2), 64, 30'000'000);  // broadcast: flooded to a and b
  sc_core::sc_start();
  EXPECT_EQ(r[1].count_from(mac(0)), 2u);
  EXPECT_EQ(r[2].count_from(mac(0)), 1u);  // only the first, flooded
  EXPECT_EQ(r[0].count_from(mac(1)), 1u);
  EXPECT_EQ(r[2].count_from(mac(1)), 0u);  // b's answer was not flooded
  EXPECT_EQ(r[0].count_from(mac(2)), 1u);
  EXPECT_EQ(r[1].count_from(mac(2)), 1u);
  EXPECT_EQ(r.sw.stats(0).flood_copies, 1u);
  EXPECT_EQ(r.sw.stats(1).flood_copies, 0u);
  EXPECT_EQ(r.sw.stats(2).flood_copies, 1u);
  EXPECT_EQ(r.sw.lookup(mac(0), r.q.now_ps()), 0);
  EXPECT_EQ(r.sw.lookup(mac(1), r.q.now_ps()), 1);
  EXPECT_EQ(r.sw.lookup(mac(2), r.q.now_ps()), 2);
  EXPECT_EQ(r.sw.lookup(mac(9), r.q.now_ps()), -1);
  const auto fdb = r.sw.fdb(r.q.now_ps());
  ASSERT_EQ(fdb.size(), 3u);
  EXPECT_EQ(fdb[1].mac, mac(1));
  EXPECT_EQ(fdb[1].port, 1u);
  // The copy the flood made is a packet of its own: an id from the switch's prefix.
  ASSERT_EQ(r[2].rx.size(), 1u);  // a's first frame, a copy (c sent the broadcast)
  EXPECT_EQ(r[2].rx[0].id >> 32, EthSwitchConfig{}.id_prefix);
  EXPECT_EQ(r[1].rx[0].id, 1u);  // the original went to the first port flooded
  expect_conserved(r.sw, {2, 1, 1});
}

TEST(EthSwitch, AnEntryAgesOutAfterTheDefault300Seconds) {
  Rig r;
  EXPECT_EQ(r.sw.config().ageing.ps(), Duration::s(300).ps());
  r[1].send(mac(0), mac(1), 64, 0);                      // b is learned at ~1.1 us
  r[0].send(mac(1), mac(0), 64, Duration::s(299).ps());  // 299 s later: still known, to b alone
  r[0].send(mac(1), mac(0), 64, Duration::s(301).ps());  // b last seen 301 s ago: flooded again
  sc_core::sc_start();
  EXPECT_EQ(r[1].count_from(mac(0)), 2u);
  EXPECT_EQ(r[2].count_from(mac(0)), 1u);  // the third frame only
  EXPECT_EQ(r.sw.stats(0).flood_copies, 1u);
  EXPECT_EQ(r.sw.lookup(mac(1), r.q.now_ps()), -1);
  EXPECT_EQ(r.sw.lookup(mac(0), r.q.now_ps()), 0);  // a was just seen
}

TEST(EthSwitch, ASourceSeenAgainStaysLearnedAndAShortAgeingFloodsAgain) {
  EthSwitchConfig c;
  c.ageing = Duration::ms(1);
  Rig r(c);
  r[1].send(mac(0), mac(1), 64, 0);
  r[1].send(mac(0), mac(1), 64, Duration::us(900).ps());  // refreshes b's entry
  r[0].send(mac(1), mac(0), 64, Duration::us(1800).ps());  // 0.9 ms after the refresh: known
  r[0].send(mac(1), mac(0), 64, Duration::us(3000).ps());  // 2.1 ms: aged out, flooded
  sc_core::sc_start();
  EXPECT_EQ(r[1].count_from(mac(0)), 2u);
  EXPECT_EQ(r[2].count_from(mac(0)), 1u);
  EXPECT_EQ(r[2].rx.back().at_ps > Duration::us(3000).ps(), true);
}

TEST(EthSwitch, StoreAndForwardTimingIsExactToThePicosecond) {
  // a at 10G, b at 10G, c at 1G; 1 us latency, 5 ns cables.
  EthSwitchConfig c;
  c.rates = {BitRate::gbps(10), BitRate::gbps(10), BitRate::gbps(1)};
  Rig r(c);
  const uint64_t t0 = 1'000'000;  // a's preamble starts at 1 us
  r[0].send(mac(1), mac(0), 1518, t0);  // flooded: to b (10G) and c (1G)
  sc_core::sc_start();
  const uint64_t last_in = t0 + bytes_ps(BitRate::gbps(10), 8 + 1518) + 5000;
  const uint64_t first_out = last_in + 1'000'000;
  ASSERT_EQ(r[1].rx.size(), 1u);
  ASSERT_EQ(r[2].rx.size(), 1u);
  EXPECT_EQ(r[1].rx[0].at_ps, first_out + 1526u * 800u + 5000u);
  EXPECT_EQ(r[2].rx[0].at_ps, first_out + 1526u * 8000u + 5000u);
  EXPECT_EQ(r[1].rx[0].at_ps, 1'000'000u + 1'220'800u + 5'000u + 1'000'000u + 1'220'800u + 5'000u);
}

TEST(EthSwitch, BackToBackFramesLeaveOneWireTimeApartBehindTheFirst) {
  Rig r;
  r[1].send(mac(0), mac(1), 64, 0);  // b learned
  for (int i = 0; i < 5; ++i) r[0].send(mac(1), mac(0), 1518, 1'000'000);  // back to back from a
  sc_core::sc_start();
  ASSERT_EQ(r[1].rx.size(), 5u);
  const uint64_t first = 1'000'000 + 2 * (1526u * 800u + 5000u) + 1'000'000;
  EXPECT_EQ(r[1].rx[0].at_ps, first);
  for (std::size_t i = 1; i < 5; ++i) EXPECT_EQ(r[1].rx[i].at_ps - r[1].rx[i - 1].at_ps, 1538u * 800u) << i;
  EXPECT_EQ(r.sw.stats(1).queue_max_bytes, 1518u);  // each in and out before the next: no queue
}

TEST(EthSwitch, TenGigIntoOneGigFillsTheQueueAndTailDropsCountedAndConserved) {
  EthSwitchConfig c;
  c.rates = {BitRate::gbps(10), BitRate::gbps(1), BitRate::gbps(10)};
  c.queue_bytes = 64 * 1024;
  Rig r(c);
  vnic::tb::PacketAccount account;
  r.sw.set_trace(&account);
  r[1].send(mac(0), mac(1), 64, 0);  // b learned
  const int n = 2000;
  for (int i = 0; i < n; ++i) r[0].send(mac(1), mac(0), 1518, 1'000'000);  // 10G line rate to 1G b
  sc_core::sc_start();
  const SwitchPortStats& b = r.sw.stats(1);
  EXPECT_EQ(r.sw.stats(0).rx_frames, static_cast<uint64_t>(n));
  EXPECT_GT(b.dropped_queue_full, 1500u);  // nine in ten cannot be sent on
  EXPECT_EQ(r[1].count_from(mac(0)) + b.dropped_queue_full, static_cast<uint64_t>(n));
  EXPECT_EQ(b.tx_frames, r[1].count_from(mac(0)));
  EXPECT_LE(b.queue_max_bytes, c.queue_bytes);
  EXPECT_GT(b.queue_max_bytes, c.queue_bytes - 1518);
  EXPECT_EQ(r[2].rx.size(), 1u);  // only b's first frame, flooded
  expect_conserved(r.sw, {static_cast<uint64_t>(n), 1, 0});
  // Each drop is its packet's end, under the switch's counter.
  const auto t = account.totals();
  EXPECT_EQ(t.dropped, b.dropped_queue_full);
  EXPECT_EQ(t.by_counter.at("switch.dropped_queue_full"), b.dropped_queue_full);
  EXPECT_TRUE(account.exact());
}

TEST(EthSwitch, AFrameForAStationOnItsOwnPortIsFilteredAndCounted) {
  Rig r;
  r[0].send(mac(1), mac(7), 64, 0);          // station 7 is behind port 0 too (learned there)
  r[0].send(mac(7), mac(0), 64, 10'000'000);  // to 7: the port it came in on
  sc_core::sc_start();
  EXPECT_EQ(r.sw.stats(0).dropped_filtered, 1u);
  EXPECT_EQ(r[1].count_from(mac(0)), 0u);
  EXPECT_EQ(r[2].count_from(mac(0)), 0u);
  expect_conserved(r.sw, {2, 0, 0});
}

// br_handle_frame: a multicast or all-zero source is no station's: dropped (dropped_filtered),
// not learned, not forwarded.
TEST(EthSwitch, AnInvalidSourceAddressIsDroppedNotLearned) {
  Rig r;
  const MacAddr group{{0x01, 0, 0x5e, 0, 0, 1}}, zero{};
  r[0].send(mac(1), group, 64, 0);
  r[0].send(mac(1), zero, 64, 1'000'000);
  sc_core::sc_start();
  EXPECT_EQ(r.sw.stats(0).dropped_filtered, 2u);
  EXPECT_TRUE(r[1].rx.empty());
  EXPECT_TRUE(r[2].rx.empty());
  EXPECT_EQ(r.sw.fdb(r.q.now_ps()).size(), 0u);
  expect_conserved(r.sw, {2, 0, 0});
}

// A station sending from ever new source addresses fills the table to fdb_max, no further: the
// rest are not learned (counted in fdb_full) and frames to them are flooded; once the entries
// age out, new addresses are learned again.
TEST(EthSwitch, TheLearningTableStopsAtFdbMax) {
  EthSwitchConfig c;
  c.fdb_max = 4;
  c.ageing = Duration::ms(1);
  Rig r(c);
  for (unsigned i = 0; i < 6; ++i) r[0].send(mac(2), mac(100 + i), 64, i * 100'000);  // 0.1 us apart
  r[1].send(mac(105), mac(1), 64, 1'000'000);  // at 1 us, still full: 1 not learned; to 105 (not
                                               // learned either): flooded to 0 and 2
  r[0].send(mac(2), mac(200), 64, 2'000'000'000);  // 2 ms, past the ageing time: swept, learned
  sc_core::sc_start();
  EXPECT_EQ(r.sw.fdb_full(), 3u);  // 104, 105, then 1
  EXPECT_EQ(r[0].count_from(mac(1)), 1u);
  EXPECT_EQ(r[2].count_from(mac(1)), 1u);
  const auto fdb = r.sw.fdb(r.q.now_ps());
  EXPECT_LE(fdb.size(), 4u);
  EXPECT_TRUE(std::any_of(fdb.begin(), fdb.end(), [](const auto& e) { return e.mac == mac(200); }));
  expect_conserved(r.sw, {7, 1, 0});
}

TEST(EthSwitch, APortGoingDownLosesWhatIsQueuedForItAndTellsItsStation) {
  EthSwitchConfig c;
  c.rates = {BitRate::gbps(10), BitRate::gbps(1), BitRate::gbps(10)};
  Rig r(c);
  r[1].send(mac(0), mac(1), 64, 0);
  for (int i = 0; i < 20; ++i) r[0].send(mac(1), mac(0), 1518, 1'000'000);
  r.sw.schedule_port_change(1, sc_core::sc_time(40, sc_core::SC_US), false);
  r.sw.schedule_port_change(1, sc_core::sc_time(100, sc_core::SC_US), true);
  r[0].send(mac(1), mac(0), 1518, 200'000'000);  // after: b was forgotten, flooded
  sc_core::sc_start();
  const SwitchPortStats& b = r.sw.stats(1);
  EXPECT_GT(b.tx_dropped_link_down, 0u);
  EXPECT_EQ(r[1].changes, (std::vector<bool>{false, true}));
  EXPECT_TRUE(r[0].changes.empty());
  EXPECT_EQ(r[1].count_from(mac(0)) + b.tx_dropped_link_down, 21u);
  EXPECT_EQ(r[2].count_from(mac(0)), 1u);  // the last one, flooded: port down forgot b
  expect_conserved(r.sw, {21, 1, 0});
  // A station on a port that is down cannot send.
  r.sw.set_port_up(2, false);
  r[2].send(mac(0), mac(2), 64, r.q.now_ps() + 1000);
  sc_core::sc_start();
  EXPECT_EQ(r[2].tx.refused, 1);
}

TEST(EthSwitch, EachPortCapturesBothDirectionsInItsOwnPcap) {
  Rig r;
  const std::string dir = ::testing::TempDir();
  for (unsigned k = 0; k < 3; ++k) r.sw.capture_to(k, dir + "sw" + std::to_string(::getpid()) + "-p" + std::to_string(k) + ".pcap");
  r[0].send(mac(1), mac(0), 100, 0);
  r[1].send(mac(0), mac(1), 100, 10'000'000);
  sc_core::sc_start();
  r.sw.close_captures();
  // Port 0: its frame out and b's answer in; port 1: a's in and its answer out; port 2: the flood.
  auto records = [&](unsigned k) {
    FILE* f = std::fopen((dir + "sw" + std::to_string(::getpid()) + "-p" + std::to_string(k) + ".pcap").c_str(), "rb");
    if (f == nullptr) return -1;
    std::fseek(f, 0, SEEK_END);
    const long size = std::ftell(f);
    std::fclose(f);
    return static_cast<int>((size - 24) / (16 + 100));
  };
  EXPECT_EQ(records(0), 2);
  EXPECT_EQ(records(1), 2);
  EXPECT_EQ(records(2), 1);
}

}  // namespace
