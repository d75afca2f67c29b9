// ip_defrag (net/ipv4/ip_fragment.c and net/ipv4/inet_fragment.c, Linux 6.1; ingress 18): RFC 815
// reassembly in any order, RFC 5722's overlap rule as inet_frag_queue_insert applies it, the
// last-fragment checks of ip_frag_queue, ip_expire's timeout with its ICMP (RFC 792, RFC 1122
// 3.3.2), inet_frag_find's memory limit, ip_frag_too_far, ip_frag_reasm's checks, and the trace:
// one end per fragment, the datagram under the first fragment's id.
#include <gtest/gtest.h>

#include <cstring>
#include <set>

#include "support/net_rig.hpp"
#include "vnic/stack/ip_frag.hpp"

namespace vnic::stack {
namespace {

using testing::NetRig;

std::vector<uint8_t> pattern(std::size_t n, uint8_t seed = 5) {
  std::vector<uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i * 13 + seed);
  return v;
}

struct FragSpec {
  uint32_t off = 0;  // payload offset, bytes
  uint32_t len = 0;  // payload bytes
  bool mf = true;
  uint16_t ident = 0x4242;
  uint64_t id = 1;
  const char* src = "10.0.0.2";
  uint8_t tos = 0;
  bool df = false;
};

// A fragment as ip_rcv_core hands it on: trimmed, data and the network header at the IP header,
// the transport header after it; its payload the slice [off, off + len) of `data`.
SkBuff* fragment(NetRig& r, const std::vector<uint8_t>& data, const FragSpec& f) {
  wire::Ipv4Repr ip;
  ip.src = testing::ip4(f.src);
  ip.dst = testing::ip4("10.0.0.1");
  ip.protocol = wire::IpProtocol::Udp;
  ip.ident = f.ident;
  ip.tos = f.tos;
  ip.dont_fragment = f.df;
  ip.more_fragments = f.mf;
  ip.frag_offset = static_cast<uint16_t>(f.off);
  ip.payload_len = static_cast<uint16_t>(f.len);
  SkBuff* s = r.pool.alloc(static_cast<uint32_t>(ip.total_len()));
  ip.emit(s->bytes());
  std::memcpy(s->bytes().data() + 20, data.data() + f.off, f.len);
  skb_reset_network_header(*s);
  skb_set_transport_header(*s, 20);
  s->dev = &r.dev;
  s->protocol = 0x0800;
  s->trace_id = f.id;
  s->tstamp = r.cpu.now();
  return s;
}

// The 4000-byte datagram of the fragmentation tests, as its three fragments at MTU 1500.
std::vector<FragSpec> three(uint64_t first_id = 1, uint16_t ident = 0x4242) {
  return {{0, 1480, true, ident, first_id},
          {1480, 1480, true, ident, first_id + 1},
          {2960, 1020, false, ident, first_id + 2}};
}

struct IcmpHook {
  int calls = 0;
  uint8_t type = 0, code = 0;
  uint16_t quoted_offset = 0xFFFF;
  uint64_t quoted_id = 0;
  Instant when{};
  static void fn(void* ctx, Cpu& cpu, const SkBuff& in, uint8_t type, uint8_t code, uint32_t) {
    auto* h = static_cast<IcmpHook*>(ctx);
    ++h->calls;
    h->when = cpu.now();
    h->type = type;
    h->code = code;
    h->quoted_offset = static_cast<uint16_t>(wire::load_be16(in.network_bytes(), 6) & wire::kIpv4FragOffsetMask);
    h->quoted_id = in.trace_id;
  }
};

// How each packet id ended in the trace: the Drop and Consumed events.
std::vector<TraceEvent> ends_of(const NetRig& r, uint64_t id) {
  std::vector<TraceEvent> v;
  for (const TraceEvent& e : r.sink.of_packet(id)) {
    if (e.kind == TraceKind::Drop || e.kind == TraceKind::Consumed) v.push_back(e);
  }
  return v;
}
void expect_joined(const NetRig& r, uint64_t id) {
  const auto e = ends_of(r, id);
  ASSERT_EQ(e.size(), 1u) << id;
  EXPECT_EQ(e[0].kind, TraceKind::Consumed) << id;
  EXPECT_EQ(e[0].a, model::kConsumedJoined) << id;
  EXPECT_EQ(e[0].step, model::ingress(18));
}
void expect_dropped(const NetRig& r, uint64_t id) {
  const auto e = ends_of(r, id);
  ASSERT_EQ(e.size(), 1u) << id;
  EXPECT_EQ(e[0].kind, TraceKind::Drop) << id;
  EXPECT_EQ(e[0].a, static_cast<uint32_t>(SkbDropReason::NotSpecified)) << id;  // kfree_skb in 6.1
  EXPECT_EQ(e[0].b, model::host_drop(model::HostDrop::FragQueueDropped)) << id;
}

// The datagram back: its header rewritten (RFC 815: total length, no fragment fields) and the
// payload in order.
void expect_datagram(SkBuff* d, const std::vector<uint8_t>& data, uint64_t id) {
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->trace_id, id);
  EXPECT_EQ(skb_network_offset(*d), 0);
  EXPECT_EQ(skb_network_header_len(*d), 20u);
  const auto p = wire::Ipv4Packet::checked(d->bytes());  // the checksum recomputed
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->total_len(), 20 + data.size());
  EXPECT_FALSE(p->is_fragment());
  EXPECT_EQ(std::vector<uint8_t>(p->payload().begin(), p->payload().end()), data);
}

