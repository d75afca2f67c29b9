// Netfilter's legacy IPv4 x_tables (Linux 6.1) and the iptables 1.8.9 (legacy) command that
// configures it. References, by part:
//  - the hook walk: net/netfilter/core.c nf_hook_slow; the tables' hooks and priorities:
//    net/ipv4/netfilter/iptable_{raw,mangle,filter}.c (NF_IP_PRI_RAW -300, MANGLE -150,
//    FILTER 0); tables instantiated on first use through their templates (xt_register_template);
//  - a table's run: net/ipv4/netfilter/ip_tables.c ipt_do_table and ip_packet_match (the jump
//    stack, RETURN, the underflow = the policy, counters = skb->len, hotdrop);
//  - matches: net/netfilter/xt_tcpudp.c (tcp_mt, udp_mt, port_match, the offset-8 TCP
//    fragment), ip_tables.c icmp_match; target: net/ipv4/netfilter/ipt_REJECT.c;
//  - the kernel's checks of a new table: ip_tables.c translate_table (mark_source_chains ->
//    ELOOP, then per entry xt_check_match's protocol test and xt_check_target's table and hook
//    tests -> EINVAL, with their pr_info lines);
//  - the command: iptables 1.8.9 iptables/xshared.c (do_parse, print_header,
//    print_rule_details, print_fragment, print_ifaces, print_ipv4_addresses, save_*),
//    iptables/iptables.c (do_command4, print_firewall, print_rule4, list_entries, list_rules),
//    libxtables/xtables.c (address, mask, port, protocol and interface parsing,
//    xtables_print_num, basic_exit_err), libxtables/xtoptions.c, libiptc/libiptc.c (the
//    operations, their errno values and TC_STRERROR), extensions/libxt_{tcp,udp}.c,
//    libipt_icmp.c, libxt_icmp.h, libipt_REJECT.c.
#include "vnic/stack/netfilter.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "vnic/stack/wire/checksum.hpp"
#include "vnic/stack/wire/ipv4.hpp"

namespace vnic::stack {

std::string_view nf_hook_name(NfHook h) {
  switch (h) {
    case NfHook::PreRouting: return "NF_INET_PRE_ROUTING";
    case NfHook::LocalIn: return "NF_INET_LOCAL_IN";
    case NfHook::Forward: return "NF_INET_FORWARD";
    case NfHook::LocalOut: return "NF_INET_LOCAL_OUT";
    case NfHook::PostRouting: return "NF_INET_POST_ROUTING";
  }
  return "?";
}

std::string_view nf_hook_chain(NfHook h) {
  switch (h) {
    case NfHook::PreRouting: return "PREROUTING";
    case NfHook::LocalIn: return "INPUT";
    case NfHook::Forward: return "FORWARD";
    case NfHook::LocalOut: return "OUTPUT";
    case NfHook::PostRouting: return "POSTROUTING";
  }
  return "?";
}

std::string_view name(NfTable t) {
  switch (t) {
    case NfTable::Raw: return "raw";
    case NfTable::Mangle: return "mangle";
    case NfTable::Filter: return "filter";
  }
  return "?";
}

namespace {

// ---- Constants from the kernel and iptables ----------------------------------------------------

// struct ipt_ip flags and invflags (include/uapi/linux/netfilter_ipv4/ip_tables.h).
constexpr uint8_t kInvViaIn = 0x01, kInvViaOut = 0x02, kInvSrcIp = 0x08, kInvDstIp = 0x10, kInvFrag = 0x20,
                  kInvProto = 0x40;
constexpr uint8_t kFFrag = 0x01, kFGoto = 0x02;

constexpr uint8_t kProtoIcmp = 1, kProtoTcp = 6, kProtoUdp = 17;

constexpr std::size_t kIfNamSiz = 16;        // IFNAMSIZ
constexpr std::size_t kChainMaxNameLen = 29;  // XT_EXTENSION_MAXNAMELEN: names are shorter

// iptables' commands (xshared.h CMD_*), with cmd2char's letters in bit order.
constexpr unsigned kCmdNone = 0, kCmdInsert = 1u << 0, kCmdDelete = 1u << 1, kCmdDeleteNum = 1u << 2,
                   kCmdReplace = 1u << 3, kCmdAppend = 1u << 4, kCmdList = 1u << 5, kCmdFlush = 1u << 6,
                   kCmdZero = 1u << 7, kCmdNewChain = 1u << 8, kCmdDeleteChain = 1u << 9, kCmdSetPolicy = 1u << 10,
                   kCmdRename = 1u << 11, kCmdListRules = 1u << 12, kCmdZeroNum = 1u << 13, kCmdCheck = 1u << 14;
constexpr std::string_view kCmdFlags = "IDDRALFZNXPESZC";

// iptables' options (xshared.h OPT_*), with opt2char's letters in bit order.
constexpr unsigned kOptNumeric = 1u << 0, kOptSource = 1u << 1, kOptDestination = 1u << 2, kOptProtocol = 1u << 3,
                   kOptJump = 1u << 4, kOptVerbose = 1u << 5, kOptExpanded = 1u << 6, kOptViaIn = 1u << 7,
                   kOptViaOut = 1u << 8, kOptLineNumbers = 1u << 9, /* 1u << 10: -c, refused */
                   kOptFragment = 1u << 11;
constexpr std::string_view kOptFlags = "nsdpjvxio0cf";
constexpr uint8_t kInverseForOptions[12] = {0, kInvSrcIp, kInvDstIp, kInvProto, 0, 0, 0, kInvViaIn, kInvViaOut, 0, 0,
                                            kInvFrag};
// xshared.c commands_v_options, for the options above ('x': illegal with that command).
constexpr const char* kCommandsVOptions[15] = {
    /*         nsdpjvxio0cf */
    /*INSERT*/ "x     x  x  ",
    /*DELETE*/ "x     x  xx ",
    /*DEL_NUM*/"xxxxx xxxxxx",
    /*REPLACE*/"x     x  x  ",
    /*APPEND*/ "x     x  x  ",
    /*LIST*/   " xxxx  xx xx",
    /*FLUSH*/  "xxxxx xxxxxx",
    /*ZERO*/   "xxxxx xxxxxx",
    /*NEW*/    "xxxxx xxxxxx",
    /*DEL_CH*/ "xxxxx xxxxxx",
    /*POLICY*/ "xxxxx xxxx x",
    /*RENAME*/ "xxxxx xxxxxx",
    /*LIST_R*/ "xxxxx xxxxxx",
    /*ZERONUM*/"xxxxx xxxxxx",
    /*CHECK*/  "x     x  xx ",
};

// --reject-with types, indexed by enum ipt_reject_with (ipt_REJECT.h), with the ICMP code each
// sends (ipt_REJECT.c reject_tg). Index 4 (echo-reply) is gone; 7 is tcp-reset.
constexpr uint8_t kRejectPort = 3, kRejectTcpReset = 7;
struct RejectName {
  std::string_view name, alias;
  uint8_t code;
};
constexpr RejectName kRejectTable[9] = {
    {"icmp-net-unreachable", "net-unreach", 0},   {"icmp-host-unreachable", "host-unreach", 1},
    {"icmp-proto-unreachable", "proto-unreach", 2}, {"icmp-port-unreachable", "port-unreach", 3},
    {"", "", 0},                                   {"icmp-net-prohibited", "net-prohib", 9},
    {"icmp-host-prohibited", "host-prohib", 10},   {"tcp-reset", "tcp-rst", 0},
    {"icmp-admin-prohibited", "admin-prohib", 13},
};

// xtables_chain_protos, then the numbers Debian's netbase /etc/protocols names (getprotoby*).
struct ProtoName {
  std::string_view name;
  uint8_t num;
};
constexpr ProtoName kChainProtos[] = {{"tcp", 6},   {"sctp", 132}, {"udp", 17},  {"udplite", 136},
                                      {"icmp", 1},  {"ipv6-icmp", 58}, {"icmpv6", 58}, {"esp", 50},
                                      {"ah", 51},   {"mobility-header", 135}, {"ipv6-mh", 135}, {"mh", 135},
                                      {"all", 0}};
constexpr ProtoName kEtcProtocols[] = {
    {"ip", 0},           {"hopopt", 0},      {"icmp", 1},      {"igmp", 2},       {"ggp", 3},
    {"ipencap", 4},      {"st", 5},          {"tcp", 6},       {"egp", 8},        {"igp", 9},
    {"pup", 12},         {"udp", 17},        {"hmp", 20},      {"xns-idp", 22},   {"rdp", 27},
    {"iso-tp4", 29},     {"dccp", 33},       {"xtp", 36},      {"ddp", 37},       {"idpr-cmtp", 38},
    {"ipv6", 41},        {"ipv6-route", 43}, {"ipv6-frag", 44}, {"idrp", 45},     {"rsvp", 46},
    {"gre", 47},         {"esp", 50},        {"ah", 51},       {"skip", 57},      {"ipv6-icmp", 58},
    {"ipv6-nonxt", 59},  {"ipv6-opts", 60},  {"rspf", 73},     {"vmtp", 81},      {"eigrp", 88},
    {"ospf", 89},        {"ax.25", 93},      {"ipip", 94},     {"etherip", 97},   {"encap", 98},
    {"pim", 103},        {"ipcomp", 108},    {"vrrp", 112},    {"l2tp", 115},     {"isis", 124},
    {"sctp", 132},       {"fc", 133},        {"mobility-header", 135}, {"udplite", 136}, {"mpls-in-ip", 137},
    {"manet", 138},      {"hip", 139},       {"shim6", 140},   {"wesp", 141},     {"rohc", 142},
    {"ethernet", 143},
};

// A subset of netbase's /etc/services, for port names (getservbyname/getservbyport).
struct Service {
  std::string_view name;
  uint16_t port;
  bool tcp, udp;
};
constexpr Service kServices[] = {
    {"echo", 7, true, true},         {"discard", 9, true, true},      {"daytime", 13, true, true},
    {"chargen", 19, true, true},     {"ftp-data", 20, true, false},   {"ftp", 21, true, false},
    {"ssh", 22, true, false},        {"telnet", 23, true, false},     {"smtp", 25, true, false},
    {"time", 37, true, true},        {"whois", 43, true, false},      {"domain", 53, true, true},
    {"bootps", 67, false, true},     {"bootpc", 68, false, true},     {"tftp", 69, false, true},
    {"http", 80, true, false},       {"kerberos", 88, true, true},    {"pop3", 110, true, false},
    {"sunrpc", 111, true, true},     {"auth", 113, true, false},      {"nntp", 119, true, false},
    {"ntp", 123, false, true},       {"netbios-ns", 137, false, true}, {"netbios-dgm", 138, false, true},
    {"netbios-ssn", 139, true, false}, {"imap2", 143, true, false},   {"snmp", 161, true, true},
    {"snmp-trap", 162, true, true},  {"bgp", 179, true, false},       {"ldap", 389, true, true},
    {"https", 443, true, true},      {"microsoft-ds", 445, true, false}, {"isakmp", 500, false, true},
    {"syslog", 514, false, true},    {"submission", 587, true, false}, {"ldaps", 636, true, true},
    {"rsync", 873, true, false},
};

// libxt_icmp.h icmp_codes: names for --icmp-type, and for listings without -n.
struct IcmpName {
  std::string_view name;
  uint8_t type, code_min, code_max;
};
constexpr IcmpName kIcmpCodes[] = {
    {"any", 0xFF, 0, 0xFF},
    {"echo-reply", 0, 0, 0xFF},
    {"pong", 0, 0, 0xFF},
    {"destination-unreachable", 3, 0, 0xFF},
    {"network-unreachable", 3, 0, 0},
    {"host-unreachable", 3, 1, 1},
    {"protocol-unreachable", 3, 2, 2},
    {"port-unreachable", 3, 3, 3},
    {"fragmentation-needed", 3, 4, 4},
    {"source-route-failed", 3, 5, 5},
    {"network-unknown", 3, 6, 6},
    {"host-unknown", 3, 7, 7},
    {"network-prohibited", 3, 9, 9},
    {"host-prohibited", 3, 10, 10},
    {"TOS-network-unreachable", 3, 11, 11},
    {"TOS-host-unreachable", 3, 12, 12},
    {"communication-prohibited", 3, 13, 13},
    {"host-precedence-violation", 3, 14, 14},
    {"precedence-cutoff", 3, 15, 15},
    {"source-quench", 4, 0, 0xFF},
    {"redirect", 5, 0, 0xFF},
    {"network-redirect", 5, 0, 0},
    {"host-redirect", 5, 1, 1},
    {"TOS-network-redirect", 5, 2, 2},
    {"TOS-host-redirect", 5, 3, 3},
    {"echo-request", 8, 0, 0xFF},
    {"ping", 8, 0, 0xFF},
    {"router-advertisement", 9, 0, 0xFF},
    {"router-solicitation", 10, 0, 0xFF},
    {"time-exceeded", 11, 0, 0xFF},
    {"ttl-exceeded", 11, 0, 0xFF},
    {"ttl-zero-during-transit", 11, 0, 0},
    {"ttl-zero-during-reassembly", 11, 1, 1},
    {"parameter-problem", 12, 0, 0xFF},
    {"ip-header-bad", 12, 0, 0},
    {"required-option-missing", 12, 1, 1},
    {"timestamp-request", 13, 0, 0xFF},
    {"timestamp-reply", 14, 0, 0xFF},
    {"address-mask-request", 17, 0, 0xFF},
    {"address-mask-reply", 18, 0, 0xFF},
};

// The extensions iptables 1.8.9 ships that this model does not (a name that clashes with a chain
// name, a -j or -m it would load); tcp, udp, icmp and REJECT are modelled.
constexpr std::string_view kOtherTargets[] = {
    "AUDIT",   "CHECKSUM", "CLASSIFY", "CLUSTERIP", "CONNMARK", "CONNSECMARK", "CT",      "DNAT",
    "DSCP",    "ECN",      "HMARK",    "IDLETIMER", "LED",      "LOG",         "MARK",    "MASQUERADE",
    "NETMAP",  "NFLOG",    "NFQUEUE",  "NOTRACK",   "RATEEST",  "REDIRECT",    "SECMARK", "SET",
    "SNAT",    "SYNPROXY", "TCPMSS",   "TCPOPTSTRIP", "TEE",    "TOS",         "TPROXY",  "TRACE",
    "TTL",     "ULOG"};
constexpr std::string_view kOtherMatches[] = {
    "addrtype", "ah",      "bpf",      "cgroup",    "cluster", "comment",  "connbytes", "connlabel",
    "connlimit", "connmark", "conntrack", "cpu",    "dccp",    "devgroup", "dscp",      "ecn",
    "esp",      "hashlimit", "helper",  "ipcomp",   "iprange", "ipvs",     "length",    "limit",
    "mac",      "mark",    "multiport", "nfacct",   "osf",     "owner",    "physdev",   "pkttype",
    "policy",   "quota",   "rateest",  "realm",     "recent",  "rpfilter", "sctp",      "set",
    "socket",   "state",   "statistic", "string",   "tcpmss",  "time",     "tos",       "ttl",
    "u32"};

template <std::size_t N>
bool contains(const std::string_view (&list)[N], std::string_view s) {
  return std::find(std::begin(list), std::end(list), s) != std::end(list);
}

// ---- Failures, as iptables reports them --------------------------------------------------------

struct Fail {
  int status = 1;
  std::string err;
  std::string dmesg;
  std::string out;  // set by exec() from what was printed before the failure
};
// -V: prints and stops with success.
struct Done {
  std::string out;
};

constexpr std::string_view kTryHelp = "Try `iptables -h' or 'iptables --help' for more information.\n";

// basic_exit_err: "iptables v1.8.9 (legacy): <msg>\n", then the help hint (PARAMETER_PROBLEM, 2)
// or the upgrade hint (VERSION_PROBLEM, 3).
[[noreturn]] void xt_error(int status, std::string_view msg) {
  std::string e = fmt::format("iptables v1.8.9 (legacy): {}\n", msg);
  if (status == 2) e += kTryHelp;
  if (status == 3) e += "Perhaps iptables or your kernel needs to be upgraded.\n";
  throw Fail{status, std::move(e), {}, {}};
}
[[noreturn]] void param_problem(std::string_view msg) { xt_error(2, msg); }
// What this model leaves out, said in iptables' voice.
[[noreturn]] void not_modelled(std::string_view what, std::string_view why = {}) {
  xt_error(2, fmt::format("{}: not supported by this model{}", what, why));
}

// libiptc's errno values and the function that set them (iptc_fn), for TC_STRERROR.
enum class Errno : uint8_t { Noent, Exist, TooBig, Inval, Loop, Mlink, NotEmpty };
enum class Fn : uint8_t {
  Other, Insert, Replace, Append, DeleteEntry, DeleteNum, CreateChain, DeleteChain, GetReferences, SetPolicy,
  ZeroCounter, Rename, Builtin, Commit
};

std::string_view strerror_of(Errno e) {  // glibc's strerror
  switch (e) {
    case Errno::Noent: return "No such file or directory";
    case Errno::Exist: return "File exists";
    case Errno::TooBig: return "Argument list too long";
    case Errno::Inval: return "Invalid argument";
    case Errno::Loop: return "Too many levels of symbolic links";
    case Errno::Mlink: return "Too many links";
    case Errno::NotEmpty: return "Directory not empty";
  }
  return "?";
}

std::string_view iptc_strerror(Fn fn, Errno e) {  // TC_STRERROR's table
  struct Row {
    Fn fn;
    Errno e;
    std::string_view msg;
  };
  static constexpr Row kTable[] = {
      {Fn::DeleteChain, Errno::NotEmpty, "Chain is not empty"},
      {Fn::DeleteChain, Errno::Inval, "Can't delete built-in chain"},
      {Fn::DeleteChain, Errno::Mlink, "Can't delete chain with references left"},
      {Fn::CreateChain, Errno::Exist, "Chain already exists"},
      {Fn::Insert, Errno::TooBig, "Index of insertion too big"},
      {Fn::Replace, Errno::TooBig, "Index of replacement too big"},
      {Fn::DeleteNum, Errno::TooBig, "Index of deletion too big"},
      {Fn::ZeroCounter, Errno::TooBig, "Index of counter too big"},
      {Fn::Insert, Errno::Loop, "Loop found in table"},
      {Fn::Insert, Errno::Inval, "Target problem"},
      {Fn::DeleteEntry, Errno::Noent, "Bad rule (does a matching rule exist in that chain?)"},
      {Fn::SetPolicy, Errno::Noent, "Bad built-in chain name"},
      {Fn::SetPolicy, Errno::Inval, "Bad policy name"},
  };
  for (const Row& r : kTable) {
    if (r.fn == fn && r.e == e) return r.msg;
  }
  if (e == Errno::Noent) return "No chain/target/match by that name";
  return strerror_of(e);
}

// iptables_main's report of a failed libiptc call or commit (exit status 1).
[[noreturn]] void iptc_error(Fn fn, Errno e, std::string dmesg = {}) {
  const std::string_view msg = iptc_strerror(fn, e);
  std::string err = e == Errno::Inval ? fmt::format("iptables: {}. Run `dmesg' for more information.\n", msg)
                                      : fmt::format("iptables: {}.\n", msg);
  throw Fail{1, std::move(err), std::move(dmesg), {}};
}

// ---- Rules ---------------------------------------------------------------------------------------

enum class MatchKind : uint8_t { Tcp, Udp, Icmp };

std::string_view match_name(MatchKind k) {
  switch (k) {
    case MatchKind::Tcp: return "tcp";
    case MatchKind::Udp: return "udp";
    case MatchKind::Icmp: break;
  }
  return "icmp";
}
uint8_t match_proto(MatchKind k) {
  switch (k) {
    case MatchKind::Tcp: return kProtoTcp;
    case MatchKind::Udp: return kProtoUdp;
    case MatchKind::Icmp: break;
  }
  return kProtoIcmp;
}

// struct xt_tcp / xt_udp / ipt_icmp, as the kernel holds them.
struct Match {
  MatchKind kind = MatchKind::Udp;
  uint16_t spts[2] = {0, 0xFFFF};
  uint16_t dpts[2] = {0, 0xFFFF};
  bool inv_spt = false, inv_dpt = false;
  uint8_t icmp_type = 0xFF;  // icmp_init: "any"
  uint8_t code[2] = {0, 0xFF};
  bool inv_icmp = false;

