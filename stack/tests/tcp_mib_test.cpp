// The TCP MIBs' views (stack/src/ipv4/tcp_mib.cpp) against the formats of Linux 6.1's
// net/ipv4/proc.c, net-tools 2.10's statistics.c (`netstat -st`) and iproute2's misc/nstat.c
// (`nstat -az`).
#include "vnic/stack/tcp_mib.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace vnic::stack {
namespace {

std::vector<std::string> words_of(const std::string& line) {
  std::vector<std::string> w;
  std::size_t at = 0;
  while (at < line.size()) {
    const std::size_t end = std::min(line.find(' ', at), line.size());
    if (end > at) w.push_back(line.substr(at, end - at));
    at = end + 1;
  }
  return w;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> l;
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t end = std::min(text.find('\n', at), text.size());
    l.push_back(text.substr(at, end - at));
    at = end + 1;
  }
  return l;
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

TEST(TcpMib, ProcNetSnmpTcpAsLinuxPrintsIt) {
  TcpMib m;
  m.ActiveOpens = 3;
  m.PassiveOpens = 2;
  m.CurrEstab = 4;
  m.InSegs = 1000;
  m.OutSegs = 900;
  m.RetransSegs = 7;
  m.OutRsts = 1;
  m.InCsumErrors = 5;
  EXPECT_EQ(proc_net_snmp_tcp(m),
            "Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets CurrEstab "
            "InSegs OutSegs RetransSegs InErrs OutRsts InCsumErrors\n"
            "Tcp: 1 200 120000 -1 3 2 0 0 4 1000 900 7 0 1 5\n");
}

TEST(TcpMib, TcpExtKeysInSnmp4NetListOrder) {
  TcpExtMib m;
  m[LinuxMib::TCPLossProbes] = 11;
  m[LinuxMib::TCPMigrateReqFailure] = 9;
  const std::string text = proc_net_netstat_tcpext(m);
  const auto lines = lines_of(text);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(text.back(), '\n');
  EXPECT_EQ(lines[0].rfind("TcpExt: SyncookiesSent SyncookiesRecv SyncookiesFailed EmbryonicRsts PruneCalled ", 0), 0u);
  EXPECT_TRUE(contains(lines[0], " TCPTimeouts TCPLossProbes TCPLossProbeRecovery TCPRenoRecoveryFail "));
  EXPECT_TRUE(contains(lines[0], " TCPHystartTrainDetect TCPHystartTrainCwnd TCPHystartDelayDetect "));
  EXPECT_TRUE(contains(lines[0], " TcpTimeoutRehash TcpDuplicateDataRehash TCPDSACKRecvSegs "));
  const auto keys = words_of(lines[0]);
  const auto vals = words_of(lines[1]);
  ASSERT_EQ(keys.size(), static_cast<std::size_t>(LinuxMib::kCount) + 1);
  ASSERT_EQ(vals.size(), keys.size());
  EXPECT_EQ(keys.back(), "TCPMigrateReqFailure");
  EXPECT_EQ(vals.back(), "9");
  for (std::size_t i = 0; i < static_cast<std::size_t>(LinuxMib::kCount); ++i) {
    const auto mib = static_cast<LinuxMib>(i);
    EXPECT_EQ(keys[i + 1], linux_mib_name(mib));
    EXPECT_EQ(vals[i + 1], std::to_string(m[mib])) << keys[i + 1];
  }
  EXPECT_EQ(linux_mib_name(LinuxMib::TW), "TW");
  EXPECT_EQ(linux_mib_name(LinuxMib::DelayedACKs), "DelayedACKs");
  EXPECT_EQ(linux_mib_name(LinuxMib::kCount), "");
  EXPECT_EQ(static_cast<int>(LinuxMib::kCount), 125);  // 6.1's snmp4_net_list
}

TEST(TcpMib, NetstatStTcpSectionPrintsZerosAndSkipsTheConstants) {
  TcpMib t;
  t.ActiveOpens = 12;
  t.PassiveOpens = 3;
  t.CurrEstab = 2;
  t.InSegs = 5000;
  t.OutSegs = 4800;
  t.RetransSegs = 17;
  t.InCsumErrors = 0;
  const TcpExtMib none;
  EXPECT_EQ(netstat_st(t, none),
            "Tcp:\n"
            "    12 active connection openings\n"
            "    3 passive connection openings\n"
            "    0 failed connection attempts\n"
            "    0 connection resets received\n"
            "    2 connections established\n"
            "    5000 segments received\n"
            "    4800 segments sent out\n"
            "    17 segments retransmitted\n"
            "    0 bad segments received\n"
            "    0 resets sent\n"
            "TcpExt:\n"
            "    0 packet headers predicted\n");
  t.InCsumErrors = 4;  // not in Tcptab: printed raw, and only when not 0
  EXPECT_TRUE(contains(netstat_st(t, none), "    0 resets sent\n    InCsumErrors: 4\nTcpExt:\n"));
}

TEST(TcpMib, NetstatStTcpExtSentencesZerosAndBsearchMisses) {
  TcpExtMib e;
  e[LinuxMib::DelayedACKs] = 40;
  e[LinuxMib::TCPHPAcks] = 7;
  e[LinuxMib::DelayedACKLost] = 2;
  e[LinuxMib::TCPLossProbes] = 3;          // unknown to net-tools
  e[LinuxMib::TCPSackRecovery] = 5;        // in Tcpexttab, but bsearch misses it
  e[LinuxMib::TCPDSACKRecv] = 6;           // likewise
  e[LinuxMib::TCPTimeouts] = 8;            // likewise
  e[LinuxMib::TW] = 9;                     // found
  e[LinuxMib::TWKilled] = 1;               // missed
  e[LinuxMib::TCPFastRetrans] = 4;         // found
  e[LinuxMib::TCPHystartTrainDetect] = 1;  // unknown
  const std::string out = netstat_st(TcpMib{}, e);
  const std::string ext = out.substr(out.find("TcpExt:\n"));
  EXPECT_EQ(ext,
            "TcpExt:\n"
            "    9 TCP sockets finished time wait in fast timer\n"
            "    TWKilled: 1\n"
            "    40 delayed acks sent\n"
            "    Quick ack mode was activated 2 times\n"
            "    0 packet headers predicted\n"  // TCPHPHits is a `number`: its 0 prints
            "    7 predicted acknowledgments\n"
            "    TCPSackRecovery: 5\n"
            "    4 fast retransmits\n"
            "    TCPTimeouts: 8\n"
            "    TCPLossProbes: 3\n"
            "    TCPDSACKRecv: 6\n"
            "    TCPHystartTrainDetect: 1\n");
  // All zero: the one `number` entry is all that prints.
  EXPECT_EQ(netstat_st(TcpMib{}, TcpExtMib{}).substr(out.find("TcpExt:\n")),
            "TcpExt:\n    0 packet headers predicted\n");
}

TEST(TcpMib, NetstatStOverWholeProcFiles) {
  TcpMib t;
  t.ActiveOpens = 1;
  TcpExtMib e;
  e[LinuxMib::TCPLossProbes] = 2;
  const std::string snmp =
      "Ip: Forwarding DefaultTTL InReceives\nIp: 2 64 10\n"
      "Icmp: InMsgs OutMsgs\nIcmp: 3 3\n"
      "IcmpMsg: InType3 OutType3\nIcmpMsg: 3 0\n" +
      proc_net_snmp_tcp(t) +
      "Udp: InDatagrams NoPorts\nUdp: 4 0\n"
      "UdpLite: InDatagrams NoPorts\nUdpLite: 0 0\n";
  const std::string netstat = proc_net_netstat_tcpext(e) + "IpExt: InNoRoutes InOctets\nIpExt: 0 1500\n";
  // The files' order: /proc/net/snmp's Tcp and UdpLite, then /proc/net/netstat's TcpExt and IpExt.
  const std::string st = netstat_st(t, e);
  const std::size_t ext = st.find("TcpExt:\n");
  EXPECT_EQ(netstat_st(snmp, netstat), "IcmpMsg:\n    InType3: 3\n" + st.substr(0, ext) + "UdpLite:\n" +
                                           st.substr(ext) + "IpExt:\n    InOctets: 1500\n");
  EXPECT_EQ(st.substr(ext), "TcpExt:\n    0 packet headers predicted\n    TCPLossProbes: 2\n");
}

TEST(TcpMib, NstatAzFormatsEveryCounter) {
  const std::string snmp =
      "Ip: Forwarding DefaultTTL InReceives InHdrErrors\nIp: 2 64 12345 0\n"
      "IcmpMsg: InType3 OutType3\nIcmpMsg: 3 3\n"
      "Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets CurrEstab "
      "InSegs OutSegs RetransSegs InErrs OutRsts InCsumErrors\n"
      "Tcp: 1 200 120000 -1 3 2 0 0 4 1000 900 7 0 1 5\n"
      "Udp: InDatagrams NoPorts\nUdp: 42 1\n";
  const std::string netstat = "TcpExt: SyncookiesSent TCPLossProbes\nTcpExt: 0 17\n";
  EXPECT_EQ(nstat_az(snmp, netstat),
            "#kernel\n"
            "IpInReceives                    12345              0.0\n"
            "IpInHdrErrors                   0                  0.0\n"
            "IcmpMsgInType3                  3                  0.0\n"
            "IcmpMsgOutType3                 3                  0.0\n"
            "TcpActiveOpens                  3                  0.0\n"
            "TcpPassiveOpens                 2                  0.0\n"
            "TcpAttemptFails                 0                  0.0\n"
            "TcpEstabResets                  0                  0.0\n"
            "TcpInSegs                       1000               0.0\n"
            "TcpOutSegs                      900                0.0\n"
            "TcpRetransSegs                  7                  0.0\n"
            "TcpInErrs                       0                  0.0\n"
            "TcpOutRsts                      1                  0.0\n"
            "TcpInCsumErrors                 5                  0.0\n"
            "UdpInDatagrams                  42                 0.0\n"
            "UdpNoPorts                      1                  0.0\n"
            "TcpExtSyncookiesSent            0                  0.0\n"
            "TcpExtTCPLossProbes             17                 0.0\n");
}

TEST(TcpMib, NstatTextCoversTcpAndTcpExt) {
  TcpMib t;
  t.OutSegs = 77;
  TcpExtMib e;
  e[LinuxMib::TCPDSACKRecv] = 3;
  const std::string out = nstat_text(t, e);
  const auto lines = lines_of(out);
  // "#kernel", the 10 Tcp counters nstat keeps (RtoAlgorithm, RtoMin, RtoMax, MaxConn and
  // CurrEstab are its useless numbers), every TcpExt counter.
  ASSERT_EQ(lines.size(), 1u + 10u + static_cast<std::size_t>(LinuxMib::kCount));
  EXPECT_EQ(lines[0], "#kernel");
  EXPECT_EQ(lines[1], "TcpActiveOpens                  0                  0.0");
  EXPECT_TRUE(contains(out, "\nTcpOutSegs                      77                 0.0\n"));
  EXPECT_TRUE(contains(out, "\nTcpExtTCPDSACKRecv              3                  0.0\n"));
  EXPECT_FALSE(contains(out, "TcpCurrEstab"));
  EXPECT_FALSE(contains(out, "TcpMaxConn"));
  EXPECT_EQ(lines[11].rfind("TcpExtSyncookiesSent ", 0), 0u);
  EXPECT_EQ(lines.back().rfind("TcpExtTCPMigrateReqFailure      0", 0), 0u);
  for (const auto& l : lines) {
    if (l[0] == '#') continue;
    EXPECT_EQ(l.size(), 32u + 16u + 6u) << l;  // short names and values: fixed width
  }
}

}  // namespace
}  // namespace vnic::stack
