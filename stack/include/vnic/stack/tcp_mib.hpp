// The TCP MIBs as Linux 6.1 keeps and prints them: the RFC 1213 Tcp: row of /proc/net/snmp
// (net/ipv4/proc.c snmp4_tcp_list, struct tcp_mib), the LINUX_MIB_* counters that
// /proc/net/netstat prints in its TcpExt: rows (snmp4_net_list, in that order), and the views
// of them: the /proc text, net-tools 2.10's `netstat -st` (statistics.c) and iproute2's
// `nstat -az` (misc/nstat.c).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace vnic::stack {

// struct tcp_mib's printed fields (TCP_MIB_*), named as /proc/net/snmp prints them. RtoAlgorithm,
// RtoMin, RtoMax and MaxConn are the constants tcp_mib_init sets; CurrEstab is a gauge the owner
// sets before printing (Linux sums tcp_sock states into it).
struct TcpMib {
  uint64_t RtoAlgorithm = 1;  // "other" (RFC 2012); Linux prints 1
  uint64_t RtoMin = 200;      // TCP_RTO_MIN in ms
  uint64_t RtoMax = 120000;   // TCP_RTO_MAX in ms
  int64_t MaxConn = -1;       // signed (RFC 2012): -1, no limit
  uint64_t ActiveOpens = 0;
  uint64_t PassiveOpens = 0;
  uint64_t AttemptFails = 0;
  uint64_t EstabResets = 0;
  uint64_t CurrEstab = 0;
  uint64_t InSegs = 0;
  uint64_t OutSegs = 0;
  uint64_t RetransSegs = 0;
  uint64_t InErrs = 0;
  uint64_t OutRsts = 0;
  uint64_t InCsumErrors = 0;
};