  bool operator==(const Match& o) const {
    return kind == o.kind && spts[0] == o.spts[0] && spts[1] == o.spts[1] && dpts[0] == o.dpts[0] &&
           dpts[1] == o.dpts[1] && inv_spt == o.inv_spt && inv_dpt == o.inv_dpt && icmp_type == o.icmp_type &&
           code[0] == o.code[0] && code[1] == o.code[1] && inv_icmp == o.inv_icmp;
  }
};

// An interface as xtables_parse_interface leaves it: the name as given ("eth+" keeps its '+')
// and how many leading bytes of the 16 the kernel compares (the name and its NUL; for a
// trailing '+', the name without it; 0: any).
struct Iface {
  std::string name;
  uint8_t masklen = 0;
  bool operator==(const Iface&) const = default;
};

enum class TargetKind : uint8_t { Fallthrough, Accept, Drop, Return, Jump, Reject };

struct Rule {
  uint32_t src = 0, smsk = 0, dst = 0, dmsk = 0;
  Iface in, out;
  uint8_t proto = 0;
  uint8_t flags = 0;     // kFFrag, kFGoto
  uint8_t invflags = 0;  // kInv*
  std::vector<Match> matches;
  TargetKind target = TargetKind::Fallthrough;
  std::string chain;                 // Jump: the user chain (by -j or, with kFGoto, -g)
  uint8_t reject_with = kRejectPort;  // Reject
  NfCounters counters;
  int jump = -1;  // Jump: the chain's index, set when the table is checked

  // What libiptc's delete_entry compares (is_same, target_same): everything but the counters.
  bool same(const Rule& o) const {
    return src == o.src && smsk == o.smsk && dst == o.dst && dmsk == o.dmsk && in == o.in && out == o.out &&
           proto == o.proto && flags == o.flags && invflags == o.invflags && matches == o.matches &&
           target == o.target && chain == o.chain && (target != TargetKind::Reject || reject_with == o.reject_with);
  }
  std::string_view target_name() const {
    switch (target) {
      case TargetKind::Fallthrough: return "";
      case TargetKind::Accept: return "ACCEPT";
      case TargetKind::Drop: return "DROP";
      case TargetKind::Return: return "RETURN";
      case TargetKind::Jump: return chain;
      case TargetKind::Reject: break;
    }
    return "REJECT";
  }
};

struct Chain {
  std::string name;
  int hook = -1;  // the built-in chain of this NF_INET_* hook; -1: user-defined
  bool policy_drop = false;
  NfCounters policy;
  std::vector<Rule> rules;
  // Set when the table is checked:
  unsigned refs = 0;      // rules that jump or go to it (iptc_get_references)
  unsigned hookmask = 0;  // hooks it is reachable from (the entries' comefrom)
  bool builtin() const { return hook >= 0; }
};

struct Table {
  NfTable id = NfTable::Filter;
  std::string_view name;
  unsigned valid_hooks = 0;
  bool loaded = false;
  std::vector<Chain> chains;  // built-in chains in hook order, then user chains sorted by name
  int hook_chain[kNfHookCount] = {-1, -1, -1, -1, -1};