TEST(IpDefrag, InOrderFragmentsMakeTheDatagramUnderTheFirstFragmentsId) {
  NetRig r;
  const auto data = pattern(3980);
  const auto fs = three();
  EXPECT_EQ(r.net->ip_defrag(r.cpu, fragment(r, data, fs[0])), nullptr);
  EXPECT_EQ(r.net->frag_queues(), 1u);
  EXPECT_EQ(r.net->ip_defrag(r.cpu, fragment(r, data, fs[1])), nullptr);
  SkBuff* d = r.net->ip_defrag(r.cpu, fragment(r, data, fs[2]));
  expect_datagram(d, data, 1);
  EXPECT_EQ(r.net->ip_mib().ReasmReqds, 3u);
  EXPECT_EQ(r.net->ip_mib().ReasmOKs, 1u);
  EXPECT_EQ(r.net->ip_mib().ReasmFails, 0u);
  EXPECT_EQ(r.net->frag_queues(), 0u);
  EXPECT_EQ(r.net->frag_mem(), 0u);
  // Trace: IpDefrag for each (offset, IP id); the others joined; IpReasm under id 1.
  for (std::size_t i = 0; i < 3; ++i) {
    const auto ev = r.sink.of_packet(fs[i].id);
    ASSERT_FALSE(ev.empty());
    EXPECT_EQ(ev[0].kind, TraceKind::IpDefrag);
    EXPECT_EQ(ev[0].a, fs[i].off);
    EXPECT_EQ(ev[0].b, 0x4242u);
  }
  EXPECT_TRUE(ends_of(r, 1).empty());  // its id goes on in the datagram
  expect_joined(r, 2);
  expect_joined(r, 3);
  const auto ev1 = r.sink.of_packet(1);
  EXPECT_EQ(ev1.back().kind, TraceKind::IpReasm);
  EXPECT_EQ(ev1.back().a, 4000u);
  EXPECT_EQ(ev1.back().b, 3u);
  EXPECT_EQ(r.pool.live(), 1u);  // the datagram only
  consume_skb(d);
}

TEST(IpDefrag, ReverseOrderCompletesOnTheFirstFragment) {
  // RFC 815: holes filled in any order; the datagram still carries the offset-0 fragment's id.
  NetRig r;
  const auto data = pattern(3980);
  const auto fs = three(10);
  EXPECT_EQ(r.net->ip_defrag(r.cpu, fragment(r, data, fs[2])), nullptr);
  EXPECT_EQ(r.net->ip_defrag(r.cpu, fragment(r, data, fs[1])), nullptr);
  SkBuff* d = r.net->ip_defrag(r.cpu, fragment(r, data, fs[0]));
  expect_datagram(d, data, 10);
  expect_joined(r, 11);
  expect_joined(r, 12);
  EXPECT_EQ(r.net->frag_mem(), 0u);
  consume_skb(d);
}

