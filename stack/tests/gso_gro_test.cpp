// Software GSO (skb_gso_segment, qdisc_pkt_len), GRO (napi_gro_receive, napi_gro_flush,
// gro_normal_list), and TCP's use of them over a back-to-back pair: GSO skbs, the packet ids'
// journeys, TCP small queues (tcp_limit_output_bytes) and autocorking.
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <set>
#include <span>
#include <vector>

#include "support/fake_cpu.hpp"
#include "support/net_rig.hpp"
#include "support/pair_rig.hpp"
#include "support/stub_netdev.hpp"
#include "vnic/stack/co.hpp"
#include "vnic/stack/dev_xmit.hpp"
#include "vnic/stack/icmp.hpp"
#include "vnic/stack/sock.hpp"
#include "vnic/stack/softnet.hpp"
#include "vnic/stack/tcp.hpp"
#include "vnic/stack/wire/checksum.hpp"
#include "vnic/stack/wire/ipv4.hpp"
#include "vnic/stack/wire/tcp.hpp"

namespace vnic::stack {
namespace {

using testing::FakeCpu;
using testing::FakeMemory;
using testing::ip4;

constexpr uint32_t kMss = 1448;      // 1500 - 20 - 32 (timestamps)
constexpr uint32_t kTcpHlen = 32;    // 20 + NOP NOP TS
constexpr uint32_t kEth = 14;

uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t be32(const uint8_t* p) { return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3]; }
// The payload byte at sequence number `seq`: any merge or cut in the wrong place shows.
uint8_t pat(uint32_t seq) { return static_cast<uint8_t>(seq * 7 + (seq >> 8) + 3); }

// A TCP/IPv4 segment's header fields.
struct Hdr {
  wire::Ipv4Addr saddr = ip4("10.0.0.1");
  wire::Ipv4Addr daddr = ip4("10.0.0.2");
  uint16_t sport = 40000, dport = 5001;
  uint32_t seq = 1000, ack = 7000;
  uint8_t flags = wire::kTcpAck;
  uint16_t window = 502;
  uint16_t ident = 100;
  bool df = true;
  uint8_t ttl = 64;
  uint32_t tsval = 77, tsecr = 55;
};

// Ethernet + IPv4 + TCP (timestamps) + plen bytes of pat() at `out` (at least kEth + 20 +
// kTcpHlen + plen bytes).
void write_frame(std::span<uint8_t> out, const Hdr& h, uint32_t plen, bool tcp_csum = true) {
  const uint8_t eth[14] = {0x02, 0, 0, 0, 0, 0x0b, 0x02, 0, 0, 0, 0, 0x0a, 0x08, 0x00};
  std::memcpy(out.data(), eth, sizeof eth);
  wire::Ipv4Repr ip;
  ip.src = h.saddr;
  ip.dst = h.daddr;
  ip.protocol = wire::IpProtocol::Tcp;
  ip.ttl = h.ttl;
  ip.ident = h.ident;
  ip.dont_fragment = h.df;
  ip.payload_len = static_cast<uint16_t>(kTcpHlen + plen);
  ip.emit(out.subspan(kEth, 20));
  wire::TcpRepr t;
  t.src_port = h.sport;
  t.dst_port = h.dport;
  t.seq = h.seq;
  t.ack = h.ack;
  t.flags = h.flags;
  t.window = h.window;
  t.options.has_timestamp = true;
  t.options.tsval = h.tsval;
  t.options.tsecr = h.tsecr;
  t.payload_len = static_cast<uint16_t>(plen);
  EXPECT_EQ(t.header_len(), kTcpHlen);
  uint8_t* pl = out.data() + kEth + 20 + kTcpHlen;
  for (uint32_t i = 0; i < plen; ++i) pl[i] = pat(h.seq + i);
  t.emit(out.subspan(kEth + 20, kTcpHlen + plen), h.saddr, h.daddr, tcp_csum);
}

// ------------------------------------------------------------------------------ skb_gso_segment

struct Wmem {
  static void destructor(SkBuff* skb) {
    if (skb->sk != nullptr) skb->sk->wmem_alloc -= std::min(skb->sk->wmem_alloc, skb->truesize);
  }
};

struct GsoSeen {
  uint64_t id;
  uint32_t index;
  uint64_t gso_id;
};
void record_gso(void* ctx, uint64_t id, uint32_t index, uint64_t gso_id) {
  static_cast<std::vector<GsoSeen>*>(ctx)->push_back({id, index, gso_id});
}

TEST(SkbGsoSegment, CutsATcpGsoSkbIntoItsSegments) {
  FakeCpu cpu;
  FakeMemory mem;
  SkbPool pool(mem, 2048, 1000);
  const uint32_t payload = kMss * 3 + kMss / 2;  // 3.5 segments
  const uint32_t hdr = kEth + 20 + kTcpHlen;
  SkBuff* gso = pool.alloc(hdr + payload, SkbAlloc::AllocSkb);
  ASSERT_NE(gso, nullptr);
  Hdr h;
  h.ident = 0xFFFE;  // the identifier wraps within the four segments
  h.seq = 0xFFFFF000u;  // and so does the sequence number
  h.flags = wire::kTcpAck | wire::kTcpPsh | wire::kTcpFin | wire::kTcpCwr;
  write_frame(gso->bytes(), h, payload, false);
  skb_reset_mac_header(*gso);
  gso->mac_len = kEth;
  gso->network_header = static_cast<uint16_t>(gso->data + kEth);
  gso->transport_header = static_cast<uint16_t>(gso->data + kEth + 20);
  gso->protocol = 0x0800;
  gso->gso_size = kMss;
  gso->gso_segs = 4;
  gso->trace_id = 0xA;
  gso->seg_ids = {0xB, 0xC, 0xD};
  Sock sk;
  gso->sk = &sk;
  gso->destructor = &Wmem::destructor;
  sk.wmem_alloc = gso->truesize;
  const std::vector<uint8_t> orig(gso->bytes().begin(), gso->bytes().end());

  EXPECT_EQ(gso_header_len(*gso), hdr);
  EXPECT_EQ(qdisc_pkt_len(*gso), gso->len + 3 * hdr);

  std::vector<GsoSeen> seen;
  SkBuff* segs = skb_gso_segment(cpu, gso, GsoTrace{&record_gso, &seen});
  ASSERT_NE(segs, nullptr);
  std::vector<SkBuff*> v;
  for (SkBuff* s = segs; s != nullptr; s = s->next) v.push_back(s);
  ASSERT_EQ(v.size(), 4u);
  uint64_t truesize = 0;
  const uint64_t ids[] = {0xA, 0xB, 0xC, 0xD};
  for (uint32_t i = 0; i < 4; ++i) {
    SkBuff* s = v[i];
    SCOPED_TRACE(i);
    const uint32_t plen = i < 3 ? kMss : kMss / 2;
    ASSERT_EQ(s->len, hdr + plen);
    EXPECT_EQ(s->trace_id, ids[i]);
    EXPECT_TRUE(s->seg_ids.empty());
    EXPECT_EQ(s->gso_size, 0u);
    EXPECT_EQ(s->network_header, s->data + kEth);
    EXPECT_EQ(s->transport_header, s->data + kEth + 20);
    EXPECT_EQ(s->sk, &sk);
    const uint8_t* f = s->head + s->data;
    EXPECT_EQ(std::memcmp(f, orig.data(), kEth), 0);  // the Ethernet header copied
    const uint8_t* ip = f + kEth;
    EXPECT_EQ(be16(ip + 2), 20 + kTcpHlen + plen);
    EXPECT_EQ(be16(ip + 4), static_cast<uint16_t>(0xFFFE + i));
    EXPECT_TRUE(wire::checksum_ok(std::span<const uint8_t>(ip, 20)));
    auto ipr = wire::Ipv4Repr::parse(std::span<const uint8_t>(ip, 20 + kTcpHlen + plen));
    ASSERT_TRUE(ipr.ok());
    auto th = wire::TcpRepr::parse(std::span<const uint8_t>(ip + 20, kTcpHlen + plen), h.saddr, h.daddr,
                                   wire::ChecksumCheck::Verify);
    ASSERT_TRUE(th.ok()) << "TCP checksum of segment " << i;
    EXPECT_EQ(th->seq, h.seq + i * kMss);
    EXPECT_EQ(th->ack, h.ack);
    EXPECT_EQ(th->window, h.window);
    EXPECT_TRUE(th->options.has_timestamp);
    EXPECT_EQ(th->options.tsval, h.tsval);
    EXPECT_EQ((th->flags & wire::kTcpCwr) != 0, i == 0);
    EXPECT_EQ((th->flags & wire::kTcpPsh) != 0, i == 3);
    EXPECT_EQ((th->flags & wire::kTcpFin) != 0, i == 3);
    EXPECT_NE(th->flags & wire::kTcpAck, 0);
    EXPECT_EQ(std::memcmp(f + hdr, orig.data() + hdr + i * kMss, plen), 0);
    truesize += s->truesize;
  }
  ASSERT_EQ(seen.size(), 4u);
  for (uint32_t i = 0; i < 4; ++i) {
    EXPECT_EQ(seen[i].id, ids[i]);
    EXPECT_EQ(seen[i].index, i);
    EXPECT_EQ(seen[i].gso_id, 0xAu);
  }
  // the socket's charge moved from the GSO skb to its segments
  EXPECT_EQ(sk.wmem_alloc, truesize);
  EXPECT_EQ(gso->sk, nullptr);
  EXPECT_EQ(gso->destructor, nullptr);
  kfree_skb(gso);
  EXPECT_EQ(sk.wmem_alloc, truesize);
  for (SkBuff* s : v) {
    s->next = nullptr;
    consume_skb(s);
  }
  EXPECT_EQ(sk.wmem_alloc, 0u);
  EXPECT_EQ(pool.live(), 0u);
}

TEST(SkbGsoSegment, PlainSkbCountsItsLength) {
  FakeMemory mem;
  SkbPool pool(mem, 2048, 10);
  SkBuff* s = pool.alloc(kEth + 20 + kTcpHlen + 100, SkbAlloc::AllocSkb);
  ASSERT_NE(s, nullptr);
  write_frame(s->bytes(), Hdr{}, 100);
  s->network_header = static_cast<uint16_t>(s->data + kEth);
  s->transport_header = static_cast<uint16_t>(s->data + kEth + 20);
  EXPECT_EQ(qdisc_pkt_len(*s), s->len);
  kfree_skb(s);
}

TEST(SkbGsoSegment, NoMemoryGivesNothingAndKeepsTheCharge) {
  FakeCpu cpu;
  FakeMemory mem;
  SkbPool pool(mem, 2048, 3);  // the GSO skb and two segments: the third cannot be had
  const uint32_t hdr = kEth + 20 + kTcpHlen;
  SkBuff* gso = pool.alloc(hdr + 4 * kMss, SkbAlloc::AllocSkb);
  ASSERT_NE(gso, nullptr);
  write_frame(gso->bytes(), Hdr{}, 4 * kMss, false);
  skb_reset_mac_header(*gso);
  gso->network_header = static_cast<uint16_t>(gso->data + kEth);
  gso->transport_header = static_cast<uint16_t>(gso->data + kEth + 20);
  gso->protocol = 0x0800;
  gso->gso_size = kMss;
  gso->gso_segs = 4;
  Sock sk;
  gso->sk = &sk;
  gso->destructor = &Wmem::destructor;
  sk.wmem_alloc = gso->truesize;
  EXPECT_EQ(skb_gso_segment(cpu, gso, GsoTrace{}), nullptr);
  EXPECT_EQ(pool.live(), 1u);  // the segments made were given back
  EXPECT_EQ(sk.wmem_alloc, gso->truesize);
  EXPECT_EQ(gso->sk, &sk);
  kfree_skb(gso);
  EXPECT_EQ(sk.wmem_alloc, 0u);
}

// ------------------------------------------------------------------------------ GRO

// What went up the stack.
struct Up {
  uint32_t len = 0;
  uint16_t gso_size = 0, gso_segs = 0;
  uint64_t id = 0;
  std::vector<uint64_t> seg_ids;
  bool ip_ok = false;
  uint16_t tot_len = 0;
  uint32_t seq = 0;
  uint8_t flags = 0;
  bool payload_ok = false;
  std::vector<uint64_t> all_ids() const {
    std::vector<uint64_t> v{id};
    v.insert(v.end(), seg_ids.begin(), seg_ids.end());
    return v;
  }
};

struct Gro : ::testing::Test {
  FakeCpu cpu;
  FakeMemory mem;
  SkbPool pool{mem, 2048, 10000};
  NetCoreSysctls sys{};
  Softnet sd{cpu, sys};
  testing::StubNetDevice dev;
  Napi napi;
  std::vector<Up> up;
  uint64_t next_id = 1;