  int find(std::string_view n) const {
    for (std::size_t i = 0; i < chains.size(); ++i) {
      if (chains[i].name == n) return static_cast<int>(i);
    }
    return -1;
  }
};

Table make_table(NfTable id, unsigned hooks) {
  Table t;
  t.id = id;
  t.name = name(id);
  t.valid_hooks = hooks;
  for (std::size_t h = 0; h < kNfHookCount; ++h) {
    if ((hooks & (1u << h)) == 0) continue;
    Chain c;
    c.name = std::string(nf_hook_chain(static_cast<NfHook>(h)));
    c.hook = static_cast<int>(h);
    t.hook_chain[h] = static_cast<int>(t.chains.size());
    t.chains.push_back(std::move(c));
  }
  return t;
}

constexpr unsigned hook_bit(NfHook h) { return 1u << static_cast<unsigned>(h); }
constexpr unsigned kRejectHooks = hook_bit(NfHook::LocalIn) | hook_bit(NfHook::Forward) | hook_bit(NfHook::LocalOut);

// The kernel's checks when iptables replaces the table (translate_table), and the jump indices
// the run uses. Chains loop -> ELOOP; a match on the wrong protocol, a REJECT outside the filter
// table or outside INPUT/FORWARD/OUTPUT -> EINVAL with the kernel's log line.
// The jump indices and the references (iptc_get_references) of every chain.
void count_refs(Table& t) {
  for (Chain& c : t.chains) c.refs = 0;
  for (Chain& c : t.chains) {
    for (Rule& r : c.rules) {
      r.jump = -1;
      if (r.target == TargetKind::Jump) {
        r.jump = t.find(r.chain);
        if (r.jump >= 0) ++t.chains[static_cast<std::size_t>(r.jump)].refs;
      }
    }
  }
}

void check_table(Table& t) {
  count_refs(t);
  for (Chain& c : t.chains) c.hookmask = 0;
  // mark_source_chains: walk from every hook; meeting a chain that is on the walk's own path
  // is a loop. (Chains no hook reaches are not walked, as in the kernel.)
  enum : uint8_t { kWhite, kGrey, kBlack };
  std::vector<uint8_t> color(t.chains.size(), kWhite);
  bool loop = false;
  auto dfs = [&](auto&& self, std::size_t ci) -> void {
    color[ci] = kGrey;
    for (const Rule& r : t.chains[ci].rules) {
      if (r.jump < 0) continue;
      const auto j = static_cast<std::size_t>(r.jump);
      if (color[j] == kGrey) loop = true;
      if (color[j] == kWhite) self(self, j);
    }
    color[ci] = kBlack;
  };
  for (std::size_t h = 0; h < kNfHookCount; ++h) {
    if (t.hook_chain[h] >= 0) dfs(dfs, static_cast<std::size_t>(t.hook_chain[h]));
  }
  if (loop) iptc_error(Fn::Commit, Errno::Loop);
  for (std::size_t h = 0; h < kNfHookCount; ++h) {
    if (t.hook_chain[h] < 0) continue;
    std::vector<std::size_t> work{static_cast<std::size_t>(t.hook_chain[h])};
    while (!work.empty()) {
      const std::size_t ci = work.back();
      work.pop_back();
      if ((t.chains[ci].hookmask & (1u << h)) != 0) continue;
      t.chains[ci].hookmask |= 1u << h;
      for (const Rule& r : t.chains[ci].rules) {
        if (r.jump >= 0) work.push_back(static_cast<std::size_t>(r.jump));
      }
    }
  }
  // find_check_entry, entry by entry: the matches (xt_check_match), then the target
  // (xt_check_target).
  for (const Chain& c : t.chains) {
    for (const Rule& r : c.rules) {
      for (const Match& m : r.matches) {
        if (match_proto(m.kind) != r.proto || (r.invflags & kInvProto) != 0) {
          iptc_error(Fn::Commit, Errno::Inval,
                     fmt::format("x_tables: ip_tables: {} match: only valid for protocol {}", match_name(m.kind),
                                 match_proto(m.kind)));
        }
      }
      if (r.target != TargetKind::Reject) continue;
      if (t.id != NfTable::Filter) {
        iptc_error(Fn::Commit, Errno::Inval,
                   fmt::format("x_tables: ip_tables: REJECT target: only valid in filter table, not {}", t.name));
      }
      if ((c.hookmask & ~kRejectHooks) != 0) {
        std::string used;
        for (std::size_t h = 0; h < kNfHookCount; ++h) {
          if ((c.hookmask & (1u << h)) == 0) continue;
          if (!used.empty()) used += '/';
          used += nf_hook_chain(static_cast<NfHook>(h));
        }
        iptc_error(Fn::Commit, Errno::Inval,
                   fmt::format("x_tables: ip_tables: REJECT target: used from hooks {}, but only usable from "
                               "INPUT/FORWARD/OUTPUT",
                               used));
      }
    }
  }
}

// ---- Parsing helpers (libxtables) ---------------------------------------------------------------

// xtables_strtoul with no end pointer: strtoumax in base 0 (0x.. hex, 0.. octal) over the whole
// string, no minus sign, within [min, max].
std::optional<uint64_t> xt_strtoul(std::string_view s, uint64_t min, uint64_t max) {
  std::size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i])) != 0) ++i;
  if (i < s.size() && s[i] == '-') return std::nullopt;
  if (i < s.size() && s[i] == '+') ++i;
  unsigned base = 10;
  if (i + 2 < s.size() && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X') &&
      std::isxdigit(static_cast<unsigned char>(s[i + 2])) != 0) {
    base = 16;
    i += 2;
  } else if (i < s.size() && s[i] == '0') {
    base = 8;
  }
  const std::size_t start = i;
  uint64_t v = 0;
  bool overflow = false;
  for (; i < s.size(); ++i) {
    const char ch = s[i];
    unsigned d = 0;
    if (ch >= '0' && ch <= '9') {
      d = static_cast<unsigned>(ch - '0');
    } else if (ch >= 'a' && ch <= 'f') {
      d = static_cast<unsigned>(ch - 'a') + 10;
    } else if (ch >= 'A' && ch <= 'F') {
      d = static_cast<unsigned>(ch - 'A') + 10;
    } else {
      break;
    }
    if (d >= base) break;
    if (v > (std::numeric_limits<uint64_t>::max() - d) / base) overflow = true;
    v = v * base + d;
  }
  if (i == start || i != s.size() || overflow) return std::nullopt;
  if (v < min || (max != 0 && v > max)) return std::nullopt;
  return v;
}

// __numeric_to_ipaddr: up to four parts (base 0 each); an address may stop early ("10.1" is
// 10.1.0.0), a mask may not. Host order.
std::optional<uint32_t> numeric_to_ipaddr(std::string_view dotted, bool is_mask) {
  const std::string buf(dotted.substr(0, 19));  // char buf[20]
  uint8_t b[4] = {0, 0, 0, 0};
  std::size_t p = 0;
  for (int i = 0; i < 3; ++i) {
    const std::size_t q = buf.find('.', p);
    if (q == std::string::npos) {
      if (is_mask) return std::nullopt;
      const auto v = xt_strtoul(std::string_view(buf).substr(p), 0, 255);
      if (!v) return std::nullopt;
      b[i] = static_cast<uint8_t>(*v);
      return uint32_t{b[0]} << 24 | uint32_t{b[1]} << 16 | uint32_t{b[2]} << 8 | b[3];
    }
    const auto v = xt_strtoul(std::string_view(buf).substr(p, q - p), 0, 255);
    if (!v) return std::nullopt;
    b[i] = static_cast<uint8_t>(*v);
    p = q + 1;
  }
  const auto v = xt_strtoul(std::string_view(buf).substr(p), 0, 255);
  if (!v) return std::nullopt;
  b[3] = static_cast<uint8_t>(*v);
  return uint32_t{b[0]} << 24 | uint32_t{b[1]} << 16 | uint32_t{b[2]} << 8 | b[3];
}

uint32_t parse_ipmask(std::optional<std::string_view> mask) {
  if (!mask) return 0xFFFFFFFFu;
  if (const auto m = numeric_to_ipaddr(*mask, true)) return *m;
  const auto bits = xt_strtoul(*mask, 0, 32);
  if (!bits) param_problem(fmt::format("invalid mask `{}' specified", *mask));
  return *bits == 0 ? 0u : 0xFFFFFFFFu << (32 - *bits);
}

// xtables_ipparse_multiple: "a[/m][,b[/m]...]"; names are not resolved (no resolver, no
// /etc/networks here: only numbers). Addresses come back masked.
std::vector<std::pair<uint32_t, uint32_t>> ipparse_multiple(std::string_view name) {
  std::vector<std::pair<uint32_t, uint32_t>> v;
  std::size_t loop = 0;
  for (;;) {
    while (loop < name.size() && std::isspace(static_cast<unsigned char>(name[loop])) != 0) ++loop;
    const std::size_t next = name.find(',', loop);
    const std::size_t len = (next == std::string_view::npos ? name.size() : next) - loop;
    if (len > 255) param_problem("Hostname too long");
    std::string buf(name.substr(loop, len));
    uint32_t mask = 0xFFFFFFFFu;
    if (const std::size_t p = buf.rfind('/'); p != std::string::npos) {
      mask = parse_ipmask(std::string_view(buf).substr(p + 1));
      buf.resize(p);
    }
    if (mask == 0) buf = "0.0.0.0";  // "any/0": the name is ignored
    const auto addr = numeric_to_ipaddr(buf, false);
    if (!addr) param_problem(fmt::format("host/network `{}' not found", buf));
    v.emplace_back(*addr & mask, mask);
    if (next == std::string_view::npos) break;
    loop = next + 1;
  }
  return v;
}

Iface parse_interface(std::string_view arg, std::string& warnings) {
  if (arg.size() + 1 > kIfNamSiz) {
    param_problem(fmt::format("interface name `{}' must be shorter than IFNAMSIZ ({})", arg, kIfNamSiz - 1));
  }
  Iface f;
  f.name = std::string(arg);
  if (arg.empty()) return f;
  f.masklen = static_cast<uint8_t>(arg.back() == '+' ? arg.size() - 1 : arg.size() + 1);
  if (arg.find_first_of("/ ") != std::string_view::npos) {
    warnings += fmt::format(
        "Warning: weird character in interface `{}' ('/' and ' ' are not allowed by the kernel).\n", arg);
  }
  return f;
}

std::optional<std::string_view> proto_to_name(uint8_t proto, bool nolookup) {
  for (const ProtoName& p : kChainProtos) {
    if (p.num == proto) return p.name;
  }
  if (proto != 0 && !nolookup) {
    for (const ProtoName& p : kEtcProtocols) {
      if (p.num == proto) return p.name;
    }
  }
  return std::nullopt;
}

uint8_t parse_protocol(std::string_view s) {
  if (const auto v = xt_strtoul(s, 0, 255)) return static_cast<uint8_t>(*v);
  for (const ProtoName& p : kChainProtos) {
    if (p.name == s) return p.num;
  }
  for (const ProtoName& p : kEtcProtocols) {
    if (p.name == s) return p.num;
  }
  param_problem(fmt::format("unknown protocol \"{}\" specified", s));
}

std::optional<uint16_t> service_port(std::string_view name, bool tcp, bool udp) {
  for (const Service& s : kServices) {
    if (s.name == name && ((tcp && s.tcp) || (udp && s.udp))) return s.port;
  }
  return std::nullopt;
}
std::optional<std::string_view> port_service(uint16_t port, bool tcp) {
  for (const Service& s : kServices) {
    if (s.port == port && (tcp ? s.tcp : s.udp)) return s.name;
  }
  return std::nullopt;
}

bool iequals_prefix(std::string_view name, std::string_view prefix) {  // strncasecmp(name, prefix, strlen(prefix)) == 0
  if (prefix.size() > name.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(name[i])) != std::tolower(static_cast<unsigned char>(prefix[i])))
      return false;
  }
  return true;
}

// libxt_icmp.h parse_range: "n" or "n:m", each 0..255; returns where it stopped.
std::optional<std::size_t> icmp_parse_range(std::string_view s, std::size_t pos, unsigned res[2]) {
  auto number = [&](std::size_t& p, unsigned& out) -> bool {
    // xtables_strtoui with an end pointer: digits (base 0) up to the first non-digit.
    std::size_t q = p;
    unsigned base = 10;
    if (q + 2 < s.size() && s[q] == '0' && (s[q + 1] == 'x' || s[q + 1] == 'X') &&
        std::isxdigit(static_cast<unsigned char>(s[q + 2])) != 0) {
      base = 16;
      q += 2;
    } else if (q < s.size() && s[q] == '0') {
      base = 8;
    }
    const std::size_t start = q;
    uint64_t v = 0;
    for (; q < s.size(); ++q) {
      const char ch = s[q];
      unsigned d = 99;
      if (ch >= '0' && ch <= '9') d = static_cast<unsigned>(ch - '0');
      if (ch >= 'a' && ch <= 'f') d = static_cast<unsigned>(ch - 'a') + 10;
      if (ch >= 'A' && ch <= 'F') d = static_cast<unsigned>(ch - 'A') + 10;
      if (d >= base) break;
      v = v * base + d;
      if (v > 0xFFFFFFFFu) return false;
    }
    if (q == start || v > 255) return false;
    out = static_cast<unsigned>(v);
    p = q;
    return true;
  };
  if (pos < s.size() && s[pos] == '-') return std::nullopt;
  if (!number(pos, res[0])) return std::nullopt;
  res[1] = res[0];
  if (pos < s.size() && s[pos] == ':') {
    ++pos;
    if (pos < s.size() && s[pos] == '-') return std::nullopt;
    if (!number(pos, res[1])) return std::nullopt;
  }
  return pos;
}

// ipt_parse_icmp: a (case-insensitive, unambiguous) prefix of a name, or "type[/code[:code]]".
void parse_icmp(std::string_view s, Match& m) {
  std::size_t found = std::size(kIcmpCodes);
  for (std::size_t i = 0; i < std::size(kIcmpCodes); ++i) {
    if (!iequals_prefix(kIcmpCodes[i].name, s)) continue;
    if (found != std::size(kIcmpCodes)) {
      param_problem(fmt::format("Ambiguous ICMP type `{}': `{}' or `{}'?", s, kIcmpCodes[found].name,
                                kIcmpCodes[i].name));
    }
    found = i;
  }
  if (found < std::size(kIcmpCodes)) {
    m.icmp_type = kIcmpCodes[found].type;
    m.code[0] = kIcmpCodes[found].code_min;
    m.code[1] = kIcmpCodes[found].code_max;
    return;
  }
  unsigned number[2] = {0, 0};
  const auto next = icmp_parse_range(s, 0, number);
  if (!next) param_problem(fmt::format("Unknown ICMP type `{}'", s));
  const uint8_t types[2] = {static_cast<uint8_t>(number[0]), static_cast<uint8_t>(number[1])};
  std::size_t pos = *next;
  if (pos == s.size()) {
    m.code[0] = 0;
    m.code[1] = 255;
  } else if (s[pos] == '/') {
    const auto after = icmp_parse_range(s, pos + 1, number);
    if (!after) param_problem(fmt::format("Unknown ICMP code `{}'", s));
    m.code[0] = static_cast<uint8_t>(number[0]);
    m.code[1] = static_cast<uint8_t>(number[1]);
    if (*after != s.size()) param_problem(fmt::format("unknown character {}", s[*after]));
  } else {
    param_problem(fmt::format("unknown character {}", s[pos]));
  }
  if (types[0] != types[1]) param_problem("ICMP type range not supported");
  m.icmp_type = types[0];
}

// ---- Listing (iptables -L, -S) ------------------------------------------------------------------

constexpr unsigned kFmtNumeric = 0x0001, kFmtNoCounts = 0x0002, kFmtKMG = 0x0004, kFmtOptions = 0x0008,
                   kFmtNoTable = 0x0010, kFmtNoTarget = 0x0020, kFmtVia = 0x0040, kFmtNoNewline = 0x0080,
                   kFmtLineNumbers = 0x0100;
constexpr unsigned kFmtPrintRule = kFmtNoCounts | kFmtOptions | kFmtVia | kFmtNumeric | kFmtNoTable;

