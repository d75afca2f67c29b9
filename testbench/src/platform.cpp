// Platform: elaboration from the scenario, the run loop, conservation per link direction and the
// text report.
#include "vnic/tb/platform.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "vnic/rtl/rtl_desc_cache.hpp"

namespace vnic::tb {

namespace {
constexpr uint64_t kMemBase = 0x1'0000'0000ull;  // host DRAM above 4 GiB: 64-bit DMA addresses
// Each NIC of a host is its own PCI function on the host's bus 01 (device = the NIC's index), its
// BAR0 placed 16 MiB after the previous one's.
constexpr uint64_t kBarStride = 0x0100'0000;

// Direct hosts: the rings and their buffers.
uint64_t mem_size_direct(const TestHostConfig& h) {
  return (uint64_t{h.tx_ring} * tx_buf_size(h) + uint64_t{h.rx_ring} * h.rx_buf +
          uint64_t{h.tx_ring + h.rx_ring} * 16) + (1u << 20);
}

// Driver hosts: per NIC, rings, RX buffers (2 KiB at the default MTU) and the skb pool's buffers,
// which are taken as needed: at most one per TX descriptor and pktgen burst beyond what is in
// flight. Room for the largest rings (4096, ethtool -G may grow them) with jumbo buffers, and the
// skbs in flight. It costs only what the run touches: host memory pages are zeroed lazily.
uint64_t mem_size_driver(const DriverSide& d, std::size_t nics) {
  const uint64_t big_buf = stack::SkbPool::kLargeBuf + 64;
  const uint64_t skbs = std::min<uint64_t>(d.skb_pool, nics * (2 * 4096 + 2 * uint64_t{d.pktgen_burst}) + 1024);
  return nics * (2 * 4096 * big_buf + 2 * 4096 * 16) + skbs * big_buf + (8u << 20);
}

DriverHostConfig driver_config(const Scenario& s, const HostConfig& h, const std::vector<TestHostConfig>& traffic,
                               uint64_t host_index) {
  DriverHostConfig c;
  c.nics.clear();
  for (std::size_t i = 0; i < h.nics.size(); ++i) {
    const TestHostConfig& t = traffic[i];
    const NicSide& n = h.nics[i];
    if (!t.refill_rx || t.rx_ctrl != model::regs::rx_ctrl::kBcast.mask()) {
      throw std::runtime_error(fmt::format(
          "host.{}{}: refill = false, promisc, rx-fcs and rx-all need scenario.hosts = \"direct\" (the driver's "
          "rx-mode and features are not built yet)", h.name, i == 0 ? std::string() : "." + n.ifname));
    }
    DriverNicConfig d;
    d.drv.ifname = n.ifname;
    d.drv.rx_ring = t.rx_ring;
    d.drv.tx_ring = t.tx_ring;
    d.drv.coalesce = stack::EthtoolCoalesce{t.coalesce.rx_usecs,   t.coalesce.rx_frames,   t.coalesce.tx_usecs,
                                            t.coalesce.tx_frames,  t.coalesce.adaptive_rx, t.coalesce.adaptive_tx};
    d.drv.napi_weight = s.driver.napi_weight;
    d.drv.rx_handoff =
        s.driver.rx_handoff == "netif_rx" ? driver::RxHandoff::NetifRx : driver::RxHandoff::ReceiveSkb;
    d.drv.bql = s.driver.bql;
    d.drv.watchdog_timeo = s.driver.watchdog;
    d.gen.pattern = t.pattern;
    d.gen.count = t.count;
    d.gen.burst = s.driver.pktgen_burst;
    d.gen.interval = t.interval;
    d.gen.start = t.start;
    if (n.address) {
      d.address = stack::Ipv4Cidr{stack::Ipv4Addr::from_u32(n.address->addr), n.address->prefix};
    }
    d.qdisc = n.qdisc;
    d.tcpdump = n.tcpdump;
    d.fault_injection = h.fault_injection;
    d.gso = n.gso.value_or(s.driver.gso);
    d.gro = n.gro.value_or(s.driver.gro);
    d.gso_max_size = n.gso_max_size.value_or(s.driver.gso_max_size);
    d.gso_max_segs = static_cast<uint16_t>(n.gso_max_segs.value_or(s.driver.gso_max_segs));
    d.bus_info = fmt::format("0000:01:{:02x}.0", i);
    d.bar0_base = TestHost::kBar0Base + i * kBarStride;
    c.nics.push_back(std::move(d));
  }
  c.costs = s.driver.costs;
  c.costs.ip_rcv = s.stack_costs.ip_rcv;
  c.costs.ip_local_deliver = s.stack_costs.ip_local_deliver;
  c.costs.ip_output = s.stack_costs.ip_output;
  c.costs.tc_ingress = s.stack_costs.tc_ingress;
  c.costs.tap = s.stack_costs.tap;
  c.costs.icmp = s.stack_costs.icmp;
  c.costs.ip_forward = s.stack_costs.ip_forward;
  c.costs.nf_hook = s.stack_costs.nf_hook;
  c.costs.ip_fragment = s.stack_costs.ip_fragment;
  c.costs.ip_defrag = s.stack_costs.ip_defrag;
  c.costs.gro_receive = s.stack_costs.gro_receive;
  c.costs.syscall = s.stack_costs.syscall;
  c.costs.udp_sendmsg = s.stack_costs.udp_sendmsg;
  c.costs.udp_rcv = s.stack_costs.udp_rcv;
  c.costs.sock_recvmsg = s.stack_costs.sock_recvmsg;
  c.costs.wakeup = s.stack_costs.wakeup;
  c.costs.context_switch = s.stack_costs.context_switch;
  c.costs.epoll_wait = s.stack_costs.epoll_wait;
  c.sysctl = h.sysctl.core;
  // The host's network namespace: its sysctls by their Linux names, its own random stream.
  c.net.default_qdisc = h.sysctl.default_qdisc;
  c.net.ipv4.ip_forward = h.sysctl.ip_forward != 0;
  c.net.ipv4.ip_fwd_update_priority = h.sysctl.ip_forward_update_priority != 0;
  c.net.ipv4.ipfrag_high_thresh = static_cast<uint32_t>(h.sysctl.ipfrag_high_thresh);
  c.net.ipv4.ipfrag_low_thresh = static_cast<uint32_t>(h.sysctl.ipfrag_low_thresh);
  c.net.ipv4.ipfrag_time_s = h.sysctl.ipfrag_time;
  c.net.ipv4.ipfrag_max_dist = h.sysctl.ipfrag_max_dist;
  c.net.ipv4.ip_default_ttl = h.sysctl.ip_default_ttl;
  c.net.ipv4.icmp_ratelimit_ms = h.sysctl.icmp_ratelimit;
  c.net.ipv4.icmp_ratemask = h.sysctl.icmp_ratemask;
  c.net.ipv4.icmp_msgs_per_sec = h.sysctl.icmp_msgs_per_sec;
  c.net.ipv4.icmp_msgs_burst = h.sysctl.icmp_msgs_burst;
  c.net.ipv4.icmp_echo_ignore_all = h.sysctl.icmp_echo_ignore_all != 0;
  c.net.ipv4.icmp_echo_ignore_broadcasts = h.sysctl.icmp_echo_ignore_broadcasts != 0;
  c.net.neigh.arp_notify = h.sysctl.arp_notify != 0;
  c.tcp = h.sysctl.tcp;
  c.net.seed = s.seed * 1000003 + host_index;
  c.iptables = h.iptables;
  for (const RouteConfig& r : h.routes) {
    DriverRoute dr;
    dr.route.dst = stack::Ipv4Cidr{stack::Ipv4Addr::from_u32(r.dst.addr & r.dst.netmask()), r.dst.prefix};
    if (r.via) dr.route.gateway = stack::Ipv4Addr::from_u32(*r.via);
    if (r.metric) dr.route.metric = *r.metric;
    if (r.src) dr.route.prefsrc = stack::Ipv4Addr::from_u32(*r.src);
    dr.route.scope = r.via ? stack::RouteScope::Universe : stack::RouteScope::Link;
    dr.dev = r.dev;
    dr.text = r.text;
    c.routes.push_back(std::move(dr));
  }
  if (h.ping && h.ping->enabled) {  // enabled = false: the scenario turned a lower layer's ping off
    stack::PingOptions o;
    o.dst = stack::Ipv4Addr::from_u32(h.ping->dst);
    o.count = h.ping->count;
    o.interval_ms = static_cast<int>(h.ping->interval_ms);
    o.size = h.ping->size;
    if (h.ping->ttl) o.ttl = static_cast<int>(*h.ping->ttl);
    if (h.ping->deadline_s) o.deadline_s = *h.ping->deadline_s;
    o.start = stack::Instant{} + stack::Duration::ms(h.ping->start_ms);
    c.ping = o;
  }
  for (const UdpSendConfig& u : h.udp_send) {
    stack::UdpSendOptions o;
    o.dst = {stack::Ipv4Addr::from_u32(u.dst), u.port};
    o.len = u.len;
    o.rate_bps = u.rate_bps;
    o.count = u.count;
    o.duration = stack::Duration::ms(u.duration_ms);
    o.start = stack::Instant{} + stack::Duration::ms(u.start_ms);
    o.sndbuf = u.sndbuf;
    c.udp_send.push_back(o);
  }
  for (const UdpRecvConfig& u : h.udp_recv) {
    stack::UdpRecvOptions o;
    o.port = u.port;
    o.read_cost = stack::Duration::ns(u.read_cost_ns);
    o.rcvbuf = u.rcvbuf;
    o.use_epoll = u.use_epoll;
    c.udp_recv.push_back(o);
  }
  if (h.udp_rr) {
    stack::UdpRrOptions o;
    o.dst = {stack::Ipv4Addr::from_u32(h.udp_rr->dst), h.udp_rr->port};
    o.req = h.udp_rr->req;
    o.resp = h.udp_rr->resp;
    o.count = h.udp_rr->count;
    o.duration = stack::Duration::ms(h.udp_rr->duration_ms);
    o.timeout = stack::Duration::ms(h.udp_rr->timeout_ms);
    o.start = stack::Instant{} + stack::Duration::ms(h.udp_rr->start_ms);
    c.udp_rr = o;
  }
  c.udp_rr_server = h.udp_rr_server;
  for (const TcpIperf3ServerConfig& u : h.tcp_iperf3_server) {
    stack::Iperf3ServerOptions o;
    o.port = u.port;
    o.interval = stack::Duration::ms(u.interval_ms);
    c.iperf3_server.push_back(o);
  }
  for (const TcpIperf3ClientConfig& u : h.tcp_iperf3_client) {
    stack::Iperf3ClientOptions o;
    o.dst = {stack::Ipv4Addr::from_u32(u.dst), u.port};
    o.bytes = u.bytes;
    o.duration = stack::Duration::ms(u.duration_ms);
    o.len = u.len;
    o.interval = stack::Duration::ms(u.interval_ms);
    o.start = stack::Instant{} + stack::Duration::ms(u.start_ms);
    c.iperf3_client.push_back(o);
  }
  for (const bool crr : {false, true}) {
    for (const TcpNetperfConfig& u : crr ? h.tcp_crr : h.tcp_rr) {
      stack::NetperfTcpOptions o;
      o.test = crr ? stack::NetperfTcpTest::CRR : stack::NetperfTcpTest::RR;
      o.dst = {stack::Ipv4Addr::from_u32(u.dst), u.port};
      o.req = u.req;
      o.resp = u.resp;
      o.count = u.count;
      o.duration = stack::Duration::ms(u.duration_ms);
      o.nodelay = u.nodelay;
      o.csv_latency = u.latency;
      o.start = stack::Instant{} + stack::Duration::ms(u.start_ms);
      (crr ? c.tcp_crr : c.tcp_rr).push_back(o);
    }
  }
  for (const NetserverConfig& u : h.netserver) {
    stack::NetperfTcpServerOptions o;
    o.port = u.port;
    o.test = u.crr ? stack::NetperfTcpTest::CRR : stack::NetperfTcpTest::RR;
    o.req = u.req;
    o.resp = u.resp;
    c.netserver.push_back(o);
  }
  c.skb_pool = s.driver.skb_pool;
  c.mtu = s.driver.mtu;
  c.cpus = s.driver.cpus;
  return c;
}

std::string nic_module_name(const HostConfig& h, unsigned i) {
  return i == 0 ? "nic_" + h.name : fmt::format("nic_{}_{}", h.name, h.nics[i].ifname);
}
}  // namespace

Platform::Platform(const Scenario& s) : s_(s) {
  hw::init_time();
  q_ = std::make_unique<hw::EventQueue>("events");
  q_->set_quantum(static_cast<uint64_t>(s_.quantum.ps()));
  if (s_.host_list.empty()) throw std::runtime_error("the scenario has no hosts");
  if (s_.journey_every > 0 && !driver_hosts()) {
    throw std::runtime_error("--journey follows packets through the driver hosts (hosts = \"driver\")");
  }
  if (!s_.journey_from.empty() && s_.find_host(s_.journey_from) == nullptr) {
    throw std::runtime_error(fmt::format("--journey-from {}: the scenario has no such host", s_.journey_from));
  }
  if (s_.ring == "rtl") s_.nic.desc_cache_factory = &rtl::make_rtl_desc_cache;
  if (s_.ring == "rtl-broken") s_.nic.desc_cache_factory = &rtl::make_broken_rtl_desc_cache;

  // Where each port is: its link and side; each port's global index (trace ids, pattern seeds).
  const auto& hl = s_.host_list;
  attach_.resize(hl.size());
  std::vector<std::vector<unsigned>> global(hl.size());
  unsigned k = 0;
  for (std::size_t h = 0; h < hl.size(); ++h) {
    attach_[h].assign(hl[h].nics.size(), Attach{~0u, 0});
    for (std::size_t n = 0; n < hl[h].nics.size(); ++n) global[h].push_back(k++);
  }
  for (unsigned l = 0; l < s_.links.size(); ++l) {
    for (unsigned side = 0; side < 2; ++side) {
      const PortRef& e = s_.links[l].ends[side];
      const unsigned h = host_index(e.host);
      const NicSide* n = hl[h].nic(e.ifname);
      if (n == nullptr) throw std::runtime_error(fmt::format("link {}: host {} has no {}", s_.links[l].name, e.host, e.ifname));
      Attach& a = attach_[h][static_cast<std::size_t>(n - hl[h].nics.data())];
      if (a.link != ~0u) throw std::runtime_error(fmt::format("{} is on two links", e.str()));
      a = Attach{l, side};
    }
  }
  for (unsigned w = 0; w < s_.switches.size(); ++w) {
    const SwitchConfig& sc = s_.switches[w];
    if (sc.attached.size() > sc.ports) {
      throw std::runtime_error(fmt::format("switch {}: {} NICs on {} ports", sc.name, sc.attached.size(), sc.ports));
    }
    for (unsigned j = 0; j < sc.attached.size(); ++j) {
      const PortRef& e = sc.attached[j];
      const unsigned h = host_index(e.host);
      const NicSide* n = hl[h].nic(e.ifname);
      if (n == nullptr) throw std::runtime_error(fmt::format("switch {}: host {} has no {}", sc.name, e.host, e.ifname));
      Attach& a = attach_[h][static_cast<std::size_t>(n - hl[h].nics.data())];
      if (a.link != ~0u || a.sw != ~0u) throw std::runtime_error(fmt::format("{} is on a link and a switch", e.str()));
      a.sw = w;
      a.sw_port = j;
    }
  }
  for (std::size_t h = 0; h < hl.size(); ++h) {
    for (std::size_t n = 0; n < hl[h].nics.size(); ++n) {
      if (attach_[h][n].link == ~0u && attach_[h][n].sw == ~0u) {
        throw std::runtime_error(fmt::format("host.{}.{} is on no link", hl[h].name, hl[h].nics[n].ifname));
      }
    }
  }
  const auto peer_of = [&](unsigned h, unsigned n) {
    const Attach a = attach_[h][n];
    const PortRef& e = s_.links[a.link].ends[1 - a.side];
    const unsigned ph = host_index(e.host);
    return PortId{ph, static_cast<unsigned>(hl[ph].nic(e.ifname) - hl[ph].nics.data())};
  };

  // The NICs on switch w, in port order.
  const auto on_switch = [&](unsigned w) {
    std::vector<PortId> v;
    for (const PortRef& e : s_.switches[w].attached) {
      const unsigned ph = host_index(e.host);
      v.push_back(PortId{ph, static_cast<unsigned>(hl[ph].nic(e.ifname) - hl[ph].nics.data())});
    }
    return v;
  };

  // Each port's traffic: its own seed (the scenario's, twice, plus the port's index), from its
  // MAC to its peer's; on a switch, to every other NIC on it, round robin in port order.
  std::vector<std::vector<TestHostConfig>> traffic(hl.size());
  for (std::size_t h = 0; h < hl.size(); ++h) {
    for (std::size_t n = 0; n < hl[h].nics.size(); ++n) {
      TestHostConfig t = hl[h].nics[n].host;
      t.pattern.seed = s_.seed * 2 + global[h][n];
      t.pattern.src = hl[h].nics[n].mac;
      if (const unsigned w = attach_[h][n].sw; w != ~0u) {
        for (const PortId q : on_switch(w)) {
          if (q.host != h || q.nic != n) t.pattern.dsts.push_back(hl[q.host].nics[q.nic].mac);
        }
        t.pattern.dst = t.pattern.dsts.empty() ? model::MacAddr::broadcast() : t.pattern.dsts[0];
        if (t.pattern.dsts.size() == 1) t.pattern.dsts.clear();
        if (t.pattern.ip_dst != 0) {
          throw std::runtime_error(fmt::format(
              "host.{}.{}.dst_ip: a NIC on a switch sends pktgen's raw frames to the other NICs on it (the "
              "IPv4/UDP mode needs a link peer as its next hop)", hl[h].name, hl[h].nics[n].ifname));
        }
      } else {
        const PortId p = peer_of(static_cast<unsigned>(h), static_cast<unsigned>(n));
        t.pattern.dst = hl[p.host].nics[p.nic].mac;
      }
      if (t.pattern.ip_dst != 0) {
        // pktgen's IPv4/UDP mode: from this NIC's address, to its link peer's MAC (the next hop).
        const std::string who = fmt::format("host.{}.{}", hl[h].name, hl[h].nics[n].ifname);
        if (!driver_hosts()) throw std::runtime_error(who + ".dst_ip: IPv4 traffic needs driver hosts (hosts = \"driver\")");
        if (!hl[h].nics[n].address) throw std::runtime_error(who + ".dst_ip: the NIC needs an address to send from");
        if (t.pattern.min_len < kIpUdpHeaderLen + 8) {
          throw std::runtime_error(fmt::format("{}.min_len: {} is too short for IPv4/UDP frames (at least {})", who,
                                               t.pattern.min_len, kIpUdpHeaderLen + 8));
        }
        t.pattern.ip_src = hl[h].nics[n].address->addr;
      }
      if (!driver_hosts() && (t.coalesce.adaptive_rx || t.coalesce.adaptive_tx)) {
        throw std::runtime_error(fmt::format(
            "host.{}: adaptive-rx and adaptive-tx need driver hosts (hosts = \"driver\"): net_dim runs in the driver",
            hl[h].name));
      }
      const Coalesce& mod = t.coalesce;
      if (driver_hosts() && (mod.rx_mode != 0 || mod.tx_mode != 0 || mod.rx_abs_usecs != 0 || mod.tx_abs_usecs != 0)) {
        throw std::runtime_error(fmt::format(
            "host.{}: rx-/tx-moderation and rx-/tx-abs-usecs need direct hosts (hosts = \"direct\"): the driver "
            "programs the first-completion rule, as ethtool -C has no knob for the others",
            hl[h].name));
      }
      traffic[h].push_back(t);
    }
  }

  for (const auto& h : hl) {
    mems_.push_back(std::make_unique<HostMemory>(
        ("mem_" + h.name).c_str(), kMemBase,
        driver_hosts() ? mem_size_driver(s_.driver, h.nics.size()) : mem_size_direct(h.nics[0].host),
        static_cast<unsigned>(h.nics.size())));
  }
  nics_.resize(hl.size());
  for (std::size_t h = 0; h < hl.size(); ++h) {
    for (unsigned n = 0; n < hl[h].nics.size(); ++n) {
      hw::NicConfig c = s_.nic;
      c.perm_mac = hl[h].nics[n].mac;
      if (!driver_hosts()) c.reset_ns = 0;  // the test host does not wait for RESET_DONE
      nics_[h].push_back(std::make_unique<hw::Nic>(nic_module_name(hl[h], n).c_str(), *q_, c));
    }
  }
  for (std::size_t h = 0; h < hl.size(); ++h) {
    const std::string module = "host_" + hl[h].name;
    if (driver_hosts()) {
      hosts_.push_back(std::make_unique<DriverHost>(module, *q_, *mems_[h], driver_config(s_, hl[h], traffic[h], h),
                                                    hl[h].name));
    } else {
      hosts_.push_back(std::make_unique<DirectHost>(module, *q_, *mems_[h], traffic[h][0], hl[h].name,
                                                    static_cast<unsigned>(hl[h].nics.size())));
    }
  }
  for (unsigned h = 0; h < hosts_.size(); ++h) {
    for (unsigned n = 0; n < hosts_[h]->num_ports(); ++n) {
      if (const unsigned w = attach_[h][n].sw; w != ~0u) {
        // Every other NIC on the switch that sends sends here too.
        for (const PortId q : on_switch(w)) {
          if ((q.host != h || q.nic != n) && traffic[q.host][q.nic].count > 0) {
            hosts_[h]->expect_also(n, traffic[q.host][q.nic].pattern, hl[h].nics[n].mac);
          }
        }
      } else {
        const PortId p = peer_of(h, n);
        hosts_[h]->expect(n, traffic[p.host][p.nic].pattern);
      }
      hosts_[h]->connect(n, *nics_[h][n]);
    }
  }
  // TCP clients find their servers' results on the host that owns the destination address.
  if (driver_hosts()) {
    for (std::size_t h = 0; h < hl.size(); ++h) {
      static_cast<DriverHost&>(*hosts_[h]).set_tcp_peers([this](stack::Ipv4Addr a) -> const DriverHost* {
        const auto& l = s_.host_list;
        for (std::size_t g = 0; g < l.size(); ++g) {
          for (const NicSide& nic : l[g].nics) {
            if (nic.address && nic.address->addr == a.to_u32()) return static_cast<const DriverHost*>(hosts_[g].get());
          }
        }
        return nullptr;
      });
    }
  }
  // IPv4/UDP floods: the host that owns the destination address checks each sender's pattern.
  for (std::size_t h = 0; h < hl.size(); ++h) {
    for (const TestHostConfig& t : traffic[h]) {
      if (t.pattern.ip_dst == 0 || t.count == 0) continue;
      for (std::size_t g = 0; g < hl.size(); ++g) {
        for (const NicSide& nic : hl[g].nics) {
          if (nic.address && nic.address->addr == t.pattern.ip_dst) driver_host(hl[g].name).expect_udp(t.pattern);
        }
      }
    }
  }
  for (std::size_t h = 0; h < hl.size(); ++h) mems_[h]->set_iommu(hl[h].iommu);  // after binding: it withdraws DMI

  for (const auto& l : s_.links) {
    EthLinkConfig lc;
    lc.rate = l.rate;
    lc.propagation = l.propagation;
    lc.faults = l.faults;
    lc.seed = l.faults.seed;
    links_.push_back(std::make_unique<EthLink>(l.name.c_str(), *q_, lc));
    if (!l.pcap.empty()) links_.back()->capture_to(l.pcap);
  }
  for (unsigned w = 0; w < s_.switches.size(); ++w) {
    const SwitchConfig& sc = s_.switches[w];
    EthSwitchConfig c;
    c.rates.clear();
    for (unsigned j = 0; j < sc.ports; ++j) c.rates.push_back(sc.rate(j));
    c.latency = sc.latency;
    c.queue_bytes = sc.queue_bytes;
    c.propagation = sc.propagation;
    c.ageing = sc.ageing;
    c.id_prefix = 0xF000 + w;  // above every port's prefix (port k's ids are k << 32 + 1, 2, ...)
    switches_.push_back(std::make_unique<EthSwitch>(sc.name.c_str(), *q_, c));
    if (!sc.pcap.empty()) {
      for (unsigned j = 0; j < sc.attached.size(); ++j) switches_.back()->capture_to(j, sc.port_pcap(j));
    }
  }
  model::TraceSink* sink = nullptr;
  if (!s_.trace.empty()) {
    std::string err;
    if (!trace_.open(s_.trace, s_.trace_limit, &err) || !trace_.set_kinds(s_.trace_kinds, &err)) {
      throw std::runtime_error(err);
    }
    sink = &trace_;
  }
  if (s_.journey_every > 0) {
    JourneyConfig jc{s_.journey_every, s_.journey_from};
    journey_ = std::make_unique<JourneyRecorder>(jc, s_.trace.empty() ? nullptr : &trace_);
    sink = journey_.get();
  }
  if (s_.account) {
    account_ = std::make_unique<PacketAccount>(sink);
    sink = account_.get();
  }
  for (auto& l : links_) l->set_trace(sink);
  for (auto& w : switches_) w->set_trace(sink);
  if (sink != nullptr) {
    // Frame and packet ids tell the senders apart: port k's are k * 2^32 + 1, 2, ...
    for (std::size_t h = 0; h < hl.size(); ++h) {
      std::vector<uint64_t> bases;
      for (unsigned n = 0; n < hl[h].nics.size(); ++n) {
        bases.push_back(uint64_t{global[h][n]} << 32);
        if (journey_) {
          journey_->pair(nics_[h][n]->name(), hosts_[h]->trace_source(n));
          journey_->sender(global[h][n], hl[h].name);
        }
      }
      hosts_[h]->set_trace(sink, bases);
    }
  }
  for (std::size_t h = 0; h < hl.size(); ++h) {
    for (std::size_t n = 0; n < hl[h].nics.size(); ++n) {
      const Attach& a = attach_[h][n];
      if (a.sw != ~0u) {
        nics_[h][n]->attach(&switches_[a.sw]->port(a.sw_port), 0);
      } else {
        nics_[h][n]->attach(links_[a.link].get(), a.side);
      }
    }
  }
}

Platform::~Platform() {
  // The trace sinks (the writer, the journey recorder, the account) are members after the hosts,
  // links and switches, so they go first; and a host's teardown still runs its stack: an
  // application's destructor closes its socket, a connected one sends its FIN. Nothing after the
  // run reaches a sink: every emitter is detached before the members go.
  for (auto& h : hosts_) h->set_trace(nullptr, {});
  for (auto& l : links_) l->set_trace(nullptr);
  for (auto& w : switches_) w->set_trace(nullptr);
  // A NIC's pending RX writes hold frames of the sending NIC's pool, and the NICs go one by one:
  // every such frame goes back now, while every pool lives (the links and switches go before
  // the NICs, so theirs return to live pools on their own).
  for (auto& per_host : nics_) {
    for (auto& n : per_host) n->dma().drop_pending();
  }
}

unsigned Platform::host_index(std::string_view name) const {
  for (unsigned i = 0; i < s_.host_list.size(); ++i) {
    if (s_.host_list[i].name == name) return i;
  }
  throw std::out_of_range(fmt::format("the platform has no host {}", name));
}

DriverHost& Platform::driver_host(std::string_view name) {
  auto* h = dynamic_cast<DriverHost*>(&host(name));
  if (h == nullptr) throw std::runtime_error(fmt::format("host {} is not a driver host", name));
  return *h;
}

TestHost& Platform::test_host(std::string_view name) {
  auto* h = dynamic_cast<DirectHost*>(&host(name));
  if (h == nullptr) throw std::runtime_error(fmt::format("host {} is not a direct host", name));
  return h->test_host();
}

std::vector<PortId> Platform::ports() const {
  std::vector<PortId> v;
  for (unsigned h = 0; h < attach_.size(); ++h) {
    for (unsigned n = 0; n < attach_[h].size(); ++n) v.push_back({h, n});
  }
  return v;
}

PortId Platform::port(std::string_view host, unsigned n) const {
  const unsigned h = host_index(host);
  if (n >= attach_[h].size()) throw std::out_of_range(fmt::format("host {} has no eth{}", host, n));
  return {h, n};
}

PortId Platform::peer(PortId p) const {
  const Attach a = attach_.at(p.host).at(p.nic);
  if (a.sw != ~0u) throw std::runtime_error(fmt::format("{} is on switch {}: it has no one peer", label(p), s_.switches[a.sw].name));
  const PortRef& e = s_.links[a.link].ends[1 - a.side];
  const unsigned h = host_index(e.host);
  const auto& nics = s_.host_list[h].nics;
  return {h, static_cast<unsigned>(s_.host_list[h].nic(e.ifname) - nics.data())};
}

std::string Platform::peer_label(PortId p) const {
  const Attach a = attach_.at(p.host).at(p.nic);
  return a.sw != ~0u ? s_.switches[a.sw].name : label(peer(p));
}

std::optional<std::pair<unsigned, unsigned>> Platform::switch_port(PortId p) const {
  const Attach a = attach_.at(p.host).at(p.nic);
  if (a.sw == ~0u) return std::nullopt;
  return std::pair{a.sw, a.sw_port};
}

EthSwitch& Platform::eth_switch(std::string_view name) {
  for (unsigned i = 0; i < s_.switches.size(); ++i) {
    if (s_.switches[i].name == name) return *switches_[i];
  }
  throw std::out_of_range(fmt::format("the platform has no switch {}", name));
}

std::string Platform::label(PortId p) const {
  const HostConfig& h = s_.host_list.at(p.host);
  return PortRef{h.name, h.nics.at(p.nic).ifname}.label();
}

EthLink& Platform::link(std::string_view name) {
  for (unsigned i = 0; i < s_.links.size(); ++i) {
    if (s_.links[i].name == name) return *links_[i];
  }
  throw std::out_of_range(fmt::format("the platform has no link {}", name));
}

uint64_t Platform::total_delivered() {
  uint64_t n = 0;
  for (const PortId p : ports()) n += delivered(p);
  return n;
}

uint64_t Platform::total_sent() {
  uint64_t n = 0;
  for (const PortId p : ports()) n += sent(p);
  return n;
}

uint64_t Platform::total_to_send() const {
  uint64_t n = 0;
  for (const auto& h : s_.host_list) {
    for (const auto& nic : h.nics) n += nic.host.count;
  }
  return n;
}

void Platform::bring_up() {
  for (auto& h : hosts_) h->bring_up();
}

void Platform::run() { run([] {}, 0); }

bool Platform::traffic_done() const {
  for (const auto& h : hosts_) {
    if (!h->traffic_done()) return false;
  }
  return true;
}

uint64_t Platform::link_frames() const {
  uint64_t n = 0;
  for (const auto& l : links_) n += l->stats(0).frames + l->stats(1).frames + l->in_flight(0) + l->in_flight(1);
  for (const auto& w : switches_) {
    for (unsigned k = 0; k < w->num_ports(); ++k) {
      n += w->stats(k).rx_frames + w->stats(k).tx_frames + w->in_rx(k) + w->in_tx(k);
    }
  }
  return n;
}

void Platform::run(const std::function<void()>& tick, uint64_t slice_ps) {
  bring_up();
  // The run advances on a fixed grid of kQuietCheck (the same whatever the progress slice, so
  // slicing changes no result). It ends at stop_after if given; else when nothing is left to
  // simulate, or at the first grid point where every host's traffic is done and no frame has
  // crossed any link for kQuietChecks grid intervals (the neighbour table's timers would keep a
  // simulation alive for tens of seconds after the last packet).
  constexpr uint64_t kQuietCheck = 10'000'000'000;  // 10 ms
  constexpr int kQuietChecks = 2;
  const uint64_t stop = static_cast<uint64_t>(s_.stop_after.ps());
  uint64_t next_tick = slice_ps;
  uint64_t frames = link_frames();
  int quiet = 0;
  for (;;) {
    const uint64_t now = hw::to_ps(sc_core::sc_time_stamp());
    if (stop > 0 && now >= stop) break;
    uint64_t step = kQuietCheck - now % kQuietCheck;
    // The quiet check looks at the model at the grid point: nothing after it may have run ahead.
    if (stop == 0) q_->set_barrier(now + step);
    if (stop > 0) step = std::min(step, stop - now);
    if (slice_ps > 0) step = std::min(step, next_tick - now);
    if (stop > 0) {
      sc_core::sc_start(hw::from_ps(step));
    } else {
      // Ends, as a plain sc_start() does, at the last activity rather than at the step's end.
      if (!sc_core::sc_pending_activity()) break;
      if (hw::to_ps(sc_core::sc_time_to_pending_activity()) > step) {
        sc_core::sc_start(hw::from_ps(step));  // nothing happens before the step's end
      } else {
        sc_core::sc_start(hw::from_ps(step), sc_core::SC_EXIT_ON_STARVATION);
        if (!sc_core::sc_pending_activity()) break;
        // It stops at the last activity inside the step even when more comes later: move the
        // clock on to the step's end (nothing happens in between).
        const uint64_t at = hw::to_ps(sc_core::sc_time_stamp());
        if (at < now + step) sc_core::sc_start(hw::from_ps(now + step - at));
      }
    }
    const uint64_t t = hw::to_ps(sc_core::sc_time_stamp());
    if (slice_ps > 0 && t >= next_tick) {
      next_tick += slice_ps;
      tick();
    }
    if (stop == 0 && t % kQuietCheck == 0) {
      const uint64_t f = link_frames();
      quiet = f == frames && traffic_done() ? quiet + 1 : 0;
      frames = f;
      if (quiet >= kQuietChecks) {
        quiet_end_ps_ = q_->last_ps();  // the run's end: its last activity, not this grid point
        break;
      }
    }
  }
  finish_run();
}

void Platform::finish_run() {
  end_ps_ = quiet_end_ps_ != 0 ? quiet_end_ps_ : q_->now_ps();
  bool more = false;
  for (auto& h : hosts_) more = h->finish() || more;
  // ethtool -S reads the devices' counters through MMIO: let those reads run.
  if (more) sc_core::sc_start(sc_core::sc_time(1, sc_core::SC_MS));
  trace_.close();
  for (auto& w : switches_) w->close_captures();
}

std::vector<ConservationTerm> Platform::conservation_terms(PortId from) {
  if (const auto sp = switch_port(from)) {
    // A port on a switch: two sums, one per direction of its cable, as the switch counts them.
    //   sent = into the switch + tx drops + link drops (the port went down under it)
    //   out of the switch = delivered + rx drops
    // "unaccounted" is the sum of both sums' remainders in absolute value (0 when both hold).
    Host& h = *hosts_.at(from.host);
    const auto& st = switches_[sp->first]->stats(sp->second);
    const std::string& sw = s_.switches[sp->first].name;
    std::vector<ConservationTerm> t;
    t.push_back({"sent", "sent", static_cast<int64_t>(h.sent(from.nic))});
    t.push_back({"switch_rx", "into " + sw, static_cast<int64_t>(st.rx_frames)});
    int64_t out = t[0].value - t[1].value;
    for (auto& d : h.tx_drops(from.nic)) {
      out -= d.value;
      t.push_back(std::move(d));
    }
    t.push_back({"link_drops", "link drops", static_cast<int64_t>(st.rx_dropped_link_down)});
    out -= t.back().value;
    t.push_back({"switch_tx", "out of " + sw, static_cast<int64_t>(st.tx_frames)});
    t.push_back({"delivered", "delivered", static_cast<int64_t>(h.delivered(from.nic))});
    int64_t in = t[t.size() - 2].value - t.back().value;
    for (auto& d : h.rx_drops(from.nic)) {
      in -= d.value;
      t.push_back(std::move(d));
    }
    t.push_back({"unaccounted", "unaccounted", (out < 0 ? -out : out) + (in < 0 ? -in : in)});
    return t;
  }
  const PortId to = peer(from);
  Host& tx = *hosts_.at(from.host);
  Host& rx = *hosts_.at(to.host);
  const Attach a = attach_[from.host][from.nic];
  const auto& ls = links_[a.link]->stats(a.side);
  std::vector<ConservationTerm> t;
  t.push_back({"sent", "sent", static_cast<int64_t>(tx.sent(from.nic))});
  // The copies a link's duplication made arrive too: sent + link copies = delivered + drops
  // (the term only when there are copies, so other reports stay as they were).
  if (ls.duplicated != 0) t.push_back({"link_copies", "link copies", static_cast<int64_t>(ls.duplicated)});
  const std::size_t rhs = t.size();
  t.push_back({"delivered", "delivered", static_cast<int64_t>(rx.delivered(to.nic))});
  for (auto& d : tx.tx_drops(from.nic)) t.push_back(std::move(d));
  t.push_back({"link_drops", "link drops", static_cast<int64_t>(ls.dropped_fault + ls.dropped_link_down)});
  for (auto& d : rx.rx_drops(to.nic)) t.push_back(std::move(d));
  int64_t left = 0;
  for (std::size_t i = 0; i < t.size(); ++i) left += i < rhs ? t[i].value : -t[i].value;
  t.push_back({"unaccounted", "unaccounted", left});
  return t;
}

int64_t Platform::unaccounted(PortId from, std::string* detail) {
  const auto t = conservation_terms(from);
  if (detail && switch_port(from)) {
    std::string s = fmt::format("sent {} = {} {}", t[0].value, t[1].label, t[1].value);
    std::size_t i = 2;
    for (; t[i].name != "switch_tx"; ++i) s += fmt::format(" + {} {}", t[i].label, t[i].value);
    s += fmt::format("; {} {} = delivered {}", t[i].label, t[i].value, t[i + 1].value);
    for (i += 2; i + 1 < t.size(); ++i) s += fmt::format(" + {} {}", t[i].label, t[i].value);
    *detail = s + fmt::format(" (+ {} unaccounted)", t.back().value);
  } else if (detail) {
    const std::size_t d = t[1].name == "link_copies" ? 2 : 1;  // the first term of the right side
    *detail = fmt::format("sent {}", t[0].value);
    if (d == 2) *detail += fmt::format(" + {} {}", t[1].label, t[1].value);
    *detail += fmt::format(" = delivered {}", t[d].value);
    for (std::size_t i = d + 1; i + 1 < t.size(); ++i) *detail += fmt::format(" + {} {}", t[i].label, t[i].value);
    *detail += fmt::format(" (+ {} unaccounted)", t.back().value);
  }
  return t.back().value;
}

bool Platform::all_ok() {
  for (const PortId p : ports()) {
    if (unaccounted(p) != 0 || !rx_clean(p)) return false;
  }
  for (unsigned w = 0; w < switches_.size(); ++w) {
    if (switch_unaccounted(w) != 0) return false;
  }
  return account_ == nullptr || account_->exact();
}

std::string Platform::conservation_line(PortId from) {
  std::string detail;
  const int64_t left = unaccounted(from, &detail);
  return fmt::format("conservation {}->{}: {} [{}]\n", label(from), peer_label(from), detail,
                     left == 0 ? "ok" : "MISMATCH");
}

std::string Platform::link_report() {
  std::string s;
  for (unsigned l = 0; l < links_.size(); ++l) {
    const LinkConfig& c = s_.links[l];
    for (unsigned d = 0; d < 2; ++d) {
      const auto& ls = links_[l]->stats(d);
      s += fmt::format("link {}->{}: frames {} bytes {} dropped_fault {} dropped_link_down {} corrupted {} "
                       "tx_overlap_errors {} reordered {} duplicated {}\n",
                       c.ends[d].label(), c.ends[1 - d].label(), ls.frames, ls.bytes, ls.dropped_fault,
                       ls.dropped_link_down, ls.corrupted, ls.tx_overlap_errors, ls.reordered, ls.duplicated);
    }
  }
  return s;
}

int64_t Platform::switch_unaccounted(unsigned i, std::string* detail) {
  const EthSwitch& w = *switches_.at(i);
  SwitchPortStats sum;
  uint64_t inside = 0;
  for (unsigned k = 0; k < w.num_ports(); ++k) {
    const SwitchPortStats& st = w.stats(k);
    sum.rx_frames += st.rx_frames;
    sum.flood_copies += st.flood_copies;
    sum.tx_frames += st.tx_frames;
    sum.dropped_queue_full += st.dropped_queue_full;
    sum.dropped_filtered += st.dropped_filtered;
    sum.tx_dropped_link_down += st.tx_dropped_link_down;
    inside += w.in_tx(k);
  }
  const int64_t left = static_cast<int64_t>(sum.rx_frames + sum.flood_copies) -
                       static_cast<int64_t>(sum.tx_frames + sum.dropped_queue_full + sum.dropped_filtered +
                                            sum.tx_dropped_link_down + inside);
  if (detail) {
    *detail = fmt::format("in {} + flood copies {} = out {} + dropped_queue_full {} + dropped_filtered {} + "
                          "tx_dropped_link_down {} + inside {} (+ {} unaccounted)",
                          sum.rx_frames, sum.flood_copies, sum.tx_frames, sum.dropped_queue_full,
                          sum.dropped_filtered, sum.tx_dropped_link_down, inside, left);
  }
  return left;
}

std::string Platform::switch_report() {
  std::string s;
  for (unsigned i = 0; i < switches_.size(); ++i) {
    const SwitchConfig& c = s_.switches[i];
    EthSwitch& w = *switches_[i];
    s += fmt::format("switch {}: {} ports, latency {} ns, queue {} bytes per port, ageing {} s\n", c.name, c.ports,
                     c.latency.ps() / 1000, c.queue_bytes, c.ageing.ps() / 1'000'000'000'000);
    for (unsigned k = 0; k < w.num_ports(); ++k) {
      const SwitchPortStats& st = w.stats(k);
      const std::string who = k < c.attached.size() ? c.attached[k].label() : "-";
      s += fmt::format("switch {} port {} ({}, {} Gb/s{}): rx_frames {} rx_bytes {} tx_frames {} tx_bytes {} "
                       "flood_copies {} dropped_queue_full {} dropped_filtered {} rx_dropped_link_down {} "
                       "tx_dropped_link_down {} queue_max_bytes {}\n",
                       c.name, k, who, c.rate(k).gbps_f(), w.port_up(k) ? "" : ", down", st.rx_frames, st.rx_bytes,
                       st.tx_frames, st.tx_bytes, st.flood_copies, st.dropped_queue_full, st.dropped_filtered,
                       st.rx_dropped_link_down, st.tx_dropped_link_down, st.queue_max_bytes);
    }
    std::string detail;
    const int64_t left = switch_unaccounted(i, &detail);
    s += fmt::format("conservation {}: {} [{}]\n", c.name, detail, left == 0 ? "ok" : "MISMATCH");
    // As `bridge fdb show br NAME` lists the learned entries (with the age `-s` would add).
    s += fmt::format("$ bridge fdb show br {}\n", c.name);
    for (const auto& e : w.fdb(end_ps_)) {
      const std::string who = e.port < c.attached.size() ? c.attached[e.port].label() : "-";
      s += fmt::format("{} dev {}-p{} master {} ({}) age {:.6f} s\n", e.mac.str(), c.name, e.port, c.name, who,
                       static_cast<double>(e.age_ps) / 1e12);
    }
  }
  return s;
}

std::vector<ReportView> Platform::host_views(unsigned i) {
  std::vector<std::string> cons;
  for (unsigned n = 0; n < hosts_.at(i)->num_ports(); ++n) cons.push_back(conservation_line({i, n}));
  return hosts_[i]->views(end_ps_, cons);
}

std::string Platform::report() {
  std::string links;
  if (s_.links.size() == 1) {
    links = fmt::format("link: {} Gb/s", s_.links[0].rate.gbps_f());
  } else if (!s_.links.empty()) {
    links = "links:";
    for (std::size_t l = 0; l < s_.links.size(); ++l) {
      links += fmt::format("{} {} {} Gb/s", l == 0 ? "" : ",", s_.links[l].name, s_.links[l].rate.gbps_f());
    }
  }
  if (!s_.switches.empty()) {
    links += links.empty() ? "switches:" : "  switches:";
    for (std::size_t w = 0; w < s_.switches.size(); ++w) {
      links += fmt::format("{} {} {} ports", w == 0 ? "" : ",", s_.switches[w].name, s_.switches[w].ports);
    }
  }
  std::string s = fmt::format("scenario: {}  seed: {}  {}  hosts: {}  simulated time: {:.6f} s\n\n", s_.name, s_.seed,
                              links, s_.hosts, static_cast<double>(end_ps_) / 1e12);
  for (unsigned i = 0; i < hosts_.size(); ++i) {
    Host& h = *hosts_[i];
    std::string ports;
    for (unsigned n = 0; n < h.num_ports(); ++n) ports += (n == 0 ? "" : "; ") + h.port_header(n);
    s += fmt::format("== host {} ({}) ==\n", h.host_name(), ports);
    for (const auto& view : host_views(i)) {
      if (!view.command.empty()) s += h.prompt() + view.command + "\n";
      s += view.text;
    }
    s += "\n";
  }
  s += link_report();
  if (!switches_.empty()) s += (links_.empty() ? "" : "\n") + switch_report();
  if (account_) s += "\npacket account (every packet from where it was made to its end):\n" + account_->report();
  return s;
}

}  // namespace vnic::tb