  Gro() { sd.set_rx_handler(&Gro::rx, this); }
  static void rx(void* ctx, SkBuff* skb) {
    auto& self = *static_cast<Gro*>(ctx);
    Up u;
    u.len = skb->len;
    u.gso_size = skb->gso_size;
    u.gso_segs = skb->gso_segs;
    u.id = skb->trace_id;
    u.seg_ids = skb->seg_ids;
    const uint8_t* ip = skb->head + skb->data;
    u.ip_ok = wire::checksum_ok(std::span<const uint8_t>(ip, 20));
    u.tot_len = be16(ip + 2);
    const uint8_t* th = ip + 20;
    u.seq = be32(th + 4);
    u.flags = th[13];
    const uint32_t thl = (th[12] >> 4) * 4u;
    u.payload_ok = true;
    for (uint32_t i = 0; 20 + thl + i < skb->len; ++i) u.payload_ok &= th[thl + i] == pat(u.seq + i);
    self.up.push_back(std::move(u));
    kfree_skb(skb);
  }
  // A received segment, as the driver hands it to napi_gro_receive (after eth_type_trans); its id.
  // `pad` zero bytes after the IP datagram: the Ethernet padding of a short frame.
  uint64_t feed(const Hdr& h, uint32_t plen, bool bad_csum = false, uint32_t pad = 0) {
    SkBuff* s = pool.alloc(kEth + 20 + kTcpHlen + plen + pad);
    EXPECT_NE(s, nullptr);
    write_frame(s->bytes(), h, plen);
    std::fill_n(s->bytes().begin() + kEth + 20 + kTcpHlen + plen, pad, uint8_t{0});
    if (bad_csum) s->head[s->data + kEth + 20 + 16] ^= 0x5A;
    skb_reset_mac_header(*s);
    skb_pull(*s, kEth);
    s->mac_len = kEth;
    skb_reset_network_header(*s);
    s->transport_header = static_cast<uint16_t>(s->data + 20);
    s->protocol = 0x0800;
    s->dev = &dev;
    s->trace_id = next_id++;
    const uint64_t id = s->trace_id;
    sd.napi_gro_receive(napi, s);
    return id;
  }
  // `n` full segments of one flow from h.seq on; their ids.
  std::vector<uint64_t> feed_run(Hdr& h, int n, uint32_t plen = kMss) {
    std::vector<uint64_t> ids;
    for (int i = 0; i < n; ++i) {
      ids.push_back(feed(h, plen));
      h.seq += plen;
      ++h.ident;
    }
    return ids;
  }
  void deliver() { sd.gro_normal_list(napi); }
  void flush() {
    sd.napi_gro_flush(napi);
    sd.gro_normal_list(napi);
  }
  // Two skbs went up, merging `first` and `second` segments (0: a segment that was not merged).
  void expect_two_skbs(uint32_t first, uint32_t second) {
    ASSERT_EQ(up.size(), 2u);
    EXPECT_EQ(up[0].gso_segs, first);
    EXPECT_EQ(up[1].gso_segs, second);
  }
  // Two in-order segments, `change` to the header, `n` more in order, then a flush: the change
  // ends the first skb, so two go up (the second with `n` segments, or 0 for one not merged).
  template <typename Change>
  void expect_change_splits(Change change, int n) {
    Hdr h;
    feed_run(h, 2);
    change(h);
    feed_run(h, n);
    flush();
    expect_two_skbs(2u, n == 1 ? 0u : static_cast<uint32_t>(n));
  }
};

TEST_F(Gro, InOrderSegmentsBecomeOneSkb) {
  Hdr h;
  const auto ids = feed_run(h, 4);
  deliver();
  EXPECT_TRUE(up.empty());  // held
  EXPECT_EQ(napi.gro_count, 1u);
  sd.napi_gro_flush(napi);
  EXPECT_EQ(napi.gro_count, 0u);
  EXPECT_TRUE(up.empty());  // on rx_list: 4 segments < gro_normal_batch
  sd.gro_normal_list(napi);
  ASSERT_EQ(up.size(), 1u);
  const Up& u = up[0];
  EXPECT_EQ(u.gso_segs, 4u);
  EXPECT_EQ(u.gso_size, kMss);
  EXPECT_EQ(u.len, 20 + kTcpHlen + 4 * kMss);
  EXPECT_EQ(u.tot_len, u.len);
  EXPECT_TRUE(u.ip_ok);
  EXPECT_TRUE(u.payload_ok);
  EXPECT_EQ(u.seq, 1000u);
  EXPECT_EQ(u.id, ids[0]);
  EXPECT_EQ(u.seg_ids, (std::vector<uint64_t>{ids[1], ids[2], ids[3]}));
  EXPECT_EQ(napi.gro_held, 1u);
  EXPECT_EQ(napi.gro_skbs, 1u);
  EXPECT_EQ(napi.gro_packets, 4u);
  EXPECT_EQ(napi.gro_bytes, 4u * kMss);
  EXPECT_EQ(napi.gro_normal, 0u);
  EXPECT_EQ(sd.stats().processed, 1u);
  EXPECT_EQ(pool.live(), 0u);
}

TEST_F(Gro, BatchOfEightSegmentsGoesUpWithoutGroNormalList) {
  Hdr h;
  feed_run(h, 8);
  sd.napi_gro_flush(napi);
  ASSERT_EQ(up.size(), 1u);  // rx_count 8 >= gro_normal_batch
  EXPECT_EQ(up[0].gso_segs, 8u);
}

TEST_F(Gro, PshSegmentFlushesAtOnce) {
  Hdr h;
  const auto ids = feed_run(h, 2);
  h.flags |= wire::kTcpPsh;
  const uint64_t last = feed(h, kMss);
  EXPECT_EQ(napi.gro_count, 0u);
  deliver();
  ASSERT_EQ(up.size(), 1u);
  EXPECT_EQ(up[0].gso_segs, 3u);
  EXPECT_EQ(up[0].seg_ids, (std::vector<uint64_t>{ids[1], last}));
  EXPECT_NE(up[0].flags & wire::kTcpPsh, 0);
  EXPECT_TRUE(up[0].ip_ok);
  EXPECT_EQ(up[0].tot_len, 20 + kTcpHlen + 3 * kMss);
}

TEST_F(Gro, ShortSegmentJoinsAndFlushes) {
  Hdr h;
  feed_run(h, 2);
  feed(h, 100);
  EXPECT_EQ(napi.gro_count, 0u);
  deliver();
  ASSERT_EQ(up.size(), 1u);
  EXPECT_EQ(up[0].gso_segs, 3u);
  EXPECT_EQ(up[0].len, 20 + kTcpHlen + 2 * kMss + 100);
  EXPECT_TRUE(up[0].payload_ok);
}

TEST_F(Gro, GapFlushesTheHeldSkbAndHoldsTheNewOne) {
  Hdr h;
  const auto first = feed_run(h, 2);
  h.seq += kMss;  // one segment missing
  const uint64_t after_gap = feed(h, kMss);
  EXPECT_EQ(napi.gro_count, 1u);
  deliver();
  ASSERT_EQ(up.size(), 1u);
  EXPECT_EQ(up[0].gso_segs, 2u);
  EXPECT_EQ(up[0].all_ids(), first);
  flush();
  ASSERT_EQ(up.size(), 2u);
  EXPECT_EQ(up[1].id, after_gap);
  EXPECT_EQ(up[1].gso_segs, 0u);  // one segment alone goes up plain
  EXPECT_EQ(up[1].gso_size, 0u);
  EXPECT_EQ(up[1].seq, 1000u + 3 * kMss);
  EXPECT_EQ(napi.gro_held, 2u);
  EXPECT_EQ(napi.gro_skbs, 1u);
}

TEST_F(Gro, DifferentAckFlushes) {
  ASSERT_NO_FATAL_FAILURE(expect_change_splits([](Hdr& h) { h.ack += 1; }, 2));
  EXPECT_EQ(up[1].seq, 1000u + 2 * kMss);
  EXPECT_EQ(napi.gro_skbs, 2u);
}

TEST_F(Gro, DifferentWindowFlushes) {
  expect_change_splits([](Hdr& h) { h.window += 1; }, 1);
}

TEST_F(Gro, DifferentTimestampFlushes) {
  expect_change_splits([](Hdr& h) { h.tsval += 1; }, 2);
}

TEST_F(Gro, PureAckGoesUpAloneAfterTheHeldSkb) {
  Hdr h;
  const auto held = feed_run(h, 3);
  const uint64_t ack = feed(h, 0);
  EXPECT_EQ(napi.gro_count, 0u);
  deliver();
  ASSERT_EQ(up.size(), 2u);
  EXPECT_EQ(up[0].all_ids(), held);
  EXPECT_EQ(up[1].id, ack);
  EXPECT_EQ(up[1].len, 20 + kTcpHlen);
  EXPECT_EQ(up[1].gso_segs, 0u);
  EXPECT_EQ(napi.gro_normal, 1u);
  // a pure ACK with nothing held goes straight up
  feed(h, 0);
  EXPECT_EQ(napi.gro_count, 0u);
  EXPECT_EQ(napi.gro_normal, 2u);
}

// inet_gro_receive's IP id rule: a flow's ids advance by one a segment, or (with DF) stay fixed.
TEST_F(Gro, FixedIpIdWithDfMerges) {
  Hdr h;
  for (int i = 0; i < 4; ++i) {
    feed(h, kMss);
    h.seq += kMss;  // the id stays 100
  }
  flush();
  ASSERT_EQ(up.size(), 1u);
  EXPECT_EQ(up[0].gso_segs, 4u);
}

TEST_F(Gro, FixedIpIdWithoutDfFlushes) {
  Hdr h;
  h.df = false;
  feed(h, kMss);
  h.seq += kMss;
  feed(h, kMss);  // same id, no DF: not atomic, the id must advance
  flush();
  expect_two_skbs(0u, 0u);
}

TEST_F(Gro, IpIdJumpFlushesTheHeldSkb) {
  Hdr h;
  const auto first = feed_run(h, 3);  // ids 100, 101, 102
  h.ident = static_cast<uint16_t>(h.ident + 7);
  const auto second = feed_run(h, 2);
  flush();
  ASSERT_EQ(up.size(), 2u);
  EXPECT_EQ(up[0].all_ids(), first);
  EXPECT_EQ(up[1].all_ids(), second);
  EXPECT_EQ(napi.gro_skbs, 2u);
}

TEST_F(Gro, IncrementingIdsThatStopAdvancingFlush) {
  Hdr h;
  feed_run(h, 2);  // 100, 101: the flow is taken as incrementing at the second segment
  --h.ident;       // the third carries 101 again
  feed(h, kMss);
  flush();
  ASSERT_EQ(up.size(), 2u);
  EXPECT_EQ(up[0].gso_segs, 2u);
  EXPECT_EQ(up[1].seq, 1000u + 2 * kMss);
}

TEST_F(Gro, DfChangeFlushes) {
  expect_change_splits([](Hdr& h) { h.df = false; }, 2);
}

// A short segment in a padded frame (its IP total length below the skb's): inet_gro_receive
// flushes; the skb held for the flow goes up first and the padded one after it, in order.
TEST_F(Gro, PaddedFrameGoesUpAfterTheHeldSkbOfItsFlow) {
  Hdr h;
  const auto held = feed_run(h, 3);
  const uint64_t small = feed(h, 2, false, 4);
  EXPECT_EQ(napi.gro_count, 0u);
  deliver();
  ASSERT_EQ(up.size(), 2u);
  EXPECT_EQ(up[0].all_ids(), held);
  EXPECT_EQ(up[1].id, small);
  EXPECT_EQ(up[1].tot_len, 20 + kTcpHlen + 2);
  EXPECT_EQ(up[1].len, 20 + kTcpHlen + 2 + 4);  // the padding is IP's to trim
  EXPECT_EQ(napi.gro_normal, 1u);
}

TEST_F(Gro, StaysUnder64KiB) {
  Hdr h;
  const auto ids = feed_run(h, 50);
  flush();
  // 20 + 32 + 45 * 1448 = 65212; one more would reach 66660 >= 65536
  ASSERT_EQ(up.size(), 2u);
  EXPECT_EQ(up[0].gso_segs, 45u);
  EXPECT_EQ(up[0].len, 20 + kTcpHlen + 45 * kMss);
  EXPECT_LE(up[0].len, 65536u);
  EXPECT_EQ(up[0].tot_len, up[0].len);
  EXPECT_TRUE(up[0].ip_ok);
  EXPECT_TRUE(up[0].payload_ok);
  EXPECT_EQ(up[1].gso_segs, 5u);
  EXPECT_EQ(up[1].seq, 1000u + 45 * kMss);
  std::vector<uint64_t> got = up[0].all_ids();
  const auto more = up[1].all_ids();
  got.insert(got.end(), more.begin(), more.end());
  EXPECT_EQ(got, ids);
  EXPECT_EQ(napi.gro_packets, 50u);
  EXPECT_EQ(napi.gro_skbs, 2u);
}

TEST_F(Gro, TwoFlowsHeldAtOnce) {
  Hdr a, b;
  b.sport = 40001;
  b.seq = 90000;
  std::vector<uint64_t> ia, ib;
  for (int i = 0; i < 3; ++i) {
    ia.push_back(feed(a, kMss));
    a.seq += kMss;
    if (i < 2) {
      ib.push_back(feed(b, kMss));
      b.seq += kMss;
    }
  }
  EXPECT_EQ(napi.gro_count, 2u);
  flush();
  ASSERT_EQ(up.size(), 2u);
  EXPECT_EQ(up[0].all_ids(), ia);  // the oldest first
  EXPECT_EQ(up[0].gso_segs, 3u);
  EXPECT_EQ(up[1].all_ids(), ib);
  EXPECT_EQ(up[1].gso_segs, 2u);
  EXPECT_TRUE(up[0].payload_ok && up[1].payload_ok);
  EXPECT_EQ(napi.gro_held, 2u);
}

TEST_F(Gro, NinthFlowFlushesTheOldest) {
  std::vector<uint64_t> firsts;
  for (int f = 0; f < 9; ++f) {
    Hdr h;
    h.sport = static_cast<uint16_t>(41000 + f);
    firsts.push_back(feed(h, kMss));
  }
  EXPECT_EQ(napi.gro_count, Napi::kMaxGroSkbs);
  deliver();
  ASSERT_EQ(up.size(), 1u);
  EXPECT_EQ(up[0].id, firsts[0]);
  flush();
  ASSERT_EQ(up.size(), 9u);
  for (int f = 0; f < 9; ++f) EXPECT_EQ(up[f].id, firsts[f]);
}

TEST_F(Gro, OneFlowsOrderIsKept) {
  // 20 segments: PSH on the 5th, the 12th and 13th swapped, a pure ACK after the 16th
  Hdr h;
  std::vector<Hdr> segs;
  for (int i = 0; i < 20; ++i) {
    Hdr s = h;
    s.seq = 1000 + i * kMss;
    s.ident = static_cast<uint16_t>(100 + i);
    if (i == 4) s.flags |= wire::kTcpPsh;
    segs.push_back(s);
  }
  std::swap(segs[11], segs[12]);
  std::vector<uint64_t> sent;
  for (int i = 0; i < 20; ++i) {
    sent.push_back(feed(segs[i], kMss));
    if (i == 15) {
      Hdr a = segs[i];
      a.seq += kMss;
      sent.push_back(feed(a, 0));
    }
  }
  flush();
  std::vector<uint64_t> got;
  uint32_t last_seq = 0;
  int inversions = 0;
  for (const Up& u : up) {
    EXPECT_TRUE(u.ip_ok);
    EXPECT_TRUE(u.payload_ok);
    EXPECT_EQ(u.tot_len, u.len);
    if (u.seq < last_seq) ++inversions;
    last_seq = u.seq;
    const auto ids = u.all_ids();
    got.insert(got.end(), ids.begin(), ids.end());
  }
  EXPECT_EQ(got, sent);          // every id once, in the order received
  EXPECT_EQ(inversions, 1);      // only the swap the wire made
  EXPECT_EQ(pool.live(), 0u);
}

TEST_F(Gro, BadChecksumGoesUpUnmerged) {
  Hdr h;
  const auto held = feed_run(h, 2);
  const uint64_t bad = feed(h, kMss, true);
  deliver();
  ASSERT_EQ(up.size(), 1u);  // the bad one alone; the held skb stays
  EXPECT_EQ(up[0].id, bad);
  EXPECT_EQ(up[0].gso_segs, 0u);
  EXPECT_TRUE(up[0].seg_ids.empty());
  EXPECT_EQ(napi.gro_normal, 1u);
  EXPECT_EQ(napi.gro_count, 1u);
  // the good copy of that segment (feed() did not advance h.seq) still joins
  const uint64_t good = feed(h, kMss);
  flush();
  ASSERT_EQ(up.size(), 2u);
  EXPECT_EQ(up[1].all_ids(), (std::vector<uint64_t>{held[0], held[1], good}));
}

TEST_F(Gro, BadIpChecksumGoesUpUnmerged) {
  Hdr h;
  feed_run(h, 2);
  SkBuff* s = pool.alloc(kEth + 20 + kTcpHlen + kMss);
  ASSERT_NE(s, nullptr);
  write_frame(s->bytes(), h, kMss);
  s->head[s->data + kEth + 10] ^= 0x01;  // the IP header checksum
  skb_reset_mac_header(*s);
  skb_pull(*s, kEth);
  skb_reset_network_header(*s);
  s->protocol = 0x0800;
  s->dev = &dev;
  sd.napi_gro_receive(napi, s);
  EXPECT_EQ(napi.gro_normal, 1u);
  flush();
  ASSERT_EQ(up.size(), 2u);
  EXPECT_EQ(up[1].gso_segs, 2u);
}

TEST_F(Gro, OffMergesNothing) {
  dev.gro = false;
  Hdr h;
  const auto ids = feed_run(h, 4);
  EXPECT_EQ(napi.gro_count, 0u);
  flush();
  ASSERT_EQ(up.size(), 4u);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(up[i].id, ids[i]);
    EXPECT_EQ(up[i].gso_segs, 0u);
    EXPECT_EQ(up[i].len, 20 + kTcpHlen + kMss);
  }
  EXPECT_EQ(napi.gro_normal, 4u);
  EXPECT_EQ(napi.gro_held, 0u);
  EXPECT_EQ(napi.gro_skbs, 0u);
  EXPECT_EQ(napi.gro_packets, 0u);
}

