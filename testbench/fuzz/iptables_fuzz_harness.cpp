// The iptables fuzz harness: the record interpreter and the invariants of
// iptables_fuzz_harness.hpp, on a fresh IpTables per input.
#include "iptables_fuzz_harness.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "vnic/stack/netfilter.hpp"
#include "vnic/stack/wire/checksum.hpp"
#include "vnic/stack/wire/ipv4.hpp"

namespace vnic::fuzz::ipt {

namespace st = vnic::stack;
namespace w = vnic::stack::wire;

namespace {

char g_where[160] = "";

[[noreturn]] __attribute__((format(printf, 1, 2))) void fail(const char* fmt, ...) {
  std::fflush(stdout);
  std::fprintf(stderr, "vnic-iptables-fuzz: %s: ", g_where);
  va_list ap;
  va_start(ap, fmt);
  std::vfprintf(stderr, fmt, ap);
  va_end(ap);
  std::fprintf(stderr, "\n");
  std::abort();
}

// iptables' words: commands and options (short, long, abbreviated, clustered), tables, chains,
// targets, matches and their options, addresses, ports, ICMP types, interfaces, and a few that
// are wrong on purpose (nat, LOG, -m state, tcp-reset, -c).
constexpr std::string_view kDictionary[] = {
    "-A", "-I", "-D", "-R", "-C", "-L", "-S", "-F", "-Z", "-N", "-X", "-E", "-P", "-t", "-j", "-g", "-p", "-s", "-d",
    "-i", "-o", "-f", "-m", "-v", "-n", "-x", "-c", "-w", "-W", "-V", "-h", "-4", "-6", "-M", "!", "--",
    "--append", "--insert", "--delete", "--replace", "--check", "--list", "--list-rules", "--flush", "--zero",
    "--new-chain", "--delete-chain", "--rename-chain", "--policy", "--table", "--jump", "--goto", "--protocol",
    "--source", "--destination", "--src", "--dst", "--in-interface", "--out-interface", "--fragment", "--match",
    "--numeric", "--verbose", "--exact", "--line-numbers", "--set-counters", "--wait", "--version", "--ipv4",
    "--app", "--del", "--new", "--proto",
    "raw", "mangle", "filter", "nat", "security",
    "PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING", "user1", "user2", "loop", "a-b_c.9",
    "ACCEPT", "DROP", "REJECT", "RETURN", "QUEUE", "LOG", "MARK", "NFQUEUE",
    "tcp", "udp", "icmp", "all", "sctp", "esp", "6", "17", "1", "0", "47", "255", "256", "udplite", "ipv6-icmp",
    "tcp,udp", "--sport", "--dport", "--source-port", "--destination-port", "--syn", "--tcp-flags", "--tcp-option",
    "--icmp-type", "--reject-with", "--reject-with=icmp-host-prohibited", "--dport=53",
    "22", "53", "80", "1000", "1000:2000", ":1024", "1024:", "2000:1000", "65535", "65536", "ssh", "domain", "http",
    "echo-request", "echo-reply", "8", "8/0", "3/3", "any", "destination-unreachable", "port-unreachable",
    "fragmentation-needed", "255/255", "icmp-net-unreachable", "icmp-port-unreachable", "icmp-host-prohibited",
    "icmp-admin-prohibited", "tcp-reset", "echo-reply-no", "host-unreach",
    "10.0.0.1", "10.0.0.2", "10.0.0.0/8", "10.0.1.0/24", "10.0.0.1/32", "0.0.0.0/0", "0/0", "192.168.1.1",
    "10.0.0.1,10.0.0.2", "10.0.0.1/255.255.255.0", "255.255.255.255", "10.0.0.300", "localhost", "10.0.0.0/33",
    "eth0", "eth1", "eth+", "lo", "+", "eth0.100", "veth0123456789abc", "wlan0",
    "multiport", "state", "conntrack", "--state", "NEW", "-pudp", "-jDROP", "-Finput", "-nvL", "-vS", "-Ztfilter",
    "iptables", "'two words'", "\"user1\"", "-j ACCEPT", "2", "3", "100", "-1", "0x10", "010",
};
constexpr std::size_t kDictSize = std::size(kDictionary);
static_assert(kDictSize < 256);

constexpr st::NfTable kTables[3] = {st::NfTable::Raw, st::NfTable::Mangle, st::NfTable::Filter};

struct ChainView {
  std::string name;
  bool builtin = false;
  bool policy_drop = false;
  uint32_t rules = 0;
};
struct TableView {
  bool loaded = false;
  std::string listing;  // -S
  std::vector<ChainView> chains;
  const ChainView* find(std::string_view n) const {
    for (const ChainView& c : chains) {
      if (c.name == n) return &c;
    }
    return nullptr;
  }
};

std::string table_opt(st::NfTable t) { return fmt::format("-t {} ", st::name(t)); }

// The listing's characters are iptables' plain words (no quotes or odd bytes a shell, or the
// model's word splitting, would read otherwise).
bool plain(std::string_view s) {
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ' ' ||
                    c == '\n' || c == '.' || c == '/' || c == ':' || c == ',' || c == '!' || c == '+' || c == '_' ||
                    c == '-';
    if (!ok) return false;
  }
  return true;
}

std::vector<std::string_view> lines(std::string_view s) {
  std::vector<std::string_view> v;
  while (!s.empty()) {
    const std::size_t nl = s.find('\n');
    v.push_back(s.substr(0, nl));
    if (nl == std::string_view::npos) break;
    s.remove_prefix(nl + 1);
  }
  return v;
}

std::array<std::string, 3> pristine_listings() {
  std::array<std::string, 3> out;
  for (std::size_t i = 0; i < 3; ++i) {
    st::IpTables fresh;
    out[i] = fresh.exec(table_opt(kTables[i]) + "-S -v").out;
  }
  return out;
}

class Harness {
 public:
  explicit Harness(bool verbose) : verbose_(verbose) {}
  void run(std::span<const uint8_t> in);
  const Summary& summary() const { return sum_; }

