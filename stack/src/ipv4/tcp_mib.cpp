// The TCP MIBs' views (Linux 6.1 net/ipv4/proc.c; net-tools 2.10 statistics.c; iproute2 6.1
// misc/nstat.c). tcp_mib.hpp says what each prints.
#include "vnic/stack/tcp_mib.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

namespace vnic::stack {

namespace {

// snmp4_net_list's names, in LinuxMib's order.
constexpr std::array<std::string_view, static_cast<std::size_t>(LinuxMib::kCount)> kLinuxMibNames = {
    "SyncookiesSent",
    "SyncookiesRecv",
    "SyncookiesFailed",
    "EmbryonicRsts",
    "PruneCalled",
    "RcvPruned",
    "OfoPruned",
    "OutOfWindowIcmps",
    "LockDroppedIcmps",
    "ArpFilter",
    "TW",
    "TWRecycled",
    "TWKilled",
    "PAWSActive",
    "PAWSEstab",
    "DelayedACKs",
    "DelayedACKLocked",
    "DelayedACKLost",
    "ListenOverflows",
    "ListenDrops",
    "TCPHPHits",
    "TCPPureAcks",
    "TCPHPAcks",
    "TCPRenoRecovery",
    "TCPSackRecovery",
    "TCPSACKReneging",
    "TCPSACKReorder",
    "TCPRenoReorder",
    "TCPTSReorder",
    "TCPFullUndo",
    "TCPPartialUndo",
    "TCPDSACKUndo",
    "TCPLossUndo",
    "TCPLostRetransmit",
    "TCPRenoFailures",
    "TCPSackFailures",
    "TCPLossFailures",
    "TCPFastRetrans",
    "TCPSlowStartRetrans",
    "TCPTimeouts",
    "TCPLossProbes",
    "TCPLossProbeRecovery",
    "TCPRenoRecoveryFail",
    "TCPSackRecoveryFail",
    "TCPRcvCollapsed",
    "TCPBacklogCoalesce",
    "TCPDSACKOldSent",
    "TCPDSACKOfoSent",
    "TCPDSACKRecv",
    "TCPDSACKOfoRecv",
    "TCPAbortOnData",
    "TCPAbortOnClose",
    "TCPAbortOnMemory",
    "TCPAbortOnTimeout",
    "TCPAbortOnLinger",
    "TCPAbortFailed",
    "TCPMemoryPressures",
    "TCPMemoryPressuresChrono",
    "TCPSACKDiscard",
    "TCPDSACKIgnoredOld",
    "TCPDSACKIgnoredNoUndo",
    "TCPSpuriousRTOs",
    "TCPMD5NotFound",
    "TCPMD5Unexpected",
    "TCPMD5Failure",
    "TCPSackShifted",
    "TCPSackMerged",
    "TCPSackShiftFallback",
    "TCPBacklogDrop",
    "PFMemallocDrop",
    "TCPMinTTLDrop",
    "TCPDeferAcceptDrop",
    "IPReversePathFilter",
    "TCPTimeWaitOverflow",
    "TCPReqQFullDoCookies",
    "TCPReqQFullDrop",
    "TCPRetransFail",
    "TCPRcvCoalesce",
    "TCPOFOQueue",
    "TCPOFODrop",
    "TCPOFOMerge",
    "TCPChallengeACK",
    "TCPSYNChallenge",
    "TCPFastOpenActive",
    "TCPFastOpenActiveFail",
    "TCPFastOpenPassive",
    "TCPFastOpenPassiveFail",
    "TCPFastOpenListenOverflow",
    "TCPFastOpenCookieReqd",
    "TCPFastOpenBlackhole",
    "TCPSpuriousRtxHostQueues",
    "BusyPollRxPackets",
    "TCPAutoCorking",
    "TCPFromZeroWindowAdv",
    "TCPToZeroWindowAdv",
    "TCPWantZeroWindowAdv",
    "TCPSynRetrans",
    "TCPOrigDataSent",
    "TCPHystartTrainDetect",
    "TCPHystartTrainCwnd",
    "TCPHystartDelayDetect",
    "TCPHystartDelayCwnd",
    "TCPACKSkippedSynRecv",
    "TCPACKSkippedPAWS",
    "TCPACKSkippedSeq",
    "TCPACKSkippedFinWait2",
    "TCPACKSkippedTimeWait",
    "TCPACKSkippedChallenge",
    "TCPWinProbe",
    "TCPKeepAlive",
    "TCPMTUPFail",
    "TCPMTUPSuccess",
    "TCPDelivered",
    "TCPDeliveredCE",
    "TCPAckCompressed",
    "TCPZeroWindowDrop",
    "TCPRcvQDrop",
    "TCPWqueueTooBig",
    "TCPFastOpenPassiveAltKey",
    "TcpTimeoutRehash",
    "TcpDuplicateDataRehash",
    "TCPDSACKRecvSegs",
    "TCPDSACKIgnoredDubious",
    "TCPMigrateReqSuccess",
    "TCPMigrateReqFailure",
};

// ------------------------------------------------------------------------- text walking

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  for (std::size_t at = 0; at < text.size();) {
    const std::size_t end = std::min(text.find('\n', at), text.size());
    lines.push_back(text.substr(at, end - at));
    at = end + 1;
  }
  return lines;
}

std::vector<std::string_view> split_words(std::string_view line) {
  std::vector<std::string_view> w;
  std::size_t at = 0;
  while (at < line.size()) {
    const std::size_t end = std::min(line.find_first_of(" \t", at), line.size());
    if (end > at) w.push_back(line.substr(at, end - at));
    at = end + 1;
  }
  return w;
}

// strtoull(s, nullptr, 10) on a word: leading '-' negates modulo 2^64 ("-1" is ULLONG_MAX), digits
// stop at the first non-digit, no digits is 0.
unsigned long long strtoull_word(std::string_view s) {
  bool neg = false;
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) neg = s[i++] == '-';
  unsigned long long v = 0;
  bool overflow = false;
  for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
    const unsigned d = static_cast<unsigned>(s[i] - '0');
    if (v > (~0ULL - d) / 10) overflow = true;
    v = v * 10 + d;
  }
  if (overflow) return ~0ULL;
  return neg ? 0ULL - v : v;
}