void print_num(std::string& o, uint64_t n, unsigned format) {  // xtables_print_num
  const bool nt = (format & kFmtNoTable) != 0;
  if ((format & kFmtKMG) == 0) {
    o += nt ? fmt::format("{} ", n) : fmt::format("{:>8} ", n);
    return;
  }
  if (n <= 99999) {
    o += nt ? fmt::format("{} ", n) : fmt::format("{:>5} ", n);
    return;
  }
  for (const char suffix : {'K', 'M', 'G'}) {
    n = (n + 500) / 1000;
    if (n <= 9999) {
      o += nt ? fmt::format("{}{} ", n, suffix) : fmt::format("{:>4}{} ", n, suffix);
      return;
    }
  }
  n = (n + 500) / 1000;
  o += nt ? fmt::format("{}T ", n) : fmt::format("{:>4}T ", n);
}

std::string ipaddr_str(uint32_t a) { return wire::Ipv4Addr::from_u32(a).str(); }

std::string ipmask_to_numeric(uint32_t mask) {  // "/n", "" for /32, "/a.b.c.d" for a holey mask
  for (int i = 32; i >= 0; --i) {
    const uint32_t bits = i == 0 ? 0u : 0xFFFFFFFFu << (32 - i);
    if (bits == mask) return i == 32 ? std::string() : fmt::format("/{}", i);
  }
  return "/" + ipaddr_str(mask);
}

std::string mask_to_str(uint32_t mask) {  // iptables-save's
  for (int i = 32; i >= 0; --i) {
    const uint32_t bits = i == 0 ? 0u : 0xFFFFFFFFu << (32 - i);
    if (bits == mask) return fmt::format("{}", i);
  }
  return ipaddr_str(mask);
}

std::string addr_to_string(uint32_t addr, uint32_t mask, unsigned format) {
  if (mask == 0 && (format & kFmtNumeric) == 0) return "anywhere";
  // Without -n iptables would ask the resolver for a name; the model has none.
  return ipaddr_str(addr) + ipmask_to_numeric(mask);
}

void print_port(std::string& o, uint16_t port, bool numeric, bool tcp) {
  const auto service = numeric ? std::nullopt : port_service(port, tcp);
  o += service ? std::string(*service) : fmt::format("{}", port);
}

void print_ports(std::string& o, std::string_view label, const uint16_t pts[2], bool invert, bool numeric,
                 bool tcp) {
  if (pts[0] == 0 && pts[1] == 0xFFFF && !invert) return;
  o += fmt::format(" {}", label);
  if (pts[0] == pts[1]) {
    o += invert ? ":!" : ":";
    print_port(o, pts[0], numeric, tcp);
  } else {
    o += invert ? "s:!" : "s:";
    print_port(o, pts[0], numeric, tcp);
    o += ':';
    print_port(o, pts[1], numeric, tcp);
  }
}

void print_match(std::string& o, const Match& m, bool numeric) {
  if (m.kind != MatchKind::Icmp) {
    const bool tcp = m.kind == MatchKind::Tcp;
    o += tcp ? " tcp" : " udp";
    print_ports(o, "spt", m.spts, m.inv_spt, numeric, tcp);
    print_ports(o, "dpt", m.dpts, m.inv_dpt, numeric, tcp);
    return;
  }
  o += " icmp";
  if (!numeric) {
    for (const IcmpName& n : kIcmpCodes) {
      if (n.type == m.icmp_type && n.code_min == m.code[0] && n.code_max == m.code[1]) {
        o += fmt::format(" {}{}", m.inv_icmp ? "!" : "", n.name);
        return;
      }
    }
  }
  if (m.inv_icmp) o += " !";
  o += fmt::format("type {}", m.icmp_type);
  if (m.code[0] == m.code[1]) {
    o += fmt::format(" code {}", m.code[0]);
  } else if (m.code[0] != 0 || m.code[1] != 0xFF) {
    o += fmt::format(" codes {}-{}", m.code[0], m.code[1]);
  }
}

// print_firewall: one rule line of -L (or, with kFmtPrintRule, of -v on -A/-I/-D/-C/-R).
void print_rule_line(std::string& o, const Rule& r, unsigned num, unsigned format) {
  const bool nt = (format & kFmtNoTable) != 0;
  auto f = [&](const std::string& tab, const std::string& notab) { o += nt ? notab : tab; };
  // print_rule_details
  if ((format & kFmtLineNumbers) != 0) f(fmt::format("{:<4} ", num), fmt::format("{} ", num));
  if ((format & kFmtNoCounts) == 0) {
    print_num(o, r.counters.packets, format);
    print_num(o, r.counters.bytes, format);
  }
  if ((format & kFmtNoTarget) == 0) f(fmt::format("{:<9} ", r.target_name()), fmt::format("{} ", r.target_name()));
  o += (r.invflags & kInvProto) != 0 ? '!' : ' ';
  const auto pname = proto_to_name(r.proto, (format & kFmtNumeric) != 0);
  if ((format & (kFmtNumeric | kFmtNoTable)) == kFmtNumeric || !pname) {
    f(fmt::format("{:<4} ", r.proto), fmt::format("{} ", r.proto));
  } else {
    f(fmt::format("{:<4} ", *pname), fmt::format("{} ", *pname));
  }
  // print_fragment
  if ((format & kFmtOptions) != 0) {
    if (nt) o += "opt ";
    o += (r.invflags & kInvFrag) != 0 ? '!' : '-';
    o += (r.flags & kFFrag) != 0 ? 'f' : '-';
    o += ' ';
  }
  // print_ifaces
  if ((format & kFmtVia) != 0) {
    const std::string_view any = (format & kFmtNumeric) != 0 ? "*" : "any";
    const std::string in = fmt::format("{}{}", (r.invflags & kInvViaIn) != 0 ? "!" : "",
                                       r.in.name.empty() ? any : std::string_view(r.in.name));
    const std::string out = fmt::format("{}{}", (r.invflags & kInvViaOut) != 0 ? "!" : "",
                                        r.out.name.empty() ? any : std::string_view(r.out.name));
    f(fmt::format(" {:<6} ", in), fmt::format("in {} ", in));
    f(fmt::format("{:<6} ", out), fmt::format("out {} ", out));
  }
  // print_ipv4_addresses
  o += (r.invflags & kInvSrcIp) != 0 ? '!' : ' ';
  const std::string src = addr_to_string(r.src, r.smsk, format);
  f(fmt::format("{:<19} ", src), fmt::format("{} ", src));
  o += (r.invflags & kInvDstIp) != 0 ? '!' : ' ';
  const std::string dst = addr_to_string(r.dst, r.dmsk, format);
  f(fmt::format("{:<19} ", dst), fmt::format("-> {}", dst));
  if (nt) o += "  ";
  if ((r.flags & kFGoto) != 0) o += "[goto] ";
  for (const Match& m : r.matches) print_match(o, m, (format & kFmtNumeric) != 0);
  if (r.target == TargetKind::Reject) o += fmt::format(" reject-with {}", kRejectTable[r.reject_with].name);
  if ((format & kFmtNoNewline) == 0) o += '\n';
}

void print_header(std::string& o, unsigned format, const Chain& c) {
  o += fmt::format("Chain {}", c.name);
  if (c.builtin()) {
    o += fmt::format(" (policy {}", c.policy_drop ? "DROP" : "ACCEPT");
    if ((format & kFmtNoCounts) == 0) {
      o += ' ';
      print_num(o, c.policy.packets, format | kFmtNoTable);
      o += "packets, ";
      print_num(o, c.policy.bytes, format | kFmtNoTable);
      o += "bytes";
    }
    o += ")\n";
  } else {
    o += fmt::format(" ({} references)\n", c.refs);
  }
  if ((format & kFmtLineNumbers) != 0) o += fmt::format("{:<4} ", "num");
  if ((format & kFmtNoCounts) == 0) {
    if ((format & kFmtKMG) != 0) {
      o += fmt::format("{:>5} {:>5} ", "pkts", "bytes");
    } else {
      o += fmt::format("{:>8} {:>10} ", "pkts", "bytes");
    }
  }
  if ((format & kFmtNoTarget) == 0) o += fmt::format("{:<9} ", "target");
  o += " prot ";
  if ((format & kFmtOptions) != 0) o += "opt";
  if ((format & kFmtVia) != 0) o += fmt::format(" {:<6} {:<6} ", "in", "out");
  o += fmt::format(" {:<19} ", "source");
  o += fmt::format(" {:<19} ", "destination");
  o += '\n';
}

void save_iface(std::string& o, char letter, const Iface& f, bool invert) {
  if (f.masklen == 0) return;
  o += fmt::format("{} -{} ", invert ? " !" : "", letter);
  for (std::size_t i = 0; i < kIfNamSiz; ++i) {
    const char ch = i < f.name.size() ? f.name[i] : '\0';
    if (i < f.masklen) {
      if (ch != '\0') o += ch;
    } else {
      const char prev = i - 1 < f.name.size() ? f.name[i - 1] : '\0';
      if (prev != '\0') o += '+';
      break;
    }
  }
}

// print_rule4: one -S line.
void save_rule(std::string& o, const Rule& r, std::string_view chain, bool counters) {
  o += fmt::format("-A {}", chain);
  auto save_addr = [&](char letter, uint32_t addr, uint32_t mask, bool invert) {
    if (mask == 0 && !invert && addr == 0) return;
    o += fmt::format("{} -{} {}/{}", invert ? " !" : "", letter, ipaddr_str(addr), mask_to_str(mask));
  };
  save_addr('s', r.src, r.smsk, (r.invflags & kInvSrcIp) != 0);
  save_addr('d', r.dst, r.dmsk, (r.invflags & kInvDstIp) != 0);
  save_iface(o, 'i', r.in, (r.invflags & kInvViaIn) != 0);
  save_iface(o, 'o', r.out, (r.invflags & kInvViaOut) != 0);
  if (r.proto > 0) {
    if ((r.invflags & kInvProto) != 0) o += " !";
    const auto pname = proto_to_name(r.proto, false);
    o += pname ? fmt::format(" -p {}", *pname) : fmt::format(" -p {}", r.proto);
  }
  if ((r.flags & kFFrag) != 0) {
    if ((r.invflags & kInvFrag) != 0) o += " !";
    o += " -f";
  }
  for (const Match& m : r.matches) {
    o += fmt::format(" -m {}", match_name(m.kind));
    if (m.kind == MatchKind::Icmp) {
      if (m.inv_icmp) o += " !";
      if (m.icmp_type == 0xFF) {
        o += " --icmp-type any";
      } else {
        o += fmt::format(" --icmp-type {}", m.icmp_type);
        if (m.code[0] != 0 || m.code[1] != 0xFF) o += fmt::format("/{}", m.code[0]);
      }
      continue;
    }
    auto save_ports = [&](std::string_view opt, const uint16_t pts[2], bool invert) {
      if (pts[0] == 0 && pts[1] == 0xFFFF) return;
      if (invert) o += " !";
      o += pts[0] != pts[1] ? fmt::format(" --{} {}:{}", opt, pts[0], pts[1]) : fmt::format(" --{} {}", opt, pts[0]);
    };
    save_ports("sport", m.spts, m.inv_spt);
    save_ports("dport", m.dpts, m.inv_dpt);
  }
  if (counters) o += fmt::format(" -c {} {}", r.counters.packets, r.counters.bytes);
  if (r.target == TargetKind::Reject) {
    o += fmt::format(" -j REJECT --reject-with {}", kRejectTable[r.reject_with].name);
  } else if (r.target != TargetKind::Fallthrough) {
    o += fmt::format(" -{} {}", (r.flags & kFGoto) != 0 ? 'g' : 'j', r.target_name());
  }
  o += '\n';
}

// ---- The packet ----------------------------------------------------------------------------------

struct Pkt {
  uint32_t saddr = 0, daddr = 0;
  uint8_t proto = 0;
  uint16_t fragoff = 0;              // ntohs(frag_off) & IP_OFFSET: in 8-byte units
  std::span<const uint8_t> l4;       // from the transport header (ip_hdrlen) to skb->len
  uint32_t len = 0;                  // skb->len
};

bool iface_match(std::string_view dev, const Iface& f) {  // ifname_compare_aligned
  for (std::size_t i = 0; i < f.masklen; ++i) {
    const char d = i < dev.size() ? dev[i] : '\0';
    const char n = i < f.name.size() ? f.name[i] : '\0';
    if (d != n) return false;
  }
  return true;
}

bool ip_packet_match(const Pkt& p, std::string_view in, std::string_view out, const Rule& r) {
  auto invf = [&](uint8_t flag, bool cond) { return cond != ((r.invflags & flag) != 0); };  // NF_INVF
  if (invf(kInvSrcIp, (p.saddr & r.smsk) != r.src) || invf(kInvDstIp, (p.daddr & r.dmsk) != r.dst)) return false;
  if (invf(kInvViaIn, !iface_match(in, r.in))) return false;
  if (invf(kInvViaOut, !iface_match(out, r.out))) return false;
  if (r.proto != 0 && invf(kInvProto, p.proto != r.proto)) return false;
  if (invf(kInvFrag, (r.flags & kFFrag) != 0 && p.fragoff == 0)) return false;
  return true;
}

enum class MatchResult : uint8_t { No, Yes, Hotdrop };

bool port_match(const uint16_t pts[2], uint16_t port, bool invert) {
  return (port >= pts[0] && port <= pts[1]) != invert;
}