TEST(IpDefrag, InterleavedDatagramsAreKeptApartByTheirKey) {
  // ip_find's key: source, destination, IP id, protocol (and the defrag user).
  NetRig r;
  const auto a = pattern(3980, 1);
  const auto b = pattern(3980, 2);
  const auto fa = three(100, 7);
  const auto fb = three(200, 8);
  EXPECT_EQ(r.net->ip_defrag(r.cpu, fragment(r, a, fa[0])), nullptr);
  EXPECT_EQ(r.net->ip_defrag(r.cpu, fragment(r, b, fb[2])), nullptr);
  EXPECT_EQ(r.net->ip_defrag(r.cpu, fragment(r, a, fa[2])), nullptr);
  EXPECT_EQ(r.net->ip_defrag(r.cpu, fragment(r, b, fb[0])), nullptr);
  EXPECT_EQ(r.net->frag_queues(), 2u);
  SkBuff* db = r.net->ip_defrag(r.cpu, fragment(r, b, fb[1]));
  expect_datagram(db, b, 200);
  SkBuff* da = r.net->ip_defrag(r.cpu, fragment(r, a, fa[1]));
  expect_datagram(da, a, 100);
  EXPECT_EQ(r.net->ip_mib().ReasmOKs, 2u);
  consume_skb(da);
  consume_skb(db);
}

TEST(IpDefrag, AnExactDuplicateIsDroppedAloneAndTheQueueGoesOn) {
  // RFC 5722 4 as amended by Errata 3089, inet_frag_queue_insert's IPFRAG_DUP: the duplicate is
  // freed, no ReasmFails and no ReasmOverlaps; the datagram still completes.
  NetRig r;
  const auto data = pattern(3980);
  auto fs = three();
  FragSpec dup = fs[1];
  dup.id = 50;
  EXPECT_EQ(r.net->ip_defrag(r.cpu, fragment(r, data, fs[0])), nullptr);
  EXPECT_EQ(r.net->ip_defrag(r.cpu, fragment(r, data, fs[1])), nullptr);
  EXPECT_EQ(r.net->ip_defrag(r.cpu, fragment(r, data, dup)), nullptr);
  expect_dropped(r, 50);
  EXPECT_EQ(r.net->ip_mib().ReasmFails, 0u);
  EXPECT_EQ(r.net->ip_mib().ReasmOverlaps, 0u);
  SkBuff* d = r.net->ip_defrag(r.cpu, fragment(r, data, fs[2]));
  expect_datagram(d, data, 1);
  EXPECT_EQ(r.net->ip_mib().ReasmReqds, 4u);
  consume_skb(d);
}

TEST(IpDefrag, AnOverlapDropsTheWholeQueueWithReasmOverlaps) {
  // RFC 5722 4: any overlap discards the datagram and every fragment of it (IPFRAG_OVERLAP ->
  // ReasmOverlaps, then discard_qp: ReasmFails once).
  NetRig r;
  const auto data = pattern(3980);
  auto fs = three();
  EXPECT_EQ(r.net->ip_defrag(r.cpu, fragment(r, data, fs[0])), nullptr);
  EXPECT_EQ(r.net->ip_defrag(r.cpu, fragment(r, data, fs[2])), nullptr);
  FragSpec bad{1000, 1480, true, 0x4242, 9};  // starts inside the first fragment
  EXPECT_EQ(r.net->ip_defrag(r.cpu, fragment(r, data, bad)), nullptr);
  EXPECT_EQ(r.net->ip_mib().ReasmOverlaps, 1u);
  EXPECT_EQ(r.net->ip_mib().ReasmFails, 1u);
  EXPECT_EQ(r.net->frag_queues(), 0u);
  EXPECT_EQ(r.net->frag_mem(), 0u);
  expect_dropped(r, 1);
  expect_dropped(r, 3);
  expect_dropped(r, 9);
  EXPECT_EQ(r.pool.live(), 0u);
  // A later fragment of that datagram starts a new queue.
  EXPECT_EQ(r.net->ip_defrag(r.cpu, fragment(r, data, fs[1])), nullptr);
  EXPECT_EQ(r.net->frag_queues(), 1u);
}