// ------------------------------------------------------------------------- netstat -s

// statistics.c's struct entry and its types (number prints 0s, opt_number does not; I_STATIC
// entries print only with print_static, which netstat -s never sets).
enum class NtType : uint8_t { Number, OptNumber, StaticRtoAlg };
struct NtEntry {
  const char* title;
  const char* out;  // a printf format with one %llu; "" prints nothing
  NtType type;
};

// Tcptab (sorted, as bsearch needs).
constexpr NtEntry kTcptab[] = {
    {"ActiveOpens", "%llu active connection openings", NtType::Number},
    {"AttemptFails", "%llu failed connection attempts", NtType::Number},
    {"CurrEstab", "%llu connections established", NtType::Number},
    {"EstabResets", "%llu connection resets received", NtType::Number},
    {"InErrs", "%llu bad segments received", NtType::Number},
    {"InSegs", "%llu segments received", NtType::Number},
    {"MaxConn", "", NtType::Number},
    {"OutRsts", "%llu resets sent", NtType::Number},
    {"OutSegs", "%llu segments sent out", NtType::Number},
    {"PassiveOpens", "%llu passive connection openings", NtType::Number},
    {"RetransSegs", "%llu segments retransmitted", NtType::Number},
    {"RtoAlgorithm", "RTO algorithm is %s", NtType::StaticRtoAlg},
    {"RtoMax", "", NtType::Number},
    {"RtoMin", "", NtType::Number},
};