MatchResult eval_match(const Match& m, const Pkt& p) {
  switch (m.kind) {
    case MatchKind::Tcp: {
      if (p.fragoff != 0) return p.fragoff == 1 ? MatchResult::Hotdrop : MatchResult::No;  // "evil TCP offset=1"
      if (p.l4.size() < 20) return MatchResult::Hotdrop;  // sizeof(struct tcphdr)
      const uint16_t sport = wire::load_be16(p.l4, 0), dport = wire::load_be16(p.l4, 2);
      return port_match(m.spts, sport, m.inv_spt) && port_match(m.dpts, dport, m.inv_dpt) ? MatchResult::Yes
                                                                                         : MatchResult::No;
    }
    case MatchKind::Udp: {
      if (p.fragoff != 0) return MatchResult::No;
      if (p.l4.size() < 8) return MatchResult::Hotdrop;
      const uint16_t sport = wire::load_be16(p.l4, 0), dport = wire::load_be16(p.l4, 2);
      return port_match(m.spts, sport, m.inv_spt) && port_match(m.dpts, dport, m.inv_dpt) ? MatchResult::Yes
                                                                                         : MatchResult::No;
    }
    case MatchKind::Icmp: break;
  }
  if (p.fragoff != 0) return MatchResult::No;
  if (p.l4.size() < 8) return MatchResult::Hotdrop;  // sizeof(struct icmphdr)
  const uint8_t type = p.l4[0], code = p.l4[1];
  const bool hit = m.icmp_type == 0xFF || (type == m.icmp_type && code >= m.code[0] && code <= m.code[1]);
  return hit != m.inv_icmp ? MatchResult::Yes : MatchResult::No;
}

struct Decision {
  bool drop = false;
  bool hotdrop = false;
  std::optional<NfReject> reject;
  std::size_t chain = 0;
  uint32_t rule = 0;  // 0: the policy
};

// ipt_do_table.
Decision do_table(Table& t, NfHook hook, const Pkt& p, std::string_view in, std::string_view out,
                  std::vector<std::pair<std::size_t, std::size_t>>& stack) {
  const auto hc = static_cast<std::size_t>(t.hook_chain[static_cast<std::size_t>(hook)]);
  stack.clear();
  std::size_t ci = hc;
  std::size_t ri = 0;
  auto policy = [&]() {  // the underflow entry: the hook's built-in chain's policy
    Chain& b = t.chains[hc];
    ++b.policy.packets;
    b.policy.bytes += p.len;
    return Decision{b.policy_drop, false, std::nullopt, hc, 0};
  };
  for (;;) {
    Chain& c = t.chains[ci];
    if (ri >= c.rules.size()) {
      if (c.builtin() || stack.empty()) return policy();  // a user chain's end is a RETURN
      std::tie(ci, ri) = stack.back();
      stack.pop_back();
      continue;
    }
    Rule& r = c.rules[ri];
    const auto here = static_cast<uint32_t>(ri + 1);
    if (!ip_packet_match(p, in, out, r)) {
      ++ri;
      continue;
    }
    bool matched = true;
    for (const Match& m : r.matches) {
      const MatchResult res = eval_match(m, p);
      if (res == MatchResult::Hotdrop) return Decision{true, true, std::nullopt, ci, here};
      if (res == MatchResult::No) {
        matched = false;
        break;
      }
    }
    if (!matched) {
      ++ri;
      continue;
    }
    ++r.counters.packets;
    r.counters.bytes += p.len;
    switch (r.target) {
      case TargetKind::Fallthrough: ++ri; break;
      case TargetKind::Accept: return Decision{false, false, std::nullopt, ci, here};
      case TargetKind::Drop: return Decision{true, false, std::nullopt, ci, here};
      case TargetKind::Reject:
        return Decision{true, false, NfReject{3, kRejectTable[r.reject_with].code}, ci, here};
      case TargetKind::Return:
        if (stack.empty()) return policy();
        std::tie(ci, ri) = stack.back();
        stack.pop_back();
        break;
      case TargetKind::Jump:
        if (r.jump < 0) {  // cannot happen once checked; drop as the kernel's bad verdict would
          return Decision{true, false, std::nullopt, ci, here};
        }
        if ((r.flags & kFGoto) == 0) stack.emplace_back(ci, ri + 1);
        ci = static_cast<std::size_t>(r.jump);
        ri = 0;
        break;
    }
  }
}

// ---- The command line ----------------------------------------------------------------------------

std::vector<std::string> split_args(std::string_view line) {
  std::vector<std::string> v;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i])) != 0) ++i;
    if (i >= line.size()) break;
    std::string tok;
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i])) == 0) {
      const char q = line[i];
      if (q == '\'' || q == '"') {
        ++i;
        while (i < line.size() && line[i] != q) tok += line[i++];
        if (i < line.size()) ++i;
      } else {
        tok += line[i++];
      }
    }
    v.push_back(std::move(tok));
  }
  return v;
}

// Option codes beyond the base ones (the extensions' long options).
constexpr int kOptSport = 256, kOptDport = 257, kOptSyn = 258, kOptTcpFlags = 259, kOptTcpOption = 260,
              kOptIcmpType = 261, kOptRejectWith = 262;
constexpr int kUnknown = '?', kMissingArg = ':';

struct LongOpt {
  std::string_view name;
  int has_arg;  // 0 none, 1 required, 2 optional
  int code;
};
constexpr LongOpt kBaseLongOpts[] = {
    {"append", 1, 'A'},       {"delete", 1, 'D'},         {"check", 1, 'C'},         {"insert", 1, 'I'},
    {"replace", 1, 'R'},      {"list", 2, 'L'},           {"list-rules", 2, 'S'},    {"flush", 2, 'F'},
    {"zero", 2, 'Z'},         {"new-chain", 1, 'N'},      {"delete-chain", 2, 'X'},  {"rename-chain", 1, 'E'},
    {"policy", 1, 'P'},       {"source", 1, 's'},         {"destination", 1, 'd'},   {"src", 1, 's'},
    {"dst", 1, 'd'},          {"protocol", 1, 'p'},       {"in-interface", 1, 'i'},  {"jump", 1, 'j'},
    {"table", 1, 't'},        {"match", 1, 'm'},          {"numeric", 0, 'n'},       {"out-interface", 1, 'o'},
    {"verbose", 0, 'v'},      {"wait", 2, 'w'},           {"wait-interval", 2, 'W'}, {"exact", 0, 'x'},
    {"fragments", 0, 'f'},    {"version", 0, 'V'},        {"help", 2, 'h'},          {"line-numbers", 0, '0'},
    {"modprobe", 1, 'M'},     {"set-counters", 1, 'c'},   {"goto", 1, 'g'},          {"ipv4", 0, '4'},
    {"ipv6", 0, '6'},
};
constexpr LongOpt kPortOpts[] = {
    {"source-port", 1, kOptSport}, {"sport", 1, kOptSport}, {"destination-port", 1, kOptDport},
    {"dport", 1, kOptDport}};
constexpr LongOpt kTcpOnlyOpts[] = {
    {"syn", 0, kOptSyn}, {"tcp-flags", 1, kOptTcpFlags}, {"tcp-option", 1, kOptTcpOption}};
constexpr LongOpt kIcmpOpts[] = {{"icmp-type", 1, kOptIcmpType}};
constexpr LongOpt kRejectOpts[] = {{"reject-with", 1, kOptRejectWith}};

// IPT_OPTSTRING's short options: 0 none, 1 required, 2 optional argument.
int short_opt(char c) {
  switch (c) {
    case 'A': case 'C': case 'D': case 'E': case 'I': case 'M': case 'N': case 'P': case 'c': case 'd': case 'i':
    case 'j': case 'o': case 'p': case 's': case 't': case 'R': case 'g': case 'm':
      return 1;
    case 'F': case 'L': case 'X': case 'Z': case 'S': case 'W': case 'h': case 'w':
      return 2;
    case 'V': case '4': case '6': case 'f': case 'n': case 'v': case 'x':
      return 0;
    default:
      return -1;
  }
}

struct ExtMatch {
  Match m;
  unsigned xflags = 0;  // options already given (each only once)
};

// What do_parse gathers.
struct Cmd {
  unsigned command = kCmdNone;
  std::optional<std::string> chain;
  std::string table = "filter";
  unsigned rulenum = 0;
  std::optional<std::string> policy, newname;
  int verbose = 0;
  unsigned options = 0;
  uint8_t invflags = 0, flags = 0, proto = 0;
  std::optional<std::string> protocol;
  bool proto_used = false;
  std::optional<std::string> shost, dhost;
  Iface in, out;
  std::string jumpto;
  bool goto_set = false;
  bool target_std = false;  // -j ACCEPT/DROP/RETURN
  bool target_reject = false;
  uint8_t reject_with = kRejectPort;
  unsigned reject_xflags = 0;
  std::vector<ExtMatch> matches;
  std::vector<int> ext_order;  // loaded extensions, oldest first: -1 the target, i matches[i]
};

char cmd2char(unsigned option) {
  std::size_t i = 0;
  for (; option > 1; option >>= 1) ++i;
  return i < kCmdFlags.size() ? kCmdFlags[i] : '?';
}
std::size_t bit_index(unsigned option) {
  std::size_t i = 0;
  for (; option > 1; option >>= 1) ++i;
  return i;
}

class Parser {
 public:
  // `warnings`: what iptables writes to stderr without stopping.
  Parser(std::vector<std::string> args, std::string& warnings) : args_(std::move(args)), warnings_(warnings) {}

  Cmd parse() {
    while (pos_ < args_.size()) {
      if (!next_option()) continue;
      dispatch();
    }
    finish();
    return std::move(c_);
  }

 private:
  // One getopt_long step: fills code_/optarg_/argtok_, or handles a non-option ("!" or an
  // error). Returns false when there is nothing to dispatch.
  bool next_option() {
    const std::string& tok = args_[pos_];
    optarg_.reset();
    retry_at_.reset();
    if (tok.size() >= 2 && tok[0] == '-' && tok[1] == '-') {
      if (tok.size() == 2) {  // "--" ends the options
        ++pos_;
        ended_ = true;
        pos_ = args_.size();
        return false;
      }
      const std::string_view body = std::string_view(tok).substr(2);
      const std::size_t eq = body.find('=');
      const std::string_view nm = body.substr(0, eq);
      opt_token_ = tok;
      const auto found = find_long(nm);
      ++pos_;
      if (!found) {
        code_ = kUnknown;
        argtok_ = tok;
        retry_at_ = pos_ - 1;
        return true;
      }
      code_ = found->code;
      opt_name_ = found->name;
      if (eq != std::string_view::npos) {
        if (found->has_arg == 0) {
          code_ = kUnknown;
          argtok_ = tok;
          retry_at_ = pos_ - 1;
          return true;
        }
        optarg_ = std::string(body.substr(eq + 1));
        argtok_ = tok;
      } else if (found->has_arg == 1) {
        if (pos_ >= args_.size()) {
          code_ = kMissingArg;
          argtok_ = tok;
          retry_at_ = pos_ - 1;
          return true;
        }
        optarg_ = args_[pos_];
        argtok_ = args_[pos_];
        ++pos_;
      } else {
        argtok_ = tok;
      }
      retry_at_ = std::nullopt;
      return true;
    }
    if (tok.size() >= 2 && tok[0] == '-') {
      if (cluster_ == 0) cluster_ = 1;
      const char ch = tok[cluster_];
      const int kind = short_opt(ch);
      opt_token_ = tok;
      opt_name_ = std::string_view();
      const bool last = cluster_ + 1 >= tok.size();
      if (kind < 0) {
        code_ = kUnknown;
        argtok_ = tok;
        retry_at_ = std::nullopt;
        advance_cluster(last);
        return true;
      }
      code_ = ch;
      if (kind == 0) {
        argtok_ = tok;
        advance_cluster(last);
        return true;
      }
      if (!last) {  // the rest of the word is the argument
        optarg_ = tok.substr(cluster_ + 1);
        argtok_ = tok;
        cluster_ = 0;
        ++pos_;
        return true;
      }
      cluster_ = 0;
      ++pos_;
      if (kind == 1) {
        if (pos_ >= args_.size()) {
          code_ = kMissingArg;
          argtok_ = tok;
          return true;
        }
        optarg_ = args_[pos_];
        argtok_ = args_[pos_];
        ++pos_;
      } else {
        argtok_ = tok;
      }
      return true;
    }
    // A non-option: "!" inverts the next option; anything else is an error.
    ++pos_;
    if (tok == "!") {
      if (invert_) param_problem("multiple consecutive ! not allowed");
      invert_ = true;
      return false;
    }
    throw Fail{2, fmt::format("Bad argument `{}'\n{}", tok, kTryHelp), {}, {}};
  }

  void advance_cluster(bool last) {
    if (last) {
      cluster_ = 0;
      ++pos_;
    } else {
      ++cluster_;
    }
  }