TEST(IpDefrag, ADifferentOrShorterLastFragmentKillsTheQueue) {
  // ip_frag_queue: a last fragment (MF clear) ending before data already queued, or a second
  // last fragment with another end, is corruption: discard_qp (ReasmFails, no ReasmOverlaps).
  NetRig r;
  const auto data = pattern(3980);
  auto fs = three();
  EXPECT_EQ(r.net->ip_defrag(r.cpu, fragment(r, data, fs[1])), nullptr);  // data up to 2960
  EXPECT_EQ(r.net->ip_defrag(r.cpu, fragment(r, data, {0, 1000, false, 0x4242, 20})), nullptr);
  EXPECT_EQ(r.net->ip_mib().ReasmFails, 1u);
  EXPECT_EQ(r.net->frag_queues(), 0u);
  expect_dropped(r, 2);
  expect_dropped(r, 20);

  EXPECT_EQ(r.net->ip_defrag(r.cpu, fragment(r, data, fs[2])), nullptr);  // last: ends at 3980
  EXPECT_EQ(r.net->ip_defrag(r.cpu, fragment(r, data, {0, 2000, false, 0x4242, 21})), nullptr);
  EXPECT_EQ(r.net->ip_mib().ReasmFails, 2u);
  EXPECT_EQ(r.net->ip_mib().ReasmOverlaps, 0u);
  EXPECT_EQ(r.net->frag_queues(), 0u);
  expect_dropped(r, 3);
  expect_dropped(r, 21);
}

TEST(IpDefrag, TimeoutAfterIpfragTimeSendsTimeExceededAboutTheFirstFragment) {
  // ip_expire: ipfrag_time (30 s) from the queue's creation, not re-armed by later fragments;
  // ReasmFails + ReasmTimeout; RFC 792 time exceeded, "fragment reassembly time exceeded"
  // (code 1), quoting the first fragment since it had arrived (INET_FRAG_FIRST_IN).
  NetRig r;
  IcmpHook h;
  r.net->set_icmp_send(&IcmpHook::fn, &h);
  const auto data = pattern(3980);
  auto fs = three();
  EXPECT_EQ(r.net->ip_defrag(r.cpu, fragment(r, data, fs[0])), nullptr);
  r.cpu.set_now(Instant{} + Duration::s(20));
  EXPECT_EQ(r.net->ip_defrag(r.cpu, fragment(r, data, fs[2])), nullptr);
  r.cpu.run();
  EXPECT_EQ(r.net->ip_mib().ReasmTimeout, 1u);
  EXPECT_EQ(r.net->ip_mib().ReasmFails, 1u);
  EXPECT_EQ(h.calls, 1);
  EXPECT_EQ(h.type, 11);
  EXPECT_EQ(h.code, 1);
  EXPECT_EQ(h.quoted_offset, 0);
  EXPECT_EQ(h.quoted_id, 1u);
  EXPECT_GE(h.when, Instant{} + Duration::s(30));  // 30 s from the first fragment, not from the last
  EXPECT_LT(h.when, Instant{} + Duration::s(30) + Duration::us(10));
  expect_dropped(r, 1);
  expect_dropped(r, 3);
  EXPECT_EQ(r.net->frag_queues(), 0u);
  EXPECT_EQ(r.net->frag_mem(), 0u);
  EXPECT_EQ(r.pool.live(), 0u);
}

TEST(IpDefrag, TimeoutWithoutTheFirstFragmentSendsNothing) {
  // ip_expire: no INET_FRAG_FIRST_IN, no ICMP (RFC 1122 3.3.2: only if fragment zero arrived).
  NetRig r;
  IcmpHook h;
  r.net->set_icmp_send(&IcmpHook::fn, &h);
  const auto data = pattern(3980);
  auto fs = three();
  EXPECT_EQ(r.net->ip_defrag(r.cpu, fragment(r, data, fs[1])), nullptr);
  EXPECT_EQ(r.net->ip_defrag(r.cpu, fragment(r, data, fs[2])), nullptr);
  r.cpu.run();
  EXPECT_EQ(r.net->ip_mib().ReasmTimeout, 1u);
  EXPECT_EQ(r.net->ip_mib().ReasmFails, 1u);
  EXPECT_EQ(h.calls, 0);
  expect_dropped(r, 2);
  expect_dropped(r, 3);
  EXPECT_EQ(r.pool.live(), 0u);
}