// Every LINUX_MIB_* counter 6.1's /proc/net/netstat prints on its TcpExt: lines, in
// snmp4_net_list's order, each named exactly as the printed key (the comment: Linux's name).
enum class LinuxMib : uint16_t {
  SyncookiesSent,             // LINUX_MIB_SYNCOOKIESSENT
  SyncookiesRecv,             // LINUX_MIB_SYNCOOKIESRECV
  SyncookiesFailed,           // LINUX_MIB_SYNCOOKIESFAILED
  EmbryonicRsts,              // LINUX_MIB_EMBRYONICRSTS
  PruneCalled,                // LINUX_MIB_PRUNECALLED
  RcvPruned,                  // LINUX_MIB_RCVPRUNED
  OfoPruned,                  // LINUX_MIB_OFOPRUNED
  OutOfWindowIcmps,           // LINUX_MIB_OUTOFWINDOWICMPS
  LockDroppedIcmps,           // LINUX_MIB_LOCKDROPPEDICMPS
  ArpFilter,                  // LINUX_MIB_ARPFILTER
  TW,                         // LINUX_MIB_TIMEWAITED
  TWRecycled,                 // LINUX_MIB_TIMEWAITRECYCLED
  TWKilled,                   // LINUX_MIB_TIMEWAITKILLED
  PAWSActive,                 // LINUX_MIB_PAWSACTIVEREJECTED
  PAWSEstab,                  // LINUX_MIB_PAWSESTABREJECTED
  DelayedACKs,                // LINUX_MIB_DELAYEDACKS
  DelayedACKLocked,           // LINUX_MIB_DELAYEDACKLOCKED
  DelayedACKLost,             // LINUX_MIB_DELAYEDACKLOST
  ListenOverflows,            // LINUX_MIB_LISTENOVERFLOWS
  ListenDrops,                // LINUX_MIB_LISTENDROPS
  TCPHPHits,                  // LINUX_MIB_TCPHPHITS
  TCPPureAcks,                // LINUX_MIB_TCPPUREACKS
  TCPHPAcks,                  // LINUX_MIB_TCPHPACKS
  TCPRenoRecovery,            // LINUX_MIB_TCPRENORECOVERY
  TCPSackRecovery,            // LINUX_MIB_TCPSACKRECOVERY
  TCPSACKReneging,            // LINUX_MIB_TCPSACKRENEGING
  TCPSACKReorder,             // LINUX_MIB_TCPSACKREORDER
  TCPRenoReorder,             // LINUX_MIB_TCPRENOREORDER
  TCPTSReorder,               // LINUX_MIB_TCPTSREORDER
  TCPFullUndo,                // LINUX_MIB_TCPFULLUNDO
  TCPPartialUndo,             // LINUX_MIB_TCPPARTIALUNDO
  TCPDSACKUndo,               // LINUX_MIB_TCPDSACKUNDO
  TCPLossUndo,                // LINUX_MIB_TCPLOSSUNDO
  TCPLostRetransmit,          // LINUX_MIB_TCPLOSTRETRANSMIT
  TCPRenoFailures,            // LINUX_MIB_TCPRENOFAILURES
  TCPSackFailures,            // LINUX_MIB_TCPSACKFAILURES
  TCPLossFailures,            // LINUX_MIB_TCPLOSSFAILURES
  TCPFastRetrans,             // LINUX_MIB_TCPFASTRETRANS
  TCPSlowStartRetrans,        // LINUX_MIB_TCPSLOWSTARTRETRANS
  TCPTimeouts,                // LINUX_MIB_TCPTIMEOUTS
  TCPLossProbes,              // LINUX_MIB_TCPLOSSPROBES
  TCPLossProbeRecovery,       // LINUX_MIB_TCPLOSSPROBERECOVERY
  TCPRenoRecoveryFail,        // LINUX_MIB_TCPRENORECOVERYFAIL
  TCPSackRecoveryFail,        // LINUX_MIB_TCPSACKRECOVERYFAIL
  TCPRcvCollapsed,            // LINUX_MIB_TCPRCVCOLLAPSED
  TCPBacklogCoalesce,         // LINUX_MIB_TCPBACKLOGCOALESCE
  TCPDSACKOldSent,            // LINUX_MIB_TCPDSACKOLDSENT
  TCPDSACKOfoSent,            // LINUX_MIB_TCPDSACKOFOSENT
  TCPDSACKRecv,               // LINUX_MIB_TCPDSACKRECV
  TCPDSACKOfoRecv,            // LINUX_MIB_TCPDSACKOFORECV
  TCPAbortOnData,             // LINUX_MIB_TCPABORTONDATA
  TCPAbortOnClose,            // LINUX_MIB_TCPABORTONCLOSE
  TCPAbortOnMemory,           // LINUX_MIB_TCPABORTONMEMORY
  TCPAbortOnTimeout,          // LINUX_MIB_TCPABORTONTIMEOUT
  TCPAbortOnLinger,           // LINUX_MIB_TCPABORTONLINGER
  TCPAbortFailed,             // LINUX_MIB_TCPABORTFAILED
  TCPMemoryPressures,         // LINUX_MIB_TCPMEMORYPRESSURES
  TCPMemoryPressuresChrono,   // LINUX_MIB_TCPMEMORYPRESSURESCHRONO
  TCPSACKDiscard,             // LINUX_MIB_TCPSACKDISCARD
  TCPDSACKIgnoredOld,         // LINUX_MIB_TCPDSACKIGNOREDOLD
  TCPDSACKIgnoredNoUndo,      // LINUX_MIB_TCPDSACKIGNOREDNOUNDO
  TCPSpuriousRTOs,            // LINUX_MIB_TCPSPURIOUSRTOS
  TCPMD5NotFound,             // LINUX_MIB_TCPMD5NOTFOUND
  TCPMD5Unexpected,           // LINUX_MIB_TCPMD5UNEXPECTED
  TCPMD5Failure,              // LINUX_MIB_TCPMD5FAILURE
  TCPSackShifted,             // LINUX_MIB_SACKSHIFTED
  TCPSackMerged,              // LINUX_MIB_SACKMERGED
  TCPSackShiftFallback,       // LINUX_MIB_SACKSHIFTFALLBACK
  TCPBacklogDrop,             // LINUX_MIB_TCPBACKLOGDROP
  PFMemallocDrop,             // LINUX_MIB_PFMEMALLOCDROP
  TCPMinTTLDrop,              // LINUX_MIB_TCPMINTTLDROP
  TCPDeferAcceptDrop,         // LINUX_MIB_TCPDEFERACCEPTDROP
  IPReversePathFilter,        // LINUX_MIB_IPRPFILTER
  TCPTimeWaitOverflow,        // LINUX_MIB_TCPTIMEWAITOVERFLOW
  TCPReqQFullDoCookies,       // LINUX_MIB_TCPREQQFULLDOCOOKIES
  TCPReqQFullDrop,            // LINUX_MIB_TCPREQQFULLDROP
  TCPRetransFail,             // LINUX_MIB_TCPRETRANSFAIL
  TCPRcvCoalesce,             // LINUX_MIB_TCPRCVCOALESCE
  TCPOFOQueue,                // LINUX_MIB_TCPOFOQUEUE
  TCPOFODrop,                 // LINUX_MIB_TCPOFODROP
  TCPOFOMerge,                // LINUX_MIB_TCPOFOMERGE
  TCPChallengeACK,            // LINUX_MIB_TCPCHALLENGEACK
  TCPSYNChallenge,            // LINUX_MIB_TCPSYNCHALLENGE
  TCPFastOpenActive,          // LINUX_MIB_TCPFASTOPENACTIVE
  TCPFastOpenActiveFail,      // LINUX_MIB_TCPFASTOPENACTIVEFAIL
  TCPFastOpenPassive,         // LINUX_MIB_TCPFASTOPENPASSIVE
  TCPFastOpenPassiveFail,     // LINUX_MIB_TCPFASTOPENPASSIVEFAIL
  TCPFastOpenListenOverflow,  // LINUX_MIB_TCPFASTOPENLISTENOVERFLOW
  TCPFastOpenCookieReqd,      // LINUX_MIB_TCPFASTOPENCOOKIEREQD
  TCPFastOpenBlackhole,       // LINUX_MIB_TCPFASTOPENBLACKHOLE
  TCPSpuriousRtxHostQueues,   // LINUX_MIB_TCPSPURIOUS_RTX_HOSTQUEUES
  BusyPollRxPackets,          // LINUX_MIB_BUSYPOLLRXPACKETS
  TCPAutoCorking,             // LINUX_MIB_TCPAUTOCORKING
  TCPFromZeroWindowAdv,       // LINUX_MIB_TCPFROMZEROWINDOWADV
  TCPToZeroWindowAdv,         // LINUX_MIB_TCPTOZEROWINDOWADV
  TCPWantZeroWindowAdv,       // LINUX_MIB_TCPWANTZEROWINDOWADV
  TCPSynRetrans,              // LINUX_MIB_TCPSYNRETRANS
  TCPOrigDataSent,            // LINUX_MIB_TCPORIGDATASENT
  TCPHystartTrainDetect,      // LINUX_MIB_TCPHYSTARTTRAINDETECT
  TCPHystartTrainCwnd,        // LINUX_MIB_TCPHYSTARTTRAINCWND
  TCPHystartDelayDetect,      // LINUX_MIB_TCPHYSTARTDELAYDETECT
  TCPHystartDelayCwnd,        // LINUX_MIB_TCPHYSTARTDELAYCWND
  TCPACKSkippedSynRecv,       // LINUX_MIB_TCPACKSKIPPEDSYNRECV
  TCPACKSkippedPAWS,          // LINUX_MIB_TCPACKSKIPPEDPAWS
  TCPACKSkippedSeq,           // LINUX_MIB_TCPACKSKIPPEDSEQ
  TCPACKSkippedFinWait2,      // LINUX_MIB_TCPACKSKIPPEDFINWAIT2
  TCPACKSkippedTimeWait,      // LINUX_MIB_TCPACKSKIPPEDTIMEWAIT
  TCPACKSkippedChallenge,     // LINUX_MIB_TCPACKSKIPPEDCHALLENGE
  TCPWinProbe,                // LINUX_MIB_TCPWINPROBE
  TCPKeepAlive,               // LINUX_MIB_TCPKEEPALIVE
  TCPMTUPFail,                // LINUX_MIB_TCPMTUPFAIL
  TCPMTUPSuccess,             // LINUX_MIB_TCPMTUPSUCCESS
  TCPDelivered,               // LINUX_MIB_TCPDELIVERED
  TCPDeliveredCE,             // LINUX_MIB_TCPDELIVEREDCE
  TCPAckCompressed,           // LINUX_MIB_TCPACKCOMPRESSED
  TCPZeroWindowDrop,          // LINUX_MIB_TCPZEROWINDOWDROP
  TCPRcvQDrop,                // LINUX_MIB_TCPRCVQDROP
  TCPWqueueTooBig,            // LINUX_MIB_TCPWQUEUETOOBIG
  TCPFastOpenPassiveAltKey,   // LINUX_MIB_TCPFASTOPENPASSIVEALTKEY
  TcpTimeoutRehash,           // LINUX_MIB_TCPTIMEOUTREHASH
  TcpDuplicateDataRehash,     // LINUX_MIB_TCPDUPLICATEDATAREHASH
  TCPDSACKRecvSegs,           // LINUX_MIB_TCPDSACKRECVSEGS
  TCPDSACKIgnoredDubious,     // LINUX_MIB_TCPDSACKIGNOREDDUBIOUS
  TCPMigrateReqSuccess,       // LINUX_MIB_TCPMIGRATEREQSUCCESS
  TCPMigrateReqFailure,       // LINUX_MIB_TCPMIGRATEREQFAILURE
  kCount
};