// A driver's poll that hands `left` segments of one flow to napi_gro_receive, at most its budget a
// poll, and completes when it runs out.
struct GroDriver {
  Gro* g = nullptr;
  Hdr h;
  int left = 0;
  std::vector<std::size_t> up_after_poll;
  static int poll(Napi* n, int budget) {
    auto& d = *static_cast<GroDriver*>(n->owner);
    int done = 0;
    while (done < budget && d.left > 0) {
      d.g->feed(d.h, kMss);
      d.h.seq += kMss;
      --d.left;
      ++done;
    }
    if (done < budget) d.g->sd.napi_complete_done(*n, done);
    d.up_after_poll.push_back(d.g->up.size());
    return done;
  }
};

TEST_F(Gro, NapiCompleteDoneAndFullPollsFlush) {
  GroDriver d;
  d.g = this;
  d.left = 64 + 10;
  sd.netif_napi_add(napi, &GroDriver::poll, &d, 64);
  sd.napi_enable(napi);
  sd.napi_schedule(napi);
  cpu.run();
  // poll 1: 64 segments, a full poll: flushed after it (45 + 19); poll 2: 10, completed
  ASSERT_EQ(d.up_after_poll.size(), 2u);
  EXPECT_EQ(napi.gro_count, 0u);
  ASSERT_EQ(up.size(), 3u);
  EXPECT_EQ(up[0].gso_segs, 45u);
  EXPECT_EQ(up[1].gso_segs, 19u);
  EXPECT_EQ(up[2].gso_segs, 10u);
  EXPECT_EQ(up[2].seq, 1000u + 64 * kMss);
  EXPECT_EQ(napi.gro_packets, 74u);
  EXPECT_EQ(pool.live(), 0u);
}