TEST(IpDefrag, AboveIpfragHighThreshEveryFragmentIsRefused) {
  // inet_frag_find: memory in use (fragments' truesize + sizeof(struct ipq) per queue) above
  // ipfrag_high_thresh: no queue found or made; ip_defrag counts ReasmFails and frees it.
  NetRig r;
  const auto data = pattern(3980);
  auto fs = three();
  SkBuff* f0 = fragment(r, data, fs[0]);
  const uint32_t one = f0->truesize + kIpqSize;
  r.net->ipv4_sysctls().ipfrag_high_thresh = one + 10;
  EXPECT_EQ(r.net->ip_defrag(r.cpu, f0), nullptr);
  EXPECT_EQ(r.net->frag_mem(), one);
  // Still at or below the limit: another datagram's queue is made.
  FragSpec other = fs[0];
  other.ident = 99;
  other.id = 30;
  EXPECT_EQ(r.net->ip_defrag(r.cpu, fragment(r, data, other)), nullptr);
  EXPECT_EQ(r.net->frag_queues(), 2u);
  EXPECT_EQ(r.net->ip_mib().ReasmFails, 0u);
  // Now above it: even a fragment of an existing queue is refused.
  EXPECT_EQ(r.net->ip_defrag(r.cpu, fragment(r, data, fs[1])), nullptr);
  EXPECT_EQ(r.net->ip_mib().ReasmFails, 1u);
  expect_dropped(r, 2);
  EXPECT_EQ(r.net->frag_mem(), 2u * one);
  // ipfrag_high_thresh 0 turns reassembly off.
  r.net->ipv4_sysctls().ipfrag_high_thresh = 0;
  FragSpec third = fs[0];
  third.ident = 100;
  third.id = 31;
  EXPECT_EQ(r.net->ip_defrag(r.cpu, fragment(r, data, third)), nullptr);
  EXPECT_EQ(r.net->ip_mib().ReasmFails, 2u);
  EXPECT_EQ(r.net->frag_queues(), 2u);
  // ipfrag_low_thresh only bounds the sysctls (no evictor since 4.17).
  EXPECT_FALSE(ipfrag_thresh_valid(r.net->ipv4_sysctls()));
  EXPECT_TRUE(ipfrag_thresh_valid(Ipv4Sysctls{}));
}

TEST(IpDefrag, AQueueMoreThanMaxDistFragmentsBehindIsStartedAgain) {
  // ip_frag_too_far: more than ipfrag_max_dist (64) fragments from the same source between two
  // of this queue's: ReasmFails, and ip_frag_reinit frees what it held; the new fragment stays.
  for (const int between : {63, 64}) {
    NetRig r;
    const auto data = pattern(3980);
    auto fs = three();
    EXPECT_EQ(r.net->ip_defrag(r.cpu, fragment(r, data, fs[0])), nullptr);
    for (int i = 0; i < between; ++i) {
      FragSpec o{0, 8, true, static_cast<uint16_t>(1000 + i), static_cast<uint64_t>(1000 + i)};
      EXPECT_EQ(r.net->ip_defrag(r.cpu, fragment(r, data, o)), nullptr);
    }
    // Fragments from another source do not count.
    FragSpec elsewhere{0, 8, true, 7, 5000, "10.0.0.3"};
    EXPECT_EQ(r.net->ip_defrag(r.cpu, fragment(r, data, elsewhere)), nullptr);
    EXPECT_EQ(r.net->ip_defrag(r.cpu, fragment(r, data, fs[1])), nullptr);
    if (between == 63) {
      EXPECT_EQ(r.net->ip_mib().ReasmFails, 0u);
      EXPECT_TRUE(ends_of(r, 1).empty());
      SkBuff* d = r.net->ip_defrag(r.cpu, fragment(r, data, fs[2]));
      expect_datagram(d, data, 1);
      consume_skb(d);
    } else {
      EXPECT_EQ(r.net->ip_mib().ReasmFails, 1u);
      expect_dropped(r, 1);
      EXPECT_TRUE(ends_of(r, 2).empty());  // queued in the queue started again
      // The datagram can still complete if its first fragment comes again.
      EXPECT_EQ(r.net->ip_defrag(r.cpu, fragment(r, data, fs[2])), nullptr);
      FragSpec again = fs[0];
      again.id = 60;
      SkBuff* d = r.net->ip_defrag(r.cpu, fragment(r, data, again));
      expect_datagram(d, data, 60);
      consume_skb(d);
    }
  }
}

