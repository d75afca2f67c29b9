// Netfilter's IPv4 packet filter as Linux 6.1's legacy x_tables runs it (net/ipv4/netfilter/
// ip_tables.c, iptable_{raw,mangle,filter}.c, xt_tcpudp.c, ipt_REJECT.c) and as iptables 1.8.9
// (legacy; Debian 12) configures and lists it: the raw, mangle and filter tables with their
// built-in chains at their hook priorities, rules (addresses, protocol, ports, ICMP type and
// code, interfaces, fragments), the targets ACCEPT, DROP, REJECT and RETURN, jumps and gotos to
// user-defined chains, chain policies, and the packet and byte counters.
//
// Stateless: there is no connection tracking, so no nat table, no -m state/conntrack, and no
// defragmentation before PREROUTING (nf_defrag_ipv4 comes with conntrack): every hook sees the
// fragments as they travel. The module knows nothing of NetStack; the stack calls run() at its
// hook points and acts on the verdict (see NfVerdict and IpTables::run).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "vnic/stack/skb.hpp"

namespace vnic::stack {

// The IPv4 hooks, with their NF_INET_* values (include/uapi/linux/netfilter.h).
enum class NfHook : uint8_t { PreRouting = 0, LocalIn = 1, Forward = 2, LocalOut = 3, PostRouting = 4 };
inline constexpr std::size_t kNfHookCount = 5;
std::string_view nf_hook_name(NfHook h);   // "NF_INET_PRE_ROUTING", ...
std::string_view nf_hook_chain(NfHook h);  // the built-in chain at it: "PREROUTING", "INPUT", ...

// The tables modelled, in the order they run at a hook (their priorities, NF_IP_PRI_*).
enum class NfTable : uint8_t { Raw, Mangle, Filter };
std::string_view name(NfTable t);  // "raw", "mangle", "filter"
constexpr int nf_table_priority(NfTable t) {
  switch (t) {
    case NfTable::Raw: return -300;     // NF_IP_PRI_RAW
    case NfTable::Mangle: return -150;  // NF_IP_PRI_MANGLE
    case NfTable::Filter: break;
  }
  return 0;  // NF_IP_PRI_FILTER
}

// A rule's or a policy's counters, as `iptables -L -v -x` prints them. Bytes are skb->len at
// the hook: the IP datagram's total length (ip_rcv_core trimmed any link padding before
// PREROUTING; outgoing packets have no link header yet).
struct NfCounters {
  uint64_t packets = 0;
  uint64_t bytes = 0;
  constexpr bool operator==(const NfCounters&) const = default;
};

// The ICMP error a REJECT asks for: type 3 (destination unreachable) with the code of its
// --reject-with (icmp-port-unreachable by default).
struct NfReject {
  uint8_t type = 3;
  uint8_t code = 3;
  constexpr bool operator==(const NfReject&) const = default;
};

// What the hook decided, and who decided it.
//
// The caller (the stack's NF_HOOK) continues with the packet on Accept. On Drop it frees the
// packet with SKB_DROP_REASON_NETFILTER_DROP (nf_hook_slow's kfree_skb_reason) and the okfn is
// not called (NF_HOOK returns -EPERM). When `reject` is set, the drop came from REJECT, and
// before freeing the packet the caller sends ICMP `reject->type`/`reject->code` about it with
// its icmp_send, provided nf_reject_sends_icmp() says nf_send_unreach would (not for a
// non-first fragment, nor for a packet whose transport checksum is bad). icmp_send's own rules
// (no error about an ICMP error, a broadcast, a non-first fragment; the rate limits) stay the
// caller's, as in Linux.
struct NfVerdict {
  enum class Action : uint8_t { Drop = 0, Accept = 1 };  // NF_DROP, NF_ACCEPT
  Action action = Action::Accept;
  std::optional<NfReject> reject;
  // A tcp/udp/icmp match could not read the transport header it needed (a truncated first
  // fragment), or saw a TCP fragment at offset 8: ipt_do_table's hotdrop. Dropped, and no
  // counter moves (not even the rule's). `rule` names the rule whose match gave up.
  bool hotdrop = false;
  // The bytes are not a readable IPv4 header (Linux never hands netfilter such a packet:
  // ip_rcv_core refuses it first). Accepted untouched, nothing counted.
  bool unreadable = false;
  // How many tables ran at this hook (0: none is loaded there; then the rest is empty).
  uint8_t tables_run = 0;
  // The table that decided: the one that dropped, else the last one that accepted.
  std::optional<NfTable> table;
  // The rule that decided, 1-based in chain(); 0: the built-in chain's policy.
  uint32_t rule = 0;
  std::string_view chain() const { return chain_name.data(); }
  bool dropped() const { return action == Action::Drop; }