// ------------------------------------------------------------------------------ TCP over a pair

struct GsoPair : testing::PairRig {
  Icmp icmp_a{*a.net};
  Icmp icmp_b{*b.net};
  Tcp tcp_a{*a.net, icmp_a};
  Tcp tcp_b{*b.net, icmp_b};
  TaskScope tasks;
  testing::RecordingSink trace;

  GsoPair() {
    a.dev.drop_if = nullptr;
    static_arp();
    a.net->set_trace(&trace, "host_a");
    b.net->set_trace(&trace, "host_b");
  }
  Instant clock{};
  void run_for(Duration d) {
    clock = std::max({clock, a.cpu.now(), b.cpu.now()}) + d;
    run_until(clock);
  }
  std::pair<TcpSock*, TcpSock*> connect_pair() {
    TcpSock* l = tcp_b.socket();
    EXPECT_EQ(tcp_b.bind(*l, {ip4("10.0.0.2"), 5001}), 0);
    EXPECT_EQ(tcp_b.listen(*l, 16), 0);
    TcpSock* c = tcp_a.socket();
    EXPECT_EQ(tcp_a.connect(a.cpu, *c, {ip4("10.0.0.2"), 5001}), -kEINPROGRESS);
    run_for(Duration::ms(5));
    TcpSock* s = tcp_b.accept(*l);
    EXPECT_NE(s, nullptr);
    return {c, s};
  }
  // A device that takes `gap` to send each frame: its queue stops after each frame and wakes
  // `gap` later, so the socket's skbs wait in the qdisc, charged (what TSQ and autocorking see).
  static void wake(void* ctx, uint64_t) { static_cast<testing::WireNetDevice*>(ctx)->netif_tx_wake_queue(); }
  void slow_tx(testing::WireHost& h, Duration gap) {
    h.dev.drop_if = [&h, gap](std::span<const uint8_t>) {
      h.dev.netif_tx_stop_queue();
      (void)h.cpu.call_at(h.cpu.now() + gap, &GsoPair::wake, &h.dev, 0);
      return false;
    };
  }
  // Connects, sends `d` from a to b and checks it arrived whole and in order within 500 ms. The
  // bytes live in the rig, as long as the tasks that use them.
  void send_whole(std::vector<uint8_t> d) {
    auto [c, s] = connect_pair();
    ASSERT_NE(s, nullptr);
    whole_sent = std::move(d);
    transfer(c, s, whole_sent, whole_got);
    run_for(Duration::ms(500));
    ASSERT_EQ(whole_got.size(), whole_sent.size());
    EXPECT_TRUE(whole_got == whole_sent);
  }
  std::vector<uint8_t> whole_sent, whole_got;
  void transfer(TcpSock* c, TcpSock* s, const std::vector<uint8_t>& d, std::vector<uint8_t>& got) {
    tasks.spawn([](Tcp& t, Cpu& cpu, TcpSock* sk, const std::vector<uint8_t>& data) -> Co<void> {
      (void)co_await t.send(cpu, *sk, data);
    }(tcp_a, a.cpu, c, d));
    tasks.spawn([](Tcp& t, Cpu& cpu, TcpSock* sk, std::vector<uint8_t>& into, std::size_t want) -> Co<void> {
      std::vector<uint8_t> buf(65536);
      while (into.size() < want) {
        const int r = co_await t.recv(cpu, *sk, buf);
        if (r <= 0) co_return;
        into.insert(into.end(), buf.begin(), buf.begin() + r);
      }
    }(tcp_b, b.cpu, s, got, d.size()));
  }
  // Data segments (payload > 0) host h put on the wire.
  static int data_frames(const testing::WireHost& h) {
    int n = 0;
    for (const auto& f : h.dev.sent) {
      if (f.size() < 14 + 20 + 20 || f[12] != 0x08 || f[13] != 0x00 || f[14 + 9] != 6) continue;
      const uint32_t ihl = (f[14] & 0x0F) * 4u;
      const uint32_t tot = be16(&f[16]);
      const uint32_t doff = (f[14 + ihl + 12] >> 4) * 4u;
      if (tot > ihl + doff) ++n;
    }
    return n;
  }
  std::vector<uint64_t> gso_segment_ids(uint32_t* with_index = nullptr) const {
    std::vector<uint64_t> v;
    for (const auto& r : trace.events) {
      if (r.e.kind != TraceKind::GsoSegment) continue;
      v.push_back(r.e.packet);
      if (with_index != nullptr && r.e.a > 0) ++*with_index;
    }
    return v;
  }
};