TEST(IpDefrag, ADatagramOver65535BytesFailsReassembly) {
  // ip_frag_reasm: ip_hdrlen + q.len > 65535 -> out_oversize: ReasmFails ("Oversized IP packet");
  // the fragments go with the queue. RFC 791: the total length is 16 bits.
  NetRig r;
  const auto data = pattern(65528 + 16);
  std::vector<FragSpec> fs;
  for (uint32_t off = 0; off < 64000; off += 16000) fs.push_back({off, 16000, true, 0x77, 1 + off / 16000});
  fs.push_back({64000, 1544, false, 0x77, 10});  // ends at 65544: 65564 bytes with the header
  for (const FragSpec& f : fs) EXPECT_EQ(r.net->ip_defrag(r.cpu, fragment(r, data, f)), nullptr);
  EXPECT_EQ(r.net->ip_mib().ReasmFails, 1u);
  EXPECT_EQ(r.net->ip_mib().ReasmOKs, 0u);
  for (const FragSpec& f : fs) expect_dropped(r, f.id);
  EXPECT_EQ(r.net->frag_queues(), 0u);
  EXPECT_EQ(r.net->frag_mem(), 0u);
  EXPECT_EQ(r.pool.live(), 0u);
}

TEST(IpDefrag, ADatagramAboveSixteenKiBIsReassembledInAHugeBuffer) {
  // 45 fragments of a 65000-byte payload: one linear skb from the pool's 64 KiB class (Linux
  // chains the fragments instead); the bytes in order, ReasmOKs.
  NetRig r;
  const uint32_t n = 65000;
  const auto data = pattern(n);
  std::vector<FragSpec> fs;
  uint64_t id = 1;
  for (uint32_t off = 0; off < n; off += 1480, ++id) {
    const uint32_t len = std::min<uint32_t>(1480, n - off);
    fs.push_back({off, len, off + len < n, 0x55, id});
  }
  SkBuff* out = nullptr;
  for (std::size_t i = 0; i < fs.size(); ++i) {
    out = r.net->ip_defrag(r.cpu, fragment(r, data, fs[i]));
    if (i + 1 < fs.size()) {
      EXPECT_EQ(out, nullptr) << i;
    }
  }
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(r.net->ip_mib().ReasmOKs, 1u);
  EXPECT_EQ(r.net->ip_mib().ReasmFails, 0u);
  EXPECT_EQ(out->size, SkbPool::kHugeBuf);
  const auto b = out->network_bytes();
  ASSERT_EQ(b.size(), 20u + n);
  EXPECT_TRUE(std::equal(data.begin(), data.end(), b.begin() + 20));
  kfree_skb(out);
  EXPECT_EQ(r.pool.live(), 0u);
}

TEST(IpDefrag, DontFragmentSurvivesOnlyWhenTheLargestFragmentHadIt) {
  // ip_frag_reasm: frag_off = IP_DF if max_df_size == max_size (IPSKB_FRAG_PMTU), else 0.
  for (const bool df_on_first : {true, false}) {
    NetRig r;
    const auto data = pattern(3980);
    auto fs = three();
    fs[0].df = df_on_first;
    fs[1].df = df_on_first;
    fs[2].df = true;  // the small last one always has DF
    SkBuff* d = nullptr;
    for (const FragSpec& f : fs) d = r.net->ip_defrag(r.cpu, fragment(r, data, f));
    ASSERT_NE(d, nullptr);
    const auto p = wire::Ipv4Packet::checked(d->bytes());
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p->dont_fragment(), df_on_first);
    EXPECT_FALSE(p->is_fragment());
    consume_skb(d);
  }
}