  struct Found {
    std::string_view name;
    int has_arg;
    int code;
    int owner;  // -2 base, -1 target, i match i
  };
  // getopt_long's lookup: the base options, then the extensions' (newest first), exact names
  // first, else a prefix that names one option.
  std::optional<Found> find_long(std::string_view nm) {
    std::vector<Found> all;
    for (const LongOpt& o : kBaseLongOpts) all.push_back({o.name, o.has_arg, o.code, -2});
    for (auto it = c_.ext_order.rbegin(); it != c_.ext_order.rend(); ++it) {
      auto add = [&](std::span<const LongOpt> opts) {
        for (const LongOpt& o : opts) all.push_back({o.name, o.has_arg, o.code, *it});
      };
      if (*it < 0) {
        add(kRejectOpts);
        continue;
      }
      const Match& m = c_.matches[static_cast<std::size_t>(*it)].m;
      if (m.kind == MatchKind::Icmp) {
        add(kIcmpOpts);
      } else {
        add(kPortOpts);
        if (m.kind == MatchKind::Tcp) add(kTcpOnlyOpts);
      }
    }
    for (const Found& f : all) {
      if (f.name == nm) {
        owner_ = f.owner;
        return f;
      }
    }
    std::optional<Found> hit;
    for (const Found& f : all) {
      if (nm.empty() || f.name.substr(0, nm.size()) != nm) continue;
      if (hit && (hit->code != f.code || hit->owner != f.owner || hit->has_arg != f.has_arg)) return std::nullopt;
      if (!hit) hit = f;
    }
    if (hit) owner_ = hit->owner;
    return hit;
  }

  bool has_arg() const {  // xs_has_arg
    return pos_ < args_.size() && !args_[pos_].empty() && args_[pos_][0] != '-' && args_[pos_][0] != '!';
  }

  unsigned parse_rulenumber(const std::string& s) {
    const auto v = xt_strtoul(s, 1, std::numeric_limits<int>::max());
    if (!v) param_problem(fmt::format("Invalid rule number `{}'", s));
    return static_cast<unsigned>(*v);
  }

  void add_command(unsigned newcmd, unsigned othercmds) {
    if (invert_) param_problem("unexpected '!' flag");
    if ((c_.command & ~othercmds) != 0) {
      param_problem(fmt::format("Cannot use -{} with -{}", cmd2char(newcmd), cmd2char(c_.command & ~othercmds)));
    }
    c_.command |= newcmd;
  }

  void set_option(unsigned option) {
    const std::size_t i = bit_index(option);
    if ((c_.options & option) != 0) param_problem(fmt::format("multiple -{} flags not allowed", kOptFlags[i]));
    c_.options |= option;
    if (invert_) {
      if (kInverseForOptions[i] == 0) param_problem(fmt::format("cannot have ! before -{}", kOptFlags[i]));
      c_.invflags |= kInverseForOptions[i];
    }
  }

  static void assert_valid_chain_name(const std::string& n) {
    if (n.size() >= kChainMaxNameLen) {
      param_problem(fmt::format("chain name `{}' too long (must be under {} chars)", n, kChainMaxNameLen));
    }
    if (!n.empty() && (n[0] == '-' || n[0] == '!')) {
      param_problem(fmt::format("chain name not allowed to start with `{}'", n[0]));
    }
    if (is_target_name(n)) param_problem("chain name may not clash with target name");
    for (const char ch : n) {
      if (std::isspace(static_cast<unsigned char>(ch)) != 0) param_problem(fmt::format("Invalid chain name `{}'", n));
    }
  }
  static bool is_target_name(std::string_view n) {
    return n == "ACCEPT" || n == "DROP" || n == "QUEUE" || n == "RETURN" || n == "REJECT" || contains(kOtherTargets, n);
  }

  static std::string parse_target(const std::string& n) {  // xt_parse_target
    if (n.empty()) param_problem("Invalid target name (too short)");
    if (n.size() >= kChainMaxNameLen) {
      param_problem(fmt::format("Invalid target name `{}' ({} chars max)", n, kChainMaxNameLen - 1));
    }
    for (const char ch : n) {
      if (std::isspace(static_cast<unsigned char>(ch)) != 0) param_problem(fmt::format("Invalid target name `{}'", n));
    }
    return n;
  }

  void command_jump(const std::string& n) {
    c_.jumpto = parse_target(n);
    if (n == "ACCEPT" || n == "DROP" || n == "RETURN") {
      c_.target_std = true;
    } else if (n == "REJECT") {
      c_.target_reject = true;
      c_.ext_order.push_back(-1);
    } else if (n == "QUEUE" || contains(kOtherTargets, n)) {
      not_modelled(fmt::format("target `{}'", n));
    }
    // Anything else may be a chain: do_command4 decides.
  }

  // Loads a match: -m NAME, or the protocol's own when an unknown option needs it.
  void load_match(std::string_view n) {
    MatchKind k = MatchKind::Udp;
    if (n == "tcp") {
      k = MatchKind::Tcp;
    } else if (n == "udp") {
      k = MatchKind::Udp;
    } else if (n == "icmp") {
      k = MatchKind::Icmp;
    } else if (contains(kOtherMatches, n)) {
      not_modelled(fmt::format("match `{}'", n));
    } else {
      param_problem(fmt::format("Couldn't load match `{}':No such file or directory\n", n));
    }
    ExtMatch em;
    em.m.kind = k;
    c_.matches.push_back(em);
    c_.ext_order.push_back(static_cast<int>(c_.matches.size() - 1));
  }

  // load_proto: the match named by -p, if it has one and is not in use yet.
  bool load_proto() {
    if (!c_.protocol || c_.proto_used) return false;
    std::optional<std::string_view> n;
    if (const auto v = xt_strtoul(*c_.protocol, 0, 255)) {
      n = proto_to_name(static_cast<uint8_t>(*v), (c_.options & kOptNumeric) != 0);
    } else {
      n = *c_.protocol;
    }
    if (!n) return false;
    if (*n != "tcp" && *n != "udp" && *n != "icmp" && !contains(kOtherMatches, *n)) return false;
    load_match(*n);
    c_.proto_used = true;
    return true;
  }

  // The ports of --sport/--dport: libxt_udp's port range (x6 options), libxt_tcp's
  // parse_tcp_ports.
  void parse_udp_ports(const std::string& arg, uint16_t pts[2]) {
    uint16_t range[2] = {0, 0xFFFF};
    unsigned nvals = 0;
    std::size_t start = 0;
    for (;;) {
      const std::size_t colon = arg.find(':', start);
      const std::string part = arg.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
      if (nvals == 2) {
        param_problem(fmt::format("udp: Too many components for option \"--{}\" (max: 2)\n", opt_name_));
      }
      if (!part.empty()) {
        std::optional<uint16_t> port;
        if (std::all_of(part.begin(), part.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
          uint32_t v = 0;  // getaddrinfo's numeric service: decimal
          for (const char ch : part) v = std::min<uint32_t>(v * 10 + static_cast<uint32_t>(ch - '0'), 0x10000);
          if (v <= 0xFFFF) port = static_cast<uint16_t>(v);
        } else {
          port = service_port(part, true, true);
        }
        if (!port) param_problem(fmt::format("Port \"{}\" does not resolve to anything.\n", part));
        range[nvals] = *port;
      }
      ++nvals;
      if (colon == std::string::npos) break;
      start = colon + 1;
    }
    if (nvals == 1) range[1] = range[0];
    pts[0] = range[0];
    pts[1] = range[1];
  }
  static uint16_t tcp_parse_port(const std::string& s) {  // xtables_parse_port(s, "tcp")
    if (const auto v = xt_strtoul(s, 0, 65535)) return static_cast<uint16_t>(*v);
    if (const auto p = service_port(s, true, false)) return *p;
    param_problem(fmt::format("invalid port/service `{}' specified", s));
  }
  static void parse_tcp_ports(const std::string& s, uint16_t pts[2]) {
    const std::size_t colon = s.find(':');
    if (colon == std::string::npos) {
      pts[0] = pts[1] = tcp_parse_port(s);
      return;
    }
    const std::string lo = s.substr(0, colon), hi = s.substr(colon + 1);
    pts[0] = lo.empty() ? 0 : tcp_parse_port(lo);
    pts[1] = hi.empty() ? 0xFFFF : tcp_parse_port(hi);
    if (pts[0] > pts[1]) param_problem("invalid portrange (min > max)");
  }

  // xtables_option_parse's common checks for an x6 option.
  void x6_check(std::string_view ext, unsigned& xflags, unsigned bit, bool invertible) {
    if ((xflags & bit) != 0) param_problem(fmt::format("{}: option \"--{}\" can only be used once.\n", ext, opt_name_));
    if (invert_ && !invertible) param_problem(fmt::format("{}: option \"--{}\" cannot be inverted.\n", ext, opt_name_));
    xflags |= bit;
  }

  void extension_option() {
    const std::string arg = optarg_.value_or("");
    if (owner_ == -1) {  // REJECT --reject-with
      x6_check("REJECT", c_.reject_xflags, 1, false);
      for (std::size_t i = 0; i < std::size(kRejectTable); ++i) {
        if (kRejectTable[i].name.empty()) continue;
        if (iequals_prefix(kRejectTable[i].name, arg) || iequals_prefix(kRejectTable[i].alias, arg)) {
          if (i == kRejectTcpReset) {
            not_modelled("--reject-with tcp-reset", " (TCP is not built yet, so there is no RST to send)");
          }
          c_.reject_with = static_cast<uint8_t>(i);
          return;
        }
      }
      if (iequals_prefix("echo-reply", arg) || iequals_prefix("echoreply", arg)) {
        warnings_ += "--reject-with echo-reply no longer supported\n";
      }
      param_problem(fmt::format("unknown reject type \"{}\"", arg));
    }
    ExtMatch& em = c_.matches[static_cast<std::size_t>(owner_)];
    Match& m = em.m;
    if (m.kind == MatchKind::Icmp) {
      x6_check("icmp", em.xflags, 1, true);
      parse_icmp(arg, m);
      if (invert_) m.inv_icmp = true;
      return;
    }
    if (code_ == kOptSyn || code_ == kOptTcpFlags || code_ == kOptTcpOption) {
      not_modelled(fmt::format("tcp match option \"--{}\"", opt_name_));
    }
    const bool src = code_ == kOptSport;
    if (m.kind == MatchKind::Udp) {
      x6_check("udp", em.xflags, src ? 1u : 2u, true);
      parse_udp_ports(arg, src ? m.spts : m.dpts);
    } else {
      if ((em.xflags & (src ? 1u : 2u)) != 0) {
        param_problem(src ? "Only one `--source-port' allowed" : "Only one `--destination-port' allowed");
      }
      em.xflags |= src ? 1u : 2u;
      parse_tcp_ports(arg, src ? m.spts : m.dpts);
    }
    if (invert_) (src ? m.inv_spt : m.inv_dpt) = true;
  }

  // command_default: an extension's option, or one no loaded extension knows (maybe the
  // protocol's match's: load it and read the option again).
  bool command_default() {
    if (code_ >= kOptSport && owner_ != -2) {
      extension_option();
      return true;
    }
    if (retry_at_ && load_proto()) {
      pos_ = *retry_at_;
      cluster_ = 0;
      return false;
    }
    if (code_ == kMissingArg) param_problem(fmt::format("option \"{}\" requires an argument", argtok_));
    if (code_ == kUnknown) param_problem(fmt::format("unknown option \"{}\"", opt_token_));
    param_problem(fmt::format("Unknown arg \"{}\"", optarg_.value_or("(null)")));
  }

  void dispatch() {
    const std::string arg = optarg_.value_or("");
    switch (code_) {
      case 'A': add_command(kCmdAppend, kCmdNone); c_.chain = arg; break;
      case 'C': add_command(kCmdCheck, kCmdNone); c_.chain = arg; break;
      case 'D':
        add_command(kCmdDelete, kCmdNone);
        c_.chain = arg;
        if (has_arg()) {
          c_.rulenum = parse_rulenumber(args_[pos_++]);
          c_.command = kCmdDeleteNum;
        }
        break;
      case 'R':
        add_command(kCmdReplace, kCmdNone);
        c_.chain = arg;
        if (!has_arg()) param_problem("-R requires a rule number");
        c_.rulenum = parse_rulenumber(args_[pos_++]);
        break;
      case 'I':
        add_command(kCmdInsert, kCmdNone);
        c_.chain = arg;
        c_.rulenum = has_arg() ? parse_rulenumber(args_[pos_++]) : 1;
        break;
      case 'L':
      case 'S':
        add_command(code_ == 'L' ? kCmdList : kCmdListRules, kCmdZero | kCmdZeroNum);
        if (optarg_) {
          c_.chain = *optarg_;
        } else if (has_arg()) {
          c_.chain = args_[pos_++];
        }
        if (has_arg()) c_.rulenum = parse_rulenumber(args_[pos_++]);
        break;
      case 'F':
      case 'X':
        add_command(code_ == 'F' ? kCmdFlush : kCmdDeleteChain, kCmdNone);
        if (optarg_) {
          c_.chain = *optarg_;
        } else if (has_arg()) {
          c_.chain = args_[pos_++];
        }
        break;
      case 'Z':
        add_command(kCmdZero, kCmdList | kCmdListRules);
        if (optarg_) {
          c_.chain = *optarg_;
        } else if (has_arg()) {
          c_.chain = args_[pos_++];
        }
        if (has_arg()) {
          c_.rulenum = parse_rulenumber(args_[pos_++]);
          c_.command = kCmdZeroNum;
        }
        break;
      case 'N':
        assert_valid_chain_name(arg);
        add_command(kCmdNewChain, kCmdNone);
        c_.chain = arg;
        break;
      case 'E':
        add_command(kCmdRename, kCmdNone);
        c_.chain = arg;
        if (!has_arg()) param_problem("-E requires old-chain-name and new-chain-name");
        c_.newname = args_[pos_++];
        break;
      case 'P':
        add_command(kCmdSetPolicy, kCmdNone);
        c_.chain = arg;
        if (!has_arg()) param_problem("-P requires a chain and a policy");
        c_.policy = args_[pos_++];
        break;
      case 'h': not_modelled("-h (help)");
      case 'p': {
        set_option(kOptProtocol);
        std::string p = argtok_;
        for (char& ch : p) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        c_.protocol = p;
        c_.proto = parse_protocol(p);
        if (c_.proto == 0 && (c_.invflags & kInvProto) != 0) param_problem("rule would never match protocol");
        break;
      }
      case 's': set_option(kOptSource); c_.shost = argtok_; break;
      case 'd': set_option(kOptDestination); c_.dhost = argtok_; break;
      case 'g':
        set_option(kOptJump);
        c_.goto_set = true;
        c_.jumpto = parse_target(arg);
        break;
      case 'j': set_option(kOptJump); command_jump(argtok_); break;
      case 'i':
      case 'o':
        if (arg.empty()) param_problem("Empty interface is likely to be undesired");
        set_option(code_ == 'i' ? kOptViaIn : kOptViaOut);
        (code_ == 'i' ? c_.in : c_.out) = parse_interface(argtok_, warnings_);
        break;
      case 'f': set_option(kOptFragment); c_.flags |= kFFrag; break;
      case 'v':
        if (c_.verbose == 0) set_option(kOptVerbose);
        ++c_.verbose;
        break;
      case 'm':
        if (invert_) param_problem("unexpected ! flag before --match");
        load_match(arg);
        break;
      case 'n': set_option(kOptNumeric); break;
      case 't':
        if (invert_) param_problem("unexpected ! flag before --table");
        c_.table = arg;
        break;
      case 'x': set_option(kOptExpanded); break;
      case 'V': throw Done{invert_ ? "Not iptables v1.8.9 (legacy) ;-)\n" : "iptables v1.8.9 (legacy)\n"};
      case 'w':
      case 'W':  // the xtables lock: nothing to wait for here
        if (!optarg_ && has_arg()) ++pos_;
        break;
      case '0': set_option(kOptLineNumbers); break;
      case 'M': break;
      case 'c': not_modelled("-c (set counters)");
      case '4': break;
      case '6': throw Fail{2, std::string(kTryHelp), {}, {}};
      default:
        if (!command_default()) return;  // read the same option again
        break;
    }
    invert_ = false;
  }

  void finish() {
    if (c_.table == "nat" && ((c_.policy && *c_.policy == "DROP") || c_.jumpto == "DROP")) {
      param_problem(
          "\nThe \"nat\" table is not intended for filtering, the use of DROP is therefore inhibited.\n\n");
    }
    for (const ExtMatch& em : c_.matches) {
      if (em.m.kind == MatchKind::Icmp && (em.xflags & 1) == 0) {
        param_problem("icmp: option \"--icmp-type\" must be specified\n");
      }
    }
    if (ended_ && pos_ < args_.size()) param_problem("unknown arguments found on commandline");
    if (c_.command == kCmdNone) param_problem("no command specified");
    if (invert_) param_problem("nothing appropriate following !");
    // ipv4_post_parse
    if ((c_.command & (kCmdReplace | kCmdInsert | kCmdDelete | kCmdAppend | kCmdCheck)) != 0) {
      if ((c_.options & kOptDestination) == 0) c_.dhost = "0.0.0.0/0";
      if ((c_.options & kOptSource) == 0) c_.shost = "0.0.0.0/0";
    }
    if (c_.shost) saddrs_ = ipparse_multiple(*c_.shost);
    if (c_.dhost) daddrs_ = ipparse_multiple(*c_.dhost);
    if ((saddrs_.size() > 1 || daddrs_.size() > 1) && (c_.invflags & (kInvSrcIp | kInvDstIp)) != 0) {
      param_problem("! not allowed with multiple source or destination IP addresses");
    }
    if (c_.command == kCmdReplace && (saddrs_.size() != 1 || daddrs_.size() != 1)) {
      param_problem("Replacement rule does not specify a unique address");
    }
    // generic_opt_check
    for (std::size_t i = 0; i < kOptFlags.size(); ++i) {
      int legal = 0;
      for (std::size_t j = 0; j < 15; ++j) {
        if ((c_.command & (1u << j)) == 0) continue;
        if ((c_.options & (1u << i)) == 0) continue;
        if (kCommandsVOptions[j][i] != 'x') {
          legal = 1;
        } else if (legal == 0) {
          legal = -1;
        }
      }
      if (legal == -1) param_problem(fmt::format("Illegal option `-{}' with this command", kOptFlags[i]));
    }
    if (c_.chain && c_.chain->size() >= kChainMaxNameLen) {
      param_problem(fmt::format("chain name `{}' too long (must be under {} chars)", *c_.chain, kChainMaxNameLen));
    }
    if ((c_.command & (kCmdAppend | kCmdDelete | kCmdDeleteNum | kCmdCheck | kCmdInsert | kCmdReplace)) != 0 &&
        c_.chain) {
      if ((*c_.chain == "PREROUTING" || *c_.chain == "INPUT") && (c_.options & kOptViaOut) != 0) {
        param_problem(fmt::format("Can't use -o with {}\n", *c_.chain));
      }
      if ((*c_.chain == "POSTROUTING" || *c_.chain == "OUTPUT") && (c_.options & kOptViaIn) != 0) {
        param_problem(fmt::format("Can't use -i with {}\n", *c_.chain));
      }
    }
  }

 public:
  std::vector<std::pair<uint32_t, uint32_t>> saddrs_, daddrs_;

 private:
  std::vector<std::string> args_;
  std::size_t pos_ = 0;
  std::size_t cluster_ = 0;  // position inside a word of short options
  bool ended_ = false;
  bool invert_ = false;
  int code_ = 0;
  int owner_ = -2;
  std::optional<std::string> optarg_;
  std::string argtok_;     // argv[optind - 1] after the option: what -p/-s/-d/-i/-o/-j read
  std::string opt_token_;  // the word that held the option
  std::string_view opt_name_;
  std::optional<std::size_t> retry_at_;
  std::string& warnings_;
  Cmd c_;
};

}  // namespace