std::vector<uint8_t> stream(std::size_t n) {
  std::vector<uint8_t> d(n);
  for (std::size_t i = 0; i < n; ++i) d[i] = static_cast<uint8_t>(i * 131 + (i >> 9));
  return d;
}

bool is_end(TraceKind k) {
  return k == TraceKind::Consumed || k == TraceKind::Drop || k == TraceKind::TxDropped || k == TraceKind::RxDrop;
}

// Packets of the recorded trace that do not end exactly once (none for those in `lost`, which
// the wire lost without a trace); each reported, the first five.
int bad_journeys(const GsoPair& p, const std::set<uint64_t>& lost = {}) {
  std::map<uint64_t, int> ends;
  std::set<uint64_t> all;
  for (const auto& r : p.trace.events) {
    if (r.e.packet == 0) continue;
    all.insert(r.e.packet);
    if (is_end(r.e.kind)) ++ends[r.e.packet];
  }
  int bad = 0;
  for (const uint64_t id : all) {
    const int want = lost.count(id) != 0 ? 0 : 1;
    if (ends[id] != want && ++bad <= 5) ADD_FAILURE() << "packet " << std::hex << id << " ends " << std::dec << ends[id] << " times";
  }
  return bad;
}

TEST(TcpGso, OneMebibyteGoesInGsoSkbsAndEveryPacketEndsOnce) {
  GsoPair p;
  ASSERT_NO_FATAL_FAILURE(p.send_whole(stream(1 << 20)));
  EXPECT_GT(p.a.net->tx(0).stats().gso_skbs, 0u);
  EXPECT_GT(p.a.net->tx(0).stats().gso_segments, p.a.net->tx(0).stats().gso_skbs);
  uint32_t later = 0;
  const auto seg_ids = p.gso_segment_ids(&later);
  EXPECT_GT(later, 0u);  // segments after the first of a GSO skb
  // the journeys: every packet id ends exactly once, each GSO segment's among them
  std::map<uint64_t, int> ends;
  for (const auto& r : p.trace.events) {
    if (r.e.packet != 0 && is_end(r.e.kind)) ++ends[r.e.packet];
  }
  for (const uint64_t id : seg_ids) EXPECT_EQ(ends[id], 1) << "GSO segment " << std::hex << id;
  EXPECT_EQ(bad_journeys(p), 0);
  EXPECT_EQ(p.tcp_a.mib().RetransSegs, 0u);
  // one gso.segment event for each segment validate_xmit_skb made
  EXPECT_EQ(seg_ids.size(), p.a.net->tx(0).stats().gso_segments);
}

