// DriverHost implementation.
#include "vnic/tb/driver_host.hpp"

#include "vnic/stack/ip.hpp"
#include "vnic/stack/netfilter.hpp"
#include "vnic/stack/wire/ipv4.hpp"

#include <fmt/format.h>

#include <span>
#include <stdexcept>

namespace vnic::tb {

using model::regs::Stat;
using json = nlohmann::ordered_json;

namespace {

double per_s(uint64_t n, double sim_s) { return sim_s > 0 ? static_cast<double>(n) / sim_s : 0.0; }

json softnet_json(const stack::SoftnetStats& s) {
  return json{{"processed", s.processed},         {"dropped", s.dropped},
              {"time_squeeze", s.time_squeeze},   {"received_rps", s.received_rps},
              {"flow_limit_count", s.flow_limit_count}, {"net_rx_action", s.net_rx_action},
              {"squeeze_budget", s.squeeze_budget}, {"squeeze_time", s.squeeze_time},
              {"rx_nohandler", s.rx_nohandler}};
}

}  // namespace

DriverHost::DriverHost(const std::string& name, hw::EventQueue& q, HostMemory& mem, const DriverHostConfig& cfg,
                       std::string host_name)
    : name_(name),
      host_name_(host_name.empty() ? name : std::move(host_name)),
      mem_(mem),
      cfg_(cfg),
      cpus_(q, cfg.cpus == 0 ? 1 : cfg.cpus, cfg.costs),
      ports_([&] {
        if (cfg.nics.empty()) throw std::invalid_argument(name + ": a driver host needs a NIC");
        std::vector<std::unique_ptr<Port>> v;
        for (std::size_t i = 0; i < cfg.nics.size(); ++i) {
          auto p = std::make_unique<Port>();
          p->cfg = cfg.nics[i];
          // One PCI function per NIC on the host's bus: each its own config space, BAR and MSI-X.
          const std::string bus_name = i == 0 ? name + "_bus" : fmt::format("{}_bus{}", name, i);
          p->bus = std::make_unique<PciHostBus>(bus_name.c_str(), q, cpus_, mem, p->cfg.bus_info);
          v.push_back(std::move(p));
        }
        return v;
      }()),
      skbs_(*ports_[0]->bus, 2048 + stack::SkbPool::kHeadroom, cfg.skb_pool) {
  std::vector<stack::Cpu*> cores;
  for (unsigned i = 0; i < cpus_.size(); ++i) cores.push_back(&cpus_.core(i));
  stack::NetStackConfig nc = cfg.net;
  if (nc.name.empty()) nc.name = name_;
  nc.core = cfg.sysctl;
  net_ = std::make_unique<stack::NetStack>(nc, cores, skbs_);
  icmp_ = std::make_unique<stack::Icmp>(*net_);
  udp_ = std::make_unique<stack::Udp>(*net_, *icmp_);  // IP protocol 17
  tcp_ = std::make_unique<stack::Tcp>(*net_, *icmp_, cfg.tcp);  // IP protocol 6
  for (unsigned i = 0; i < cpus_.size(); ++i) {
    softnet_.push_back(std::make_unique<stack::Softnet>(cpus_.core(i), cfg.sysctl));
    net_->attach_softnet(*softnet_.back());
  }
  for (auto& p : ports_) {
    if (p->cfg.fault_injection) p->fault_bus = std::make_unique<driver::FaultInjectingBus>(*p->bus);
    driver::HostBus& host_bus = p->fault_bus ? static_cast<driver::HostBus&>(*p->fault_bus) : *p->bus;
    p->drv = std::make_unique<driver::VnicDriver>(host_bus, cpus_, *softnet_[0], skbs_, p->cfg.drv);
    p->drv->mtu = cfg.mtu;
    p->drv->gso = p->cfg.gso;
    p->drv->gro = p->cfg.gro;
    p->drv->gso_max_size = p->cfg.gso_max_size;
    p->drv->gso_max_segs = p->cfg.gso_max_segs;
    p->gen = std::make_unique<PktGen>(cpus_.core(cpus_.size() - 1), *p->drv, skbs_, p->cfg.gen);
    p->ifindex = net_->register_netdev(*p->drv);
    if (!p->cfg.qdisc.empty() && net_->set_qdisc(p->ifindex, p->cfg.qdisc) != 0) {
      throw std::invalid_argument(fmt::format("{}: qdisc \"{}\" is not one the stack has", p->cfg.drv.ifname,
                                              p->cfg.qdisc));
    }
  }
  for (auto& p : ports_) {
    if (p->cfg.tcpdump.empty()) continue;
    p->tcpdump = std::make_unique<PcapWriter>();
    std::string err;
    if (!p->tcpdump->open(p->cfg.tcpdump, &err)) throw std::runtime_error(fmt::format("{}: tcpdump: {}", name_, err));
    net_->add_tap(p->ifindex, &DriverHost::tcpdump_tap, p->tcpdump.get());
  }
  net_->dev_add_pack(kTestEtherType, &DriverHost::rx, this);
  // TCP servers exist from here on, so that a client on another host can find one's results;
  // they start listening when the host is up (stack_up).
  HostCpu& app_cpu = cpus_.core(cpus_.size() - 1);
  for (const stack::Iperf3ServerOptions& o : cfg.iperf3_server) {
    iperf3_server_.push_back(std::make_unique<stack::Iperf3Server>(*tcp_, app_cpu, o));
  }
  for (const stack::NetperfTcpServerOptions& o : cfg.netserver) {
    netserver_.push_back(std::make_unique<stack::NetperfTcpServer>(*tcp_, app_cpu, o));
  }
  // netfilter rules, as a boot script loads them before the interfaces come up (the scenario
  // checked each command).
  for (const std::string& cmd : cfg.iptables) {
    const stack::IptResult r = net_->iptables().exec(cmd);
    if (!r.ok()) throw std::invalid_argument(fmt::format("{}: iptables {}: {}", name_, cmd, r.err));
  }
}

void DriverHost::expect_udp(const TrafficPattern& p) {
  if (udp_sink_sock_ == nullptr) {
    bool taken = false;
    for (const auto& r : cfg_.udp_recv) taken = taken || r.port == kPktgenUdpPort;
    if (taken || cfg_.udp_rr_server == kPktgenUdpPort) {
      throw std::invalid_argument(fmt::format("host {}: a pktgen IPv4/UDP flow to this host needs UDP port {} for the "
                                              "testbench's sink; its udp_recv or udp_rr_server takes it",
                                              host_name_, kPktgenUdpPort));
    }
    udp_sink_sock_ = udp_->socket();
    const int rc = udp_->bind(*udp_sink_sock_, {stack::Ipv4Addr{}, kPktgenUdpPort});
    if (rc != 0) throw std::runtime_error(fmt::format("host {}: the UDP sink's bind to port 9: {}", host_name_, rc));
    udp_sink_sock_->encap_rcv = &DriverHost::udp_sink_rcv;
    udp_sink_sock_->encap_ctx = this;
  }
  udp_sinks_.push_back(std::make_unique<RxChecker>());
  udp_sinks_.back()->expect(p);
}

int DriverHost::udp_sink_rcv(void* ctx, stack::UdpSock&, stack::SkBuff* skb) {
  auto& h = *static_cast<DriverHost*>(ctx);
  const auto ip = stack::wire::Ipv4Packet::checked(skb->network_bytes(), stack::wire::ChecksumCheck::Skip);
  const uint32_t src = ip ? ip->src().to_u32() : 0;
  for (auto& c : h.udp_sinks_) {
    if (c->pattern().ip_src == src) {
      c->rx_datagram(skb);
      return 0;
    }
  }
  ++h.udp_unknown_;
  h.net_->drop(h.cpus_.core(0), skb, stack::SkbDropReason::NotSpecified, model::ingress(21),
               model::host_drop(model::HostDrop::UdpSinkUnknown));
  return 0;
}

void DriverHost::tcpdump_tap(void* ctx, const stack::SkBuff& skb, bool, stack::Instant t) {
  static_cast<PcapWriter*>(ctx)->write(static_cast<uint64_t>(t.ps()), skb.bytes());
}

uint64_t DriverHost::delivered(unsigned port) const {
  // The driver's hand-offs, less those the input backlog (netif_rx) refused: the softnet term.
  const auto& d = *ports_.at(port)->drv;
  return d.stat(driver::DrvStat::rx_queue_0_packets) - d.rx_backlog_dropped;
}

DriverHost::~DriverHost() = default;

void DriverHost::rx(void* ctx, stack::SkBuff* skb) {
  auto& h = *static_cast<DriverHost*>(ctx);
  for (auto& p : h.ports_) {
    if (skb->dev == p->drv.get()) return RxChecker::rx(&p->checker, skb);
  }
  ++h.rx_unknown_dev_;
  h.net_->drop(h.cpus_.core(0), skb, stack::SkbDropReason::UnhandledProto, model::ingress(13));
}

stack::SoftnetStats DriverHost::softnet_total() const {
  stack::SoftnetStats t;
  for (const auto& sd : softnet_) {
    const auto& s = sd->stats();
    t.processed += s.processed;
    t.dropped += s.dropped;
    t.time_squeeze += s.time_squeeze;
    t.received_rps += s.received_rps;
    t.flow_limit_count += s.flow_limit_count;
    t.net_rx_action += s.net_rx_action;
    t.squeeze_budget += s.squeeze_budget;
    t.squeeze_time += s.squeeze_time;
    t.rx_nohandler += s.rx_nohandler;
  }
  return t;
}

void DriverHost::connect(unsigned port, hw::Nic& nic) {
  Port& p = *ports_.at(port);
  p.nic = &nic;
  p.bus->connect(nic, p.cfg.bar0_base, port);
}

void DriverHost::set_trace(model::TraceSink* sink, const std::vector<uint64_t>& id_base) {
  for (unsigned i = 0; i < cpus_.size(); ++i) {
    cpus_.core(i).set_trace(sink, name_.c_str());
    softnet_[i]->set_trace(sink, name_.c_str());
  }
  for (std::size_t i = 0; i < ports_.size(); ++i) {
    Port& p = *ports_[i];
    const uint64_t base = i < id_base.size() ? id_base[i] : 0;
    model::PacketTags* tags = sink != nullptr ? &p.tags : nullptr;
    p.drv->set_trace(sink, name_.c_str(), tags);
    p.gen->set_trace(sink, name_.c_str(), base);
    p.checker.set_trace(sink, name_.c_str(), &cpus_.core(0));
    for (auto& u : udp_sinks_) u->set_trace(sink, name_.c_str(), &cpus_.core(0));
    if (p.nic != nullptr) p.nic->set_trace(sink, base, tags);
  }
  // The stack's own packets (ARP, ICMP, ping) take ids in eth0's range with bit 31 set.
  net_->set_trace(sink, name_.c_str());
  net_->set_id_base(id_base.empty() ? 0 : id_base[0]);
}

void DriverHost::set_trace(stack::TraceSink* sink, uint64_t id_base) {
  std::vector<uint64_t> bases;
  for (std::size_t i = 0; i < ports_.size(); ++i) bases.push_back(id_base + (uint64_t{i} << 32));
  set_trace(sink, bases);
}

stack::Co<void> DriverHost::bring_up_task() {
  for (auto& p : ports_) {
    p->probe_rc = co_await p->drv->probe();
    if (p->probe_rc != 0) continue;
    p->open_rc = co_await p->drv->open();
    if (p->open_rc != 0) continue;
    // ip addr add ... dev ethN; ip link set ethN up (NETDEV_UP: arp_notify's gratuitous ARP).
    if (p->cfg.address) {
      const int rc = net_->ip_addr_add(p->ifindex, *p->cfg.address);
      if (rc != 0 && stack_error_.empty()) {
        stack_error_ = fmt::format("ip addr add {} dev {}: error {}", p->cfg.address->str(), p->drv->name, rc);
      }
    }
    net_->netdev_up(p->ifindex);
    p->gen->start();
  }
  stack_up();
  up_done_ = true;
}

void DriverHost::stack_up() {
  for (const DriverRoute& r : cfg_.routes) {
    stack::FibRoute fr = r.route;
    if (!r.dev.empty()) {
      for (const auto& p : ports_) {
        if (p->drv->name == r.dev) fr.dev = p->ifindex;
      }
    } else {
      // No dev: the gateway's (or the destination's) connected route names it, as iproute2's
      // kernel lookup does.
      const auto via = net_->route_output(fr.gateway.to_u32() != 0 ? fr.gateway : fr.dst.addr);
      fr.dev = via.err == 0 ? via.oif : -1;
    }
    const int rc = fr.dev > 0 ? net_->ip_route_add(fr) : -stack::kENETUNREACH;
    if (rc != 0 && stack_error_.empty()) {
      stack_error_ = fmt::format("ip route add {}: {}", r.text,
                                 rc == -stack::kENETUNREACH ? std::string("Nexthop has invalid gateway")
                                 : rc == -stack::kEEXIST ? std::string("File exists")
                                                         : fmt::format("error {}", rc));
    }
  }
  if (cfg_.ping) {
    stack::PingOptions o = *cfg_.ping;
    HostCpu& cpu = cpus_.core(cpus_.size() - 1);
    o.start = cpu.now() + (o.start - stack::Instant{});
    ping_ = std::make_unique<stack::PingApp>(*net_, *icmp_, cpu, o);
    tasks_.spawn(ping_->run());
  }
  // UDP applications, on the last core like ping; servers first so that a local client finds them.
  HostCpu& app_cpu = cpus_.core(cpus_.size() - 1);
  const auto at = [&](stack::Instant rel) { return app_cpu.now() + (rel - stack::Instant{}); };
  if (cfg_.udp_rr_server) {
    udp_rr_server_ = std::make_unique<stack::UdpRrServer>(*udp_, app_cpu, *cfg_.udp_rr_server);
    servers_.spawn(udp_rr_server_->run());
  }
  for (stack::UdpRecvOptions o : cfg_.udp_recv) {
    o.start = at(o.start);
    udp_recv_.push_back(std::make_unique<stack::UdpReceiver>(*net_, *udp_, app_cpu, o));
    tasks_.spawn(udp_recv_.back()->run());
  }
  for (stack::UdpSendOptions o : cfg_.udp_send) {
    o.start = at(o.start);
    udp_send_.push_back(std::make_unique<stack::UdpSender>(*net_, *udp_, app_cpu, o));
    tasks_.spawn(udp_send_.back()->run());
  }
  if (cfg_.udp_rr) {
    stack::UdpRrOptions o = *cfg_.udp_rr;
    o.start = at(o.start);
    udp_rr_ = std::make_unique<stack::UdpRrClient>(*net_, *udp_, app_cpu, o);
    tasks_.spawn(udp_rr_->run());
  }
  // TCP applications: servers first (iperf3 -s runs one test: waited for; netserver runs until
  // the end), then the clients, each told its server if that is a host of the scenario.
  for (auto& sv : iperf3_server_) tasks_.spawn(sv->run());
  for (auto& sv : netserver_) servers_.spawn(sv->run());
  const auto peer = [&](stack::Ipv4Addr a) { return tcp_peers_ ? tcp_peers_(a) : nullptr; };
  for (stack::Iperf3ClientOptions o : cfg_.iperf3_client) {
    o.start = at(o.start);
    if (const DriverHost* h = peer(o.dst.addr)) o.server = h->iperf3_server_on(o.dst.port);
    iperf3_client_.push_back(std::make_unique<stack::Iperf3Client>(*tcp_, app_cpu, o));
    tasks_.spawn(iperf3_client_.back()->run());
  }
  for (auto* v : {&cfg_.tcp_rr, &cfg_.tcp_crr}) {
    auto& out = v == &cfg_.tcp_rr ? tcp_rr_ : tcp_crr_;
    for (stack::NetperfTcpOptions o : *v) {
      o.start = at(o.start);
      if (const DriverHost* h = peer(o.dst.addr)) o.server = h->netserver_on(o.dst.port);
      out.push_back(std::make_unique<stack::NetperfTcpClient>(*tcp_, app_cpu, o));
      tasks_.spawn(out.back()->run());
    }
  }
}

const stack::Iperf3Server* DriverHost::iperf3_server_on(uint16_t port) const {
  for (std::size_t i = 0; i < iperf3_server_.size(); ++i) {
    if (cfg_.iperf3_server[i].port == port) return iperf3_server_[i].get();
  }
  return nullptr;
}

const stack::NetperfTcpServer* DriverHost::netserver_on(uint16_t port) const {
  for (std::size_t i = 0; i < netserver_.size(); ++i) {
    if (cfg_.netserver[i].port == port) return netserver_[i].get();
  }
  return nullptr;
}

void DriverHost::bring_up() {
  struct Start {
    static void run(void* ctx, uint64_t) {
      auto& h = *static_cast<DriverHost*>(ctx);
      h.tasks_.spawn(h.bring_up_task());
    }
  };
  cpus_.core(0).call_at(cpus_.core(0).now(), &Start::run, this);
}

bool DriverHost::traffic_done() const {
  if (!up_done_) return false;
  for (const auto& p : ports_) {
    if (p->open_rc != 0) continue;  // not up (or not yet): it sends nothing
    if (!p->gen->done() || p->drv->tx_pending()) return false;
    const stack::Qdisc* q = p->drv->qdisc.get();
    if (q != nullptr && q->qlen() != 0) return false;
  }
  if (cfg_.ping && (ping_ == nullptr || !ping_->done())) return false;
  if (udp_send_.size() != cfg_.udp_send.size() || udp_recv_.size() != cfg_.udp_recv.size()) return false;
  for (const auto& u : udp_send_) {
    if (!u->done()) return false;
  }
  for (const auto& u : udp_recv_) {
    if (!u->done()) return false;
  }
  if (cfg_.udp_rr && (udp_rr_ == nullptr || !udp_rr_->done())) return false;
  if (iperf3_client_.size() != cfg_.iperf3_client.size() || tcp_rr_.size() != cfg_.tcp_rr.size() ||
      tcp_crr_.size() != cfg_.tcp_crr.size()) {
    return false;
  }
  for (const auto& a : iperf3_server_) {
    if (!a->done()) return false;
  }
  for (const auto& a : iperf3_client_) {
    if (!a->done()) return false;
  }
  for (const auto* v : {&tcp_rr_, &tcp_crr_}) {
    for (const auto& a : *v) {
      if (!a->done()) return false;
    }
  }
  return up_done_ && tasks_.running() == 0;
}

bool DriverHost::finish() {
  if (!stack_error_.empty()) throw std::runtime_error(fmt::format("host {}: {}", host_name_, stack_error_));
  refresh_stats();
  return true;
}

stack::Co<void> DriverHost::refresh_task() {
  for (auto& p : ports_) co_await p->drv->update_hw_stats();
}

void DriverHost::refresh_stats() {
  struct Start {
    static void run(void* ctx, uint64_t) {
      auto& h = *static_cast<DriverHost*>(ctx);
      h.tasks_.spawn(h.refresh_task());
    }
  };
  cpus_.core(0).call_at(cpus_.core(0).now(), &Start::run, this);
}

bool DriverHost::rx_clean(unsigned port) const {
  // The port's pattern checker, and the host's UDP sinks (whose datagrams may come in on any port).
  const auto clean = [](const RxCheckerStats& c) { return c.bad_bytes == 0 && c.out_of_order == 0; };
  for (const auto& u : udp_sinks_) {
    if (!clean(u->stats())) return false;
  }
  return clean(checker(port).stats());
}

std::vector<ConservationTerm> DriverHost::tx_drops(unsigned port) const {
  using D = driver::DrvStat;
  const auto& d = driver(port);
  // The device's counters as the driver read them (ethtool -S), not the registers now.
  int64_t nic = 0;
  for (Stat st : model::regs::kTxDropStats) nic += static_cast<int64_t>(d.hw_stat(static_cast<unsigned>(st)));
  // A frame whose data fetch was refused (tx_dma_errors) stays in the ring, never written back:
  // the driver's flush at the recovering reset counts it, so the device's count is left out here.
  nic -= static_cast<int64_t>(d.hw_stat(static_cast<unsigned>(Stat::tx_dma_errors)));
  return {{"driver_tx_drops", "driver tx drops",
           static_cast<int64_t>(d.stat(D::tx_queue_0_map_errors) + d.stat(D::tx_queue_0_flushed))},
          {"nic_tx_drops", "nic tx drops", nic}};
}

std::vector<ConservationTerm> DriverHost::rx_drops(unsigned port) const {
  using D = driver::DrvStat;
  const auto& d = driver(port);
  int64_t nic = 0;
  for (Stat st : model::regs::kRxDropStats) nic += static_cast<int64_t>(d.hw_stat(static_cast<unsigned>(st)));
  // The backlog's drops of this device's packets (softnet_stat's `dropped` counts every
  // device's; dev->core_stats rx_dropped counts them and the stack's own core drops).
  return {{"nic_rx_drops", "nic rx drops", nic},
          {"driver_rx_drops", "driver rx drops",
           static_cast<int64_t>(d.stat(D::rx_queue_0_errors) + d.stat(D::rx_queue_0_alloc_failed) +
                                d.stat(D::rx_queue_0_flushed))},
          {"softnet_drops", "softnet drops", static_cast<int64_t>(d.rx_backlog_dropped)}};
}

std::string DriverHost::port_header(unsigned port) const {
  const Port& p = *ports_.at(port);
  return fmt::format("{} at {}, {} {}", p.nic != nullptr ? p.nic->name() : "?", p.bus->bus_info(), p.drv->name,
                     p.drv->dev_addr.str());
}

std::vector<ReportView> DriverHost::views(uint64_t elapsed_ps, const std::vector<std::string>& conservation) const {
  std::vector<ReportView> v;
  // eth0's files sit in host-NAME/ as they did with one NIC; eth1's in host-NAME/eth1/, ...
  const auto file = [&](unsigned i, const char* f) {
    return i == 0 ? std::string(f) : fmt::format("{}/{}", ports_[i]->drv->name, f);
  };
  for (unsigned i = 0; i < num_ports(); ++i) {
    const std::string& ifname = ports_[i]->drv->name;
    v.push_back({file(i, "ethtool.txt"), fmt::format("ethtool {}", ifname), ethtool_link(i)});
    v.push_back({file(i, "ethtool-c.txt"), fmt::format("ethtool -c {}", ifname), ethtool_c(i)});
    v.push_back({file(i, "ethtool-g.txt"), fmt::format("ethtool -g {}", ifname), ethtool_g(i)});
    v.push_back({file(i, "ethtool-k.txt"), fmt::format("ethtool -k {}", ifname), ethtool_k(i)});
    v.push_back({file(i, "ethtool-S.txt"), fmt::format("ethtool -S {}", ifname), ethtool_s(i)});
    v.push_back({file(i, "byte_queue_limits.txt"),
                 fmt::format("grep . /sys/class/net/{}/queues/tx-0/byte_queue_limits/{{limit,inflight,limit_max}}",
                             ifname),
                 bql_sysfs(i)});
  }
  // The protocol stack, as iproute2, tc and procfs print it.
  v.push_back({"ip-s-link.txt", "ip -s link", net_->ip_s_link()});
  v.push_back({"ip-addr.txt", "ip addr", net_->ip_addr()});
  v.push_back({"ip-route.txt", "ip route", net_->ip_route()});
  v.push_back({"ip-neigh.txt", "ip neigh", net_->ip_neigh()});
  v.push_back({"tc-s-qdisc.txt", "tc -s qdisc", net_->tc_s_qdisc()});
  // /proc/net/snmp in 6.1's order (Ip, Icmp, IcmpMsg, Tcp, Udp, UdpLite) and /proc/net/netstat
  // (TcpExt, IpExt, MPTcpExt), which netstat and nstat read.
  const std::string snmp = net_->proc_net_snmp_ip() + icmp_->proc_net_snmp_icmp() + tcp_->proc_net_snmp_tcp() +
                           udp_->proc_net_snmp_udp();
  const std::string netstat = stack::proc_net_netstat_tcpext(tcp_->ext()) + net_->netstat_ipext() +
                              stack::proc_net_netstat_mptcpext();
  v.push_back({"snmp", "cat /proc/net/snmp", snmp});
  v.push_back({"netstat-su.txt", "netstat -su", stack::netstat_su(snmp, netstat, udp_->mib())});
  v.push_back({"netstat-st.txt", "netstat -st", stack::netstat_st(snmp, netstat)});
  v.push_back({"nstat.txt", "nstat -az", stack::nstat_az(snmp, netstat)});
  v.push_back({"ss-uampn.txt", "ss -uampn", udp_->ss_uampn()});
  v.push_back({"ss-tin.txt", "ss -tin", tcp_->ss_tin()});
  v.push_back({"icmp-ratelimit.txt", "", stack::icmp_ratelimit_report(icmp_->mib())});
  // iptables -t T -L -v -n -x for each table loaded (the kernel has none until one is named).
  for (const char* t : {"raw", "mangle", "filter"}) {
    const stack::NfTable tab = t[0] == 'r' ? stack::NfTable::Raw : t[0] == 'm' ? stack::NfTable::Mangle : stack::NfTable::Filter;
    if (!net_->iptables().table_loaded(tab)) continue;
    const std::string cmd = fmt::format("-t {} -L -v -n -x", t);
    v.push_back({fmt::format("iptables-{}.txt", t), "iptables " + cmd, net_->iptables().exec(cmd).out});
  }
  if (net_->stats().nf_dropped != 0 || net_->iptables().table_loaded(stack::NfTable::Filter)) {
    v.push_back({"netfilter.txt", "",
                 fmt::format("netfilter drops: {} (of which hotdrop {}); iptables commands refused {}\n",
                             net_->stats().nf_dropped, net_->stats().nf_hotdrop, net_->iptables().commands_refused())});
  }
  if (ping_ != nullptr) {
    const auto& o = cfg_.ping;
    std::string cmd = "ping";
    if (o->count != 0) cmd += fmt::format(" -c {}", o->count);
    if (o->interval_ms != 1000) cmd += fmt::format(" -i {}", o->interval_ms / 1000.0);
    if (o->size != 56) cmd += fmt::format(" -s {}", o->size);
    if (o->ttl >= 0) cmd += fmt::format(" -t {}", o->ttl);
    if (o->deadline_s != 0) cmd += fmt::format(" -w {}", o->deadline_s);
    cmd += " " + o->dst.str();
    v.push_back({"ping.txt", cmd, ping_->output()});
  }
  // One file per iperf: iperf-client.txt for a host's only one, iperf-client.N.txt (N from 0, in
  // the scenario's order) when it runs several.
  const auto numbered = [](const char* stem, std::size_t i, std::size_t n) {
    return n == 1 ? fmt::format("{}.txt", stem) : fmt::format("{}.{}.txt", stem, i);
  };
  for (std::size_t i = 0; i < udp_send_.size(); ++i) {
    const auto& o = cfg_.udp_send[i];
    std::string cmd = fmt::format("iperf -c {} -u -p {} -l {} -b {}", o.dst.addr.str(), o.dst.port, o.len, o.rate_bps);
    cmd += o.count != 0 ? fmt::format(" -n {}", o.count * o.len)
                        : fmt::format(" -t {}", static_cast<double>(o.duration.ps()) / 1e12);
    if (o.sndbuf > 0) cmd += fmt::format(" -w {}", o.sndbuf);
    v.push_back({numbered("iperf-client", i, udp_send_.size()), cmd, udp_send_[i]->output()});
  }
  for (std::size_t i = 0; i < udp_recv_.size(); ++i) {
    const auto& o = cfg_.udp_recv[i];
    std::string cmd = fmt::format("iperf -s -u -p {}", o.port);
    if (o.rcvbuf > 0) cmd += fmt::format(" -w {}", o.rcvbuf);
    v.push_back({numbered("iperf-server", i, udp_recv_.size()), cmd, udp_recv_[i]->output()});
  }
  if (udp_rr_ != nullptr) {
    const auto& o = *cfg_.udp_rr;
    std::string cmd = fmt::format("netperf -t UDP_RR -H {}", o.dst.addr.str());
    cmd += o.count != 0 ? fmt::format(" -l -{}", o.count)
                        : fmt::format(" -l {}", static_cast<double>(o.duration.ps()) / 1e12);
    cmd += fmt::format(" -- -P ,{} -r {},{} -o min_latency,mean_latency,p50_latency,p90_latency,p99_latency,"
                       "max_latency,stddev_latency,transaction_rate,request_size,response_size",
                       o.dst.port, o.req, o.resp);
    v.push_back({"netperf.txt", cmd, udp_rr_->output()});
  }
  // TCP: iperf3-client.txt / iperf3-server.txt, netperf-tcp-rr.txt / netperf-tcp-crr.txt, numbered
  // as the iperf files are when a host runs several.
  const auto secs = [](stack::Duration d) { return static_cast<double>(d.ps()) / 1e12; };
  for (std::size_t i = 0; i < iperf3_server_.size(); ++i) {
    const auto& o = cfg_.iperf3_server[i];
    std::string cmd = fmt::format("iperf3 -s -p {}", o.port);
    if (o.interval != stack::Duration::s(1)) cmd += fmt::format(" -i {}", secs(o.interval));
    v.push_back({numbered("iperf3-server", i, iperf3_server_.size()), cmd, iperf3_server_[i]->output()});
  }
  for (std::size_t i = 0; i < iperf3_client_.size(); ++i) {
    const auto& o = cfg_.iperf3_client[i];
    std::string cmd = fmt::format("iperf3 -c {} -p {} -l {}", o.dst.addr.str(), o.dst.port, o.len);
    cmd += o.bytes != 0 ? fmt::format(" -n {}", o.bytes) : fmt::format(" -t {}", secs(o.duration));
    if (o.interval != stack::Duration::s(1)) cmd += fmt::format(" -i {}", secs(o.interval));
    v.push_back({numbered("iperf3-client", i, iperf3_client_.size()), cmd, iperf3_client_[i]->output()});
  }
  for (const bool crr : {false, true}) {
    const auto& apps = crr ? tcp_crr_ : tcp_rr_;
    const auto& opts = crr ? cfg_.tcp_crr : cfg_.tcp_rr;
    for (std::size_t i = 0; i < apps.size(); ++i) {
      const auto& o = opts[i];
      std::string cmd = fmt::format("netperf -t {} -H {}", crr ? "TCP_CRR" : "TCP_RR", o.dst.addr.str());
      cmd += o.count != 0 ? fmt::format(" -l -{}", o.count) : fmt::format(" -l {}", secs(o.duration));
      cmd += fmt::format(" -- -P ,{} -r {},{}", o.dst.port, o.req, o.resp);
      if (o.nodelay) cmd += " -D";
      if (o.csv_latency) {
        cmd += " -o min_latency,mean_latency,p50_latency,p90_latency,p99_latency,max_latency,stddev_latency,"
               "transaction_rate,request_size,response_size";
      }
      v.push_back({numbered(crr ? "netperf-tcp-crr" : "netperf-tcp-rr", i, apps.size()), cmd, apps[i]->output()});
    }
  }
  v.push_back({"softnet_stat", "cat /proc/net/softnet_stat", softnet_stat()});
  v.push_back({"cpu.txt", "", cpu_usage(elapsed_ps)});
  for (unsigned i = 0; i < num_ports(); ++i) {
    const auto& g = pktgen(i).stats();
    const auto& k = checker(i).stats();
    const std::string who = num_ports() > 1 ? fmt::format(" {}", ports_[i]->drv->name) : "";
    v.push_back({file(i, "pktgen.txt"), "",
                 fmt::format("pktgen{}: sent {} busy {} queue_waits {} alloc_waits {}\n", who, g.sent, g.busy,
                             g.queue_waits, g.alloc_waits)});
    v.push_back({file(i, "rx_checker.txt"), "",
                 fmt::format("rx checker{}: frames {} ok {} bad_bytes {} out_of_order {} gap_frames {}\n", who,
                             k.frames, k.ok, k.bad_bytes, k.out_of_order, k.gap_frames)});
  }
  if (!udp_sinks_.empty()) {
    std::string u;
    for (const auto& c : udp_sinks_) {
      const auto& k = c->stats();
      u += fmt::format("udp sink from {}: frames {} ok {} bad_bytes {} out_of_order {} gap_frames {}\n",
                       stack::Ipv4Addr::from_u32(c->pattern().ip_src).str(), k.frames, k.ok, k.bad_bytes,
                       k.out_of_order, k.gap_frames);
    }
    u += fmt::format("udp from no expected sender: {}\n", udp_unknown_);
    v.push_back({"udp_sink.txt", "", u});
  }
  // dmesg: every driver's lines, NIC by NIC.
  std::string dmesg;
  for (const auto& p : ports_) {
    for (const auto& line : p->drv->log()) dmesg += line + "\n";
  }
  v.push_back({"dmesg.txt", "dmesg", dmesg});
  std::string cons;
  for (const auto& line : conservation) cons += line;
  v.push_back({"conservation.txt", "", cons});
  return v;
}

json DriverHost::port_summary(unsigned port, double sim_s) const {
  const auto& d = driver(port);
  json j;
  j["mac"] = d.dev_addr.str();
  j["bus_info"] = bus(port).bus_info();
  j["sent"] = pktgen(port).stats().sent;
  j["received"] = checker(port).stats().frames;
  // ethtool -S: the driver's counters, then the device's as the driver read them.
  const auto stats = d.get_ethtool_stats();
  json drv = json::object(), dev = json::object();
  for (std::size_t k = 0; k < stats.size(); ++k) {
    (k < driver::kNumDrvStats ? drv : dev)[stats[k].first] = stats[k].second;
  }
  j["driver"] = std::move(drv);
  j["device"] = std::move(dev);
  const auto& g = pktgen(port).stats();
  j["pktgen"] = json{{"sent", g.sent}, {"busy", g.busy}, {"queue_waits", g.queue_waits}, {"alloc_waits", g.alloc_waits}};
  const auto& k = checker(port).stats();
  j["rx_checker"] = json{{"frames", k.frames},         {"ok", k.ok},
                         {"bad_bytes", k.bad_bytes},   {"out_of_order", k.out_of_order},
                         {"gap_frames", k.gap_frames}, {"not_for_us", k.not_for_us}};
  j["rates"] = json{
      {"irq_per_s", per_s(d.stat(driver::DrvStat::irq_queue_0), sim_s)},
      {"rx_packets_per_s", per_s(k.frames, sim_s)},
      {"rx_gbps", per_s(d.stat(driver::DrvStat::rx_queue_0_bytes), sim_s) * 8 / 1e9},
      {"tx_packets_per_s", per_s(g.sent, sim_s)},
  };
  return j;
}

json DriverHost::host_summary(double) const {
  json j;
  json sn = json::object(), cpu = json::object();
  for (unsigned c = 0; c < cpus_.size(); ++c) {
    json one = softnet_json(softnet(c).stats());
    one["backlog_len"] = softnet(c).backlog_len();
    sn[fmt::format("cpu{}", c)] = std::move(one);
    const auto& st = cpus_.core(c).stats();
    cpu[fmt::format("cpu{}", c)] = json{{"hardirqs", st.hardirqs},
                                        {"softirq_runs", st.softirq_runs},
                                        {"ksoftirqd_wakeups", st.ksoftirqd_wakeups},
                                        {"tasks", st.tasks},
                                        {"busy_hardirq_ps", st.busy_hardirq_ps},
                                        {"busy_softirq_ps", st.busy_softirq_ps},
                                        {"busy_process_ps", st.busy_process_ps}};
  }
  j["softnet"] = std::move(sn);
  j["softnet_total"] = softnet_json(softnet_total());
  j["cpu"] = std::move(cpu);
  return j;
}

std::string DriverHost::ethtool_s(unsigned port) const {
  std::string s = "NIC statistics:\n";
  for (const auto& [k, v] : driver(port).get_ethtool_stats()) s += fmt::format("     {}: {}\n", k, v);
  return s;
}

std::string DriverHost::ethtool_c(unsigned port) const {
  const auto& d = driver(port);
  const auto c = d.get_coalesce();
  auto on = [](bool b) { return b ? "on" : "off"; };
  return fmt::format("Coalesce parameters for {}:\nAdaptive RX: {}  TX: {}\nrx-usecs: {}\nrx-frames: {}\n"
                     "tx-usecs: {}\ntx-frames: {}\n",
                     d.name, on(c.use_adaptive_rx_coalesce), on(c.use_adaptive_tx_coalesce), c.rx_coalesce_usecs,
                     c.rx_max_coalesced_frames, c.tx_coalesce_usecs, c.tx_max_coalesced_frames);
}

std::string DriverHost::ethtool_g(unsigned port) const {
  const auto& d = driver(port);
  const auto r = d.get_ringparam();
  return fmt::format("Ring parameters for {}:\nPre-set maximums:\nRX:\t\t{}\nRX Mini:\tn/a\nRX Jumbo:\tn/a\n"
                     "TX:\t\t{}\nCurrent hardware settings:\nRX:\t\t{}\nRX Mini:\tn/a\nRX Jumbo:\tn/a\nTX:\t\t{}\n",
                     d.name, r.rx_max_pending, r.tx_max_pending, r.rx_pending, r.tx_pending);
}

std::string DriverHost::ethtool_k(unsigned port) const {
  // ethtool -k in its own order and form, the features this model has an answer for (docs/driver.md):
  // the device offloads nothing ([fixed] off: no checksums, no scatter-gather, no TSO, LRO or
  // hardware GRO); GSO and GRO are the stack's software ones; rx-fcs and rx-all the driver's.
  // GSO asked for shows as "off [requested on]": netdev_fix_features drops NETIF_F_GSO from a
  // device without NETIF_F_SG. TCP cuts GSO skbs either way (sk_setup_caps gives every TCP socket
  // GSO), so only the display follows it.
  const auto& d = driver(port);
  auto on = [](bool b) { return b ? "on" : "off"; };
  const char* gso = d.gso ? "off [requested on]" : "off";
  return fmt::format("Features for {}:\nrx-checksumming: off [fixed]\ntx-checksumming: off [fixed]\n"
                     "scatter-gather: off [fixed]\ntcp-segmentation-offload: off [fixed]\n"
                     "generic-segmentation-offload: {}\ngeneric-receive-offload: {}\n"
                     "large-receive-offload: off [fixed]\nrx-fcs: {}\nrx-all: {}\nrx-gro-hw: off [fixed]\n",
                     d.name, gso, on(d.gro), on(d.feat_rx_fcs), on(d.feat_rx_all));
}

std::string DriverHost::ethtool_link(unsigned port) const {
  const auto& d = driver(port);
  const auto l = d.get_link_ksettings();
  return fmt::format("Settings for {}:\n\tSpeed: {}\n\tDuplex: {}\n\tAuto-negotiation: off\n\tPort: {}\n"
                     "\tLink detected: {}\n",
                     d.name, l.link ? fmt::format("{}Mb/s", l.speed_mbps) : std::string("Unknown!"),
                     l.link ? "Full" : "Unknown! (255)", l.port, l.link ? "yes" : "no");
}

std::string DriverHost::bql_sysfs(unsigned port) const {
  const auto& d = driver(port);
  const std::string dir = fmt::format("/sys/class/net/{}/queues/tx-0/byte_queue_limits/", d.name);
  if (!d.bql_enabled) return dir + "limit: (BQL off)\n";
  return fmt::format("{0}limit:{1}\n{0}inflight:{2}\n{0}limit_max:{3}\n", dir, d.bql_limit(), d.bql_inflight(),
                     d.dql.max_limit);
}

std::string DriverHost::softnet_stat() const {
  std::string s;
  for (const auto& sd : softnet_) s += sd->softnet_stat_line() + "\n";
  return s;
}

std::string DriverHost::cpu_usage(uint64_t elapsed_ps) const {
  std::string out;
  for (unsigned i = 0; i < cpus_.size(); ++i) out += core_usage(cpus_.core(i), elapsed_ps);
  return out;
}

std::string DriverHost::core_usage(const HostCpu& cpu, uint64_t elapsed_ps) {
  const auto& st = cpu.stats();
  const double e = elapsed_ps > 0 ? static_cast<double>(elapsed_ps) : 1.0;
  auto pct = [&](uint64_t ps) { return 100.0 * static_cast<double>(ps) / e; };
  const uint64_t busy = st.busy_hardirq_ps + st.busy_softirq_ps + st.busy_process_ps;
  return fmt::format("cpu{}: hardirq {:.1f}%  softirq {:.1f}%  process {:.1f}%  idle {:.1f}%  "
                     "(hard IRQs {}, softirq runs {}, ksoftirqd wake-ups {}, tasks {})\n",
                     cpu.id(), pct(st.busy_hardirq_ps), pct(st.busy_softirq_ps), pct(st.busy_process_ps),
                     busy >= elapsed_ps ? 0.0 : 100.0 - pct(busy), st.hardirqs, st.softirq_runs, st.ksoftirqd_wakeups,
                     st.tasks);
}

}  // namespace vnic::tb