// Tcpexttab exactly as net-tools 2.10 has it: "Keep the entries sorted!" says its comment, but
// strcmp does not agree in places (TCPDSackUndo before TCPDSACKUndo, TCPLossFailures before
// TCPLoss, TWKilled before TW, ...), so bsearch misses some keys, which then print as unknown.
constexpr NtEntry kTcpexttab[] = {
    {"DelayedACKLocked", "%llu delayed acks further delayed because of locked socket", NtType::OptNumber},
    {"DelayedACKLost", "Quick ack mode was activated %llu times", NtType::OptNumber},
    {"DelayedACKs", "%llu delayed acks sent", NtType::OptNumber},
    {"EmbryonicRsts", "%llu resets received for embryonic SYN_RECV sockets", NtType::OptNumber},
    {"ListenDrops", "%llu SYNs to LISTEN sockets dropped", NtType::OptNumber},
    {"ListenOverflows", "%llu times the listen queue of a socket overflowed", NtType::OptNumber},
    {"LockDroppedIcmps", "%llu ICMP packets dropped because socket was locked", NtType::OptNumber},
    {"OfoPruned",
     "%llu packets dropped from out-of-order queue because of socket buffer "
     "overrun",
     NtType::OptNumber},
    {"OutOfWindowIcmps", "%llu ICMP packets dropped because they were out-of-window", NtType::OptNumber},
    {"PAWSActive", "%llu active connections rejected because of time stamp", NtType::OptNumber},
    {"PAWSEstab", "%llu packets rejected in established connections because of timestamp", NtType::OptNumber},
    {"PAWSPassive", "%llu passive connections rejected because of time stamp", NtType::OptNumber},
    {"PruneCalled", "%llu packets pruned from receive queue because of socket buffer overrun", NtType::OptNumber},
    {"RcvPruned", "%llu packets pruned from receive queue", NtType::OptNumber},
    {"SockMallocOOM", "Ran %llu times out of system memory during packet sending", NtType::OptNumber},
    {"SyncookiesFailed", "%llu invalid SYN cookies received", NtType::OptNumber},
    {"SyncookiesRecv", "%llu SYN cookies received", NtType::OptNumber},
    {"SyncookiesSent", "%llu SYN cookies sent", NtType::OptNumber},
    {"TCPAbortFailed", "%llu times unable to send RST due to no memory", NtType::OptNumber},
    {"TCPAbortOnClose", "%llu connections reset due to early user close", NtType::OptNumber},
    {"TCPAbortOnData", "%llu connections reset due to unexpected data", NtType::OptNumber},
    {"TCPAbortOnLinger", "%llu connections aborted after user close in linger timeout", NtType::OptNumber},
    {"TCPAbortOnMemory", "%llu connections aborted due to memory pressure", NtType::OptNumber},
    {"TCPAbortOnSyn", "%llu connections reset due to unexpected SYN", NtType::OptNumber},
    {"TCPAbortOnTimeout", "%llu connections aborted due to timeout", NtType::OptNumber},
    {"TCPDirectCopyFromBacklog", "%llu bytes directly in process context from backlog", NtType::OptNumber},
    {"TCPDirectCopyFromPrequeue", "%llu bytes directly received in process context from prequeue", NtType::OptNumber},
    {"TCPDSACKOfoRecv", "%llu DSACKs for out of order packets received", NtType::OptNumber},
    {"TCPDSACKOfoSent", "%llu DSACKs sent for out of order packets", NtType::OptNumber},
    {"TCPDSACKOldSent", "%llu DSACKs sent for old packets", NtType::OptNumber},
    {"TCPDSACKRecv", "%llu DSACKs received", NtType::OptNumber},
    {"TCPDSackUndo", "%llu congestion window recovered without slow start using DSACK", NtType::OptNumber},
    {"TCPDSACKUndo", "%llu congestion windows recovered without slow start by DSACK", NtType::OptNumber},
    {"TCPFACKReorder", "Detected reordering %llu times using FACK", NtType::OptNumber},
    {"TCPFastRetrans", "%llu fast retransmits", NtType::OptNumber},
    {"TCPForwardRetrans", "%llu forward retransmits", NtType::OptNumber},
    {"TCPFullUndo", "%llu congestion windows fully recovered without slow start", NtType::OptNumber},
    {"TCPHPAcks", "%llu predicted acknowledgments", NtType::OptNumber},
    {"TCPHPHits", "%llu packet headers predicted", NtType::Number},
    {"TCPHPHitsToUser", "%llu packet headers predicted and directly queued to user", NtType::OptNumber},
    {"TCPLossFailures", "%llu timeouts in loss state", NtType::OptNumber},
    {"TCPLoss", "%llu TCP data loss events", NtType::OptNumber},
    {"TCPLossUndo", "%llu congestion windows recovered without slow start after partial ack", NtType::OptNumber},
    {"TCPLostRetransmits", "%llu retransmits lost", NtType::OptNumber},
    {"TCPMemoryPressures", "TCP ran low on memory %llu times", NtType::OptNumber},
    {"TCPPartialUndo", "%llu congestion windows partially recovered using Hoe heuristic", NtType::OptNumber},
    {"TCPPrequeued", "%llu packets directly queued to recvmsg prequeue", NtType::OptNumber},
    {"TCPPrequeueDropped", "%llu packets dropped from prequeue", NtType::OptNumber},
    {"TCPPureAcks", "%llu acknowledgments not containing data payload received", NtType::OptNumber},
    {"TCPRcvCollapsed", "%llu packets collapsed in receive queue due to low socket buffer", NtType::OptNumber},
    {"TCPRenoFailures", "%llu timeouts after reno fast retransmit", NtType::OptNumber},
    {"TCPRenoRecoveryFailed", "%llu reno fast retransmits failed", NtType::OptNumber},
    {"TCPRenoRecoveryFail", "%llu classic Reno fast retransmits failed", NtType::OptNumber},
    {"TCPRenoRecovery", "%llu times recovered from packet loss due to fast retransmit", NtType::OptNumber},
    {"TCPRenoReorder", "Detected reordering %llu times using reno fast retransmit", NtType::OptNumber},
    {"TCPSackFailures", "%llu timeouts after SACK recovery", NtType::OptNumber},
    {"TCPSackRecoveryFail", "%llu SACK retransmits failed", NtType::OptNumber},
    {"TCPSackRecovery", "%llu times recovered from packet loss by selective acknowledgements", NtType::OptNumber},
    {"TCPSACKReneging", "%llu bad SACK blocks received", NtType::OptNumber},
    {"TCPSACKReorder", "Detected reordering %llu times using SACK", NtType::OptNumber},
    {"TCPSchedulerFailed", "%llu times receiver scheduled too late for direct processing", NtType::OptNumber},
    {"TCPSlowStartRetrans", "%llu retransmits in slow start", NtType::OptNumber},
    {"TCPTimeouts", "%llu other TCP timeouts", NtType::OptNumber},
    {"TCPTSReorder", "Detected reordering %llu times using time stamp", NtType::OptNumber},
    {"TWKilled", "%llu TCP sockets finished time wait in slow timer", NtType::OptNumber},
    {"TW", "%llu TCP sockets finished time wait in fast timer", NtType::OptNumber},
    {"TWRecycled", "%llu time wait sockets recycled by time stamp", NtType::OptNumber},
};