// ---- IpTables ------------------------------------------------------------------------------------

struct IpTables::Impl {
  std::array<Table, 3> tables{
      make_table(NfTable::Raw, hook_bit(NfHook::PreRouting) | hook_bit(NfHook::LocalOut)),
      make_table(NfTable::Mangle, 0x1F),
      make_table(NfTable::Filter, hook_bit(NfHook::LocalIn) | hook_bit(NfHook::Forward) | hook_bit(NfHook::LocalOut)),
  };
  uint64_t refused = 0;
  uint64_t unreadable = 0;
  std::vector<std::pair<std::size_t, std::size_t>> stack;  // ipt_do_table's jumpstack, reused

  Table* table(std::string_view n) {
    for (Table& t : tables) {
      if (t.name == n) return &t;
    }
    return nullptr;
  }
  const Table& table(NfTable id) const { return tables[static_cast<std::size_t>(id)]; }

  void execute(const Cmd& c, const Parser& p, std::string& out);
};

IpTables::IpTables() : impl_(std::make_unique<Impl>()) {
  for (Table& t : impl_->tables) check_table(t);
}
IpTables::~IpTables() = default;
IpTables::IpTables(IpTables&&) noexcept = default;
IpTables& IpTables::operator=(IpTables&&) noexcept = default;

NfVerdict IpTables::run(NfHook hook, std::span<const uint8_t> datagram, std::string_view in_dev,
                        std::string_view out_dev) {
  NfVerdict v;
  const auto ip = wire::Ipv4Packet::checked(datagram, wire::ChecksumCheck::Skip);
  if (!ip) {
    v.unreadable = true;
    ++impl_->unreadable;
    return v;
  }
  Pkt p;
  p.saddr = ip->src().to_u32();
  p.daddr = ip->dst().to_u32();
  p.proto = static_cast<uint8_t>(ip->protocol());
  p.fragoff = ip->flags_frag() & wire::kIpv4FragOffsetMask;
  p.len = ip->total_len();
  p.l4 = ip->payload();
  for (Table& t : impl_->tables) {
    if (!t.loaded || (t.valid_hooks & hook_bit(hook)) == 0) continue;
    const Decision d = do_table(t, hook, p, in_dev, out_dev, impl_->stack);
    ++v.tables_run;
    v.table = t.id;
    v.rule = d.rule;
    v.chain_name.fill('\0');
    const std::string& cn = t.chains[d.chain].name;
    std::copy_n(cn.begin(), std::min(cn.size(), v.chain_name.size() - 1), v.chain_name.begin());
    if (d.drop) {
      v.action = NfVerdict::Action::Drop;
      v.hotdrop = d.hotdrop;
      v.reject = d.reject;
      return v;
    }
  }
  return v;
}

