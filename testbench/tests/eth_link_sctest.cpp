// EthLink: arrival times at every rate, back-to-back spacing, link down, overlap detection,
// capture errors.
#include <gtest/gtest.h>

#include <systemc>

#include <stdexcept>
#include <vector>

#include "vnic/tb/eth_link.hpp"

namespace {
using vnic::hw::EventQueue;
using vnic::model::BitRate;
using vnic::model::Frame;
using vnic::model::FramePool;
using vnic::tb::EthLink;
using vnic::tb::EthLinkConfig;

struct Sink : vnic::hw::EthEndpoint {
  EventQueue* q = nullptr;
  std::vector<uint64_t> at;
  std::vector<std::size_t> sizes;
  int link_events = 0;
  bool last_up = true;
  void eth_receive(Frame&& f) override {
    at.push_back(q->now_ps());
    sizes.push_back(f.size());
  }
  void eth_link_changed(bool up, BitRate) override {
    ++link_events;
    last_up = up;
  }
};

// Sends `n` frames of `len` bytes from side 0, one every `gap_ps`, starting at t = 0.
struct Sender {
  EventQueue& q;
  EthLink& link;
  FramePool pool;
  std::size_t len;
  uint64_t gap_ps;
  int left;
  int refused = 0;
  std::vector<std::pair<Frame, uint64_t>> pending{};
  void send(uint64_t) {
    // Hand the frame over when its last bit has left, as the NIC does.
    const uint64_t start = q.now_ps();
    Frame f = pool.alloc(len);
    const uint64_t end = start + static_cast<uint64_t>(link.rate().time_for_bytes(8 + len).ps());
    pending.push_back({std::move(f), start});
    q.at_ps<&Sender::hand_over>(end, this);
    if (--left > 0) q.at_ps<&Sender::send>(q.now_ps() + gap_ps, this);
  }
  void hand_over(uint64_t) {
    auto [f, start] = std::move(pending.front());
    pending.erase(pending.begin());
    if (!link.transmit(0, std::move(f), start)) ++refused;
  }
};

struct Rig {
  EventQueue q{"q"};
  EthLink link;
  Sink a, b;
  explicit Rig(EthLinkConfig c = {}) : link("link", q, c) {
    a.q = b.q = &q;
    link.attach(0, &a);
    link.attach(1, &b);
  }
};

TEST(EthLink, FullSizeFrameArrivesAfterPreambleFrameAndPropagation) {
  Rig r;
  Sender s{r.q, r.link, FramePool{}, 1518, 1'230'400, 3};
  r.q.at_ps<&Sender::send>(0, &s);
  sc_core::sc_start();
  ASSERT_EQ(r.b.at.size(), 3u);
  EXPECT_EQ(r.b.at[0], (8u + 1518u) * 800u + 5000u);
  EXPECT_EQ(r.b.at[1] - r.b.at[0], 1'230'400u);
  EXPECT_EQ(r.b.at[2] - r.b.at[1], 1'230'400u);
  EXPECT_EQ(r.link.stats(0).tx_overlap_errors, 0u);
  EXPECT_EQ(r.link.stats(0).delivered, 3u);
  EXPECT_TRUE(r.a.at.empty());
}

TEST(EthLink, ArrivalTimesAtEveryRate) {
  for (uint64_t g : {1u, 25u, 40u, 100u}) {
    const BitRate rate = BitRate::gbps(g);
    EXPECT_EQ(rate.time_for_bytes(8 + 64).ps() * static_cast<int64_t>(g), 576'000) << g;
  }
  EthLinkConfig c;
  c.rate = BitRate::gbps(25);
  c.propagation = vnic::model::Duration::ns(100);
  Rig r(c);
  Sender s{r.q, r.link, FramePool{}, 64, 26'880, 2};
  r.q.at_ps<&Sender::send>(0, &s);
  sc_core::sc_start();
  ASSERT_EQ(r.b.at.size(), 2u);
  EXPECT_EQ(r.b.at[0], 72u * 320u + 100'000u);
  EXPECT_EQ(r.b.at[1] - r.b.at[0], 26'880u);
}

TEST(EthLink, StartingInsideTheInterFrameGapIsCountedAsOverlap) {
  Rig r;
  Sender s{r.q, r.link, FramePool{}, 64, 60'000, 3};  // 64 B needs 67.2 ns with IFG
  r.q.at_ps<&Sender::send>(0, &s);
  sc_core::sc_start();
  EXPECT_EQ(r.link.stats(0).tx_overlap_errors, 2u);
  EXPECT_EQ(r.b.at.size(), 3u);
}

TEST(EthLink, LinkDownDropsFramesInFlightAndRefusesNewOnes) {
  EthLinkConfig c;
  c.propagation = vnic::model::Duration::us(2);  // a long cable, so frames are in flight
  Rig r(c);
  Sender s{r.q, r.link, FramePool{}, 1518, 1'230'400, 10};
  r.q.at_ps<&Sender::send>(0, &s);
  r.link.schedule_link_change(sc_core::sc_time(3000, sc_core::SC_NS), false);
  r.link.schedule_link_change(sc_core::sc_time(8000, sc_core::SC_NS), true);
  sc_core::sc_start();
  const auto& st = r.link.stats(0);
  // Frame k starts at k x 1.2304 us and is handed over 1.2208 us later. Frames 0 and 1 are
  // on the cable (arriving at 3.22 and 4.46 us) when the link drops at 3 us: lost. Frames
  // 2..5 are handed over while it is down: refused. Frames 6..9 arrive.
  EXPECT_EQ(r.b.at.size() + st.dropped_link_down + static_cast<std::size_t>(s.refused), 10u);
  EXPECT_EQ(st.dropped_link_down, 2u);
  EXPECT_EQ(s.refused, 4);
  EXPECT_EQ(r.b.at.size(), 4u);
  EXPECT_EQ(st.frames, st.delivered + st.dropped_link_down);
  EXPECT_EQ(r.a.link_events, 2);
  EXPECT_EQ(r.b.link_events, 2);
  EXPECT_TRUE(r.b.last_up);
}

TEST(EthLink, CaptureToAnUnwritablePathThrowsWithThePath) {
  Rig r;
  try {
    r.link.capture_to("/nonexistent-dir/x.pcap");
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/x.pcap"), std::string::npos);
  }
}
}  // namespace