// glibc's bsearch over a table in its given order with strcmp, hits and misses alike.
const NtEntry* nt_bsearch(std::span<const NtEntry> tab, const std::string& key) {
  std::size_t l = 0, u = tab.size();
  while (l < u) {
    const std::size_t idx = (l + u) / 2;
    const int cmp = std::strcmp(key.c_str(), tab[idx].title);
    if (cmp < 0) {
      u = idx;
    } else if (cmp > 0) {
      l = idx + 1;
    } else {
      return &tab[idx];
    }
  }
  return nullptr;
}

// printval for the Tcp and TcpExt tables (their entries are all number or opt_number at indent 4,
// or static) and for unknown tables (an empty tab).
void nt_printval(std::string& out, std::span<const NtEntry> tab, const std::string& title, unsigned long long val) {
  const NtEntry* ent = nt_bsearch(tab, title);
  if (ent == nullptr) {  // "try our best"
    if (val != 0) out += fmt::format("    {}: {}\n", title, val);
    return;
  }
  if (ent->type == NtType::StaticRtoAlg) return;  // I_STATIC without print_static
  if (*ent->out == '\0') return;
  if (ent->type == NtType::OptNumber && val == 0) return;
  const std::string_view fmtstr = ent->out;
  const std::size_t at = fmtstr.find("%llu");
  out += "    ";
  out += fmtstr.substr(0, at);
  out += fmt::format("{}", val);
  out += fmtstr.substr(at + 4);
  out += '\n';
}

