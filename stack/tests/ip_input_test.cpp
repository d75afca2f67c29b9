// ip_rcv_core (net/ipv4/ip_input.c, 6.1): each check in Linux's order with the counters it moves
// and the drop reason it frees with; the /proc/net/snmp and netstat rows.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "support/fake_cpu.hpp"
#include "support/hex.hpp"
#include "vnic/stack/ip.hpp"
#include "vnic/stack/wire/checksum.hpp"

namespace {

using namespace vnic::stack;
using vnic::stack::testing::FakeMemory;
using vnic::stack::testing::hex;

// iputils ping 192.168.1.10 -> 192.168.1.1 (84 bytes; checked with tshark).
const auto kPing = hex(
    "450000544d2e400040016a1fc0a8010ac0a80101080090481c2a0001c3b2a16500000000"
    "20a1070000000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637");

struct Rig {
  FakeMemory mem;
  SkbPool pool{mem, 2048, 64};
  IpMib mib;
  std::vector<SkbDropReason> freed;
  Rig() {
    pool.set_free_hook([](void* ctx, const SkBuff&, SkbDropReason r) { static_cast<Rig*>(ctx)->freed.push_back(r); },
                       this);
  }
  SkBuff* skb(std::vector<uint8_t> bytes, uint32_t padding = 0) {
    SkBuff* s = pool.alloc(static_cast<uint32_t>(bytes.size() + padding));
    std::copy(bytes.begin(), bytes.end(), s->bytes().begin());
    return s;
  }
  static std::vector<uint8_t> with_checksum(std::vector<uint8_t> b) {
    b[10] = b[11] = 0;
    const uint16_t c = vnic::stack::wire::internet_checksum(std::span<const uint8_t>(b.data(), (b[0] & 15u) * 4u));
    b[10] = static_cast<uint8_t>(c >> 8);
    b[11] = static_cast<uint8_t>(c);
    return b;
  }
};

TEST(IpRcvCore, AGoodDatagramIsTrimmedToItsTotalLengthAndCounted) {
  Rig r;
  SkBuff* s = ip_rcv_core(r.skb(kPing, 6), r.mib);  // 6 bytes of link padding
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->len, 84u);                            // pskb_trim_rcsum
  EXPECT_EQ(s->transport_header, s->data + 20);      // after the header
  EXPECT_EQ(s->network_header, s->data);
  EXPECT_EQ(r.mib.InReceives, 1u);
  EXPECT_EQ(r.mib.InOctets, 90u);                    // counted before the trim, as Linux does
  EXPECT_EQ(r.mib.InNoECTPkts, 1u);
  EXPECT_EQ(r.mib.InHdrErrors, 0u);
  consume_skb(s);
}

TEST(IpRcvCore, ABadChecksumCountsInCsumErrorsAndInHdrErrors) {
  Rig r;
  auto b = kPing;
  b[11] ^= 1;
  EXPECT_EQ(ip_rcv_core(r.skb(b), r.mib), nullptr);
  EXPECT_EQ(r.mib.InReceives, 1u);
  EXPECT_EQ(r.mib.InCsumErrors, 1u);
  EXPECT_EQ(r.mib.InHdrErrors, 1u);
  EXPECT_EQ(r.mib.InNoECTPkts, 1u);  // counted before the checksum
  ASSERT_EQ(r.freed.size(), 1u);
  EXPECT_EQ(r.freed[0], SkbDropReason::IpCsum);
}

TEST(IpRcvCore, ATotalLengthPastTheBufferIsATruncatedPacketNotAHeaderError) {
  Rig r;
  auto b = kPing;
  b.resize(60);  // the datagram says 84
  EXPECT_EQ(ip_rcv_core(r.skb(b), r.mib), nullptr);
  EXPECT_EQ(r.mib.InTruncatedPkts, 1u);
  EXPECT_EQ(r.mib.InHdrErrors, 0u);
  EXPECT_EQ(r.freed.at(0), SkbDropReason::PktTooSmall);
}

TEST(IpRcvCore, AWrongVersionOrShortHeaderIsAHeaderErrorBeforeTheEcnCount) {
  Rig r;
  auto v6 = kPing;
  v6[0] = 0x65;
  EXPECT_EQ(ip_rcv_core(r.skb(v6), r.mib), nullptr);
  auto ihl4 = kPing;
  ihl4[0] = 0x44;
  EXPECT_EQ(ip_rcv_core(r.skb(ihl4), r.mib), nullptr);
  EXPECT_EQ(ip_rcv_core(r.skb(std::vector<uint8_t>(kPing.begin(), kPing.begin() + 19)), r.mib), nullptr);
  EXPECT_EQ(r.mib.InReceives, 3u);
  EXPECT_EQ(r.mib.InHdrErrors, 3u);
  EXPECT_EQ(r.mib.InNoECTPkts, 0u);
  EXPECT_EQ(r.freed, (std::vector<SkbDropReason>(3, SkbDropReason::IpInhdr)));
}

TEST(IpRcvCore, AFrameForAnotherHostGoesBeforeAnyIpCounter) {
  Rig r;
  SkBuff* s = r.skb(kPing);
  s->pkt_type = PktType::OtherHost;
  EXPECT_EQ(ip_rcv_core(s, r.mib), nullptr);
  EXPECT_EQ(r.mib.InReceives, 0u);
  EXPECT_EQ(r.freed.at(0), SkbDropReason::Otherhost);
}

TEST(IpRcvCore, EcnCodepointsAreCountedPerDatagram) {
  Rig r;
  for (uint8_t ecn : {0u, 1u, 2u, 3u, 3u}) {
    auto b = kPing;
    b[1] = ecn;
    consume_skb(ip_rcv_core(r.skb(Rig::with_checksum(b)), r.mib));
  }
  EXPECT_EQ(r.mib.InNoECTPkts, 1u);
  EXPECT_EQ(r.mib.InECT1Pkts, 1u);
  EXPECT_EQ(r.mib.InECT0Pkts, 1u);
  EXPECT_EQ(r.mib.InCEPkts, 2u);
}

TEST(ProcNetSnmp, TheIpRowsAreLinuxs) {
  IpMib m;
  m.InReceives = 7;
  m.InHdrErrors = 1;
  EXPECT_EQ(proc_net_snmp_ip(m, false, 64),
            "Ip: Forwarding DefaultTTL InReceives InHdrErrors InAddrErrors ForwDatagrams InUnknownProtos InDiscards "
            "InDelivers OutRequests OutDiscards OutNoRoutes ReasmTimeout ReasmReqds ReasmOKs ReasmFails FragOKs "
            "FragFails FragCreates\n"
            "Ip: 2 64 7 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n");
  EXPECT_EQ(proc_net_netstat_ipext(m).rfind("IpExt: InNoRoutes InTruncatedPkts ", 0), 0u);
}

}  // namespace