// The TcpExt counters (struct linux_mib's printed part), indexed by LinuxMib.
struct TcpExtMib {
  std::array<uint64_t, static_cast<std::size_t>(LinuxMib::kCount)> v{};
  uint64_t& operator[](LinuxMib m) { return v[static_cast<std::size_t>(m)]; }
  uint64_t operator[](LinuxMib m) const { return v[static_cast<std::size_t>(m)]; }
};

// The printed key of m ("TCPLossProbes"); "" for kCount or out of range.
std::string_view linux_mib_name(LinuxMib m);

// /proc/net/snmp's two Tcp: lines as 6.1 prints them ("Tcp: RtoAlgorithm ...\nTcp: 1 200 120000 -1
// ...\n"), MaxConn signed.
std::string proc_net_snmp_tcp(const TcpMib& m);

// /proc/net/netstat's two TcpExt: lines ("TcpExt: SyncookiesSent ...\nTcpExt: 0 ...\n").
std::string proc_net_netstat_tcpext(const TcpExtMib& m);

// What net-tools 2.10 `netstat -st` prints for its Tcp: and TcpExt: sections (statistics.c).
// Its Tcp: keys print even when 0 (RtoAlgorithm, RtoMin, RtoMax, MaxConn never), its TcpExt keys
// only when not 0 (TCPHPHits even when 0); a key netstat's tables do not find (InCsumErrors,
// TCPLossProbes, ..., and those its unsorted TcpExt table hides from bsearch) prints
// "    Key: value" when not 0.
std::string netstat_st(const TcpMib& tcp, const TcpExtMib& ext);