// process_fd over one file with parsesnmp(0, 1, 0, 0): row pairs "Title: k1 k2 ..." / "Title: v1 v2
// ...", an empty key line skipped; a pair without ':' ends the file (formaterr).
void netstat_st_file(std::string& out, std::string_view file) {
  const auto lines = split_lines(file);
  std::size_t i = 0;
  while (i < lines.size()) {
    const std::string_view keys = lines[i++];
    if (keys.empty()) continue;  // "skip empty first line in 2.6 kernels"
    if (i >= lines.size()) break;
    const std::string_view vals = lines[i++];
    const std::size_t sp = keys.find(':'), np = vals.find(':');
    if (sp == std::string_view::npos || np == std::string_view::npos) return;
    const std::string_view title = keys.substr(0, sp);
    // newtable: a known table prints its title only if its flag is set; an unknown one always
    // (f_unknown).
    int which = 0;  // 0 unknown, 1 Tcp, 2 TcpExt, 3 known but silent
    if (title == "Tcp") {
      which = 1;
    } else if (title == "TcpExt") {
      which = 2;
    } else if (title == "Ip" || title == "Icmp" || title == "Udp" || title == "Sctp") {
      which = 3;
    }
    if (which == 3) continue;
    out += fmt::format("{}:\n", title);
    const auto k = split_words(keys.substr(sp + 1));
    const auto v = split_words(vals.substr(np + 1));
    for (std::size_t j = 0; j < k.size(); ++j) {
      const unsigned long long val = j < v.size() ? strtoull_word(v[j]) : 0;
      const std::string key(k[j]);
      nt_printval(out,
                  which == 1   ? std::span<const NtEntry>(kTcptab)
                  : which == 2 ? std::span<const NtEntry>(kTcpexttab)
                               : std::span<const NtEntry>(),
                  key, val);
    }
  }
}

// ------------------------------------------------------------------------- nstat

// nstat's useless_numbers: dropped from its database.
bool nstat_useless(std::string_view id) {
  static constexpr std::string_view kUseless[] = {"IpForwarding", "IpDefaultTTL", "TcpRtoAlgorithm", "TcpRtoMin",
                                                  "TcpRtoMax",    "TcpMaxConn",   "TcpCurrEstab"};
  return std::find(std::begin(kUseless), std::end(kUseless), id) != std::end(kUseless);
}

struct NstatEnt {
  std::string id;
  unsigned long long val = 0;
};