TEST(TcpGso, LostSegmentsOfGsoSkbsAreRepairedAndEveryPacketEndsOnce) {
  GsoPair p;
  auto [c, s] = p.connect_pair();
  ASSERT_NE(s, nullptr);
  // the wire loses three data frames (the 100th, 101st and 300th); the rig traces no end for them
  std::set<uint64_t> lost;
  int n = 0;
  p.a.dev.drop_if = [&](std::span<const uint8_t> f) {
    if (f.size() < 200) return false;
    ++n;
    if (n == 100 || n == 101 || n == 300) {
      lost.insert(p.a.dev.last_id);
      return true;
    }
    return false;
  };
  const auto d = stream(1 << 20);
  std::vector<uint8_t> got;
  p.transfer(c, s, d, got);
  p.run_for(Duration::ms(2000));
  ASSERT_EQ(got.size(), d.size());
  EXPECT_TRUE(got == d);
  EXPECT_EQ(lost.size(), 3u);
  EXPECT_GE(p.tcp_a.mib().RetransSegs, 3u);
  EXPECT_GT(p.a.net->tx(0).stats().gso_skbs, 0u);
  EXPECT_EQ(bad_journeys(p, lost), 0);
}

// sk_gso_max_segs 1 (the device's gso_max_segs 0 or 1): one segment an skb, nothing to cut.
TEST(TcpGso, GsoMaxSegsOneMakesNoGsoSkb) {
  GsoPair p;
  p.a.dev.gso_max_segs = 0;
  ASSERT_NO_FATAL_FAILURE(p.send_whole(stream(256 << 10)));
  EXPECT_EQ(p.a.net->tx(0).stats().gso_skbs, 0u);
  EXPECT_EQ(p.a.net->tx(0).stats().gso_segments, 0u);
  EXPECT_TRUE(p.gso_segment_ids().empty());
  EXPECT_GE(GsoPair::data_frames(p.a), static_cast<int>(p.whole_sent.size() / kMss));
}