  std::array<char, 32> chain_name{};  // NUL-terminated (chain names are under 29 characters)
};

// nf_send_unreach's own tests before it calls icmp_send (6.1 net/ipv4/netfilter/
// nf_reject_ipv4.c, include/net/netfilter/nf_reject.h): no ICMP about a non-first fragment; and
// unless the skb's checksum is known good (skb_csum_unnecessary: CHECKSUM_UNNECESSARY or
// CHECKSUM_PARTIAL), nor is unverifiable for the protocol (AH, ESP, SCTP, UDP-Lite, DCCP, GRE,
// UDP with a zero checksum), nor CHECKSUM_COMPLETE away from PREROUTING and INPUT
// (nf_ip_checksum takes it as good there), the transport checksum must verify (TCP and UDP with
// the pseudo-header, any other protocol as a plain sum). `datagram` is the packet at the hook;
// false if its header cannot be read.
bool nf_reject_sends_icmp(std::span<const uint8_t> datagram, NfHook hook, IpSummed ip_summed);

// What one iptables command did, as iptables 1.8.9 (legacy) reports it.
struct IptResult {
  int status = 0;     // its exit status: 0 done, 1 refused (libiptc or the kernel), 2 bad
                      // parameters, 3 no such table
  std::string out;    // what it writes to stdout (-L, -S, -v)
  std::string err;    // what it writes to stderr, verbatim, trailing newlines included
  std::string dmesg;  // the kernel's log line when the kernel refused the new table ("Run
                      // `dmesg' for more information"), else empty
  bool ok() const { return status == 0; }
};

// One network namespace's ip_tables: the tables, their rules and counters.
//
// Tables are instantiated the first time a command names them (6.1 registers a table's hooks
// lazily, from xt_find_table_lock via the table's template, on iptables' first request); until
// then nothing runs at their hooks and nothing is counted.
class IpTables {
 public:
  IpTables();
  ~IpTables();
  IpTables(IpTables&&) noexcept;
  IpTables& operator=(IpTables&&) noexcept;
  IpTables(const IpTables&) = delete;
  IpTables& operator=(const IpTables&) = delete;

  // The hook: every loaded table registered at `hook` runs in priority order (raw, mangle,
  // filter), as nf_hook_slow runs the hook entries; a DROP (or REJECT) in one ends it, an ACCEPT
  // goes on to the next table. `datagram` is the packet from its IPv4 header on, skb->len
  // bytes; `in_dev`/`out_dev` are the input and output devices' names, empty where the hook has
  // none (state->in is NULL at LOCAL_OUT and POST_ROUTING, state->out at PRE_ROUTING and
  // LOCAL_IN). Counts the matching rules and the policies that decide.
  NfVerdict run(NfHook hook, std::span<const uint8_t> datagram, std::string_view in_dev, std::string_view out_dev);

  // One iptables command in iptables' own syntax, as a scenario file carries it:
  // "-A FORWARD -s 10.0.1.0/24 -p udp --dport 9 -j DROP", "-t mangle -L -v -n -x", "-S". A
  // leading "iptables" (or "iptables-legacy") word is skipped; arguments split on blanks, and
  // '...' or "..." quote. A command that fails changes no rule, chain, policy or counter; its
  // message is iptables' (see IptResult). Options this model lacks are refused with a message
  // that says so.
  IptResult exec(std::string_view command_line);

  // Nothing can happen at any hook: no table is loaded, so the kernel has no hook registered
  // and the stack may skip NF_HOOK altogether. (Once a table is loaded its policies count every
  // packet, even with no rules: skipping then would lose those counts; see accepts_all.)
  bool empty() const;
  // A table runs at `hook`.
  bool hook_active(NfHook hook) const;
  // Every verdict is ACCEPT: no rules, all policies ACCEPT (the counters still move).
  bool accepts_all() const;
  bool table_loaded(NfTable t) const;

  // Counters, for tests and reports (nullopt: no such chain or rule).
  std::optional<NfCounters> policy_counters(NfTable t, std::string_view chain) const;
  std::optional<NfCounters> rule_counters(NfTable t, std::string_view chain, uint32_t rulenum) const;

  uint64_t commands_refused() const;  // exec() calls that failed
  uint64_t unreadable() const;        // run() calls whose bytes were not an IPv4 header

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vnic::stack