// `netstat -st` over whole /proc/net/snmp and /proc/net/netstat texts, as statistics.c's
// process_fd walks them with only the tcp flag set: Tcp and TcpExt as above; Ip, Icmp, Udp and
// Sctp silent; every table netstat does not know (IcmpMsg, UdpLite, IpExt, MPTcpExt) printed
// under its title with its non-zero "Key: value" lines.
std::string netstat_st(std::string_view proc_net_snmp, std::string_view proc_net_netstat);

// `nstat -az` on a first run (rates 0.0) for the Tcp and TcpExt counters alone: "#kernel\n" then
// one line per counter, TcpActiveOpens ... TcpExtSyncookiesSent ..., as nstat_az prints them.
std::string nstat_text(const TcpMib& tcp, const TcpExtMib& ext);

// `nstat -az` on a first run over whole /proc texts: every header/value line pair of
// /proc/net/snmp then /proc/net/netstat, names prefixed by their table (IpInReceives,
// UdpInDatagrams, TcpExtTCPLossProbes, ...), as misc/nstat.c reads and prints them: each line
// fprintf("%-32s%-16llu%6.1f\n", name, value, 0.0), /proc/net/snmp's counters before
// /proc/net/netstat's, nstat's "useless numbers" (IpForwarding, IpDefaultTTL, TcpRtoAlgorithm,
// TcpRtoMin, TcpRtoMax, TcpMaxConn, TcpCurrEstab) left out. /proc/net/snmp6 and
// /proc/net/sctp/snmp, which nstat also reads, are not modelled.
std::string nstat_az(std::string_view proc_net_snmp, std::string_view proc_net_netstat);

}  // namespace vnic::stack
