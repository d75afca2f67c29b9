// NetStack: one host's struct net: its devices (register_netdevice, the root qdisc), addresses
// (inet_insert_ifa -> fib_add_ifaddr), sysctls, the per-packet trace helpers and the views
// (ip -s link, ip addr, ip route, ip neigh, tc -s qdisc, /proc/net/snmp, netstat).
#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "net_priv.hpp"
#include "vnic/stack/net.hpp"
#include "vnic/stack/netfilter.hpp"

namespace vnic::stack {

namespace {

uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

constexpr std::size_t kIpIdents = 2048;  // ip_idents: 2048 slots on a small machine (rounded to a power of 2)

}  // namespace

NetStack::NetStack(const NetStackConfig& cfg, std::vector<Cpu*> cpus, SkbPool& pool)
    : cfg_(cfg), cpus_(std::move(cpus)), pool_(pool) {
  if (cpus_.empty() || std::find(cpus_.begin(), cpus_.end(), nullptr) != cpus_.end()) {
    throw std::invalid_argument(fmt::format("net {}: at least one CPU is needed, and no null one", cfg_.name));
  }
  if (cfg_.default_qdisc != "pfifo_fast" && cfg_.default_qdisc != "noqueue" && cfg_.default_qdisc != "fq_codel") {
    throw std::invalid_argument(fmt::format(
        "net {}: net.core.default_qdisc={}: this model has pfifo_fast, fq_codel and noqueue", cfg_.name,
        cfg_.default_qdisc));
  }
  if (cfg_.ipv4.ip_default_ttl < 1 || cfg_.ipv4.ip_default_ttl > 255) {
    throw std::invalid_argument(
        fmt::format("net {}: net.ipv4.ip_default_ttl={}: must be 1..255", cfg_.name, cfg_.ipv4.ip_default_ttl));
  }
  for (Cpu* c : cpus_) {
    tx_.push_back(std::make_unique<TxCore>(*c, cfg_.core));
    tx_.back()->set_nit(&NetStack::xmit_nit, this);
  }
  uint64_t seed = cfg_.seed;
  neigh_ = std::make_unique<NeighTable>(*cpus_[0], pool_, &NetStack::neigh_xmit, this, splitmix64(seed), cfg_.neigh);
  neigh_->set_packet_ids(&NetStack::neigh_packet_id, this);
  ident_key_ = splitmix64(seed);  // ip_idents_hashrnd
  idents_.resize(kIpIdents);
  for (uint32_t& v : idents_) v = static_cast<uint32_t>(splitmix64(seed));  // ip_idents' random start
  ident_tstamp_.assign(kIpIdents, 0);
  ident_rng_ = splitmix64(seed);
  neigh_->set_error_report(&NetStack::neigh_error_report, this);
  ip_frags_init();
  ipt_ = std::make_unique<IpTables>();
  // loopback_net_init: lo is the namespace's first device (ifindex 1), up, with no queue
  // (IFF_NO_QUEUE: noqueue whatever default_qdisc says); the boot scripts give it 127.0.0.1/8.
  lo_ = std::make_unique<Loopback>(&NetStack::loopback_rx, this);
  auto d = std::make_unique<Dev>();
  d->dev = lo_.get();
  d->ifindex = kLoopbackIfindex;
  tx_[0]->attach(*lo_, make_qdisc("noqueue", *lo_));
  devs_.push_back(std::move(d));
  ip_addr_add(kLoopbackIfindex, wire::Ipv4Cidr{wire::Ipv4Addr{{127, 0, 0, 1}}, 8});
}

NetStack::~NetStack() {
  ip_frags_exit();
  // Packets still waiting (ARP queues) are freed with the table; the trace's sink may already be
  // gone, and a teardown is not part of the run: nothing is emitted.
  neigh_->set_trace(nullptr, "");
  for (auto& t : tx_) t->set_trace(nullptr, "");
  trace_ = nullptr;
}

// ------------------------------------------------------------------ devices and addresses

NetStack::Dev* NetStack::dev_entry(int ifindex) {
  const int i = ifindex - 1;  // devs_[0] is lo
  return i >= 0 && static_cast<std::size_t>(i) < devs_.size() ? devs_[static_cast<std::size_t>(i)].get() : nullptr;
}
const NetStack::Dev* NetStack::dev_entry(int ifindex) const {
  const int i = ifindex - 1;
  return i >= 0 && static_cast<std::size_t>(i) < devs_.size() ? devs_[static_cast<std::size_t>(i)].get() : nullptr;
}
NetStack::Dev* NetStack::dev_entry(const NetDevice* dev) {
  for (auto& d : devs_) {
    if (d->dev == dev) return d.get();
  }
  return nullptr;
}

int NetStack::register_netdev(NetDevice& dev) {
  if (dev_entry(&dev) != nullptr) return -kEEXIST;
  auto d = std::make_unique<Dev>();
  d->dev = &dev;
  d->ifindex = static_cast<int>(devs_.size()) + 1;  // after lo (1)
  tx_[0]->attach(dev, make_qdisc(cfg_.default_qdisc, dev));
  devs_.push_back(std::move(d));
  return devs_.back()->ifindex;
}

NetDevice* NetStack::dev_by_index(int ifindex) {
  Dev* d = dev_entry(ifindex);
  return d != nullptr ? d->dev : nullptr;
}
const NetDevice* NetStack::dev_by_index(int ifindex) const {
  const Dev* d = dev_entry(ifindex);
  return d != nullptr ? d->dev : nullptr;
}
int NetStack::ifindex_of(const NetDevice& dev) const {
  for (const auto& d : devs_) {
    if (d->dev == &dev) return d->ifindex;
  }
  return 0;
}

int NetStack::set_qdisc(int ifindex, std::string_view kind) {
  Dev* d = dev_entry(ifindex);
  if (d == nullptr) return -kENODEV;
  std::unique_ptr<Qdisc> q = make_qdisc(kind, *d->dev);
  if (!q) return -kEINVAL;
  Qdisc* old = d->dev->qdisc.get();
  // A qdisc on a CPU's output queue or running cannot go away under it (Linux waits in
  // dev_deactivate for the softirq to finish; the model refuses instead).
  if (old != nullptr && (old->scheduled || old->running)) return -kEBUSY;
  if (old != nullptr) {
    // qdisc_reset: what was queued is freed.
    Cpu& c = *cpus_[0];
    while (SkBuff* s = old->requeued) {
      old->requeued = s->next;
      s->next = nullptr;
      drop(c, s, SkbDropReason::NotSpecified, model::egress(11));
    }
    while (SkBuff* s = old->dequeue(c.now())) drop(c, s, SkbDropReason::NotSpecified, model::egress(11));
  }
  tx_[0]->attach(*d->dev, std::move(q));
  return 0;
}

void NetStack::netdev_up(int ifindex) {
  if (NetDevice* dev = dev_by_index(ifindex)) neigh_->netdev_up(*dev);
}

int NetStack::ip_addr_add(int ifindex, wire::Ipv4Cidr addr) {
  Dev* d = dev_entry(ifindex);
  if (d == nullptr) return -kENODEV;
  if (addr.prefix_len > 32) return -kEINVAL;
  for (const Ifaddr& a : addrs_) {
    if (a.ifindex == ifindex && a.addr.addr == addr.addr) return -kEEXIST;  // inet_insert_ifa
  }
  addrs_.push_back(Ifaddr{ifindex, addr});
  fib_.add_address(ifindex, addr, d->dev->loopback);
  neigh_->add_local_addr(*d->dev, addr.addr);
  // NETDEV_UP was earlier; an address added to a running device is announced as
  // inetdev_event's NETDEV_CHANGEADDR would: only with arp_notify (the neighbour table's rule).
  return 0;
}

int NetStack::ip_route_add(const FibRoute& r) {
  const bool needs_dev = r.type == RouteType::Unicast || r.type == RouteType::Local || r.type == RouteType::Broadcast;
  if (needs_dev && dev_entry(r.dev) == nullptr) return -kENODEV;
  return fib_.add(r);
}

bool NetStack::is_local_addr(wire::Ipv4Addr a) const {
  for (const Ifaddr& x : addrs_) {
    if (x.addr.addr == a) return true;
  }
  return false;
}

wire::Ipv4Addr NetStack::dev_addr4(int ifindex) const {
  for (const Ifaddr& x : addrs_) {
    if (x.ifindex == ifindex) return x.addr.addr;
  }
  return {};
}

TxCore& NetStack::tx_for(Cpu& cpu) {
  for (std::size_t i = 0; i < cpus_.size(); ++i) {
    if (cpus_[i] == &cpu) return *tx_[i];
  }
  return *tx_[0];
}

// ------------------------------------------------------------------ registrations

void NetStack::dev_add_pack(uint16_t ethertype, PacketHandler fn, void* ctx) {
  for (Ptype& p : ptypes_) {
    if (p.type == ethertype) {
      p.fn = fn;
      p.ctx = ctx;
      return;
    }
  }
  ptypes_.push_back(Ptype{ethertype, fn, ctx});
}

int NetStack::add_tap(int ifindex, TapFn fn, void* ctx) {
  Dev* d = dev_entry(ifindex);
  if (d == nullptr) return -kENODEV;
  d->taps.push_back(Dev::Tap{fn, ctx});
  return 0;
}

int NetStack::tc_qdisc_add_clsact(int ifindex) {
  Dev* d = dev_entry(ifindex);
  if (d == nullptr) return -kENODEV;
  if (d->clsact) return -kEEXIST;
  d->clsact = true;
  return 0;
}

int NetStack::tc_filter_add_ingress(int ifindex, const TcFilter& f) {
  Dev* d = dev_entry(ifindex);
  if (d == nullptr) return -kENODEV;
  if (!d->clsact) return -kEINVAL;  // "Error: Specified qdisc kind is unknown" / no ingress block
  TcFilter n = f;
  n.bytes = n.packets = n.drops = 0;
  if (n.pref == 0) {
    // tcf_auto_prio: one below the first (lowest) pref in use, 0xc000 for the first filter.
    n.pref = d->filters.empty() ? d->next_pref : d->filters.front().pref - 1;
    if (n.pref == 0) return -kEINVAL;
  }
  for (const TcFilter& x : d->filters) {
    if (x.pref == n.pref) return -kEINVAL;  // this model keeps one filter per pref
  }
  d->filters.push_back(n);
  std::stable_sort(d->filters.begin(), d->filters.end(),
                   [](const TcFilter& a, const TcFilter& b) { return a.pref < b.pref; });
  return 0;
}

void NetStack::attach_softnet(Softnet& sd) {
  sd.set_rx_handler(&NetStack::rx_handler, this);
  if (&sd.cpu() == cpus_[0] || rx_softnet_ == nullptr) rx_softnet_ = &sd;
  softnets_.push_back(&sd);
}

uint32_t NetStack::loopback_rx(void* ctx, SkBuff* skb) {
  // loopback_xmit from eth_type_trans on (ingress 11 for the packet turned around): the output
  // route stays on the skb (ip_output marked it; ip_rcv_finish then skips route input), the
  // receive time is stamped (net_timestamp_check) and __netif_rx queues it on the sending CPU
  // (ingress 14).
  auto* net = static_cast<NetStack*>(ctx);
  Cpu& cpu = net->xmit_cpu_ != nullptr ? *net->xmit_cpu_ : *net->cpus_[0];
  if (!eth_type_trans(*skb, *net->lo_)) {  // cannot happen: the neighbour layer pushed the header
    ++net->lo_->tx_dropped_core;
    net->drop(cpu, skb, SkbDropReason::PktTooSmall, model::ingress(11));
    return 0;
  }
  skb->tstamp = cpu.now();
  net->trace_event(cpu, TraceKind::EthTypeTrans, model::ingress(11), skb->trace_id, skb->protocol);
  Softnet* sd = net->rx_softnet_;
  for (Softnet* s : net->softnets_) {
    if (&s->cpu() == &cpu) sd = s;
  }
  if (sd == nullptr) {
    // No softnet_data to queue to (a rig without one): lost, in lo's rx_dropped.
    ++net->lo_->rx_dropped_core;
    net->drop(cpu, skb, SkbDropReason::CpuBacklog, model::ingress(14));
    return 0;
  }
  const uint32_t len = skb->len;
  return sd->netif_rx(skb) == 0 ? len : 0;  // a full backlog counts and traces its own drop
}

void NetStack::neigh_error_report(void* ctx, const SkBuff& skb) {
  // arp_error_report -> dst_link_failure -> ipv4_link_failure: a packet with an IPv4 header
  // (version 4, ihl >= 5) gets __icmp_send(ICMP_DEST_UNREACH, ICMP_HOST_UNREACH) to its source;
  // the table frees it afterwards (NEIGH_FAILED). From the neighbour timer: cpus[0].
  auto* net = static_cast<NetStack*>(ctx);
  const std::span<const uint8_t> nb = skb.network_bytes();
  if (nb.size() < wire::kIpv4MinHeaderLen || (nb[0] >> 4) != 4 || (nb[0] & 0x0F) < 5) return;
  net->icmp_send(*net->cpus_[0], skb, 3, 1, 0);
}

void NetStack::inet_add_protocol(uint8_t proto, L4Handler fn, void* ctx) { protos_[proto] = Proto{fn, ctx}; }

void NetStack::set_icmp_send(IcmpSendFn fn, void* ctx) {
  icmp_send_ = fn;
  icmp_ctx_ = ctx;
}

void NetStack::icmp_send(Cpu& cpu, const SkBuff& in, uint8_t type, uint8_t code, uint32_t info) {
  if (icmp_send_ != nullptr) icmp_send_(icmp_ctx_, cpu, in, type, code, info);
}

uint64_t NetStack::rx_nohandler(int ifindex) const {
  const NetDevice* d = dev_by_index(ifindex);
  return d != nullptr ? d->rx_nohandler_core : 0;
}
const ClsactStats* NetStack::clsact_stats(int ifindex) const {
  const Dev* d = dev_entry(ifindex);
  return d != nullptr && d->clsact ? &d->cls : nullptr;
}
const std::vector<TcFilter>* NetStack::tc_ingress_filters(int ifindex) const {
  const Dev* d = dev_entry(ifindex);
  return d != nullptr && d->clsact ? &d->filters : nullptr;
}

// ------------------------------------------------------------------ trace and the account

void NetStack::set_trace(TraceSink* sink, const char* source) {
  trace_ = sink;
  trace_source_ = source != nullptr ? source : "";
  for (auto& t : tx_) t->set_trace(sink, trace_source_);
  neigh_->set_trace(sink, trace_source_);
}

void NetStack::emit_slow(Cpu& cpu, TraceKind k, model::Step step, uint64_t packet, uint32_t a, uint64_t b) {
  const uint64_t t = static_cast<uint64_t>(cpu.now().ps());
  trace_->trace(trace_source_, TraceEvent{t, t, k, step, static_cast<uint16_t>(cpu.id()), a, b, packet});
}

void NetStack::drop(Cpu& cpu, SkBuff* skb, SkbDropReason reason, model::Step step, uint64_t counter) {
  if (trace_ != nullptr) [[unlikely]] {
    for_each_packet_id(*skb, [&](uint64_t id) { emit_slow(cpu, TraceKind::Drop, step, id, static_cast<uint32_t>(reason), counter); });
  }
  cpu.charge(cpu.costs().skb_free);
  kfree_skb(skb, reason);
}

void NetStack::consume(Cpu& cpu, SkBuff* skb, model::Step step, uint32_t a) {
  if (trace_ != nullptr) [[unlikely]] {
    for_each_packet_id(*skb, [&](uint64_t id) { emit_slow(cpu, TraceKind::Consumed, step, id, a, 0); });
  }
  cpu.charge(cpu.costs().skb_free);
  consume_skb(skb);
}

uint64_t NetStack::neigh_packet_id(void* ctx) { return static_cast<NetStack*>(ctx)->next_packet_id(); }

SkBuff* NetStack::alloc_skb(Cpu& cpu, uint32_t len) {
  cpu.charge(cpu.costs().skb_alloc);
  SkBuff* skb = pool_.alloc(len, SkbAlloc::AllocSkb);  // headroom NET_SKB_PAD: IP + Ethernet headers fit
  if (skb == nullptr) return nullptr;
  skb->trace_id = next_packet_id();
  skb->tstamp = cpu.now();
  trace_event(cpu, TraceKind::PacketMade, model::kNoStep, skb->trace_id, len, 0);
  return skb;
}

// ------------------------------------------------------------------ views

namespace {

std::string link_flags(const NetDevice& d) {
  // iproute2's print_link_flags: NO-CARRIER first, then the IFF_* names in its order (lo has
  // IFF_LOOPBACK and neither IFF_BROADCAST nor IFF_MULTICAST).
  std::string s = "<";
  if (d.up && !d.carrier) s += "NO-CARRIER,";
  s += d.loopback ? "LOOPBACK" : "BROADCAST,MULTICAST";
  if (d.allmulti) s += ",ALLMULTI";
  if (d.promisc) s += ",PROMISC";
  if (d.up) s += ",UP";
  if (d.up && d.carrier) s += ",LOWER_UP";
  return s + ">";
}

// The operstate iproute2 prints: lo reports none of its own (IF_OPER_UNKNOWN).
const char* link_state(const NetDevice& d) {
  if (d.loopback && d.up) return "UNKNOWN";
  return d.up && d.carrier ? "UP" : "DOWN";
}

// The link line: "link/ether MAC brd ff:..", lo's "link/loopback 00:.. brd 00:..".
std::string link_line(const NetDevice& d) {
  if (d.loopback) return fmt::format("    link/loopback {} brd {}\n", d.dev_addr.str(), d.dev_addr.str());
  return fmt::format("    link/ether {} brd ff:ff:ff:ff:ff:ff\n", d.dev_addr.str());
}

// iproute2's size_columns: a column is as wide as its header or its widest number.
void size_columns(std::vector<unsigned>& cols, const std::vector<uint64_t>& v) {
  for (std::size_t i = 0; i < v.size() && i < cols.size(); ++i) {
    cols[i] = std::max<unsigned>(cols[i], static_cast<unsigned>(fmt::format("{}", v[i]).size()));
  }
}

}  // namespace

std::string NetStack::ip_s_link() const {
  std::string out;
  for (const auto& dp : devs_) {
    const NetDevice& d = *dp->dev;
    const LinkStats64 s = d.get_stats64();
    // dev_get_stats: the driver's counters plus the core's (rx_dropped, tx_dropped, rx_nohandler).
    const uint64_t rx_dropped = s.rx_dropped + d.rx_dropped_core;
    const uint64_t tx_dropped = s.tx_dropped + d.tx_dropped_core;
    out += fmt::format("{}: {}: {} mtu {} qdisc {} state {} mode DEFAULT group default qlen {}\n", dp->ifindex, d.name,
                       link_flags(d), d.mtu, d.qdisc ? d.qdisc->kind() : "noop", link_state(d), d.tx_queue_len);
    out += link_line(d);
    // print_stats64 (iproute2 6.1, `ip -s link`; the error rows of -s -s, with nohandler and
    // otherhost, are not printed): cols "*X errors:" packets errors dropped heartbt overrun compressed.
    std::vector<unsigned> cols = {10, 7, 6, 7, 7, 7, 10};
    size_columns(cols, {s.rx_bytes, s.rx_packets, s.rx_errors, rx_dropped, s.rx_missed_errors, s.multicast, 0});
    size_columns(cols, {s.tx_bytes, s.tx_packets, s.tx_errors, tx_dropped, s.tx_carrier_errors, 0, 0});
    out += fmt::format("    RX: {:>{}} {:>{}} {:>{}} {:>{}} {:>{}} {:>{}} {:>{}}", "bytes", cols[0] - 4, "packets", cols[1],
                       "errors", cols[2], "dropped", cols[3], "missed", cols[4], "mcast", cols[5], "", cols[6]);
    out += "\n    ";
    for (auto [v, w] : {std::pair{s.rx_bytes, cols[0]}, {s.rx_packets, cols[1]}, {s.rx_errors, cols[2]},
                        {rx_dropped, cols[3]}, {s.rx_missed_errors, cols[4]}, {s.multicast, cols[5]}}) {
      out += fmt::format("{:>{}} ", v, w);
    }
    out += fmt::format("\n    TX: {:>{}} {:>{}} {:>{}} {:>{}} {:>{}} {:>{}} {:>{}}\n    ", "bytes", cols[0] - 4,
                       "packets", cols[1], "errors", cols[2], "dropped", cols[3], "carrier", cols[4], "collsns",
                       cols[5], "", cols[6]);
    for (auto [v, w] : {std::pair{s.tx_bytes, cols[0]}, {s.tx_packets, cols[1]}, {s.tx_errors, cols[2]},
                        {tx_dropped, cols[3]}, {s.tx_carrier_errors, cols[4]}, {uint64_t{0}, cols[5]}}) {
      out += fmt::format("{:>{}} ", v, w);
    }
    out += "\n";
  }
  return out;
}

std::string NetStack::ip_addr() const {
  std::string out;
  for (const auto& dp : devs_) {
    const NetDevice& d = *dp->dev;
    out += fmt::format("{}: {}: {} mtu {} qdisc {} state {} group default qlen {}\n", dp->ifindex, d.name,
                       link_flags(d), d.mtu, d.qdisc ? d.qdisc->kind() : "noop", link_state(d), d.tx_queue_len);
    out += link_line(d);
    for (const Ifaddr& a : addrs_) {
      if (a.ifindex != dp->ifindex) continue;
      // `ip addr add A/L brd + dev X`: the broadcast address shown unless /31 or /32; lo's
      // address is added without one (`ip addr add 127.0.0.1/8 dev lo`).
      const auto brd = d.loopback ? std::nullopt : a.addr.broadcast();
      const char* scope = a.addr.addr.is_loopback() ? "host" : "global";
      out += fmt::format("    inet {}/{}{} scope {} {}\n       valid_lft forever preferred_lft forever\n",
                         a.addr.addr.str(), a.addr.prefix_len, brd ? " brd " + brd->str() : std::string(), scope,
                         d.name);
    }
  }
  return out;
}

std::string NetStack::ip_route() const {
  std::vector<std::string> names(devs_.size() + 1);
  for (const auto& d : devs_) names[static_cast<std::size_t>(d->ifindex)] = d->dev->name;
  return fib_.ip_route(names);
}

std::string NetStack::ip_neigh() const {
  std::string out;
  for (const std::string& l : neigh_->ip_neigh_show()) out += l + "\n";
  return out;
}

std::string NetStack::tc_s_qdisc() const {
  // `tc -s qdisc show`: each device's root qdisc, then its clsact (tc names the device in each line).
  std::string out;
  for (const auto& dp : devs_) {
    const NetDevice& d = *dp->dev;
    if (d.qdisc) {
      std::string q = stack::tc_s_qdisc(*d.qdisc, d.name);
      const std::size_t at = q.find(": root");
      if (at != std::string::npos) q.insert(at + 1, " dev " + d.name);
      out += q;
    }
    if (dp->clsact) {
      out += fmt::format(
          "qdisc clsact ffff: dev {} parent ffff:fff1 \n Sent {} bytes {} pkt (dropped {}, overlimits 0 requeues 0) \n"
          " backlog 0b 0p requeues 0\n",
          d.name, dp->cls.bytes, dp->cls.packets, dp->cls.drops);
    }
  }
  return out;
}

namespace {

std::string proto_name(uint16_t p) {  // ll_proto_n2a
  switch (p) {
    case 0x0800: return "ip";
    case 0x0806: return "arp";
    case 0x0003: return "all";
    case 0x86DD: return "ipv6";
    default: return fmt::format("0x{:04x}", p);
  }
}

std::string ip_proto_name(uint8_t p) {
  switch (p) {
    case 1: return "icmp";
    case 6: return "tcp";
    case 17: return "udp";
    default: return fmt::format("{}", p);
  }
}

}  // namespace

std::string NetStack::tc_s_filter_ingress(int ifindex) const {
  // `tc -s filter show dev X ingress` for flower filters with a gact action, as iproute2 prints
  // them (the action's install/use times are left out: they depend on the wall clock).
  const Dev* d = dev_entry(ifindex);
  if (d == nullptr || !d->clsact) return {};
  std::string out;
  uint32_t index = 0;
  for (const TcFilter& f : d->filters) {
    ++index;
    const std::string proto = proto_name(f.protocol);
    out += fmt::format("filter protocol {} pref {} flower chain 0 \n", proto, f.pref);
    out += fmt::format("filter protocol {} pref {} flower chain 0 handle 0x1 \n", proto, f.pref);
    if (f.protocol == 0x0800) out += "  eth_type ipv4\n";
    if (f.protocol == 0x0806) out += "  eth_type arp\n";
    if (f.ip_proto) out += fmt::format("  ip_proto {}\n", ip_proto_name(*f.ip_proto));
    if (f.dst_ip) out += fmt::format("  dst_ip {}\n", f.dst_ip->prefix_len == 32 ? f.dst_ip->addr.str() : f.dst_ip->str());
    if (f.src_ip) out += fmt::format("  src_ip {}\n", f.src_ip->prefix_len == 32 ? f.src_ip->addr.str() : f.src_ip->str());
    out += "  not_in_hw\n";
    out += fmt::format("\taction order 1: gact action {}\n", f.action == TcAction::Shot ? "drop" : "pass");
    out += "\t random type none pass val 0\n";
    out += fmt::format("\t index {} ref 1 bind 1\n", index);
    out += " \tAction statistics:\n";
    out += fmt::format("\tSent {} bytes {} pkt (dropped {}, overlimits 0 requeues 0) \n", f.bytes, f.packets, f.drops);
    out += "\tbacklog 0b 0p requeues 0\n\n";
  }
  return out;
}

std::string NetStack::proc_net_snmp_ip() const {
  return stack::proc_net_snmp_ip(mib_, cfg_.ipv4.ip_forward, cfg_.ipv4.ip_default_ttl);
}

std::string NetStack::netstat_ipext() const { return proc_net_netstat_ipext(mib_); }

}  // namespace vnic::stack
