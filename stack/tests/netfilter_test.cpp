// Tests of the ip_tables model (stack/include/vnic/stack/netfilter.hpp): each match kind hits
// exactly what it should, inversion, port ranges, fragments, the table order at a hook, policies,
// user chains with RETURN and goto, counters, REJECT's ICMP, the commands iptables refuses (and
// that they change nothing), and `iptables -L -v -n -x` / `-S` output written by hand from
// iptables 1.8.9's print formats.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "vnic/stack/netfilter.hpp"
#include "vnic/stack/wire/checksum.hpp"
#include "vnic/stack/wire/ipv4.hpp"

namespace vnic::stack {
namespace {

using Bytes = std::vector<uint8_t>;

wire::Ipv4Addr addr(const char* s) { return *wire::Ipv4Addr::parse(s); }

// An IPv4 datagram (checksum filled) carrying `l4`; `frag_bytes` is the fragment offset in bytes.
Bytes datagram(const char* src, const char* dst, uint8_t proto, const Bytes& l4, uint16_t frag_bytes = 0,
               bool more_fragments = false) {
  wire::Ipv4Repr r;
  r.src = addr(src);
  r.dst = addr(dst);
  r.protocol = static_cast<wire::IpProtocol>(proto);
  r.frag_offset = frag_bytes;
  r.more_fragments = more_fragments;
  r.payload_len = static_cast<uint16_t>(l4.size());
  Bytes v(r.total_len());
  r.emit(v);
  std::memcpy(v.data() + r.header_len(), l4.data(), l4.size());
  return v;
}

void put16(Bytes& b, std::size_t off, uint16_t v) {
  b[off] = static_cast<uint8_t>(v >> 8);
  b[off + 1] = static_cast<uint8_t>(v);
}

// UDP with `data` payload bytes; the checksum over the pseudo-header is filled unless zero_csum.
Bytes udp(const char* src, const char* dst, uint16_t sport, uint16_t dport, std::size_t data = 4,
          bool zero_csum = false) {
  Bytes l4(8 + data, 0xab);
  put16(l4, 0, sport);
  put16(l4, 2, dport);
  put16(l4, 4, static_cast<uint16_t>(l4.size()));
  put16(l4, 6, 0);
  if (!zero_csum) {
    wire::InternetChecksum c;
    c.add32(addr(src).to_u32()).add32(addr(dst).to_u32()).add16(17).add16(static_cast<uint16_t>(l4.size())).add(l4);
    put16(l4, 6, c.checksum());
  }
  return datagram(src, dst, 17, l4);
}

Bytes tcp(const char* src, const char* dst, uint16_t sport, uint16_t dport) {
  Bytes l4(20, 0);
  put16(l4, 0, sport);
  put16(l4, 2, dport);
  l4[12] = 5 << 4;   // data offset
  l4[13] = 0x02;     // SYN
  return datagram(src, dst, 6, l4);
}

Bytes icmp(const char* src, const char* dst, uint8_t type, uint8_t code, std::size_t data = 56) {
  Bytes l4(8 + data, 0x11);
  l4[0] = type;
  l4[1] = code;
  put16(l4, 2, 0);
  put16(l4, 2, wire::internet_checksum(l4));
  return datagram(src, dst, 1, l4);
}

// A fragment of a UDP or TCP datagram: `payload` bytes at `frag_bytes`.
Bytes fragment(const char* src, const char* dst, uint8_t proto, uint16_t frag_bytes, bool mf, std::size_t payload,
               uint16_t sport = 1111, uint16_t dport = 9) {
  Bytes l4(payload, 0x22);
  if (payload >= 4) {
    put16(l4, 0, sport);
    put16(l4, 2, dport);
  }
  return datagram(src, dst, proto, l4, frag_bytes, mf);
}

// Runs every command, each of which must succeed.
void setup(IpTables& ipt, std::initializer_list<const char*> cmds) {
  for (const char* c : cmds) {
    const IptResult r = ipt.exec(c);
    ASSERT_TRUE(r.ok()) << c << "\n" << r.err;
  }
}

// Whether `pkt` is dropped at `hook` (with the given devices).
bool dropped(IpTables& ipt, NfHook hook, const Bytes& pkt, std::string_view in = "eth0", std::string_view out = "") {
  return ipt.run(hook, pkt, in, out).dropped();
}

NfCounters counters(uint64_t p, uint64_t b) { return NfCounters{p, b}; }

// ---- Hooks and tables ----

TEST(NetfilterHooks, NamesValuesAndPriorities) {
  EXPECT_EQ(static_cast<int>(NfHook::PreRouting), 0);
  EXPECT_EQ(static_cast<int>(NfHook::LocalIn), 1);
  EXPECT_EQ(static_cast<int>(NfHook::Forward), 2);
  EXPECT_EQ(static_cast<int>(NfHook::LocalOut), 3);
  EXPECT_EQ(static_cast<int>(NfHook::PostRouting), 4);
  EXPECT_EQ(nf_hook_name(NfHook::PreRouting), "NF_INET_PRE_ROUTING");
  EXPECT_EQ(nf_hook_name(NfHook::PostRouting), "NF_INET_POST_ROUTING");
  EXPECT_EQ(nf_hook_chain(NfHook::LocalIn), "INPUT");
  EXPECT_EQ(nf_hook_chain(NfHook::LocalOut), "OUTPUT");
  EXPECT_EQ(nf_table_priority(NfTable::Raw), -300);
  EXPECT_EQ(nf_table_priority(NfTable::Mangle), -150);
  EXPECT_EQ(nf_table_priority(NfTable::Filter), 0);
  EXPECT_EQ(name(NfTable::Mangle), "mangle");
}

TEST(IpTablesTables, NothingRunsUntilATableIsLoaded) {
  IpTables ipt;
  EXPECT_TRUE(ipt.empty());
  EXPECT_TRUE(ipt.accepts_all());
  const Bytes p = udp("10.0.0.2", "10.0.0.1", 1000, 53);
  const NfVerdict v = ipt.run(NfHook::LocalIn, p, "eth0", "");
  EXPECT_FALSE(v.dropped());
  EXPECT_EQ(v.tables_run, 0);
  EXPECT_FALSE(v.table.has_value());

  // Any command naming the filter table loads it: its policies count from then on.
  ASSERT_TRUE(ipt.exec("-L -n").ok());
  EXPECT_FALSE(ipt.empty());
  EXPECT_TRUE(ipt.accepts_all());
  EXPECT_TRUE(ipt.table_loaded(NfTable::Filter));
  EXPECT_FALSE(ipt.table_loaded(NfTable::Mangle));
  EXPECT_TRUE(ipt.hook_active(NfHook::LocalIn));
  EXPECT_TRUE(ipt.hook_active(NfHook::Forward));
  EXPECT_FALSE(ipt.hook_active(NfHook::PreRouting));   // filter has no PREROUTING
  EXPECT_FALSE(ipt.hook_active(NfHook::PostRouting));
  const NfVerdict w = ipt.run(NfHook::LocalIn, p, "eth0", "");
  EXPECT_FALSE(w.dropped());
  EXPECT_EQ(w.tables_run, 1);
  EXPECT_EQ(w.table, NfTable::Filter);
  EXPECT_EQ(w.chain(), "INPUT");
  EXPECT_EQ(w.rule, 0u);
  EXPECT_EQ(ipt.policy_counters(NfTable::Filter, "INPUT"), counters(1, p.size()));
  EXPECT_EQ(ipt.run(NfHook::PreRouting, p, "eth0", "").tables_run, 0);

  ASSERT_TRUE(ipt.exec("-t raw -L").ok());
  EXPECT_TRUE(ipt.hook_active(NfHook::PreRouting));
  EXPECT_FALSE(ipt.hook_active(NfHook::PostRouting));  // raw: PREROUTING and OUTPUT only
}

// raw (-300), then mangle (-150), then filter (0); ACCEPT in one goes on to the next, DROP ends it.
TEST(IpTablesTables, RunInPriorityOrderAndDropEndsTheHook) {
  IpTables ipt;
  setup(ipt, {"-A OUTPUT -p udp", "-t mangle -A OUTPUT -p udp", "-t raw -A OUTPUT -p udp -j ACCEPT"});
  const Bytes p = udp("10.0.0.1", "10.0.0.2", 1000, 53);
  NfVerdict v = ipt.run(NfHook::LocalOut, p, "", "eth0");
  EXPECT_FALSE(v.dropped());
  EXPECT_EQ(v.tables_run, 3);
  EXPECT_EQ(v.table, NfTable::Filter);  // the last to accept
  EXPECT_EQ(ipt.rule_counters(NfTable::Raw, "OUTPUT", 1), counters(1, p.size()));
  EXPECT_EQ(ipt.rule_counters(NfTable::Mangle, "OUTPUT", 1), counters(1, p.size()));
  EXPECT_EQ(ipt.rule_counters(NfTable::Filter, "OUTPUT", 1), counters(1, p.size()));

  setup(ipt, {"-t mangle -A OUTPUT -p udp -j DROP"});
  v = ipt.run(NfHook::LocalOut, p, "", "eth0");
  EXPECT_TRUE(v.dropped());
  EXPECT_EQ(v.tables_run, 2);
  EXPECT_EQ(v.table, NfTable::Mangle);
  EXPECT_EQ(v.chain(), "OUTPUT");
  EXPECT_EQ(v.rule, 2u);
  EXPECT_EQ(ipt.rule_counters(NfTable::Raw, "OUTPUT", 1), counters(2, 2 * p.size()));
  EXPECT_EQ(ipt.rule_counters(NfTable::Mangle, "OUTPUT", 2), counters(1, p.size()));
  EXPECT_EQ(ipt.rule_counters(NfTable::Filter, "OUTPUT", 1), counters(1, p.size()));  // never reached

  // A DROP in raw stops before mangle.
  setup(ipt, {"-t raw -I OUTPUT 1 -j DROP"});
  v = ipt.run(NfHook::LocalOut, p, "", "eth0");
  EXPECT_EQ(v.table, NfTable::Raw);
  EXPECT_EQ(v.tables_run, 1);
  EXPECT_EQ(ipt.rule_counters(NfTable::Mangle, "OUTPUT", 2), counters(1, p.size()));
}

TEST(IpTablesTables, ManglePreroutingWithInterface) {
  IpTables ipt;
  setup(ipt, {"-t mangle -A PREROUTING -i eth0 -j DROP"});
  const Bytes p = udp("10.0.0.2", "10.0.0.1", 1000, 53);
  EXPECT_TRUE(dropped(ipt, NfHook::PreRouting, p, "eth0"));
  EXPECT_FALSE(dropped(ipt, NfHook::PreRouting, p, "eth1"));
  EXPECT_FALSE(ipt.table_loaded(NfTable::Filter));
}

// ---- Matches ----

TEST(IpTablesMatch, SourceAndDestinationPrefixes) {
  IpTables ipt;
  setup(ipt, {"-A INPUT -s 10.0.1.0/24 -j DROP", "-A FORWARD -d 192.168.7.9 -j DROP",
              "-A OUTPUT -d 172.16.0.0/255.240.0.0 -j DROP"});
  EXPECT_TRUE(dropped(ipt, NfHook::LocalIn, udp("10.0.1.0", "1.1.1.1", 1, 2)));
  EXPECT_TRUE(dropped(ipt, NfHook::LocalIn, udp("10.0.1.255", "1.1.1.1", 1, 2)));
  EXPECT_FALSE(dropped(ipt, NfHook::LocalIn, udp("10.0.0.255", "1.1.1.1", 1, 2)));
  EXPECT_FALSE(dropped(ipt, NfHook::LocalIn, udp("10.0.2.0", "1.1.1.1", 1, 2)));
  EXPECT_FALSE(dropped(ipt, NfHook::LocalIn, udp("1.1.1.1", "10.0.1.5", 1, 2)));  // -s, not -d
  EXPECT_TRUE(dropped(ipt, NfHook::Forward, udp("1.1.1.1", "192.168.7.9", 1, 2), "eth0", "eth1"));  // /32
  EXPECT_FALSE(dropped(ipt, NfHook::Forward, udp("1.1.1.1", "192.168.7.8", 1, 2), "eth0", "eth1"));
  EXPECT_TRUE(dropped(ipt, NfHook::LocalOut, udp("1.1.1.1", "172.31.255.255", 1, 2), "", "eth0"));
  EXPECT_FALSE(dropped(ipt, NfHook::LocalOut, udp("1.1.1.1", "172.32.0.0", 1, 2), "", "eth0"));
  EXPECT_EQ(ipt.rule_counters(NfTable::Filter, "INPUT", 1)->packets, 2u);
}

TEST(IpTablesMatch, InvertedAddresses) {
  IpTables ipt;
  setup(ipt, {"-A INPUT ! -s 10.0.0.0/8 -j DROP", "-A FORWARD ! -d 10.0.0.1 -j DROP"});
  EXPECT_FALSE(dropped(ipt, NfHook::LocalIn, udp("10.9.9.9", "1.1.1.1", 1, 2)));
  EXPECT_TRUE(dropped(ipt, NfHook::LocalIn, udp("11.0.0.1", "1.1.1.1", 1, 2)));
  EXPECT_FALSE(dropped(ipt, NfHook::Forward, udp("1.1.1.1", "10.0.0.1", 1, 2), "a", "b"));
  EXPECT_TRUE(dropped(ipt, NfHook::Forward, udp("1.1.1.1", "10.0.0.2", 1, 2), "a", "b"));
}

TEST(IpTablesMatch, ProtocolByNameNumberAllAndInverted) {
  IpTables ipt;
  setup(ipt, {"-A INPUT -p udp -j DROP", "-A FORWARD -p 6 -j DROP", "-A OUTPUT ! -p icmp -j DROP"});
  EXPECT_TRUE(dropped(ipt, NfHook::LocalIn, udp("1.1.1.1", "2.2.2.2", 1, 2)));
  EXPECT_FALSE(dropped(ipt, NfHook::LocalIn, tcp("1.1.1.1", "2.2.2.2", 1, 2)));
  EXPECT_FALSE(dropped(ipt, NfHook::LocalIn, icmp("1.1.1.1", "2.2.2.2", 8, 0)));
  EXPECT_TRUE(dropped(ipt, NfHook::Forward, tcp("1.1.1.1", "2.2.2.2", 1, 2), "a", "b"));
  EXPECT_FALSE(dropped(ipt, NfHook::Forward, udp("1.1.1.1", "2.2.2.2", 1, 2), "a", "b"));
  EXPECT_FALSE(dropped(ipt, NfHook::LocalOut, icmp("1.1.1.1", "2.2.2.2", 8, 0), "", "eth0"));
  EXPECT_TRUE(dropped(ipt, NfHook::LocalOut, udp("1.1.1.1", "2.2.2.2", 1, 2), "", "eth0"));
  EXPECT_TRUE(dropped(ipt, NfHook::LocalOut, datagram("1.1.1.1", "2.2.2.2", 47, Bytes(8, 0)), "", "eth0"));

  IpTables all;
  setup(all, {"-A INPUT -p all -j DROP"});
  EXPECT_TRUE(dropped(all, NfHook::LocalIn, datagram("1.1.1.1", "2.2.2.2", 47, Bytes(8, 0))));
  EXPECT_TRUE(dropped(all, NfHook::LocalIn, icmp("1.1.1.1", "2.2.2.2", 0, 0)));
}

TEST(IpTablesMatch, DestinationAndSourcePorts) {
  IpTables ipt;
  setup(ipt, {"-A INPUT -p udp --dport 9 -j DROP", "-A FORWARD -p tcp --sport 1024 -j DROP"});
  EXPECT_TRUE(dropped(ipt, NfHook::LocalIn, udp("1.1.1.1", "2.2.2.2", 5000, 9)));
  EXPECT_FALSE(dropped(ipt, NfHook::LocalIn, udp("1.1.1.1", "2.2.2.2", 5000, 10)));
  EXPECT_FALSE(dropped(ipt, NfHook::LocalIn, udp("1.1.1.1", "2.2.2.2", 9, 5000)));  // sport 9: not dport
  EXPECT_FALSE(dropped(ipt, NfHook::LocalIn, tcp("1.1.1.1", "2.2.2.2", 5000, 9)));  // tcp, not udp
  EXPECT_TRUE(dropped(ipt, NfHook::Forward, tcp("1.1.1.1", "2.2.2.2", 1024, 80), "a", "b"));
  EXPECT_FALSE(dropped(ipt, NfHook::Forward, tcp("1.1.1.1", "2.2.2.2", 1025, 80), "a", "b"));
  EXPECT_FALSE(dropped(ipt, NfHook::Forward, udp("1.1.1.1", "2.2.2.2", 1024, 80), "a", "b"));
}

TEST(IpTablesMatch, PortRangesAndInversion) {
  IpTables ipt;
  setup(ipt, {"-A INPUT -p udp --dport 1000:2000 -j DROP", "-A FORWARD -p tcp ! --dport 22 -j DROP",
              "-A OUTPUT -p udp --sport :100 -j DROP", "-A OUTPUT -p tcp --destination-port 60000: -j DROP"});
  EXPECT_FALSE(dropped(ipt, NfHook::LocalIn, udp("1.1.1.1", "2.2.2.2", 1, 999)));
  EXPECT_TRUE(dropped(ipt, NfHook::LocalIn, udp("1.1.1.1", "2.2.2.2", 1, 1000)));
  EXPECT_TRUE(dropped(ipt, NfHook::LocalIn, udp("1.1.1.1", "2.2.2.2", 1, 1500)));
  EXPECT_TRUE(dropped(ipt, NfHook::LocalIn, udp("1.1.1.1", "2.2.2.2", 1, 2000)));
  EXPECT_FALSE(dropped(ipt, NfHook::LocalIn, udp("1.1.1.1", "2.2.2.2", 1, 2001)));
  EXPECT_FALSE(dropped(ipt, NfHook::Forward, tcp("1.1.1.1", "2.2.2.2", 40000, 22), "a", "b"));
  EXPECT_TRUE(dropped(ipt, NfHook::Forward, tcp("1.1.1.1", "2.2.2.2", 40000, 23), "a", "b"));
  EXPECT_TRUE(dropped(ipt, NfHook::LocalOut, udp("1.1.1.1", "2.2.2.2", 0, 7), "", "e"));
  EXPECT_TRUE(dropped(ipt, NfHook::LocalOut, udp("1.1.1.1", "2.2.2.2", 100, 7), "", "e"));
  EXPECT_FALSE(dropped(ipt, NfHook::LocalOut, udp("1.1.1.1", "2.2.2.2", 101, 7), "", "e"));
  EXPECT_FALSE(dropped(ipt, NfHook::LocalOut, tcp("1.1.1.1", "2.2.2.2", 1, 59999), "", "e"));
  EXPECT_TRUE(dropped(ipt, NfHook::LocalOut, tcp("1.1.1.1", "2.2.2.2", 1, 65535), "", "e"));
}

// x_tables hands the matches par->fragoff: port and type matches never match a fragment after
// the first (inverted or not), -f matches only those, and a TCP fragment at offset 8 is dropped.
TEST(IpTablesMatch, NonFirstFragmentsNeverMatchPorts) {
  IpTables ipt;
  setup(ipt, {"-A INPUT -p udp --dport 9 -j DROP", "-A INPUT -p udp ! --dport 53 -j DROP",
              "-A INPUT -p icmp --icmp-type any -j DROP"});
  // The first fragment carries the header: it matches.
  EXPECT_TRUE(dropped(ipt, NfHook::LocalIn, fragment("1.1.1.1", "2.2.2.2", 17, 0, true, 16, 1111, 9)));
  // Later fragments: bytes that look like ports at the start of the payload do not count.
  for (uint16_t off : {8, 16, 1480}) {
    EXPECT_FALSE(dropped(ipt, NfHook::LocalIn, fragment("1.1.1.1", "2.2.2.2", 17, off, true, 16, 1111, 9))) << off;
    EXPECT_FALSE(dropped(ipt, NfHook::LocalIn, fragment("1.1.1.1", "2.2.2.2", 1, off, false, 16))) << off;
  }
  EXPECT_EQ(ipt.rule_counters(NfTable::Filter, "INPUT", 1), counters(1, 36));
  EXPECT_EQ(ipt.rule_counters(NfTable::Filter, "INPUT", 2), counters(0, 0));
  EXPECT_EQ(ipt.rule_counters(NfTable::Filter, "INPUT", 3), counters(0, 0));
}

TEST(IpTablesMatch, FragmentOption) {
  IpTables ipt;
  setup(ipt, {"-A INPUT -f -j DROP", "-A FORWARD ! -f -j DROP"});
  EXPECT_TRUE(dropped(ipt, NfHook::LocalIn, fragment("1.1.1.1", "2.2.2.2", 17, 8, false, 8)));
  EXPECT_FALSE(dropped(ipt, NfHook::LocalIn, fragment("1.1.1.1", "2.2.2.2", 17, 0, true, 16)));  // first
  EXPECT_FALSE(dropped(ipt, NfHook::LocalIn, udp("1.1.1.1", "2.2.2.2", 1, 2)));
  EXPECT_FALSE(dropped(ipt, NfHook::Forward, fragment("1.1.1.1", "2.2.2.2", 17, 8, false, 8), "a", "b"));
  EXPECT_TRUE(dropped(ipt, NfHook::Forward, fragment("1.1.1.1", "2.2.2.2", 17, 0, true, 16), "a", "b"));
  EXPECT_TRUE(dropped(ipt, NfHook::Forward, udp("1.1.1.1", "2.2.2.2", 1, 2), "a", "b"));
}

// ipt_do_table's hotdrop: a match that cannot read its header drops the packet, uncounted.
TEST(IpTablesMatch, HotdropOnTruncatedHeaderAndTcpOffsetEight) {
  IpTables ipt;
  setup(ipt, {"-A INPUT -p udp --dport 9 -j ACCEPT", "-A INPUT -p tcp --dport 22 -j ACCEPT",
              "-A INPUT -p icmp --icmp-type 8 -j ACCEPT"});
  // A UDP datagram with 4 bytes of transport header.
  NfVerdict v = ipt.run(NfHook::LocalIn, datagram("1.1.1.1", "2.2.2.2", 17, Bytes(4, 0)), "eth0", "");
  EXPECT_TRUE(v.dropped());
  EXPECT_TRUE(v.hotdrop);
  EXPECT_EQ(v.rule, 1u);
  EXPECT_FALSE(v.reject);
  // A TCP fragment at offset 8 ("evil TCP offset=1 frag").
  v = ipt.run(NfHook::LocalIn, fragment("1.1.1.1", "2.2.2.2", 6, 8, false, 16), "eth0", "");
  EXPECT_TRUE(v.hotdrop);
  EXPECT_EQ(v.rule, 2u);
  // ... but at 16 it is just no match.
  v = ipt.run(NfHook::LocalIn, fragment("1.1.1.1", "2.2.2.2", 6, 16, false, 16), "eth0", "");
  EXPECT_FALSE(v.dropped());
  // A 4-byte ICMP message.
  v = ipt.run(NfHook::LocalIn, datagram("1.1.1.1", "2.2.2.2", 1, Bytes{8, 0, 0, 0}), "eth0", "");
  EXPECT_TRUE(v.hotdrop);
  EXPECT_EQ(v.rule, 3u);
  for (uint32_t i = 1; i <= 3; ++i) EXPECT_EQ(ipt.rule_counters(NfTable::Filter, "INPUT", i), counters(0, 0));
  EXPECT_EQ(ipt.policy_counters(NfTable::Filter, "INPUT"), counters(1, 36));  // only the offset-16 one
}

TEST(IpTablesMatch, IcmpTypeAndCode) {
  IpTables ipt;
  setup(ipt, {"-A INPUT -p icmp --icmp-type echo-request -j DROP", "-A FORWARD -p icmp --icmp-type 3/1 -j DROP",
              "-A OUTPUT -p icmp ! --icmp-type port-unreachable -j DROP"});
  EXPECT_TRUE(dropped(ipt, NfHook::LocalIn, icmp("1.1.1.1", "2.2.2.2", 8, 0)));
  EXPECT_TRUE(dropped(ipt, NfHook::LocalIn, icmp("1.1.1.1", "2.2.2.2", 8, 7)));  // any code
  EXPECT_FALSE(dropped(ipt, NfHook::LocalIn, icmp("1.1.1.1", "2.2.2.2", 0, 0)));
  EXPECT_FALSE(dropped(ipt, NfHook::LocalIn, udp("1.1.1.1", "2.2.2.2", 8, 8)));
  EXPECT_TRUE(dropped(ipt, NfHook::Forward, icmp("1.1.1.1", "2.2.2.2", 3, 1), "a", "b"));
  EXPECT_FALSE(dropped(ipt, NfHook::Forward, icmp("1.1.1.1", "2.2.2.2", 3, 0), "a", "b"));
  EXPECT_FALSE(dropped(ipt, NfHook::Forward, icmp("1.1.1.1", "2.2.2.2", 3, 2), "a", "b"));
  EXPECT_FALSE(dropped(ipt, NfHook::LocalOut, icmp("1.1.1.1", "2.2.2.2", 3, 3), "", "e"));
  EXPECT_TRUE(dropped(ipt, NfHook::LocalOut, icmp("1.1.1.1", "2.2.2.2", 3, 1), "", "e"));
  EXPECT_TRUE(dropped(ipt, NfHook::LocalOut, icmp("1.1.1.1", "2.2.2.2", 0, 0), "", "e"));
}

TEST(IpTablesMatch, IcmpTypeNamesArePrefixes) {
  IpTables ipt;
  setup(ipt, {"-A INPUT -p icmp --icmp-type echo-req -j DROP", "-A INPUT -p icmp --icmp-type PING",
              "-A INPUT -p icmp --icmp-type 3/1:3"});
  const IptResult r = ipt.exec("-S INPUT");
  EXPECT_EQ(r.out,
            "-P INPUT ACCEPT\n"
            "-A INPUT -p icmp -m icmp --icmp-type 8 -j DROP\n"
            "-A INPUT -p icmp -m icmp --icmp-type 8\n"
            "-A INPUT -p icmp -m icmp --icmp-type 3/1\n");
  const IptResult amb = ipt.exec("-A INPUT -p icmp --icmp-type echo -j DROP");
  EXPECT_EQ(amb.status, 2);
  EXPECT_EQ(amb.err,
            "iptables v1.8.9 (legacy): Ambiguous ICMP type `echo': `echo-reply' or `echo-request'?\n"
            "Try `iptables -h' or 'iptables --help' for more information.\n");
}

TEST(IpTablesMatch, Interfaces) {
  IpTables ipt;
  setup(ipt, {"-A INPUT -i eth0 -j DROP", "-A FORWARD -i eth+ -o wlan0 -j DROP", "-A OUTPUT ! -o lo -j DROP"});
  const Bytes p = udp("1.1.1.1", "2.2.2.2", 1, 2);
  EXPECT_TRUE(dropped(ipt, NfHook::LocalIn, p, "eth0"));
  EXPECT_FALSE(dropped(ipt, NfHook::LocalIn, p, "eth01"));
  EXPECT_FALSE(dropped(ipt, NfHook::LocalIn, p, "eth"));
  EXPECT_FALSE(dropped(ipt, NfHook::LocalIn, p, "eth1"));
  EXPECT_TRUE(dropped(ipt, NfHook::Forward, p, "eth0", "wlan0"));
  EXPECT_TRUE(dropped(ipt, NfHook::Forward, p, "eth", "wlan0"));  // '+' matches the bare prefix too
  EXPECT_TRUE(dropped(ipt, NfHook::Forward, p, "eth77", "wlan0"));
  EXPECT_FALSE(dropped(ipt, NfHook::Forward, p, "et", "wlan0"));
  EXPECT_FALSE(dropped(ipt, NfHook::Forward, p, "veth0", "wlan0"));
  EXPECT_FALSE(dropped(ipt, NfHook::Forward, p, "eth0", "wlan1"));
  EXPECT_FALSE(dropped(ipt, NfHook::LocalOut, p, "", "lo"));
  EXPECT_TRUE(dropped(ipt, NfHook::LocalOut, p, "", "eth0"));
}

// ---- Targets, chains, counters ----

TEST(IpTablesTarget, PolicyDropAndItsCounters) {
  IpTables ipt;
  setup(ipt, {"-P FORWARD DROP", "-A FORWARD -p icmp -j ACCEPT"});
  const Bytes u = udp("1.1.1.1", "2.2.2.2", 1, 2, 10);  // 38 bytes
  const Bytes e = icmp("1.1.1.1", "2.2.2.2", 8, 0);      // 84 bytes
  NfVerdict v = ipt.run(NfHook::Forward, u, "eth0", "eth1");
  EXPECT_TRUE(v.dropped());
  EXPECT_FALSE(v.reject);
  EXPECT_EQ(v.table, NfTable::Filter);
  EXPECT_EQ(v.chain(), "FORWARD");
  EXPECT_EQ(v.rule, 0u);
  v = ipt.run(NfHook::Forward, e, "eth0", "eth1");
  EXPECT_FALSE(v.dropped());
  EXPECT_EQ(v.rule, 1u);
  ipt.run(NfHook::Forward, u, "eth0", "eth1");
  EXPECT_EQ(ipt.policy_counters(NfTable::Filter, "FORWARD"), counters(2, 76));
  EXPECT_EQ(ipt.rule_counters(NfTable::Filter, "FORWARD", 1), counters(1, 84));
  // INPUT is not FORWARD.
  EXPECT_FALSE(dropped(ipt, NfHook::LocalIn, u));
  // Setting a policy starts its counters again (libiptc: COUNTER_MAP_NOMAP); -Z zeroes them all.
  setup(ipt, {"-P FORWARD DROP"});
  EXPECT_EQ(ipt.policy_counters(NfTable::Filter, "FORWARD"), counters(0, 0));
  EXPECT_EQ(ipt.rule_counters(NfTable::Filter, "FORWARD", 1), counters(1, 84));
  setup(ipt, {"-Z"});
  EXPECT_EQ(ipt.rule_counters(NfTable::Filter, "FORWARD", 1), counters(0, 0));
  EXPECT_EQ(ipt.policy_counters(NfTable::Filter, "INPUT"), counters(0, 0));
  setup(ipt, {"-P FORWARD ACCEPT"});
  EXPECT_FALSE(dropped(ipt, NfHook::Forward, u, "eth0", "eth1"));
}

TEST(IpTablesTarget, UserChainsReturnAndFallOffTheEnd) {
  IpTables ipt;
  setup(ipt, {"-N mychain", "-A mychain -p udp -j RETURN", "-A mychain -p icmp -j DROP",
              "-A FORWARD -j mychain", "-A FORWARD -p udp -j DROP", "-A FORWARD -j ACCEPT"});
  // udp: RETURN to FORWARD's rule 2.
  NfVerdict v = ipt.run(NfHook::Forward, udp("1.1.1.1", "2.2.2.2", 1, 2), "a", "b");
  EXPECT_TRUE(v.dropped());
  EXPECT_EQ(v.chain(), "FORWARD");
  EXPECT_EQ(v.rule, 2u);
  // icmp: dropped inside mychain.
  v = ipt.run(NfHook::Forward, icmp("1.1.1.1", "2.2.2.2", 8, 0), "a", "b");
  EXPECT_TRUE(v.dropped());
  EXPECT_EQ(v.chain(), "mychain");
  EXPECT_EQ(v.rule, 2u);
  // tcp: off mychain's end (an implicit RETURN), then FORWARD's rule 3.
  v = ipt.run(NfHook::Forward, tcp("1.1.1.1", "2.2.2.2", 1, 2), "a", "b");
  EXPECT_FALSE(v.dropped());
  EXPECT_EQ(v.chain(), "FORWARD");
  EXPECT_EQ(v.rule, 3u);
  EXPECT_EQ(ipt.rule_counters(NfTable::Filter, "FORWARD", 1)->packets, 3u);
  EXPECT_EQ(ipt.rule_counters(NfTable::Filter, "mychain", 1)->packets, 1u);
  EXPECT_EQ(ipt.rule_counters(NfTable::Filter, "mychain", 2)->packets, 1u);
  EXPECT_EQ(ipt.policy_counters(NfTable::Filter, "FORWARD"), counters(0, 0));
}

TEST(IpTablesTarget, ReturnInABuiltInChainAndGoto) {
  IpTables ipt;
  setup(ipt, {"-P INPUT DROP", "-A INPUT -p udp -j RETURN", "-A INPUT -j ACCEPT", "-N other",
              "-A other -p icmp -j ACCEPT", "-P FORWARD DROP", "-A FORWARD -g other", "-A FORWARD -j ACCEPT"});
  // RETURN in a built-in chain: its policy decides (and counts).
  NfVerdict v = ipt.run(NfHook::LocalIn, udp("1.1.1.1", "2.2.2.2", 1, 2), "eth0", "");
  EXPECT_TRUE(v.dropped());
  EXPECT_EQ(v.rule, 0u);
  EXPECT_EQ(ipt.policy_counters(NfTable::Filter, "INPUT")->packets, 1u);
  // -g: the end of `other` goes back to FORWARD's policy, not to FORWARD's rule 2.
  v = ipt.run(NfHook::Forward, udp("1.1.1.1", "2.2.2.2", 1, 2), "a", "b");
  EXPECT_TRUE(v.dropped());
  EXPECT_EQ(v.chain(), "FORWARD");
  EXPECT_EQ(v.rule, 0u);
  v = ipt.run(NfHook::Forward, icmp("1.1.1.1", "2.2.2.2", 8, 0), "a", "b");
  EXPECT_FALSE(v.dropped());
  EXPECT_EQ(v.chain(), "other");
  EXPECT_EQ(ipt.rule_counters(NfTable::Filter, "FORWARD", 2)->packets, 0u);
}

TEST(IpTablesTarget, RuleWithoutTargetOnlyCounts) {
  IpTables ipt;
  setup(ipt, {"-A INPUT -p udp", "-A INPUT -s 1.1.1.1"});
  const Bytes u = udp("1.1.1.1", "2.2.2.2", 1, 2, 100);
  ipt.run(NfHook::LocalIn, u, "eth0", "");
  ipt.run(NfHook::LocalIn, u, "eth0", "");
  ipt.run(NfHook::LocalIn, icmp("1.1.1.1", "2.2.2.2", 8, 0), "eth0", "");
  EXPECT_EQ(ipt.rule_counters(NfTable::Filter, "INPUT", 1), counters(2, 2 * 128));
  EXPECT_EQ(ipt.rule_counters(NfTable::Filter, "INPUT", 2), counters(3, 2 * 128 + 84));
  EXPECT_EQ(ipt.policy_counters(NfTable::Filter, "INPUT"), counters(3, 2 * 128 + 84));
}

TEST(IpTablesTarget, RejectDefaultsToPortUnreachable) {
  IpTables ipt;
  setup(ipt, {"-I INPUT 1 -p icmp --icmp-type echo-request -j REJECT"});
  const NfVerdict v = ipt.run(NfHook::LocalIn, icmp("1.1.1.1", "2.2.2.2", 8, 0), "eth0", "");
  EXPECT_TRUE(v.dropped());
  ASSERT_TRUE(v.reject);
  EXPECT_EQ(v.reject->type, 3);
  EXPECT_EQ(v.reject->code, 3);
  EXPECT_EQ(v.rule, 1u);
  EXPECT_EQ(ipt.rule_counters(NfTable::Filter, "INPUT", 1), counters(1, 84));
}

TEST(IpTablesTarget, EveryRejectWith) {
  struct Case {
    const char* with;
    uint8_t code;
    const char* listed;
  };
  const Case cases[] = {
      {"icmp-net-unreachable", 0, "icmp-net-unreachable"},   {"icmp-host-unreachable", 1, "icmp-host-unreachable"},
      {"icmp-port-unreachable", 3, "icmp-port-unreachable"}, {"icmp-proto-unreachable", 2, "icmp-proto-unreachable"},
      {"icmp-net-prohibited", 9, "icmp-net-prohibited"},     {"icmp-host-prohibited", 10, "icmp-host-prohibited"},
      {"icmp-admin-prohibited", 13, "icmp-admin-prohibited"},
      // The aliases, and prefixes (libipt_REJECT takes the first entry a prefix fits).
      {"net-unreach", 0, "icmp-net-unreachable"},            {"admin-prohib", 13, "icmp-admin-prohibited"},
      {"icmp-host-pro", 10, "icmp-host-prohibited"},          {"ICMP-PORT", 3, "icmp-port-unreachable"},
  };
  for (const Case& c : cases) {
    IpTables ipt;
    const IptResult r = ipt.exec(std::string("-A FORWARD -j REJECT --reject-with ") + c.with);
    ASSERT_TRUE(r.ok()) << c.with << r.err;
    const NfVerdict v = ipt.run(NfHook::Forward, udp("1.1.1.1", "2.2.2.2", 1, 2), "a", "b");
    ASSERT_TRUE(v.reject) << c.with;
    EXPECT_EQ(v.reject->type, 3) << c.with;
    EXPECT_EQ(v.reject->code, c.code) << c.with;
    EXPECT_EQ(ipt.exec("-S FORWARD").out,
              std::string("-P FORWARD ACCEPT\n-A FORWARD -j REJECT --reject-with ") + c.listed + "\n");
  }
}

TEST(IpTablesTarget, RejectInOutputAndInAUserChainCalledFromFilter) {
  IpTables ipt;
  setup(ipt, {"-N rej", "-A rej -j REJECT --reject-with icmp-net-prohibited", "-A OUTPUT -p udp -j rej"});
  const NfVerdict v = ipt.run(NfHook::LocalOut, udp("1.1.1.1", "2.2.2.2", 1, 2), "", "eth0");
  ASSERT_TRUE(v.reject);
  EXPECT_EQ(v.reject->code, 9);
  EXPECT_EQ(v.chain(), "rej");
}

// nf_send_unreach's own conditions, which the caller applies before icmp_send.
TEST(NetfilterReject, WhenNfSendUnreachSendsTheIcmp) {
  const Bytes good = udp("10.0.0.2", "10.0.0.1", 1000, 9);
  Bytes bad = good;
  bad.back() ^= 0xFF;  // payload changed: the UDP checksum no longer verifies
  EXPECT_TRUE(nf_reject_sends_icmp(good, NfHook::LocalIn, IpSummed::None));
  EXPECT_FALSE(nf_reject_sends_icmp(bad, NfHook::LocalIn, IpSummed::None));
  EXPECT_TRUE(nf_reject_sends_icmp(bad, NfHook::LocalIn, IpSummed::Unnecessary));
  EXPECT_TRUE(nf_reject_sends_icmp(bad, NfHook::LocalOut, IpSummed::Partial));
  EXPECT_FALSE(nf_reject_sends_icmp(bad, NfHook::LocalIn, IpSummed::Complete));  // verified at INPUT
  EXPECT_TRUE(nf_reject_sends_icmp(bad, NfHook::Forward, IpSummed::Complete));   // not looked at in FORWARD
  // UDP without a checksum is not verified.
  Bytes nocsum = udp("10.0.0.2", "10.0.0.1", 1000, 9, 4, true);
  nocsum.back() ^= 0xFF;
  EXPECT_TRUE(nf_reject_sends_icmp(nocsum, NfHook::LocalIn, IpSummed::None));
  // ICMP and TCP are summed too (ICMP without a pseudo-header).
  const Bytes ping = icmp("10.0.0.2", "10.0.0.1", 8, 0);
  EXPECT_TRUE(nf_reject_sends_icmp(ping, NfHook::LocalIn, IpSummed::None));
  Bytes bad_ping = ping;
  bad_ping[30] ^= 1;
  EXPECT_FALSE(nf_reject_sends_icmp(bad_ping, NfHook::LocalIn, IpSummed::None));
  // GRE is not verified.
  EXPECT_TRUE(nf_reject_sends_icmp(datagram("1.1.1.1", "2.2.2.2", 47, Bytes(8, 1)), NfHook::Forward, IpSummed::None));
  // Never about a fragment after the first; the first is fine.
  EXPECT_FALSE(nf_reject_sends_icmp(fragment("1.1.1.1", "2.2.2.2", 17, 8, false, 8), NfHook::LocalIn,
                                    IpSummed::Unnecessary));
  EXPECT_TRUE(nf_reject_sends_icmp(fragment("1.1.1.1", "2.2.2.2", 17, 0, true, 16), NfHook::LocalIn,
                                   IpSummed::Unnecessary));
  EXPECT_FALSE(nf_reject_sends_icmp(Bytes{0x45, 0}, NfHook::LocalIn, IpSummed::Unnecessary));
}

TEST(IpTablesRun, UnreadableBytesAreLeftAlone) {
  IpTables ipt;
  setup(ipt, {"-P INPUT DROP"});
  const NfVerdict v = ipt.run(NfHook::LocalIn, Bytes{0x45, 0, 0}, "eth0", "");
  EXPECT_FALSE(v.dropped());
  EXPECT_TRUE(v.unreadable);
  EXPECT_EQ(ipt.unreadable(), 1u);
  EXPECT_EQ(ipt.policy_counters(NfTable::Filter, "INPUT"), counters(0, 0));
}

// Counted bytes are the datagram's total length, not the buffer's (link padding).
TEST(IpTablesRun, BytesAreTheTotalLength) {
  IpTables ipt;
  setup(ipt, {"-A INPUT"});
  Bytes p = udp("1.1.1.1", "2.2.2.2", 1, 2, 0);  // 28 bytes
  p.resize(46, 0);                               // padded to Ethernet's minimum payload
  ipt.run(NfHook::LocalIn, p, "eth0", "");
  EXPECT_EQ(ipt.rule_counters(NfTable::Filter, "INPUT", 1), counters(1, 28));
}

// ---- Commands ----

TEST(IpTablesCommand, InsertDeleteReplaceFlush) {
  IpTables ipt;
  setup(ipt, {"-A INPUT -s 10.0.0.1 -j DROP", "-A INPUT -s 10.0.0.2 -j DROP", "-I INPUT -s 10.0.0.3 -j ACCEPT",
              "-I INPUT 3 -s 10.0.0.4 -j ACCEPT", "-I INPUT 5 -s 10.0.0.5"});
  EXPECT_EQ(ipt.exec("-S INPUT").out,
            "-P INPUT ACCEPT\n"
            "-A INPUT -s 10.0.0.3/32 -j ACCEPT\n"
            "-A INPUT -s 10.0.0.1/32 -j DROP\n"
            "-A INPUT -s 10.0.0.4/32 -j ACCEPT\n"
            "-A INPUT -s 10.0.0.2/32 -j DROP\n"
            "-A INPUT -s 10.0.0.5/32\n");
  ipt.run(NfHook::LocalIn, udp("10.0.0.2", "9.9.9.9", 1, 2), "eth0", "");
  setup(ipt, {"-D INPUT 1", "-D INPUT -s 10.0.0.4 -j ACCEPT", "-R INPUT 1 -s 10.0.0.6 -j DROP"});
  EXPECT_EQ(ipt.exec("-S").out,
            "-P INPUT ACCEPT\n-P FORWARD ACCEPT\n-P OUTPUT ACCEPT\n"
            "-A INPUT -s 10.0.0.6/32 -j DROP\n"
            "-A INPUT -s 10.0.0.2/32 -j DROP\n"
            "-A INPUT -s 10.0.0.5/32\n");
  EXPECT_EQ(ipt.rule_counters(NfTable::Filter, "INPUT", 2), counters(1, 32));  // kept its counters
  EXPECT_TRUE(ipt.exec("-C INPUT -s 10.0.0.2 -j DROP").ok());
  EXPECT_EQ(ipt.exec("-C INPUT -s 10.0.0.2 -j ACCEPT").err,
            "iptables: Bad rule (does a matching rule exist in that chain?).\n");
  setup(ipt, {"-F INPUT"});
  EXPECT_EQ(ipt.exec("-S INPUT").out, "-P INPUT ACCEPT\n");
}

TEST(IpTablesCommand, AddressListsMasksAndShortForms) {
  IpTables ipt;
  setup(ipt, {"-A FORWARD -s 10.0.0.1,10.0.0.2 -d 10.1/16 -j DROP", "-A FORWARD -s 10.0.1.77/24 -p 17 --dport 9",
              "-A FORWARD -d 1.2.3.4/255.0.255.0", "-A FORWARD --src 0/0 -p ICMP", "-A FORWARD -i eth+ -o br0 -f"});
  EXPECT_EQ(ipt.exec("-S FORWARD").out,
            "-P FORWARD ACCEPT\n"
            "-A FORWARD -s 10.0.0.1/32 -d 10.1.0.0/16 -j DROP\n"
            "-A FORWARD -s 10.0.0.2/32 -d 10.1.0.0/16 -j DROP\n"
            "-A FORWARD -s 10.0.1.0/24 -p udp -m udp --dport 9\n"
            "-A FORWARD -d 1.0.3.0/255.0.255.0\n"
            "-A FORWARD -p icmp\n"
            "-A FORWARD -i eth+ -o br0 -f\n");
}

TEST(IpTablesCommand, ChainsRenameAndDelete) {
  IpTables ipt;
  setup(ipt, {"-N zeta", "-N alpha", "-A FORWARD -j zeta", "-A zeta -j alpha"});
  EXPECT_EQ(ipt.exec("-S").out,
            "-P INPUT ACCEPT\n-P FORWARD ACCEPT\n-P OUTPUT ACCEPT\n-N alpha\n-N zeta\n"
            "-A FORWARD -j zeta\n-A zeta -j alpha\n");
  setup(ipt, {"-E zeta beta"});
  EXPECT_EQ(ipt.exec("-S").out,
            "-P INPUT ACCEPT\n-P FORWARD ACCEPT\n-P OUTPUT ACCEPT\n-N alpha\n-N beta\n"
            "-A FORWARD -j beta\n-A beta -j alpha\n");
  EXPECT_FALSE(dropped(ipt, NfHook::Forward, udp("1.1.1.1", "2.2.2.2", 1, 2), "a", "b"));
  EXPECT_EQ(ipt.rule_counters(NfTable::Filter, "FORWARD", 1)->packets, 1u);
  setup(ipt, {"-F", "-X"});
  EXPECT_EQ(ipt.exec("-S").out, "-P INPUT ACCEPT\n-P FORWARD ACCEPT\n-P OUTPUT ACCEPT\n");
}

TEST(IpTablesCommand, VersionAndVerboseEcho) {
  IpTables ipt;
  EXPECT_EQ(ipt.exec("iptables -V").out, "iptables v1.8.9 (legacy)\n");
  // -v on -A prints the rule as iptables' print_firewall_line does (trailing blanks included).
  const IptResult r = ipt.exec("-v -A FORWARD -i eth2 -o eth3 -s 10.0.0.1 -d 10.0.0.2 -j ACCEPT");
  EXPECT_EQ(r.out, "ACCEPT  all opt -- in eth2 out eth3  10.0.0.1  -> 10.0.0.2  \n");
  EXPECT_EQ(ipt.exec("-v -F FORWARD").out, "Flushing chain `FORWARD'\n");
  EXPECT_EQ(ipt.exec("-v -Z").out, "Zeroing chain `INPUT'\nZeroing chain `FORWARD'\nZeroing chain `OUTPUT'\n");
}

// Every refused command: iptables' message and exit status, and the tables as they were.
TEST(IpTablesCommand, RefusedCommandsChangeNothing) {
  IpTables ipt;
  setup(ipt, {"-N mychain", "-A mychain -j RETURN", "-A FORWARD -j mychain", "-P FORWARD DROP",
              "-A INPUT -p udp --dport 9 -j DROP", "-N a", "-N b", "-A a -j b", "-t mangle -A PREROUTING -j ACCEPT"});
  const std::string kTry = "Try `iptables -h' or 'iptables --help' for more information.\n";
  const std::string kLegacy = "iptables v1.8.9 (legacy): ";
  struct Case {
    const char* cmd;
    int status;
    std::string err;
    std::string dmesg = {};
  };
  const Case cases[] = {
      {"-A FORWARD --dport 9 -j DROP", 2, kLegacy + "unknown option \"--dport\"\n" + kTry},
      {"-A FORWARD -p icmp --dport 9 -j DROP", 2, kLegacy + "unknown option \"--dport\"\n" + kTry},
      {"-A FORWARD -p all --sport 9 -j DROP", 2, kLegacy + "unknown option \"--sport\"\n" + kTry},
      {"-A FORWARD --bogus -j DROP", 2, kLegacy + "unknown option \"--bogus\"\n" + kTry},
      {"-A FORWARD -q", 2, kLegacy + "unknown option \"-q\"\n" + kTry},
      {"-A FORWARD -s 10.0.1.300/24 -j DROP", 2, kLegacy + "host/network `10.0.1.300' not found\n" + kTry},
      {"-A FORWARD -s 10.0.1.0/33 -j DROP", 2, kLegacy + "invalid mask `33' specified\n" + kTry},
      {"-A FORWARD -d host.example -j DROP", 2, kLegacy + "host/network `host.example' not found\n" + kTry},
      {"-A FORWARD -p xyz -j DROP", 2, kLegacy + "unknown protocol \"xyz\" specified\n" + kTry},
      {"-A FORWARD ! -p all -j DROP", 2, kLegacy + "rule would never match protocol\n" + kTry},
      {"-A FORWARD -p udp --dport 70000 -j DROP", 2,
       kLegacy + "Port \"70000\" does not resolve to anything.\n\n" + kTry},
      {"-A FORWARD -p udp --dport 1:2:3 -j DROP", 2,
       kLegacy + "udp: Too many components for option \"--dport\" (max: 2)\n\n" + kTry},
      {"-A FORWARD -p udp --dport 1 --dport 2 -j DROP", 2,
       kLegacy + "udp: option \"--dport\" can only be used once.\n\n" + kTry},
      {"-A FORWARD -p tcp --dport 2000:1000 -j DROP", 2, kLegacy + "invalid portrange (min > max)\n" + kTry},
      {"-A FORWARD -p tcp --dport http2 -j DROP", 2, kLegacy + "invalid port/service `http2' specified\n" + kTry},
      {"-A FORWARD -p icmp --icmp-type bogus -j DROP", 2, kLegacy + "Unknown ICMP type `bogus'\n" + kTry},
      {"-A FORWARD -p icmp -m icmp -j DROP", 2, kLegacy + "icmp: option \"--icmp-type\" must be specified\n\n" + kTry},
      {"-A FORWARD -j DROP -j ACCEPT", 2, kLegacy + "multiple -j flags not allowed\n" + kTry},
      {"-A FORWARD ! -j DROP", 2, kLegacy + "cannot have ! before -j\n" + kTry},
      {"-A FORWARD -j DROP !", 2, kLegacy + "nothing appropriate following !\n" + kTry},
      {"-A FORWARD -j DROP extra", 2, "Bad argument `extra'\n" + kTry},
      {"-A FORWARD -j nosuch", 2, kLegacy + "Couldn't load target `nosuch':No such file or directory\n\n" + kTry},
      {"-A FORWARD -g nosuch", 2, kLegacy + "goto 'nosuch' is not a chain\n" + kTry},
      {"-A FORWARD -j LOG", 2, kLegacy + "target `LOG': not supported by this model\n" + kTry},
      {"-A FORWARD -m conntrack --ctstate NEW", 2, kLegacy + "match `conntrack': not supported by this model\n" + kTry},
      {"-A FORWARD -m nosuch", 2, kLegacy + "Couldn't load match `nosuch':No such file or directory\n\n" + kTry},
      {"-A FORWARD -p tcp --syn -j DROP", 2,
       kLegacy + "tcp match option \"--syn\": not supported by this model\n" + kTry},
      {"-A FORWARD -p tcp -j REJECT --reject-with tcp-reset", 2,
       kLegacy + "--reject-with tcp-reset: not supported by this model (TCP is not built yet, so there is no RST to "
                 "send)\n" + kTry},
      {"-A FORWARD -j REJECT --reject-with bogus", 2, kLegacy + "unknown reject type \"bogus\"\n" + kTry},
      {"-A FORWARD --reject-with icmp-net-unreachable -j REJECT", 2,
       kLegacy + "unknown option \"--reject-with\"\n" + kTry},
      {"-A INPUT -o eth0 -j DROP", 2, kLegacy + "Can't use -o with INPUT\n\n" + kTry},
      {"-t mangle -A PREROUTING -o eth0 -j DROP", 2, kLegacy + "Can't use -o with PREROUTING\n\n" + kTry},
      {"-A OUTPUT -i eth0 -j DROP", 2, kLegacy + "Can't use -i with OUTPUT\n\n" + kTry},
      {"-A FORWARD -i '' -j DROP", 2, kLegacy + "Empty interface is likely to be undesired\n" + kTry},
      {"-A FORWARD -i abcdefghijklmnop -j DROP", 2,
       kLegacy + "interface name `abcdefghijklmnop' must be shorter than IFNAMSIZ (15)\n" + kTry},
      {"-A FORWARD -D FORWARD 1", 2, kLegacy + "Cannot use -D with -A\n" + kTry},
      {"-L -s 1.2.3.4", 2, kLegacy + "Illegal option `-s' with this command\n" + kTry},
      {"-D FORWARD 0", 2, kLegacy + "Invalid rule number `0'\n" + kTry},
      {"-N ACCEPT", 2, kLegacy + "chain name may not clash with target name\n" + kTry},
      {"-N abcdefghijklmnopqrstuvwxyz0123", 2,
       kLegacy + "chain name `abcdefghijklmnopqrstuvwxyz0123' too long (must be under 29 chars)\n" + kTry},
      {"-P FORWARD", 2, kLegacy + "-P requires a chain and a policy\n" + kTry},
      {"-A", 2, kLegacy + "option \"-A\" requires an argument\n" + kTry},
      {"-s 1.2.3.4", 2, kLegacy + "no command specified\n" + kTry},
      {"", 2, kLegacy + "no command specified\n" + kTry},
      {"-t nat -L", 3,
       kLegacy + "can't initialize iptables table `nat': Table does not exist (do you need to insmod?)\n"
                 "Perhaps iptables or your kernel needs to be upgraded.\n"},
      // libiptc's refusals.
      {"-A NOSUCH -j DROP", 1, "iptables: No chain/target/match by that name.\n"},
      {"-L NOSUCH", 1, "iptables: No chain/target/match by that name.\n"},
      {"-D FORWARD 5", 1, "iptables: Index of deletion too big.\n"},
      {"-I FORWARD 3 -j DROP", 1, "iptables: Index of insertion too big.\n"},
      {"-R FORWARD 2 -j DROP", 1, "iptables: Index of replacement too big.\n"},
      {"-D FORWARD -j DROP", 1, "iptables: Bad rule (does a matching rule exist in that chain?).\n"},
      {"-D FORWARD -j mychain -p udp", 1, "iptables: No chain/target/match by that name.\n"},
      {"-A FORWARD -j INPUT", 1, "iptables: Invalid argument. Run `dmesg' for more information.\n"},
      {"-N mychain", 1, "iptables: Chain already exists.\n"},
      {"-X mychain", 1, "iptables: Too many links.\n"},
      {"-X a", 1, "iptables: Directory not empty.\n"},
      {"-X FORWARD", 1, "iptables: Can't delete built-in chain. Run `dmesg' for more information.\n"},
      {"-X nosuch", 1, "iptables: No chain/target/match by that name.\n"},
      {"-P mychain DROP", 1, "iptables: Bad built-in chain name.\n"},
      {"-P FORWARD REJECT", 1, "iptables: Bad policy name. Run `dmesg' for more information.\n"},
      {"-E mychain a", 1, "iptables: File exists.\n"},
      {"-Z FORWARD 9", 1, "iptables: Index of counter too big.\n"},
      // The kernel's refusals (translate_table).
      {"-t mangle -A PREROUTING -j REJECT", 1, "iptables: Invalid argument. Run `dmesg' for more information.\n",
       "x_tables: ip_tables: REJECT target: only valid in filter table, not mangle"},
      {"-t raw -N x", 0, ""},  // (loads raw; for the next case)
      {"-A FORWARD -m udp --dport 9 -j DROP", 1, "iptables: Invalid argument. Run `dmesg' for more information.\n",
       "x_tables: ip_tables: udp match: only valid for protocol 17"},
      {"-A FORWARD -p tcp -m icmp --icmp-type 8", 1,
       "iptables: Invalid argument. Run `dmesg' for more information.\n",
       "x_tables: ip_tables: icmp match: only valid for protocol 1"},
      {"-A b -j a", 0, ""},  // a loop, but no hook reaches it: the kernel does not look
      {"-A INPUT -j a", 1, "iptables: Too many levels of symbolic links.\n"},
      {"-A mychain -j mychain", 1, "iptables: Too many levels of symbolic links.\n"},
  };
  for (const Case& c : cases) {
    const std::string before = ipt.exec("-S").out + ipt.exec("-t mangle -L -v -n -x").out;
    const uint64_t refused = ipt.commands_refused();
    const IptResult r = ipt.exec(c.cmd);
    EXPECT_EQ(r.status, c.status) << c.cmd;
    EXPECT_EQ(r.err, c.err) << c.cmd;
    EXPECT_EQ(r.dmesg, c.dmesg) << c.cmd;
    if (c.status == 0) continue;
    EXPECT_EQ(ipt.commands_refused(), refused + 1) << c.cmd;
    EXPECT_EQ(ipt.exec("-S").out + ipt.exec("-t mangle -L -v -n -x").out, before) << c.cmd;
  }
  EXPECT_TRUE(ipt.table_loaded(NfTable::Raw));
}

TEST(IpTablesCommand, GetoptQuirks) {
  IpTables ipt;
  // Short options bundle; an optional argument is the rest of the word ("-Lnv" lists chain "nv").
  EXPECT_TRUE(ipt.exec("-nvL INPUT").ok());
  EXPECT_EQ(ipt.exec("-Lnv").err, "iptables: No chain/target/match by that name.\n");
  // Long options may be shortened while they stay unambiguous.
  EXPECT_TRUE(ipt.exec("--app INPUT --proto udp --destination-p 9 --jump DROP").ok());
  EXPECT_EQ(ipt.exec("-S INPUT").out, "-P INPUT ACCEPT\n-A INPUT -p udp -m udp --dport 9 -j DROP\n");
  EXPECT_EQ(ipt.exec("-A INPUT --d 1.2.3.4").err,
            "iptables v1.8.9 (legacy): unknown option \"--d\"\n"
            "Try `iptables -h' or 'iptables --help' for more information.\n");
  // An attached argument is read with its option letter by -s/-d/-p/-j/-i/-o (argv[optind-1]).
  EXPECT_EQ(ipt.exec("-A INPUT -s1.2.3.4").err,
            "iptables v1.8.9 (legacy): host/network `-s1.2.3.4' not found\n"
            "Try `iptables -h' or 'iptables --help' for more information.\n");
  // -w (the xtables lock) is accepted and has nothing to wait for.
  EXPECT_TRUE(ipt.exec("-w -A INPUT -j ACCEPT").ok());
}

// ---- Listings, written by hand from iptables 1.8.9's formats (xshared.c print_header,
// print_rule_details, print_fragment, print_ifaces, print_ipv4_addresses; xtables_print_num
// with -x: "%8llu " for both counters, under a header of "%8s " and "%10s ") ----

TEST(IpTablesList, VerboseNumericExactGolden) {
  IpTables ipt;
  setup(ipt, {"-P FORWARD DROP", "-N mychain", "-A FORWARD -s 10.0.1.0/24 -p udp --dport 9 -j DROP",
              "-A FORWARD -i eth0 -o eth1 -p icmp --icmp-type echo-request -j ACCEPT", "-A FORWARD -j mychain",
              "-A mychain ! -d 192.168.0.0/16 -p tcp --dport 1000:2000 -j REJECT --reject-with icmp-host-prohibited",
              "-A INPUT -p icmp -j REJECT"});
  NfVerdict v = ipt.run(NfHook::Forward, udp("10.0.1.5", "10.0.2.1", 5000, 9), "eth0", "eth1");  // 32 bytes
  EXPECT_TRUE(v.dropped());
  v = ipt.run(NfHook::Forward, icmp("10.0.2.1", "10.0.1.5", 8, 0), "eth0", "eth1");  // 84 bytes
  EXPECT_FALSE(v.dropped());
  v = ipt.run(NfHook::Forward, tcp("10.0.1.5", "8.8.8.8", 40000, 1500), "eth1", "eth0");  // 40 bytes
  ASSERT_TRUE(v.reject);
  EXPECT_EQ(v.reject->code, 10);
  EXPECT_EQ(v.chain(), "mychain");
  EXPECT_EQ(v.rule, 1u);
  v = ipt.run(NfHook::Forward, udp("10.0.2.1", "10.0.1.5", 5000, 53), "eth0", "eth1");  // 32 bytes, to the policy
  EXPECT_TRUE(v.dropped());
  EXPECT_EQ(v.rule, 0u);
  v = ipt.run(NfHook::LocalIn, icmp("10.0.2.1", "10.0.0.1", 8, 0), "eth0", "");  // 84 bytes
  ASSERT_TRUE(v.reject);
  EXPECT_EQ(v.reject->code, 3);

  // The header: "%8s " "%10s " "%-9s " " prot " "opt" " %-6s " "%-6s " " %-19s " " %-19s ".
  const std::string header =
      "    pkts "             "     bytes "  "target    "  " prot "  "opt"  " in     "  "out    "
      " source             " " "  " destination        " " " "\n";
  // A rule line: "%8llu " "%8llu " "%-9s " inverse-mark "%-4hu " (-n: the number) "-- " " %-6s "
  // "%-6s " inverse-mark "%-19s " inverse-mark "%-19s ", then each match's and the target's text.
  const std::string expected =
      "Chain INPUT (policy ACCEPT 0 packets, 0 bytes)\n" + header +
      "       1 " "      84 " "REJECT    " " " "1    " "-- " " *      " "*      "
      " " "0.0.0.0/0           " " " "0.0.0.0/0           " " reject-with icmp-port-unreachable\n"
      "\n"
      "Chain FORWARD (policy DROP 1 packets, 32 bytes)\n" + header +
      "       1 " "      32 " "DROP      " " " "17   " "-- " " *      " "*      "
      " " "10.0.1.0/24         " " " "0.0.0.0/0           " " udp dpt:9\n"
      "       1 " "      84 " "ACCEPT    " " " "1    " "-- " " eth0   " "eth1   "
      " " "0.0.0.0/0           " " " "0.0.0.0/0           " " icmp" "type 8\n"
      "       2 " "      72 " "mychain   " " " "0    " "-- " " *      " "*      "
      " " "0.0.0.0/0           " " " "0.0.0.0/0           " "\n"
      "\n"
      "Chain OUTPUT (policy ACCEPT 0 packets, 0 bytes)\n" + header +
      "\n"
      "Chain mychain (1 references)\n" + header +
      "       1 " "      40 " "REJECT    " " " "6    " "-- " " *      " "*      "
      " " "0.0.0.0/0           " "!" "192.168.0.0/16      " " tcp dpts:1000:2000"
      " reject-with icmp-host-prohibited\n";
  const IptResult r = ipt.exec("-t filter -L -v -n -x");
  ASSERT_TRUE(r.ok()) << r.err;
  EXPECT_EQ(r.out, expected);

  // -S of the same rules (iptables-save's rule text).
  EXPECT_EQ(ipt.exec("-S").out,
            "-P INPUT ACCEPT\n"
            "-P FORWARD DROP\n"
            "-P OUTPUT ACCEPT\n"
            "-N mychain\n"
            "-A INPUT -p icmp -j REJECT --reject-with icmp-port-unreachable\n"
            "-A FORWARD -s 10.0.1.0/24 -p udp -m udp --dport 9 -j DROP\n"
            "-A FORWARD -i eth0 -o eth1 -p icmp -m icmp --icmp-type 8 -j ACCEPT\n"
            "-A FORWARD -j mychain\n"
            "-A mychain ! -d 192.168.0.0/16 -p tcp -m tcp --dport 1000:2000 -j REJECT --reject-with "
            "icmp-host-prohibited\n");
  EXPECT_EQ(ipt.exec("-S FORWARD -v").out,
            "-P FORWARD DROP -c 1 32\n"
            "-A FORWARD -s 10.0.1.0/24 -p udp -m udp --dport 9 -c 1 32 -j DROP\n"
            "-A FORWARD -i eth0 -o eth1 -p icmp -m icmp --icmp-type 8 -c 1 84 -j ACCEPT\n"
            "-A FORWARD -c 2 72 -j mychain\n");

  // Without -v: no counters, no interfaces; "%-9s " " prot " "opt" " %-19s " " %-19s ".
  EXPECT_EQ(ipt.exec("-L INPUT -n").out,
            "Chain INPUT (policy ACCEPT)\n"
            "target    " " prot " "opt" " source             " " " " destination        " " " "\n"
            "REJECT    " " " "1    " "-- " " " "0.0.0.0/0           " " " "0.0.0.0/0           "
            " reject-with icmp-port-unreachable\n");
  // Without -n: protocol names, "anywhere", ICMP type names.
  EXPECT_EQ(ipt.exec("-L FORWARD 2").out,
            "ACCEPT    " " " "icmp " "-- " " " "anywhere            " " " "anywhere            "
            " icmp echo-request\n");
  // --line-numbers: "%-4s " / "%-4u " first.
  EXPECT_EQ(ipt.exec("-L mychain -n --line-numbers").out,
            "Chain mychain (1 references)\n"
            "num  " "target    " " prot " "opt" " source             " " " " destination        " " " "\n"
            "1    " "REJECT    " " " "6    " "-- " " " "0.0.0.0/0           " "!" "192.168.0.0/16      "
            " tcp dpts:1000:2000 reject-with icmp-host-prohibited\n");
  // -L -Z lists, then zeroes.
  EXPECT_TRUE(ipt.exec("-L -Z -n").ok());
  EXPECT_EQ(ipt.rule_counters(NfTable::Filter, "FORWARD", 3), counters(0, 0));
}

// Without -x, counters take xtables_print_num's K/M/G form: "%5llu " up to 99999, then
// "%4lluK " of the rounded thousands; the policy's use the untabulated "%lluK ".
TEST(IpTablesList, KiloMegaCounters) {
  IpTables ipt;
  setup(ipt, {"-A INPUT -p udp"});
  const Bytes big = udp("1.1.1.1", "2.2.2.2", 1, 2, 1472);  // 1500 bytes
  for (int i = 0; i < 70; ++i) ipt.run(NfHook::LocalIn, big, "eth0", "");
  EXPECT_EQ(ipt.exec("-L INPUT -v -n").out,
            "Chain INPUT (policy ACCEPT 70 packets, 105K bytes)\n"
            " pkts " "bytes " "target    " " prot " "opt" " in     " "out    "
            " source             " " " " destination        " " " "\n"
            "   70 " " 105K " "           " "17   " "-- " " *      " "*      "
            " " "0.0.0.0/0           " " " "0.0.0.0/0           " "\n");
}

}  // namespace
}  // namespace vnic::stack