// load_ugly_table: row pairs; the ids are the title followed by each key; values are read from the
// right, the surplus ones (more values than keys: the 2.4 ICMP trick) skipped at the right end.
void nstat_load_ugly(std::vector<NstatEnt>& db, std::string_view file) {
  const auto lines = split_lines(file);
  for (std::size_t i = 0; i + 1 < lines.size(); i += 2) {
    const std::string_view keys = lines[i], vals = lines[i + 1];
    const std::size_t colon = keys.find(':');
    if (colon == std::string_view::npos) return;  // nstat exits: "error parsing history file"
    const std::string_view title = keys.substr(0, colon);
    const auto k = split_words(keys.substr(colon + 1));
    const std::size_t vcolon = vals.find(':');
    const auto v = split_words(vcolon == std::string_view::npos ? vals : vals.substr(vcolon + 1));
    const std::size_t first = db.size();
    for (const std::string_view key : k) db.push_back({fmt::format("{}{}", title, key), 0});
    // The values pair with the keys from the left when there are at least as many values; with
    // fewer, from the right (nstat walks both lists backwards).
    if (v.size() >= k.size()) {
      for (std::size_t j = 0; j < k.size(); ++j) db[first + j].val = strtoull_word(v[j]);
    } else {
      const std::size_t shift = k.size() - v.size();
      for (std::size_t j = 0; j < v.size(); ++j) db[first + shift + j].val = strtoull_word(v[j]);
    }
  }
}

}  // namespace

std::string_view linux_mib_name(LinuxMib m) {
  const auto i = static_cast<std::size_t>(m);
  return i < kLinuxMibNames.size() ? kLinuxMibNames[i] : std::string_view{};
}

std::string proc_net_snmp_tcp(const TcpMib& m) {
  return fmt::format(
      "Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens "
      "PassiveOpens AttemptFails EstabResets CurrEstab InSegs "
      "OutSegs RetransSegs InErrs OutRsts InCsumErrors\n"
      "Tcp: {} {} {} {} {} {} {} {} {} {} {} {} {} {} {}\n",
      m.RtoAlgorithm, m.RtoMin, m.RtoMax, m.MaxConn, m.ActiveOpens, m.PassiveOpens, m.AttemptFails, m.EstabResets,
      m.CurrEstab, m.InSegs, m.OutSegs, m.RetransSegs, m.InErrs, m.OutRsts, m.InCsumErrors);
}

std::string proc_net_netstat_tcpext(const TcpExtMib& m) {
  std::string keys = "TcpExt:";
  std::string vals = "TcpExt:";
  for (std::size_t i = 0; i < kLinuxMibNames.size(); ++i) {
    keys += ' ';
    keys += kLinuxMibNames[i];
    vals += fmt::format(" {}", m.v[i]);
  }
  return keys + "\n" + vals + "\n";
}

std::string netstat_st(std::string_view proc_net_snmp, std::string_view proc_net_netstat) {
  std::string out;
  netstat_st_file(out, proc_net_snmp);
  netstat_st_file(out, proc_net_netstat);
  return out;
}

std::string netstat_st(const TcpMib& tcp, const TcpExtMib& ext) {
  return netstat_st(proc_net_snmp_tcp(tcp), proc_net_netstat_tcpext(ext));
}

std::string nstat_az(std::string_view proc_net_snmp, std::string_view proc_net_netstat) {
  // nstat loads netstat, snmp6, snmp, sctp, each in front of the ones before: it prints
  // /proc/net/snmp's counters first, then /proc/net/netstat's.
  std::vector<NstatEnt> db;
  nstat_load_ugly(db, proc_net_snmp);
  nstat_load_ugly(db, proc_net_netstat);
  std::string out = "#kernel\n";
  for (const NstatEnt& n : db) {
    if (nstat_useless(n.id)) continue;
    out += fmt::format("{:<32}{:<16}{:6.1f}\n", n.id, n.val, 0.0);
  }
  return out;
}

std::string nstat_text(const TcpMib& tcp, const TcpExtMib& ext) {
  return nstat_az(proc_net_snmp_tcp(tcp), proc_net_netstat_tcpext(ext));
}

}  // namespace vnic::stack