 private:
  void command(const std::string& line);
  void packet(uint8_t hook, uint8_t devices, std::span<const uint8_t> bytes);
  void refresh(st::NfTable t);
  std::string listing_v(st::NfTable t) {
    const st::IptResult r = ipt_.exec(table_opt(t) + "-S -v");
    if (r.status != 0) fail("`-t %s -S -v` failed on a loaded table: %s", std::string(st::name(t)).c_str(), r.err.c_str());
    return r.out;
  }
  void round_trip(st::NfTable t);
  std::vector<st::NfCounters> counters() const;

  bool verbose_;
  st::IpTables ipt_;
  std::array<TableView, 3> view_{};
  bool quoted_ = false;
  Summary sum_;
};

void Harness::refresh(st::NfTable t) {
  TableView& v = view_[static_cast<std::size_t>(t)];
  v.loaded = ipt_.table_loaded(t);
  v.chains.clear();
  v.listing.clear();
  if (!v.loaded) return;
  const st::IptResult r = ipt_.exec(table_opt(t) + "-S");
  if (r.status != 0) fail("`-t %s -S` failed on a loaded table: %s", std::string(st::name(t)).c_str(), r.err.c_str());
  v.listing = r.out;
  for (std::string_view l : lines(r.out)) {
    if (l.starts_with("-P ")) {
      const std::size_t sp = l.rfind(' ');
      ChainView c;
      c.name = std::string(l.substr(3, sp - 3));
      c.builtin = true;
      c.policy_drop = l.substr(sp + 1) == "DROP";
      v.chains.push_back(std::move(c));
    } else if (l.starts_with("-N ")) {
      ChainView c;
      c.name = std::string(l.substr(3));
      v.chains.push_back(std::move(c));
    }
  }
  for (ChainView& c : v.chains) {
    while (ipt_.rule_counters(t, c.name, c.rules + 1)) ++c.rules;
    if (c.builtin != ipt_.policy_counters(t, c.name).has_value()) fail("chain %s: -S and policy_counters disagree", c.name.c_str());
  }
  uint64_t all = 0;
  for (const TableView& tv : view_) {
    for (const ChainView& c : tv.chains) all += c.rules;
  }
  sum_.max_rules = std::max(sum_.max_rules, all);
}

std::vector<st::NfCounters> Harness::counters() const {
  std::vector<st::NfCounters> v;
  for (std::size_t i = 0; i < 3; ++i) {
    if (!view_[i].loaded) continue;
    for (const ChainView& c : view_[i].chains) {
      if (c.builtin) v.push_back(*ipt_.policy_counters(kTables[i], c.name));
      for (uint32_t r = 1; r <= c.rules; ++r) {
        const auto rc = ipt_.rule_counters(kTables[i], c.name, r);
        if (!rc) fail("rule %u of %s vanished", r, c.name.c_str());
        v.push_back(*rc);
      }
      if (ipt_.rule_counters(kTables[i], c.name, c.rules + 1)) fail("chain %s grew a rule", c.name.c_str());
    }
  }
  return v;
}

void Harness::round_trip(st::NfTable t) {
  const TableView& v = view_[static_cast<std::size_t>(t)];
  if (!plain(v.listing)) return;
  ++sum_.round_trips;
  st::IpTables fresh;
  for (std::string_view l : lines(v.listing)) {
    if (l.empty()) continue;
    const std::string cmd = table_opt(t) + std::string(l);
    const st::IptResult r = fresh.exec(cmd);
    if (r.status == 2 && l.starts_with("-N ")) {
      // iptables 1.8.9 checks a new chain's name for -N (assert_valid_chain_name) but not for -E:
      // a chain renamed to a target's name, or to 29-31 characters, lists as a -N line that
      // -N refuses (upstream fixed -E in July 2023: "Reject invalid chain names when renaming").
      // The model is 1.8.9's; such a table cannot be fed back.
      ++sum_.round_trips_renamed;
      return;
    }
    if (r.status != 0) fail("`%s` (a line of -S) is refused when fed back: %s", cmd.c_str(), r.err.c_str());
  }
  const st::IptResult again = fresh.exec(table_opt(t) + "-S");
  if (again.out != v.listing) {
    fail("-S of table %s fed back gives another -S:\n--- listed\n%s--- fed back\n%s", std::string(st::name(t)).c_str(),
         v.listing.c_str(), again.out.c_str());
  }
}

void Harness::command(const std::string& line) {
  ++sum_.commands;
  std::array<std::optional<std::string>, 3> before;
  for (std::size_t i = 0; i < 3; ++i) {
    if (view_[i].loaded) before[i] = listing_v(kTables[i]);
  }
  const uint64_t refused = ipt_.commands_refused();
  const st::IptResult r = ipt_.exec(line);
  if (verbose_) std::printf("  -> %d %s%s", r.status, r.out.substr(0, 200).c_str(), r.err.substr(0, 200).c_str());
  if (r.status < 0 || r.status > 4) fail("exit status %d", r.status);
  if (ipt_.commands_refused() != refused + (r.status != 0 ? 1 : 0)) fail("commands_refused() is off (status %d)", r.status);
  static const std::array<std::string, 3> kPristine = pristine_listings();
  if (r.status != 0) {
    ++sum_.refused;
    for (std::size_t i = 0; i < 3; ++i) {
      if (before[i]) {
        if (!ipt_.table_loaded(kTables[i])) fail("table %s unloaded by a refused command", std::string(st::name(kTables[i])).c_str());
        const std::string after = listing_v(kTables[i]);
        if (after != *before[i]) {
          fail("a refused command (status %d: %s) changed table %s:\n--- before\n%s--- after\n%s", r.status, r.err.c_str(),
               std::string(st::name(kTables[i])).c_str(), before[i]->c_str(), after.c_str());
        }
      } else if (ipt_.table_loaded(kTables[i])) {
        const std::string after = listing_v(kTables[i]);
        if (after != kPristine[i]) {
          fail("a refused command loaded table %s with something in it:\n%s", std::string(st::name(kTables[i])).c_str(),
               after.c_str());
        }
      }
    }
  } else {
    for (std::size_t i = 0; i < 3; ++i) {
      if (before[i] && !ipt_.table_loaded(kTables[i])) fail("table %s unloaded", std::string(st::name(kTables[i])).c_str());
    }
    // A quoted word can put a blank inside an interface name (iptables only warns), which no
    // listing can give back: iptables-save has the same limit. No round trips from then on.
    if (line.find_first_of("'\"") != std::string::npos) quoted_ = true;
  }
  for (std::size_t i = 0; i < 3; ++i) {
    const std::string was = view_[i].listing;
    refresh(kTables[i]);
    if (r.status == 0 && !quoted_ && view_[i].loaded && view_[i].listing != was) round_trip(kTables[i]);
  }
}

void Harness::packet(uint8_t hook_b, uint8_t devices, std::span<const uint8_t> bytes) {
  ++sum_.packets;
  const auto hook = static_cast<st::NfHook>(hook_b % st::kNfHookCount);
  std::string_view in = kDevices[devices & 7u], out = kDevices[(devices >> 3) & 7u];
  if (hook == st::NfHook::LocalOut || hook == st::NfHook::PostRouting) in = {};
  if (hook == st::NfHook::PreRouting || hook == st::NfHook::LocalIn) out = {};
  const std::vector<st::NfCounters> before = counters();
  const st::NfVerdict v = ipt_.run(hook, bytes, in, out);
  const std::vector<st::NfCounters> after = counters();
  if (after.size() != before.size()) fail("run() changed the rules");
  const auto ip = w::Ipv4Packet::checked(bytes, w::ChecksumCheck::Skip);
  if (verbose_) {
    std::printf("  -> %s%s%s tables %u %s/%.*s rule %u\n", v.dropped() ? "DROP" : "ACCEPT", v.hotdrop ? " hotdrop" : "",
                v.unreadable ? " unreadable" : "", v.tables_run, v.table ? std::string(st::name(*v.table)).c_str() : "-",
                static_cast<int>(v.chain().size()), v.chain().data(), v.rule);
  }
  if (v.hotdrop && !v.dropped()) fail("a hotdrop that accepted");
  if (v.reject && !v.dropped()) fail("a REJECT that accepted");
  if (!ip) {
    if (!v.unreadable) fail("bytes that are no IPv4 header (%s) were not unreadable", std::string(w::name(ip.error())).c_str());
  } else if (v.unreadable) {
    fail("a readable IPv4 header came back unreadable");
  }
  if (v.unreadable || v.tables_run == 0) {
    if (v.dropped()) fail("dropped with no table run");
    if (after != before) fail("counters moved with no table run");
    if (v.unreadable) ++sum_.unreadable;
    else ++sum_.no_table;
    if (!v.unreadable) {
      for (std::size_t i = 0; i < 3; ++i) {
        const ChainView* c = view_[i].loaded ? view_[i].find(st::nf_hook_chain(hook)) : nullptr;
        if (c != nullptr && c->builtin) fail("a table at the hook did not run");
      }
    }
    ++sum_.accepted;
    return;
  }
  // The tables at this hook, in priority order.
  std::vector<st::NfTable> at_hook;
  for (std::size_t i = 0; i < 3; ++i) {
    if (!view_[i].loaded) continue;
    const ChainView* c = view_[i].find(st::nf_hook_chain(hook));
    if (c != nullptr && c->builtin) at_hook.push_back(kTables[i]);
  }
  if (v.tables_run > at_hook.size()) fail("%u tables ran, %zu are at the hook", v.tables_run, at_hook.size());
  if (!v.dropped() && v.tables_run != at_hook.size()) fail("accepted after %u of %zu tables", v.tables_run, at_hook.size());
  if (!v.table || *v.table != at_hook[v.tables_run - 1u]) fail("the deciding table is not the last that ran");
  const TableView& tv = view_[static_cast<std::size_t>(*v.table)];
  const ChainView* chain = tv.find(v.chain());
  if (chain == nullptr) fail("the verdict names chain %.*s, not in table %s", static_cast<int>(v.chain().size()), v.chain().data(),
                             std::string(st::name(*v.table)).c_str());
  // Where the deciding chain's counters sit in the flat vectors.
  std::size_t base = 0;
  for (std::size_t i = 0; i < 3; ++i) {
    if (!view_[i].loaded) continue;
    bool found = false;
    for (const ChainView& c : view_[i].chains) {
      if (&c == chain) {
        found = true;
        break;
      }
      base += (c.builtin ? 1 : 0) + c.rules;
    }
    if (found) break;
  }
  if (v.rule == 0) {
    ++sum_.by_policy;
    if (!chain->builtin || chain->name != st::nf_hook_chain(hook)) fail("a policy verdict from chain %s", chain->name.c_str());
    if (v.hotdrop) fail("a hotdrop from a policy");
    if (v.dropped() != chain->policy_drop) fail("the verdict is not the policy of %s", chain->name.c_str());
    if (after[base].packets != before[base].packets + 1) fail("the deciding policy's counter did not move by one");
  } else {
    if (v.rule > chain->rules) fail("rule %u decided, chain %s has %u", v.rule, chain->name.c_str(), chain->rules);
    const std::size_t at = base + (chain->builtin ? 1 : 0) + (v.rule - 1);
    if (v.hotdrop) {
      if (after[at] != before[at]) fail("the rule that hotdropped was counted");
    } else if (after[at].packets <= before[at].packets) {
      fail("rule %u of %s decided but was not counted", v.rule, chain->name.c_str());
    }
  }
  if (v.reject && *v.table != st::NfTable::Filter) fail("a REJECT from table %s", std::string(st::name(*v.table)).c_str());
  const uint64_t len = ip->total_len();
  for (std::size_t i = 0; i < after.size(); ++i) {
    if (after[i].packets < before[i].packets || after[i].bytes < before[i].bytes) fail("counter #%zu went down", i);
    if (after[i].bytes - before[i].bytes != (after[i].packets - before[i].packets) * len) {
      fail("counter #%zu: %llu packets of %llu bytes counted as %llu bytes", i,
           static_cast<unsigned long long>(after[i].packets - before[i].packets), static_cast<unsigned long long>(len),
           static_cast<unsigned long long>(after[i].bytes - before[i].bytes));
    }
  }
  if (v.dropped()) {
    ++sum_.dropped;
    if (v.reject) ++sum_.rejected;
    if (v.hotdrop) ++sum_.hotdropped;
  } else {
    ++sum_.accepted;
  }
}

// A datagram from a Packet record's fields.
std::vector<uint8_t> build_packet(uint8_t src, uint8_t dst, uint8_t proto_i, uint8_t shape, uint16_t sport,
                                  uint16_t dport, uint8_t payload, std::size_t* view_len) {
  const uint8_t proto = kProtos[proto_i & 7u];
  std::vector<uint8_t> l4;
  auto be16 = [&](uint16_t x) {
    l4.push_back(static_cast<uint8_t>(x >> 8));
    l4.push_back(static_cast<uint8_t>(x));
  };
  if (proto == 6) {
    be16(sport);
    be16(dport);
    for (int i = 0; i < 8; ++i) l4.push_back(static_cast<uint8_t>(i));
    l4.push_back(0x50);
    l4.push_back(0x02);  // SYN
    be16(0xFFFF);
    be16(0);
    be16(0);
  } else if (proto == 17) {
    be16(sport);
    be16(dport);
    be16(static_cast<uint16_t>(8 + payload));
    be16(0);
  } else if (proto == 1) {
    l4.push_back(static_cast<uint8_t>(sport));
    l4.push_back(static_cast<uint8_t>(dport));
    be16(0);
    be16(sport);
    be16(dport);
  } else {
    be16(sport);
    be16(dport);
    be16(0);
    be16(0);
  }
  const unsigned cut = (shape >> 3) & 7u;
  if (cut != 0) {
    l4.resize(std::min<std::size_t>(l4.size(), (cut - 1) * 3));
  } else {
    for (unsigned i = 0; i < payload; ++i) l4.push_back(static_cast<uint8_t>(i * 7 + 3));
  }
  if (proto == 1 && l4.size() >= 4) {
    const uint16_t c = w::internet_checksum(l4);
    l4[2] = static_cast<uint8_t>(c >> 8);
    l4[3] = static_cast<uint8_t>(c);
  }
  const std::size_t hl = (shape & packet_shape::kOptions) != 0 ? 24 : 20;
  std::vector<uint8_t> b(hl + l4.size());
  b[0] = static_cast<uint8_t>(0x40 | hl / 4);
  w::store_be16(b, 2, static_cast<uint16_t>(b.size()));
  w::store_be16(b, 4, 0x1234);
  static constexpr uint16_t kFrag[4] = {0, 1, static_cast<uint16_t>(8 | w::kIpv4FlagMf), w::kIpv4FlagMf};
  w::store_be16(b, 6, kFrag[shape & 3u]);
  b[8] = 64;
  b[9] = proto;
  w::store_ipv4(b, 12, w::Ipv4Addr::from_u32(kAddrs[src & 7u]));
  w::store_ipv4(b, 16, w::Ipv4Addr::from_u32(kAddrs[dst & 7u]));
  if (hl == 24) {
    b[20] = b[21] = b[22] = 1;
    b[23] = 0;
  }
  std::copy(l4.begin(), l4.end(), b.begin() + static_cast<std::ptrdiff_t>(hl));
  w::store_be16(b, 10, w::internet_checksum(std::span<const uint8_t>(b).first(hl)));
  *view_len = b.size();
  if ((shape & packet_shape::kPad) != 0) {
    b.resize(b.size() + 16, 0xA5);
    *view_len = b.size();
  }
  if ((shape & packet_shape::kCut) != 0) *view_len = (b.size() - 1) / 2 + (l4.size() % 7);
  *view_len = std::min(*view_len, b.size());
  return b;
}

struct Reader {
  std::span<const uint8_t> in;
  std::size_t at = 0;
  bool ok = true;
  uint8_t u8() {
    if (at >= in.size()) {
      ok = false;
      return 0;
    }
    return in[at++];
  }
  uint16_t u16() {
    const uint8_t lo = u8();
    const uint8_t hi = u8();
    return static_cast<uint16_t>(lo | hi << 8);
  }
  std::span<const uint8_t> bytes(std::size_t n) {
    if (at + n > in.size()) {
      ok = false;
      return {};
    }
    const auto s = in.subspan(at, n);
    at += n;
    return s;
  }
};

void Harness::run(std::span<const uint8_t> in) {
  Reader r{in};
  while (r.at < in.size() && sum_.records < kMaxRecords) {
    const std::size_t start = r.at;
    const uint8_t kind = r.u8() % 4u;
    std::snprintf(g_where, sizeof(g_where), "record %u at byte %zu", sum_.records, start);
    if (kind <= 1) {
      const unsigned n = r.u8() % kMaxWords + 1;
      std::string line;
      for (unsigned i = 0; i < n && r.ok; ++i) {
        const uint8_t sel = r.u8();
        if (!r.ok) break;
        if (!line.empty()) line += ' ';
        if (sel < kDictSize) {
          line += kDictionary[sel];
        } else {
          const auto b = r.bytes(r.u8() % 33u);
          line.append(b.begin(), b.end());
        }
      }
      if (!r.ok) return;
      std::snprintf(g_where, sizeof(g_where), "record %u at byte %zu: `%.100s`", sum_.records, start, line.c_str());
      if (verbose_) std::printf("%4u iptables %s\n", sum_.records, line.c_str());
      command(line);
    } else if (kind == static_cast<uint8_t>(Rec::Packet)) {
      const uint8_t hook = r.u8(), devices = r.u8(), src = r.u8(), dst = r.u8(), proto = r.u8(), shape = r.u8();
      const uint16_t sport = r.u16(), dport = r.u16();
      const uint8_t payload = r.u8();
      if (!r.ok) return;
      std::size_t len = 0;
      const std::vector<uint8_t> b = build_packet(src, dst, proto, shape, sport, dport, payload, &len);
      // A heap block of exactly the bytes run() is given: ASan sees a read past them.
      std::vector<uint8_t> exact(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(len));
      exact.shrink_to_fit();
      if (verbose_) std::printf("%4u packet hook %u, %zu of %zu bytes, proto %u\n", sum_.records, hook % 5u, len, b.size(), kProtos[proto & 7u]);
      packet(hook, devices, exact);
    } else {
      const uint8_t hook = r.u8(), devices = r.u8();
      const auto b = r.bytes(r.u8());
      if (!r.ok) return;
      std::vector<uint8_t> exact(b.begin(), b.end());
      exact.shrink_to_fit();
      if (verbose_) std::printf("%4u raw packet hook %u, %zu bytes\n", sum_.records, hook % 5u, exact.size());
      packet(hook, devices, exact);
    }
    ++sum_.records;
  }
}

}  // namespace

