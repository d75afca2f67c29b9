// ip_do_fragment (net/ipv4/ip_output.c, Linux 6.1; egress 9): RFC 791 3.2's cut of a datagram
// into fragments of at most the MTU, with 6.1's counters (FragCreates, FragOKs, FragFails), the
// DF refusal with its ICMP (ip_fragment), ip_options_fragment's copied options, a fragment cut
// again, and the trace ids of the pieces.
#include <gtest/gtest.h>

#include <cstring>
#include <optional>

#include "support/net_rig.hpp"
#include "vnic/stack/ip_frag.hpp"
#include "vnic/stack/wire/checksum.hpp"

namespace vnic::stack {
namespace {

using testing::NetRig;

std::vector<uint8_t> pattern(std::size_t n, uint8_t seed = 3) {
  std::vector<uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i * 7 + seed);
  return v;
}

struct DatagramSpec {
  std::size_t payload = 3980;  // 4000 bytes with a 20-byte header
  bool df = false;
  bool mf = false;
  uint16_t frag_offset = 0;  // bytes
  uint16_t ident = 0x1234;
  std::vector<uint8_t> options;
  uint64_t id = 77;
};

// An IPv4 datagram as ip_output hands it on: skb->data and the network header at the IP header.
SkBuff* datagram(NetRig& r, const DatagramSpec& d) {
  wire::Ipv4Repr ip;
  ip.src = testing::ip4("10.0.0.1");
  ip.dst = testing::ip4("10.0.9.9");
  ip.protocol = wire::IpProtocol::Udp;
  ip.ident = d.ident;
  ip.dont_fragment = d.df;
  ip.more_fragments = d.mf;
  ip.frag_offset = d.frag_offset;
  ip.options = d.options;
  ip.payload_len = static_cast<uint16_t>(d.payload);
  SkBuff* s = r.pool.alloc(static_cast<uint32_t>(ip.total_len()), SkbAlloc::AllocSkb);
  ip.emit(s->bytes());
  const std::vector<uint8_t> p = pattern(d.payload);
  std::memcpy(s->bytes().data() + ip.header_len(), p.data(), p.size());
  skb_reset_network_header(*s);
  skb_set_transport_header(*s, static_cast<int>(ip.header_len()));
  s->dev = &r.dev;
  s->protocol = 0x0800;
  s->priority = 6;
  s->mark = 0x42;
  s->trace_id = d.id;
  return s;
}

// The `output` of ip_do_fragment: keeps each fragment's bytes and id; fails the Nth if told.
struct Out {
  std::vector<std::vector<uint8_t>> frags;
  std::vector<uint64_t> ids;
  std::vector<uint32_t> priority, mark;
  int fail_at = -1;
  static int fn(void* ctx, Cpu&, SkBuff* f) {
    auto* o = static_cast<Out*>(ctx);
    o->frags.emplace_back(f->bytes().begin(), f->bytes().end());
    o->ids.push_back(f->trace_id);
    o->priority.push_back(f->priority);
    o->mark.push_back(f->mark);
    EXPECT_EQ(skb_network_offset(*f), 0);
    EXPECT_GE(f->headroom(), 16u);  // LL_RESERVED_SPACE for the Ethernet header
    if (static_cast<int>(o->frags.size()) - 1 == o->fail_at) {
      kfree_skb(f, SkbDropReason::QdiscDrop);
      return -kENOBUFS;
    }
    consume_skb(f);
    return 0;
  }
};

struct IcmpHook {
  int calls = 0;
  uint8_t type = 0, code = 0;
  uint32_t info = 0;
  static void fn(void* ctx, Cpu&, const SkBuff&, uint8_t type, uint8_t code, uint32_t info) {
    auto* h = static_cast<IcmpHook*>(ctx);
    ++h->calls;
    h->type = type;
    h->code = code;
    h->info = info;
  }
};

wire::Ipv4Packet view(const std::vector<uint8_t>& b) {
  auto p = wire::Ipv4Packet::checked(b);  // verifies the header checksum too
  EXPECT_TRUE(p.ok());
  return *p;
}

TEST(IpDoFragment, FourThousandBytesAtMtu1500AreThreeFragmentsOfRfc791) {
  // RFC 791 3.2: fragments of the MTU (1480 payload bytes, a multiple of 8), offsets in 8-octet
  // units, MF on all but the last; ip_do_fragment counts FragCreates per fragment, FragOKs once.
  NetRig r;
  Out out;
  SkBuff* s = datagram(r, {});
  ASSERT_EQ(r.net->ip_do_fragment(r.cpu, s, 1500, &Out::fn, &out), 0);
  ASSERT_EQ(out.frags.size(), 3u);
  const uint16_t offsets[] = {0, 1480, 2960};
  const uint16_t lens[] = {1500, 1500, 1040};
  const bool mf[] = {true, true, false};
  std::vector<uint8_t> payload;
  for (std::size_t i = 0; i < 3; ++i) {
    const wire::Ipv4Packet p = view(out.frags[i]);  // a valid checksum on each
    EXPECT_EQ(p.frag_offset(), offsets[i]) << i;
    EXPECT_EQ(p.total_len(), lens[i]) << i;
    EXPECT_EQ(out.frags[i].size(), lens[i]) << i;
    EXPECT_EQ(p.more_fragments(), mf[i]) << i;
    EXPECT_FALSE(p.dont_fragment());
    EXPECT_EQ(p.ident(), 0x1234);  // RFC 791: the identification ties them together
    EXPECT_EQ(p.src(), testing::ip4("10.0.0.1"));
    EXPECT_EQ(p.protocol(), wire::IpProtocol::Udp);
    if (i + 1 < 3) {
      EXPECT_EQ(p.payload().size() % 8, 0u);
    }
    payload.insert(payload.end(), p.payload().begin(), p.payload().end());
    EXPECT_EQ(out.priority[i], 6u);  // ip_copy_metadata
    EXPECT_EQ(out.mark[i], 0x42u);
  }
  EXPECT_EQ(payload, pattern(3980));
  EXPECT_EQ(r.net->ip_mib().FragCreates, 3u);
  EXPECT_EQ(r.net->ip_mib().FragOKs, 1u);
  EXPECT_EQ(r.net->ip_mib().FragFails, 0u);
  EXPECT_EQ(r.pool.live(), 0u);  // the original consumed
}

TEST(IpDoFragment, DontFragmentIsEmsgsizeWithFragFailsAndFragmentationNeeded) {
  // 6.1's ip_fragment: DF without ignore_df: FragFails, icmp_send(ICMP_DEST_UNREACH,
  // ICMP_FRAG_NEEDED, htonl(mtu)) (RFC 1191's next-hop MTU), kfree_skb, -EMSGSIZE.
  NetRig r;
  IcmpHook h;
  r.net->set_icmp_send(&IcmpHook::fn, &h);
  Out out;
  DatagramSpec d;
  d.df = true;
  SkBuff* s = datagram(r, d);
  EXPECT_EQ(r.net->ip_do_fragment(r.cpu, s, 1400, &Out::fn, &out), -kEMSGSIZE);
  EXPECT_TRUE(out.frags.empty());
  EXPECT_EQ(r.net->ip_mib().FragFails, 1u);
  EXPECT_EQ(r.net->ip_mib().FragCreates, 0u);
  EXPECT_EQ(r.net->ip_mib().FragOKs, 0u);
  EXPECT_EQ(h.calls, 1);
  EXPECT_EQ(h.type, 3);
  EXPECT_EQ(h.code, 4);
  EXPECT_EQ(h.info, 1400u);
  // The datagram ends here, once, as a drop counted under FragFails.
  const auto ev = r.sink.of_packet(77);
  ASSERT_FALSE(ev.empty());
  EXPECT_EQ(ev.back().kind, TraceKind::Drop);
  EXPECT_EQ(ev.back().step, model::egress(9));
  EXPECT_EQ(ev.back().b, model::host_drop(model::HostDrop::IpFragFails));
  ASSERT_NE(r.end_of(77), nullptr);
  EXPECT_EQ(r.end_of(77)->reason, SkbDropReason::NotSpecified);  // kfree_skb in 6.1
}

TEST(IpDoFragment, OnlyOptionsWithTheCopiedFlagReachTheLaterFragments) {
  // RFC 791 3.1 (the copied flag) and 6.1's ip_options_fragment: after the first fragment the
  // options without the flag become NOPs; the header keeps its length in every fragment.
  NetRig r;
  Out out;
  DatagramSpec d;
  d.options = {0x83, 7, 4, 10, 0, 0, 9,   // loose source route (copied)
               0x07, 7, 4, 0, 0, 0, 0,    // record route (not copied)
               0x00, 0x00};               // end of options, padding
  SkBuff* s = datagram(r, d);
  ASSERT_EQ(r.net->ip_do_fragment(r.cpu, s, 1500, &Out::fn, &out), 0);
  ASSERT_EQ(out.frags.size(), 3u);  // 1464 payload bytes a fragment
  const std::vector<uint8_t> later = {0x83, 7, 4, 10, 0, 0, 9, 1, 1, 1, 1, 1, 1, 1, 0, 0};
  std::vector<uint8_t> payload;
  for (std::size_t i = 0; i < out.frags.size(); ++i) {
    const wire::Ipv4Packet p = view(out.frags[i]);
    EXPECT_EQ(p.header_len(), 36u) << i;
    const std::vector<uint8_t> opts(p.options().begin(), p.options().end());
    EXPECT_EQ(opts, i == 0 ? d.options : later) << i;
    EXPECT_EQ(p.frag_offset(), 1464 * i) << i;
    payload.insert(payload.end(), p.payload().begin(), p.payload().end());
  }
  EXPECT_EQ(payload, pattern(3980));
}

TEST(IpDoFragment, AFragmentCutAgainKeepsItsOffsetAndMoreFragments) {
  // 6.1's ip_frag_init/ip_frag_next ("fragmenting a fragment that's not the last ... keep MF on
  // each"), RFC 791 3.2: offsets continue from the original's.
  NetRig r;
  Out out;
  DatagramSpec d;
  d.payload = 1480;
  d.frag_offset = 1480;
  d.mf = true;
  SkBuff* s = datagram(r, d);
  ASSERT_EQ(r.net->ip_do_fragment(r.cpu, s, 576, &Out::fn, &out), 0);
  ASSERT_EQ(out.frags.size(), 3u);  // 552 + 552 + 376
  const uint16_t offsets[] = {1480, 2032, 2584};
  for (std::size_t i = 0; i < 3; ++i) {
    const wire::Ipv4Packet p = view(out.frags[i]);
    EXPECT_EQ(p.frag_offset(), offsets[i]);
    EXPECT_TRUE(p.more_fragments()) << i;  // the original was not the last fragment
  }
  // The last fragment of a datagram cut again: only its last piece has MF clear.
  Out out2;
  d.mf = false;
  d.id = 78;
  ASSERT_EQ(r.net->ip_do_fragment(r.cpu, datagram(r, d), 576, &Out::fn, &out2), 0);
  ASSERT_EQ(out2.frags.size(), 3u);
  EXPECT_TRUE(view(out2.frags[0]).more_fragments());
  EXPECT_TRUE(view(out2.frags[1]).more_fragments());
  EXPECT_FALSE(view(out2.frags[2]).more_fragments());
  // Ids of the pieces are numbered by their offset in the original datagram.
  EXPECT_EQ(out2.ids[0], 78u);
  EXPECT_EQ(out2.ids[1], model::fragment_id(78, 2032));
  EXPECT_EQ(out2.ids[2], model::fragment_id(78, 2584));
}

TEST(IpDoFragment, TheFirstFragmentKeepsTheIdAndTheOthersStartWithIpFragment) {
  NetRig r;
  Out out;
  SkBuff* s = datagram(r, {});
  ASSERT_EQ(r.net->ip_do_fragment(r.cpu, s, 1500, &Out::fn, &out), 0);
  const std::vector<uint64_t> ids = {77, model::fragment_id(77, 1480), model::fragment_id(77, 2960)};
  EXPECT_EQ(out.ids, ids);
  const uint32_t offsets[] = {0, 1480, 2960};
  const uint64_t lens[] = {1500, 1500, 1040};
  for (std::size_t i = 0; i < 3; ++i) {
    const auto ev = r.sink.of_packet(ids[i]);
    ASSERT_EQ(ev.size(), 1u) << i;  // IpFragment, and nothing else here (the output owns the rest)
    EXPECT_EQ(ev[0].kind, TraceKind::IpFragment);
    EXPECT_EQ(ev[0].step, model::egress(9));
    EXPECT_EQ(ev[0].a, offsets[i]);
    EXPECT_EQ(ev[0].b, lens[i]);
  }
  // The original's free is no end of a packet: the only ends are the three fragments'.
  ASSERT_EQ(r.ends.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(r.ends[i].id, ids[i]);
  EXPECT_EQ(r.sink.count(TraceKind::Drop) + r.sink.count(TraceKind::Consumed), 0u);
}

TEST(IpDoFragment, AnOutputErrorStopsItWithFragFails) {
  // 6.1: output's error goes to fail: kfree_skb(original), FragFails; FragCreates counts only
  // the fragments output took.
  NetRig r;
  Out out;
  out.fail_at = 1;
  SkBuff* s = datagram(r, {});
  EXPECT_EQ(r.net->ip_do_fragment(r.cpu, s, 1500, &Out::fn, &out), -kENOBUFS);
  EXPECT_EQ(out.frags.size(), 2u);
  EXPECT_EQ(r.net->ip_mib().FragCreates, 1u);
  EXPECT_EQ(r.net->ip_mib().FragFails, 1u);
  EXPECT_EQ(r.net->ip_mib().FragOKs, 0u);
  EXPECT_EQ(r.pool.live(), 0u);
  // The first fragment carried the datagram's id: the original ends with no event of its own.
  EXPECT_EQ(r.sink.count(TraceKind::Drop), 0u);
}

TEST(IpDoFragment, NoSkbForTheFirstFragmentIsEnomemAndTheDatagramsDrop) {
  NetRig r;
  Out out;
  SkBuff* s = datagram(r, {});
  std::vector<SkBuff*> hold;
  while (SkBuff* x = r.pool.alloc(10)) hold.push_back(x);  // the pool at its limit
  EXPECT_EQ(r.net->ip_do_fragment(r.cpu, s, 1500, &Out::fn, &out), -kENOMEM);
  EXPECT_TRUE(out.frags.empty());
  EXPECT_EQ(r.net->ip_mib().FragFails, 1u);
  const auto ev = r.sink.of_packet(77);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, TraceKind::Drop);
  for (SkBuff* x : hold) kfree_skb(x);
}

TEST(IpDoFragment, APartialChecksumIsCompletedBeforeTheCut) {
  // skb_checksum_help in ip_do_fragment: no device can finish a checksum spread over fragments.
  NetRig r;
  Out out;
  SkBuff* s = datagram(r, {});
  // A UDP header whose checksum field holds the pseudo-header's sum (udp4_hwcsum's seed).
  std::span<uint8_t> udp = s->bytes().subspan(20);
  wire::store_be16(udp, 0, 1000);
  wire::store_be16(udp, 2, 2000);
  wire::store_be16(udp, 4, 3980);
  wire::InternetChecksum pseudo;
  pseudo.add32(testing::ip4("10.0.0.1").to_u32()).add32(testing::ip4("10.0.9.9").to_u32()).add16(17).add16(3980);
  wire::store_be16(udp, 6, pseudo.sum());
  s->ip_summed = IpSummed::Partial;
  s->csum_start = static_cast<uint16_t>(s->data + 20);
  s->csum_offset = 6;
  ASSERT_EQ(r.net->ip_do_fragment(r.cpu, s, 1500, &Out::fn, &out), 0);
  std::vector<uint8_t> seg;
  for (const auto& f : out.frags) {
    const wire::Ipv4Packet p = view(f);
    seg.insert(seg.end(), p.payload().begin(), p.payload().end());
  }
  wire::InternetChecksum c;
  c.add32(testing::ip4("10.0.0.1").to_u32()).add32(testing::ip4("10.0.9.9").to_u32()).add16(17).add16(3980);
  c.add(seg);
  EXPECT_TRUE(c.verifies());
}

}  // namespace
}  // namespace vnic::stack