TEST(IpDefrag, EcnOfTheFragmentsFollowsRfc3168) {
  // ip_frag_ecn_table: CE with ECT fragments marks the datagram CE; Not-ECT mixed with ECT
  // fails it (ReasmFails, every fragment dropped).
  {
    NetRig r;
    const auto data = pattern(3980);
    auto fs = three();
    fs[0].tos = 0x02;  // ECT(0)
    fs[1].tos = 0x03;  // CE
    fs[2].tos = 0x02;
    SkBuff* d = nullptr;
    for (const FragSpec& f : fs) d = r.net->ip_defrag(r.cpu, fragment(r, data, f));
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(wire::Ipv4Packet::checked(d->bytes())->ecn(), 3);
    consume_skb(d);
  }
  {
    NetRig r;
    const auto data = pattern(3980);
    auto fs = three();
    fs[1].tos = 0x02;  // ECT(0) among Not-ECT
    for (const FragSpec& f : fs) EXPECT_EQ(r.net->ip_defrag(r.cpu, fragment(r, data, f)), nullptr);
    EXPECT_EQ(r.net->ip_mib().ReasmFails, 1u);
    for (const FragSpec& f : fs) expect_dropped(r, f.id);
  }
}

TEST(IpDefrag, EveryFragmentEndsOnceAndTheDatagramGoesOn) {
  // The per-packet account across a mix: two datagrams complete, one overlaps, one times out.
  NetRig r;
  const auto data = pattern(3980);
  std::vector<SkBuff*> out;
  std::set<uint64_t> ids;
  auto feed = [&](FragSpec f) {
    ids.insert(f.id);
    if (SkBuff* d = r.net->ip_defrag(r.cpu, fragment(r, data, f))) out.push_back(d);
  };
  for (const FragSpec& f : three(100, 1)) feed(f);
  const auto b = three(200, 2);
  feed(b[2]);
  feed(b[0]);
  feed({500, 1480, true, 2, 203});  // overlaps b[0]: queue 2 goes
  const auto c = three(300, 3);
  feed(c[1]);
  const auto e = three(400, 4);
  feed(e[1]);
  feed(e[0]);
  feed(e[2]);
  r.cpu.run();  // queue 3 times out
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0]->trace_id, 100u);
  EXPECT_EQ(out[1]->trace_id, 400u);
  for (uint64_t id : ids) {
    const std::size_t n = ends_of(r, id).size();
    EXPECT_EQ(n, id == 100 || id == 400 ? 0u : 1u) << id;
  }
  EXPECT_EQ(r.net->ip_mib().ReasmReqds, ids.size());
  EXPECT_EQ(r.net->ip_mib().ReasmOKs, 2u);
  EXPECT_EQ(r.net->ip_mib().ReasmFails, 2u);
  EXPECT_EQ(r.net->frag_mem(), 0u);
  for (SkBuff* d : out) consume_skb(d);
  EXPECT_EQ(r.pool.live(), 0u);
}

TEST(IpDefrag, QueuesLeftAtTeardownAreFreedWithoutTraceAndTheirTimersStop) {
  // ip_frags_exit (fqdir_exit): queued fragments freed, no timer left to run.
  NetRig r;
  const auto data = pattern(3980);
  EXPECT_EQ(r.net->ip_defrag(r.cpu, fragment(r, data, three()[0])), nullptr);
  const std::size_t events = r.sink.events.size();
  r.net.reset();
  EXPECT_EQ(r.pool.live(), 0u);
  EXPECT_EQ(r.sink.events.size(), events);
  r.cpu.run();  // the expiry was cancelled: nothing runs on the gone stack
  EXPECT_EQ(r.sink.events.size(), events);
}