std::span<const std::string_view> dictionary() { return kDictionary; }

std::string describe(const Summary& s) {
  return fmt::format(
      "records {} | commands {} refused {} | packets {} accepted {} dropped {} (rejected {} hotdropped {}) by policy {} "
      "unreadable {} no table {} | rules max {} round trips {} (cut short by a -E name {})",
      s.records, s.commands, s.refused, s.packets, s.accepted, s.dropped, s.rejected, s.hotdropped, s.by_policy,
      s.unreadable, s.no_table, s.max_rules, s.round_trips, s.round_trips_renamed);
}

Summary run_input(std::span<const uint8_t> input, bool verbose) {
  Harness h(verbose);
  h.run(input);
  return h.summary();
}

// ------------------------------------------------------------------ Writer

Writer& Writer::command(std::string_view line) {
  std::vector<std::string_view> words;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    const std::size_t j = std::min(line.find(' ', i), line.size());
    if (j > i) words.push_back(line.substr(i, j - i));
    i = j;
  }
  u8(static_cast<uint8_t>(Rec::Command));
  u8(static_cast<uint8_t>(words.empty() ? 0 : (words.size() - 1) % kMaxWords));
  for (std::string_view wd : words) {
    const auto it = std::find(std::begin(kDictionary), std::end(kDictionary), wd);
    if (it != std::end(kDictionary)) {
      u8(static_cast<uint8_t>(it - std::begin(kDictionary)));
    } else {
      u8(0xFF);
      const std::size_t n = std::min<std::size_t>(wd.size(), 32);
      u8(static_cast<uint8_t>(n));
      b_.insert(b_.end(), wd.begin(), wd.begin() + static_cast<std::ptrdiff_t>(n));
    }
  }
  return *this;
}

Writer& Writer::packet(const PacketArgs& a) {
  u8(static_cast<uint8_t>(Rec::Packet));
  u8(a.hook);
  u8(a.devices);
  u8(a.src);
  u8(a.dst);
  u8(a.proto);
  u8(a.shape);
  u16(a.sport);
  u16(a.dport);
  u8(a.payload);
  return *this;
}

Writer& Writer::raw_packet(uint8_t hook, uint8_t devices, std::span<const uint8_t> bytes) {
  u8(static_cast<uint8_t>(Rec::RawPacket));
  u8(hook);
  u8(devices);
  const std::size_t n = std::min<std::size_t>(bytes.size(), 255);
  u8(static_cast<uint8_t>(n));
  b_.insert(b_.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
  return *this;
}

}  // namespace vnic::fuzz::ipt