// ethtool -K gso off: 6.1's sk_setup_caps gives TCP GSO whatever the device's features say.
TEST(TcpGso, GsoOffOnTheDeviceStillCutsTcpsGsoSkbs) {
  GsoPair p;
  p.a.dev.gso = false;
  ASSERT_NO_FATAL_FAILURE(p.send_whole(stream(256 << 10)));
  EXPECT_GT(p.a.net->tx(0).stats().gso_skbs, 0u);
  EXPECT_GT(p.a.net->tx(0).stats().gso_segments, p.a.net->tx(0).stats().gso_skbs);
}

TEST(TcpGso, SmallQueuesThrottleAndTheTransferCompletes) {
  GsoPair p;
  p.tcp_a.sysctls().tcp_limit_output_bytes = 20000;
  auto [c, s] = p.connect_pair();
  ASSERT_NE(s, nullptr);
  p.slow_tx(p.a, Duration::ns(1200));  // 10 Gb/s for a 1514-byte frame
  const auto d = stream(1 << 20);
  std::vector<uint8_t> got;
  p.transfer(c, s, d, got);
  p.run_for(Duration::ms(500));
  ASSERT_EQ(got.size(), d.size());
  EXPECT_TRUE(got == d);
  EXPECT_GT(p.tcp_a.stats().tsq_throttled, 0u);
  EXPECT_GT(p.tcp_a.stats().tsq_handler, 0u);
  EXPECT_EQ(c->wmem_alloc, 0u);  // every charge given back
  EXPECT_GT(p.a.dev.get_stats64().tx_packets, 0u);
  EXPECT_EQ(bad_journeys(p), 0);  // requeued segments too
}

