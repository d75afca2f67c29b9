// ip_local_deliver / ip_local_deliver_finish / ip_protocol_deliver_rcu (net/ipv4/ip_input.c,
// Linux 6.1): the inet_protos handler gets the skb at its transport header and InDelivers is
// counted; an unknown protocol is InUnknownProtos, an ICMP protocol unreachable through the
// stack's icmp_send, and IP_NOPROTO; a fragment goes to ip_defrag.
#include <gtest/gtest.h>

#include "support/net_rig.hpp"

namespace vnic::stack {
namespace {

using testing::NetRig;

struct L4 {
  int calls = 0;
  int transport_offset = -1;
  uint32_t len = 0;
  static void fn(void* ctx, SkBuff* skb) {
    auto* l = static_cast<L4*>(ctx);
    ++l->calls;
    l->transport_offset = skb_transport_offset(*skb);
    l->len = skb->len;
    consume_skb(skb);
  }
};

struct IcmpHook {
  int calls = 0;
  uint8_t type = 0, code = 0;
  wire::Ipv4Addr offender_src{};
  static void fn(void* ctx, Cpu&, const SkBuff& in, uint8_t type, uint8_t code, uint32_t) {
    auto* h = static_cast<IcmpHook*>(ctx);
    ++h->calls;
    h->type = type;
    h->code = code;
    h->offender_src = wire::load_ipv4(in.network_bytes(), 12);  // icmp_send reads ip_hdr(skb)
  }
};

TEST(IpLocalDeliver, TheHandlerGetsTheTransportHeaderAndInDeliversIsCounted) {
  NetRig r;
  L4 l4;
  r.net->inet_add_protocol(17, &L4::fn, &l4);
  r.receive(r.frame(0x0800, NetRig::datagram("10.0.0.2", "10.0.0.1", 17, std::vector<uint8_t>(12, 1)), 3));
  EXPECT_EQ(l4.calls, 1);
  EXPECT_EQ(l4.transport_offset, 0);  // data at the transport header
  EXPECT_EQ(l4.len, 12u);             // padding trimmed, IP header pulled
  EXPECT_EQ(r.net->ip_mib().InDelivers, 1u);
  // The trace shows the receive steps of packet 3 in order.
  std::vector<model::Step> steps;
  for (const TraceEvent& e : r.sink.of_packet(3)) steps.push_back(e.step);
  EXPECT_EQ(steps, (std::vector<model::Step>{model::ingress(13), model::ingress(15), model::ingress(17),
                                             model::ingress(18), model::ingress(19)}));
}

TEST(IpLocalDeliver, UnknownProtocolIsInUnknownProtosWithAProtocolUnreachable) {
  NetRig r;
  IcmpHook h;
  r.net->set_icmp_send(&IcmpHook::fn, &h);
  r.receive(r.frame(0x0800, NetRig::datagram("10.0.0.2", "10.0.0.1", 99, {1, 2, 3, 4}), 4));
  EXPECT_EQ(r.net->ip_mib().InUnknownProtos, 1u);
  EXPECT_EQ(r.net->ip_mib().InDelivers, 0u);
  EXPECT_EQ(h.calls, 1);
  EXPECT_EQ(h.type, 3);  // ICMP_DEST_UNREACH
  EXPECT_EQ(h.code, 2);  // ICMP_PROT_UNREACH
  EXPECT_EQ(h.offender_src, testing::ip4("10.0.0.2"));
  EXPECT_EQ(r.end_of(4)->reason, SkbDropReason::IpNoproto);
  const TraceEvent last = r.sink.of_packet(4).back();
  EXPECT_EQ(last.kind, TraceKind::Drop);
  EXPECT_EQ(last.step, model::ingress(19));
}

TEST(IpLocalDeliver, UnknownProtocolWithoutAnIcmpModuleSendsNothing) {
  NetRig r;
  r.receive(r.frame(0x0800, NetRig::datagram("10.0.0.2", "10.0.0.1", 99, {1, 2, 3, 4}), 4));
  EXPECT_EQ(r.net->ip_mib().InUnknownProtos, 1u);
  EXPECT_TRUE(r.dev.frames.empty());
}

TEST(IpLocalDeliver, AFragmentGoesToReassembly) {
  // ip_is_fragment -> ip_defrag: the first fragment waits in its queue (ip_fragment_test.cpp
  // tests reassembly itself).
  NetRig r;
  L4 l4;
  r.net->inet_add_protocol(17, &L4::fn, &l4);
  r.receive(r.frame(0x0800, NetRig::datagram("10.0.0.2", "10.0.0.1", 17, std::vector<uint8_t>(16), wire::kIpv4FlagMf), 5));
  EXPECT_EQ(l4.calls, 0);
  EXPECT_EQ(r.net->ip_mib().ReasmReqds, 1u);
  EXPECT_EQ(r.net->ip_mib().ReasmFails, 0u);
  EXPECT_EQ(r.net->frag_queues(), 1u);
  EXPECT_EQ(r.end_of(5), nullptr);
}

}  // namespace
}  // namespace vnic::stack