void IpTables::Impl::execute(const Cmd& c, const Parser& p, std::string& out) {
  Table* live = table(c.table);
  if (live == nullptr) {
    xt_error(3, fmt::format("can't initialize iptables table `{}': Table does not exist (do you need to insmod?)",
                            c.table));
  }
  live->loaded = true;  // iptc_init: the kernel instantiates the table on this first request
  Table t = *live;      // libiptc's working copy; committed only if all goes well
  bool changed = false;
  const bool verbose = (c.options & kOptVerbose) != 0;
  const std::string chain = c.chain.value_or("");

  // The rule(s) of -A/-I/-D/-C/-R: one per source and destination address.
  std::vector<Rule> rules;
  if ((c.command & (kCmdAppend | kCmdDelete | kCmdCheck | kCmdInsert | kCmdReplace)) != 0) {
    Rule proto_rule;
    proto_rule.in = c.in;
    proto_rule.out = c.out;
    proto_rule.proto = c.proto;
    proto_rule.flags = static_cast<uint8_t>(c.flags | (c.goto_set ? kFGoto : 0));
    proto_rule.invflags = c.invflags;
    for (const ExtMatch& em : c.matches) proto_rule.matches.push_back(em.m);
    if (c.target_std) {
      proto_rule.target = c.jumpto == "ACCEPT" ? TargetKind::Accept
                          : c.jumpto == "DROP" ? TargetKind::Drop
                                               : TargetKind::Return;
    } else if (c.target_reject) {
      proto_rule.target = TargetKind::Reject;
      proto_rule.reject_with = c.reject_with;
    } else if (!c.jumpto.empty()) {
      if (t.find(c.jumpto) < 0) {
        if (c.goto_set) param_problem(fmt::format("goto '{}' is not a chain", c.jumpto));
        param_problem(fmt::format("Couldn't load target `{}':No such file or directory\n", c.jumpto));
      }
      proto_rule.target = TargetKind::Jump;
      proto_rule.chain = c.jumpto;
    }
    for (const auto& [s, sm] : p.saddrs_) {
      for (const auto& [d, dm] : p.daddrs_) {
        Rule r = proto_rule;
        r.src = s;
        r.smsk = sm;
        r.dst = d;
        r.dmsk = dm;
        rules.push_back(std::move(r));
      }
    }
  }
  // iptcc_map_target: a jump to a built-in chain is refused (iptc_fn is TC_BUILTIN by then).
  auto map_target = [&](const Rule& r) {
    if (r.target == TargetKind::Jump) {
      const int j = t.find(r.chain);
      if (j >= 0 && t.chains[static_cast<std::size_t>(j)].builtin()) iptc_error(Fn::Builtin, Errno::Inval);
    }
  };
  auto chain_or = [&](Fn fn, Errno e) -> Chain& {
    const int i = t.find(chain);
    if (i < 0) iptc_error(fn, e);
    return t.chains[static_cast<std::size_t>(i)];
  };
  auto echo = [&](const Rule& r) {
    if (verbose) print_rule_line(out, r, 0, kFmtPrintRule);
  };
  auto list = [&]() {
    unsigned format = kFmtOptions;
    format |= verbose ? kFmtVia : kFmtNoCounts;
    if ((c.options & kOptNumeric) != 0) format |= kFmtNumeric;
    if ((c.options & kOptExpanded) == 0) format |= kFmtKMG;
    if ((c.options & kOptLineNumbers) != 0) format |= kFmtLineNumbers;
    bool found = false;
    for (const Chain& ch : t.chains) {
      if (c.chain && *c.chain != ch.name) continue;
      if (found) out += '\n';
      if (c.rulenum == 0) print_header(out, format, ch);
      for (std::size_t i = 0; i < ch.rules.size(); ++i) {
        if (c.rulenum == 0 || c.rulenum == i + 1) {
          print_rule_line(out, ch.rules[i], static_cast<unsigned>(i + 1), format);
        }
      }
      found = true;
    }
    if (!found) iptc_error(Fn::Other, Errno::Noent);
  };
  auto list_rules = [&]() {
    bool found = false;
    if (c.rulenum == 0) {
      for (const Chain& ch : t.chains) {
        if (c.chain && *c.chain != ch.name) continue;
        if (ch.builtin()) {
          out += fmt::format("-P {} {}", ch.name, ch.policy_drop ? "DROP" : "ACCEPT");
          if (verbose) out += fmt::format(" -c {} {}", ch.policy.packets, ch.policy.bytes);
          out += '\n';
        } else {
          out += fmt::format("-N {}\n", ch.name);
        }
      }
    }
    for (const Chain& ch : t.chains) {
      if (c.chain && *c.chain != ch.name) continue;
      for (std::size_t i = 0; i < ch.rules.size(); ++i) {
        if (c.rulenum == 0 || c.rulenum == i + 1) save_rule(out, ch.rules[i], ch.name, verbose);
      }
      found = true;
    }
    if (!found) iptc_error(Fn::Other, Errno::Noent);
  };
  auto zero = [&]() {  // zero_entries: "Zeroing chain" is printed before libiptc is asked
    for (Chain& ch : t.chains) {
      if (c.chain && *c.chain != ch.name) continue;
      if (verbose) out += fmt::format("Zeroing chain `{}'\n", ch.name);
      ch.policy = {};
      for (Rule& r : ch.rules) r.counters = {};
    }
    if (c.chain && t.find(*c.chain) < 0) {
      if (verbose) out += fmt::format("Zeroing chain `{}'\n", *c.chain);
      iptc_error(Fn::Other, Errno::Noent);
    }
    changed = true;
  };
  auto zero_num = [&]() {
    Chain& ch = chain_or(Fn::ZeroCounter, Errno::Noent);
    if (c.rulenum > ch.rules.size()) iptc_error(Fn::ZeroCounter, Errno::TooBig);
    ch.rules[c.rulenum - 1].counters = {};
    changed = true;
  };

  switch (c.command) {
    case kCmdAppend: {
      for (const Rule& r : rules) {
        echo(r);
        Chain& ch = chain_or(Fn::Append, Errno::Noent);
        map_target(r);
        ch.rules.push_back(r);
      }
      changed = true;
      break;
    }
    case kCmdInsert: {
      for (const Rule& r : rules) {
        echo(r);
        Chain& ch = chain_or(Fn::Insert, Errno::Noent);
        if (c.rulenum - 1 > ch.rules.size()) iptc_error(Fn::Insert, Errno::TooBig);
        map_target(r);
        ch.rules.insert(ch.rules.begin() + static_cast<std::ptrdiff_t>(c.rulenum - 1), r);
      }
      changed = true;
      break;
    }
    case kCmdReplace: {
      const Rule& r = rules.front();
      echo(r);
      Chain& ch = chain_or(Fn::Replace, Errno::Noent);
      if (c.rulenum - 1 >= ch.rules.size()) iptc_error(Fn::Replace, Errno::TooBig);
      map_target(r);
      ch.rules[c.rulenum - 1] = r;
      changed = true;
      break;
    }
    case kCmdDelete:
    case kCmdCheck: {
      for (const Rule& r : rules) {
        echo(r);
        Fn fn = Fn::DeleteEntry;
        Chain& ch = chain_or(fn, Errno::Noent);
        // iptcc_map_target calls TC_BUILTIN for any target that is not a standard verdict, so
        // iptc_fn is no longer TC_DELETE_ENTRY when nothing matches.
        if (r.target == TargetKind::Jump || r.target == TargetKind::Reject) fn = Fn::Builtin;
        map_target(r);
        const auto it = std::find_if(ch.rules.begin(), ch.rules.end(), [&](const Rule& x) { return x.same(r); });
        if (it == ch.rules.end()) iptc_error(fn, Errno::Noent);
        if (c.command == kCmdDelete) {
          ch.rules.erase(it);
          changed = true;
        }
      }
      break;
    }
    case kCmdDeleteNum: {
      Chain& ch = chain_or(Fn::DeleteNum, Errno::Noent);
      if (c.rulenum - 1 >= ch.rules.size()) iptc_error(Fn::DeleteNum, Errno::TooBig);
      ch.rules.erase(ch.rules.begin() + static_cast<std::ptrdiff_t>(c.rulenum - 1));
      changed = true;
      break;
    }
    case kCmdFlush: {
      if (c.chain && t.find(*c.chain) < 0) {
        if (verbose) out += fmt::format("Flushing chain `{}'\n", *c.chain);
        iptc_error(Fn::Other, Errno::Noent);
      }
      for (Chain& ch : t.chains) {
        if (c.chain && *c.chain != ch.name) continue;
        if (verbose) out += fmt::format("Flushing chain `{}'\n", ch.name);
        ch.rules.clear();
      }
      changed = true;
      break;
    }
    case kCmdZero: zero(); break;
    case kCmdZeroNum: zero_num(); break;
    case kCmdList:
    case kCmdList | kCmdZero:
    case kCmdList | kCmdZeroNum:
      list();
      if ((c.command & kCmdZero) != 0) zero();
      if ((c.command & kCmdZeroNum) != 0) zero_num();
      break;
    case kCmdListRules:
    case kCmdListRules | kCmdZero:
    case kCmdListRules | kCmdZeroNum:
      list_rules();
      if ((c.command & kCmdZero) != 0) zero();
      if ((c.command & kCmdZeroNum) != 0) zero_num();
      break;
    case kCmdNewChain: {
      if (t.find(chain) >= 0 || chain == "ACCEPT" || chain == "DROP" || chain == "QUEUE" || chain == "RETURN") {
        iptc_error(Fn::CreateChain, Errno::Exist);
      }
      Chain ch;
      ch.name = chain;
      auto at = std::find_if(t.chains.begin(), t.chains.end(),
                             [&](const Chain& x) { return !x.builtin() && chain <= x.name; });
      t.chains.insert(at, std::move(ch));
      changed = true;
      break;
    }
    case kCmdDeleteChain: {
      std::optional<Errno> failed;
      std::vector<std::string> names;
      if (c.chain) {
        names.push_back(*c.chain);
      } else {
        for (const Chain& ch : t.chains) {
          if (!ch.builtin()) names.push_back(ch.name);
        }
      }
      for (const std::string& n : names) {
        if (verbose) out += fmt::format("Deleting chain `{}'\n", n);
        count_refs(t);
        const int i = t.find(n);
        if (i < 0) iptc_error(Fn::DeleteChain, Errno::Noent);
        const Chain& ch = t.chains[static_cast<std::size_t>(i)];
        if (ch.builtin()) iptc_error(Fn::DeleteChain, Errno::Inval);
        // TC_DELETE_CHAIN asks TC_GET_REFERENCES first, which leaves iptc_fn changed: these
        // two come out as plain strerror text. Without a chain named, the others are still
        // tried, but nothing is committed.
        if (ch.refs > 0) {
          failed = Errno::Mlink;
          continue;
        }
        if (!ch.rules.empty()) {
          failed = Errno::NotEmpty;
          continue;
        }
        t.chains.erase(t.chains.begin() + i);
      }
      if (failed) iptc_error(Fn::GetReferences, *failed);
      changed = true;
      break;
    }
    case kCmdRename: {
      const std::string& nn = *c.newname;
      if (t.find(nn) >= 0 || nn == "ACCEPT" || nn == "DROP" || nn == "QUEUE" || nn == "RETURN") {
        iptc_error(Fn::Rename, Errno::Exist);
      }
      const int i = t.find(chain);
      if (i < 0 || t.chains[static_cast<std::size_t>(i)].builtin()) iptc_error(Fn::Rename, Errno::Noent);
      if (nn.size() + 1 > 32) iptc_error(Fn::Rename, Errno::Inval);
      Chain ch = std::move(t.chains[static_cast<std::size_t>(i)]);
      t.chains.erase(t.chains.begin() + i);
      ch.name = nn;
      for (Chain& x : t.chains) {
        for (Rule& r : x.rules) {
          if (r.target == TargetKind::Jump && r.chain == chain) r.chain = nn;
        }
      }
      for (Rule& r : ch.rules) {
        if (r.target == TargetKind::Jump && r.chain == chain) r.chain = nn;
      }
      auto at = std::find_if(t.chains.begin(), t.chains.end(),
                             [&](const Chain& x) { return !x.builtin() && nn <= x.name; });
      t.chains.insert(at, std::move(ch));
      changed = true;
      break;
    }
    case kCmdSetPolicy: {
      const int i = t.find(chain);
      if (i < 0 || !t.chains[static_cast<std::size_t>(i)].builtin()) iptc_error(Fn::SetPolicy, Errno::Noent);
      Chain& ch = t.chains[static_cast<std::size_t>(i)];
      if (*c.policy == "ACCEPT") {
        ch.policy_drop = false;
      } else if (*c.policy == "DROP") {
        ch.policy_drop = true;
      } else {
        iptc_error(Fn::SetPolicy, Errno::Inval);
      }
      ch.policy = {};  // COUNTER_MAP_NOMAP: the new policy entry starts from zero
      changed = true;
      break;
    }
    default:
      throw Fail{2, std::string(kTryHelp), {}, {}};
  }
  if (changed) {
    check_table(t);  // TC_COMMIT: the kernel's translate_table
    *live = std::move(t);
  }
}

IptResult IpTables::exec(std::string_view command_line) {
  IptResult res;
  std::vector<std::string> args = split_args(command_line);
  if (!args.empty() && (args.front() == "iptables" || args.front() == "iptables-legacy")) args.erase(args.begin());
  std::string out;
  std::string warnings;
  try {
    Parser parser(std::move(args), warnings);
    const Cmd c = parser.parse();
    impl_->execute(c, parser, out);
    res.out = std::move(out);
    res.err = std::move(warnings);
    return res;
  } catch (Fail& f) {
    ++impl_->refused;
    res.status = f.status;
    res.out = std::move(out);
    res.err = warnings + f.err;
    res.dmesg = std::move(f.dmesg);
    return res;
  } catch (Done& d) {
    res.out = std::move(d.out);
    return res;
  }
}

bool IpTables::empty() const {
  return std::none_of(impl_->tables.begin(), impl_->tables.end(), [](const Table& t) { return t.loaded; });
}

bool IpTables::hook_active(NfHook hook) const {
  return std::any_of(impl_->tables.begin(), impl_->tables.end(),
                     [&](const Table& t) { return t.loaded && (t.valid_hooks & hook_bit(hook)) != 0; });
}

bool IpTables::accepts_all() const {
  for (const Table& t : impl_->tables) {
    for (const Chain& c : t.chains) {
      if (!c.rules.empty() || c.policy_drop) return false;
    }
  }
  return true;
}

bool IpTables::table_loaded(NfTable t) const { return impl_->table(t).loaded; }

std::optional<NfCounters> IpTables::policy_counters(NfTable t, std::string_view chain) const {
  const Table& tb = impl_->table(t);
  const int i = tb.find(chain);
  if (i < 0 || !tb.chains[static_cast<std::size_t>(i)].builtin()) return std::nullopt;
  return tb.chains[static_cast<std::size_t>(i)].policy;
}

std::optional<NfCounters> IpTables::rule_counters(NfTable t, std::string_view chain, uint32_t rulenum) const {
  const Table& tb = impl_->table(t);
  const int i = tb.find(chain);
  if (i < 0) return std::nullopt;
  const Chain& c = tb.chains[static_cast<std::size_t>(i)];
  if (rulenum == 0 || rulenum > c.rules.size()) return std::nullopt;
  return c.rules[rulenum - 1].counters;
}

uint64_t IpTables::commands_refused() const { return impl_->refused; }
uint64_t IpTables::unreadable() const { return impl_->unreadable; }

// ---- nf_send_unreach's conditions ----------------------------------------------------------------

bool nf_reject_sends_icmp(std::span<const uint8_t> datagram, NfHook hook, IpSummed ip_summed) {
  const auto ip = wire::Ipv4Packet::checked(datagram, wire::ChecksumCheck::Skip);
  if (!ip) return false;
  if (ip->frag_offset() != 0) return false;  // iph->frag_off & htons(IP_OFFSET)
  if (ip_summed == IpSummed::Unnecessary || ip_summed == IpSummed::Partial) return true;  // skb_csum_unnecessary
  const auto proto = static_cast<uint8_t>(ip->protocol());
  const std::span<const uint8_t> l4 = ip->payload();
  // nf_reject_verify_csum: protocols whose checksum is not the 16-bit one's complement of the
  // whole payload, and UDP without a checksum, are not verified.
  switch (proto) {
    case kProtoUdp:
      if (l4.size() >= 8 && wire::load_be16(l4, 6) == 0) return true;
      break;
    case 47:   // GRE
    case 51:   // AH
    case 50:   // ESP
    case 132:  // SCTP
    case 136:  // UDP-Lite
    case 33:   // DCCP
      return true;
    default: break;
  }
  // nf_ip_checksum: CHECKSUM_COMPLETE is only looked at in PRE_ROUTING and LOCAL_IN (where it
  // gives the same answer as summing the bytes); elsewhere it passes.
  if (ip_summed == IpSummed::Complete && hook != NfHook::PreRouting && hook != NfHook::LocalIn) return true;
  wire::InternetChecksum sum;
  if (proto == kProtoTcp || proto == kProtoUdp) {
    sum.add32(ip->src().to_u32()).add32(ip->dst().to_u32()).add16(proto).add16(static_cast<uint16_t>(l4.size()));
  }
  sum.add(l4);
  return sum.verifies();
}

}  // namespace vnic::stack