TEST(TcpGso, DefaultLimitDoesNotThrottleAFastDevice) {
  GsoPair p;
  ASSERT_NO_FATAL_FAILURE(p.send_whole(stream(256 << 10)));
  EXPECT_EQ(p.tcp_a.stats().tsq_throttled, 0u);  // the wire frees each skb as it sends it
}

TEST(TcpGso, ManySmallWritesAreAutocorked) {
  GsoPair p;
  auto [c, s] = p.connect_pair();
  ASSERT_NE(s, nullptr);
  // a device slower than the round trip: a segment Nagle lets go after an ACK waits in the qdisc
  p.slow_tx(p.a, Duration::us(20));
  constexpr int kWrites = 1000;
  constexpr int kLen = 100;
  const auto d = stream(kWrites * kLen);
  std::vector<uint8_t> got;
  const int frames_before = GsoPair::data_frames(p.a);
  p.tasks.spawn([](Tcp& t, Cpu& cpu, TcpSock* sk, const std::vector<uint8_t>& data) -> Co<void> {
    for (int i = 0; i < kWrites; ++i) {
      (void)co_await t.send(cpu, *sk, std::span<const uint8_t>(data).subspan(i * kLen, kLen));
      co_await sleep(cpu, Duration::ns(300));
    }
  }(p.tcp_a, p.a.cpu, c, d));
  p.tasks.spawn([](Tcp& t, Cpu& cpu, TcpSock* sk, std::vector<uint8_t>& into, std::size_t want) -> Co<void> {
    std::vector<uint8_t> buf(65536);
    while (into.size() < want) {
      const int r = co_await t.recv(cpu, *sk, buf);
      if (r <= 0) co_return;
      into.insert(into.end(), buf.begin(), buf.begin() + r);
    }
  }(p.tcp_b, p.b.cpu, s, got, d.size()));
  p.run_for(Duration::ms(500));
  ASSERT_EQ(got.size(), d.size());
  EXPECT_TRUE(got == d);
  EXPECT_GT(p.tcp_a.ext()[LinuxMib::TCPAutoCorking], 0u);
  EXPECT_GE(p.tcp_a.stats().autocork, p.tcp_a.ext()[LinuxMib::TCPAutoCorking]);
  const int segs = GsoPair::data_frames(p.a) - frames_before;
  EXPECT_LT(segs, kWrites);
  EXPECT_GT(segs, 0);
}

TEST(TcpGso, AutocorkingOffSendsNoAutocork) {
  GsoPair p;
  p.tcp_a.sysctls().tcp_autocorking = false;
  auto [c, s] = p.connect_pair();
  ASSERT_NE(s, nullptr);
  p.slow_tx(p.a, Duration::us(20));
  const auto d = stream(200 * 100);
  std::vector<uint8_t> got;
  p.tasks.spawn([](Tcp& t, Cpu& cpu, TcpSock* sk, const std::vector<uint8_t>& data) -> Co<void> {
    for (int i = 0; i < 200; ++i) {
      (void)co_await t.send(cpu, *sk, std::span<const uint8_t>(data).subspan(i * 100, 100));
      co_await sleep(cpu, Duration::ns(300));
    }
  }(p.tcp_a, p.a.cpu, c, d));
  p.tasks.spawn([](Tcp& t, Cpu& cpu, TcpSock* sk, std::vector<uint8_t>& into, std::size_t want) -> Co<void> {
    std::vector<uint8_t> buf(65536);
    while (into.size() < want) {
      const int r = co_await t.recv(cpu, *sk, buf);
      if (r <= 0) co_return;
      into.insert(into.end(), buf.begin(), buf.begin() + r);
    }
  }(p.tcp_b, p.b.cpu, s, got, d.size()));
  p.run_for(Duration::ms(500));
  ASSERT_EQ(got.size(), d.size());
  EXPECT_EQ(p.tcp_a.ext()[LinuxMib::TCPAutoCorking], 0u);
  EXPECT_EQ(p.tcp_a.stats().autocork, 0u);
}

}  // namespace
}  // namespace vnic::stack