struct L4 {
  std::vector<std::vector<uint8_t>> got;
  std::vector<uint64_t> ids;
  static void fn(void* ctx, SkBuff* skb) {
    auto* l = static_cast<L4*>(ctx);
    l->got.emplace_back(skb->bytes().begin(), skb->bytes().end());
    l->ids.push_back(skb->trace_id);
    consume_skb(skb);
  }
};

TEST(IpDefrag, ThroughIpLocalDeliverTheProtocolGetsTheWholeDatagram) {
  // ip_local_deliver: ip_is_fragment -> ip_defrag(IP_DEFRAG_LOCAL_DELIVER); the datagram it
  // completes goes on to the protocol handler (ingress 19) under the first fragment's id.
  NetRig r;
  L4 l4;
  r.net->inet_add_protocol(17, &L4::fn, &l4);
  const auto data = pattern(3980);
  const auto fs = three(40);
  for (const FragSpec& f : {fs[1], fs[0], fs[2]}) {
    wire::Ipv4Repr ip;
    ip.src = testing::ip4(f.src);
    ip.dst = testing::ip4("10.0.0.1");
    ip.protocol = wire::IpProtocol::Udp;
    ip.ident = f.ident;
    ip.more_fragments = f.mf;
    ip.frag_offset = static_cast<uint16_t>(f.off);
    ip.payload_len = static_cast<uint16_t>(f.len);
    std::vector<uint8_t> dgram(ip.total_len());
    ip.emit(dgram);
    std::memcpy(dgram.data() + 20, data.data() + f.off, f.len);
    r.receive(r.frame(0x0800, dgram, f.id));
  }
  ASSERT_EQ(l4.got.size(), 1u);
  EXPECT_EQ(l4.got[0], data);  // the IP header pulled: the whole payload
  EXPECT_EQ(l4.ids[0], 40u);
  EXPECT_EQ(r.net->ip_mib().ReasmOKs, 1u);
  EXPECT_EQ(r.net->ip_mib().InDelivers, 1u);
  expect_joined(r, 41);
  expect_joined(r, 42);
  EXPECT_EQ(r.pool.live(), 0u);
}

TEST(IpFragQueueInsert, RunsDuplicatesAndOverlapsAsInetFragQueueInsert) {
  // inet_frag_queue_insert: appends at the tail extend a run; a fragment inside a run (even
  // spanning two fragments of it) is a duplicate; one crossing a run's edge is an overlap.
  NetRig r;
  std::vector<SkBuff*> s;
  auto mk = [&](uint32_t len) {
    s.push_back(r.pool.alloc(len));
    return s.back();
  };
  IpFragQueue q;
  EXPECT_EQ(inet_frag_queue_insert(q, mk(8), 0, 8), FragInsert::Ok);
  EXPECT_EQ(inet_frag_queue_insert(q, mk(8), 8, 16), FragInsert::Ok);    // appended: one run
  EXPECT_EQ(inet_frag_queue_insert(q, mk(8), 32, 40), FragInsert::Ok);   // a gap: a new run
  ASSERT_EQ(q.runs.size(), 2u);
  EXPECT_EQ(q.runs.at(0).len, 16);
  EXPECT_EQ(inet_frag_queue_insert(q, mk(8), 4, 12), FragInsert::Dup);   // inside run [0,16)
  EXPECT_EQ(inet_frag_queue_insert(q, mk(8), 12, 20), FragInsert::Overlap);
  EXPECT_EQ(inet_frag_queue_insert(q, mk(8), 36, 44), FragInsert::Overlap);  // crosses the tail
  EXPECT_EQ(inet_frag_queue_insert(q, mk(8), 16, 24), FragInsert::Ok);   // in the hole: own run
  EXPECT_EQ(q.runs.size(), 3u);
  EXPECT_EQ(inet_frag_queue_insert(q, mk(8), 24, 32), FragInsert::Ok);
  EXPECT_EQ(inet_frag_queue_insert(q, mk(16), 16, 32), FragInsert::Overlap);  // two runs
  for (SkBuff* x : s) kfree_skb(x);
}

}  // namespace
}  // namespace vnic::stack
