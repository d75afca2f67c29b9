// The Icmp: and IcmpMsg: rows of /proc/net/snmp as Linux 6.1's icmp_put and icmpmsg_put print
// them (net/ipv4/proc.c at v6.1: no OutRateLimitGlobal/OutRateLimitHost columns, which came in
// 6.8), and the model's own rate-limit line.
#include <gtest/gtest.h>

#include <string>

#include "vnic/stack/icmp.hpp"

namespace vnic::stack {
namespace {

const std::string kHeader =
    "Icmp: InMsgs InErrors InCsumErrors InDestUnreachs InTimeExcds InParmProbs InSrcQuenchs InRedirects InEchos "
    "InEchoReps InTimestamps InTimestampReps InAddrMasks InAddrMaskReps OutMsgs OutErrors OutDestUnreachs "
    "OutTimeExcds OutParmProbs OutSrcQuenchs OutRedirects OutEchos OutEchoReps OutTimestamps OutTimestampReps "
    "OutAddrMasks OutAddrMaskReps\n";

// icmp_put: all-zero counters still print both Icmp lines; icmpmsg_put prints nothing.
TEST(IcmpProc, IcmpPutAllZero) {
  const IcmpMib m;
  EXPECT_EQ(proc_net_snmp_icmp(m), kHeader + "Icmp: 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n");
}

// The per-type columns read the IcmpMsg counters; IcmpMsg lists the non-zero ones, In before Out.
TEST(IcmpProc, IcmpPutAndIcmpmsgPut) {
  IcmpMib m;
  m.InMsgs = 45;
  m.InErrors = 2;
  m.InCsumErrors = 1;
  m.msg[0] = 30;   // InEchoReps
  m.msg[3] = 2;    // InDestUnreachs
  m.msg[8] = 10;   // InEchos
  m.msg[13] = 1;   // InTimestamps
  m.msg[30] = 1;   // a type with no column: only in IcmpMsg
  icmp_out_count(m, 0);
  for (int i = 0; i < 9; ++i) icmp_out_count(m, 0);
  icmp_out_count(m, 3);
  icmp_out_count(m, 3);
  for (int i = 0; i < 30; ++i) icmp_out_count(m, 8);
  m.OutErrors = 1;
  m.InTimeExcdsMib = 4;  // icmp_unreach's ICMP_MIB_INTIMEEXCDS is not what /proc shows
  m.RateLimitGlobal = 5;
  m.RateLimitHost = 6;
  EXPECT_EQ(m.OutMsgs, 42u);
  EXPECT_EQ(proc_net_snmp_icmp(m),
            kHeader +
                "Icmp: 45 2 1 2 0 0 0 0 10 30 1 0 0 0 42 1 2 0 0 0 0 30 10 0 0 0 0\n"
                "IcmpMsg: InType0 InType3 InType8 InType13 InType30 OutType0 OutType3 OutType8\n"
                "IcmpMsg: 30 2 10 1 1 10 2 30\n");
  // 6.1's row has no rate-limit columns; the model reports them on a line of its own.
  EXPECT_EQ(proc_net_snmp_icmp(m).find("RateLimit"), std::string::npos);
  EXPECT_EQ(icmp_ratelimit_report(m),
            "IcmpRateLimit(model, not in 6.1's /proc/net/snmp): OutRateLimitGlobal 5 OutRateLimitHost 6\n");
}

// icmpmsg_put: PERLINE 16, so a 17th non-zero counter starts a second pair of lines.
TEST(IcmpProc, IcmpmsgPutSixteenPerLine) {
  IcmpMib m;
  for (unsigned t = 0; t < 17; ++t) m.msg[t] = t + 1;
  const std::string s = proc_net_snmp_icmp(m);
  const std::string msg = s.substr(s.find("IcmpMsg:"));
  EXPECT_EQ(msg,
            "IcmpMsg: InType0 InType1 InType2 InType3 InType4 InType5 InType6 InType7 InType8 InType9 InType10 "
            "InType11 InType12 InType13 InType14 InType15\n"
            "IcmpMsg: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"
            "IcmpMsg: InType16\n"
            "IcmpMsg: 17\n");
}

}  // namespace
}  // namespace vnic::stack
