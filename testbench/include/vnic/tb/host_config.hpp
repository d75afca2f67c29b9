// The scenario's hosts, NICs and links as plain config structs (what [host.NAME],
// [host.NAME.ethN], [link] and [link.NAME] say), kept apart from the parser so that the wiring
// of the protocol stack can map them without touching it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vnic/driver/vnic_driver.hpp"
#include "vnic/model/mac_addr.hpp"
#include "vnic/model/units.hpp"
#include "vnic/stack/cpu.hpp"
#include "vnic/stack/softnet.hpp"
#include "vnic/stack/tcp.hpp"
#include "vnic/tb/fault_injector.hpp"
#include "vnic/tb/test_host.hpp"

namespace vnic::tb {

// An IPv4 address with its prefix length ("10.0.0.1/24"); addr in host byte order.
struct Ipv4Cidr {
  uint32_t addr = 0;
  uint8_t prefix = 32;
  // "a.b.c.d/len" (len 0..32); nullopt on anything else.
  static std::optional<Ipv4Cidr> parse(std::string_view text);
  std::string str() const;
  uint32_t netmask() const { return prefix == 0 ? 0u : ~uint32_t{0} << (32 - prefix); }
  bool operator==(const Ipv4Cidr&) const = default;
};
// A dotted quad ("10.0.0.2"); nullopt on anything else.
std::optional<uint32_t> parse_ipv4(std::string_view text);
std::string ipv4_str(uint32_t addr);

// One route, in `ip route add` syntax: "10.0.2.0/24 via 10.0.1.2 dev eth1 metric 10 src 10.0.1.1",
// "default via 10.0.0.2". dst is 0.0.0.0/0 for default.
struct RouteConfig {
  Ipv4Cidr dst{0, 0};
  std::optional<uint32_t> via;
  std::string dev;  // empty: chosen by the gateway's connected route
  std::optional<uint32_t> metric;
  std::optional<uint32_t> src;
  std::string text;  // as written in the scenario
};
// Parses one route; nullopt and *why on a syntax error (devices are checked by the scenario).
std::optional<RouteConfig> parse_route(std::string_view text, std::string* why);

// A host's sysctls by their Linux leaf names, Linux 6.1's defaults ([sysctl] for every host,
// [host.NAME.sysctl] for one).
struct HostSysctls {
  stack::NetCoreSysctls core{};  // netdev_budget, netdev_budget_usecs, dev_weight, netdev_max_backlog
  std::string default_qdisc = "fq_codel";    // net.core.default_qdisc as Debian 12 sets it (the kernel: pfifo_fast)
  int ip_forward = 0;                        // net.ipv4.ip_forward
  int ip_forward_update_priority = 1;        // net.ipv4.ip_forward_update_priority
  int ip_default_ttl = 64;                   // net.ipv4.ip_default_ttl
  int arp_notify = 0;                        // net.ipv4.conf.all.arp_notify
  int icmp_ratelimit = 1000;                 // net.ipv4.icmp_ratelimit, ms
  uint32_t icmp_ratemask = 6168;             // net.ipv4.icmp_ratemask
  int icmp_msgs_per_sec = 1000;              // net.ipv4.icmp_msgs_per_sec
  int icmp_msgs_burst = 50;                  // net.ipv4.icmp_msgs_burst
  int icmp_echo_ignore_all = 0;              // net.ipv4.icmp_echo_ignore_all
  int icmp_echo_ignore_broadcasts = 1;       // net.ipv4.icmp_echo_ignore_broadcasts
  int64_t ipfrag_high_thresh = 4194304;      // net.ipv4.ipfrag_high_thresh, bytes
  int64_t ipfrag_low_thresh = 3145728;       // net.ipv4.ipfrag_low_thresh
  int ipfrag_time = 30;                      // net.ipv4.ipfrag_time, s
  int ipfrag_max_dist = 64;                  // net.ipv4.ipfrag_max_dist
  // net.ipv4.tcp_* (tcp_rmem, tcp_wmem, tcp_congestion_control, tcp_sack, tcp_timestamps,
  // tcp_window_scaling, tcp_recovery, tcp_early_retrans), Linux 6.1's defaults.
  stack::TcpSysctls tcp{};
};

// `ping` run on a host ([host.NAME.ping]): ping -c count -i interval -s size -t ttl -w deadline dst.
struct PingConfig {
  bool enabled = true;             // false: no ping (turns off one a lower layer set)
  uint32_t dst = 0;                // an IPv4 address
  uint32_t count = 0;              // 0: until the deadline (or the run's end)
  uint32_t interval_ms = 1000;
  uint32_t size = 56;              // ICMP payload bytes
  std::optional<uint32_t> ttl;     // unset: ip_default_ttl
  uint32_t start_ms = 0;           // after the host is up
  std::optional<uint32_t> deadline_s;
};

// UDP applications on a driver host (docs/guide.md, "UDP applications"; docs/stack.md has the models).
// [host.NAME.udp_send]: iperf -c dst -u -p port -l len -b rate (-n count*len | -t duration); a
// host may run several ([[host.NAME.udp_send]], an array of tables), each its own iperf.
struct UdpSendConfig {
  uint32_t dst = 0;                // an IPv4 address
  uint16_t port = 5001;
  uint32_t len = 1470;             // UDP payload bytes (iperf 2's default)
  uint64_t rate_bps = 1048576;     // payload bits/s; 0: as fast as the socket lets
  uint64_t count = 0;              // datagrams; 0: for duration_ms
  uint32_t duration_ms = 10;
  uint32_t start_ms = 0;           // after the host is up
  int sndbuf = 0;                  // SO_SNDBUF (0: wmem_default)
};
// [host.NAME.udp_recv]: iperf -s -u -p port, with a per-read cost and SO_RCVBUF; several as
// [[host.NAME.udp_recv]], on distinct ports.
struct UdpRecvConfig {
  uint16_t port = 5001;
  uint32_t read_cost_ns = 0;       // the application's work per datagram
  int rcvbuf = 0;                  // SO_RCVBUF (0: rmem_default)
  bool use_epoll = false;
};
// [host.NAME.udp_rr]: netperf -t UDP_RR -H dst -- -r req,resp (count transactions or duration_ms).
struct UdpRrConfig {
  uint32_t dst = 0;
  uint16_t port = 5002;
  uint32_t req = 1, resp = 1;
  uint64_t count = 0;
  uint32_t duration_ms = 10;
  uint32_t start_ms = 0;
  uint32_t timeout_ms = 100;       // a transaction with no response by then counts lost
};

// TCP applications on a driver host (docs/guide.md, "TCP applications"; stack/apps/tcp_apps.hpp
// has the models). Every key takes one table or an array of tables ([[host.NAME.tcp_rr]]), each
// its own program. `dst` is a host's name (its first NIC's address) or an IPv4 address; the
// parser resolves it into dst and keeps the name in dst_host ("" for an address).
// [host.NAME.tcp_iperf3_server]: iperf3 -s -p port (one test: it accepts one connection).
struct TcpIperf3ServerConfig {
  uint16_t port = 5201;
  uint32_t interval_ms = 1000;     // -i
};
// [host.NAME.tcp_iperf3_client]: iperf3 -c dst -p port -l len (-n bytes | -t duration).
struct TcpIperf3ClientConfig {
  uint32_t dst = 0;
  std::string dst_host;
  uint16_t port = 5201;
  uint64_t bytes = 0;              // 0: by duration_ms
  uint32_t duration_ms = 10;
  uint32_t len = 128 * 1024;       // the write size (iperf3's TCP default)
  uint32_t interval_ms = 1000;     // -i
  uint32_t start_ms = 0;           // after the host is up
};
// [host.NAME.tcp_rr] / [host.NAME.tcp_crr]: netperf -t TCP_RR|TCP_CRR -H dst -- -P ,port -r req,resp.
struct TcpNetperfConfig {
  uint32_t dst = 0;
  std::string dst_host;
  uint16_t port = 12866;           // netserver's data port (its control port 12865 is not modelled)
  uint32_t req = 1, resp = 1;
  uint64_t count = 0;              // transactions; 0: by duration_ms
  uint32_t duration_ms = 10;
  bool nodelay = false;            // -D (TCP_RR only)
  bool latency = false;            // -o min_latency,...: the latency percentiles, not the legacy report
  uint32_t start_ms = 0;
};
// [host.NAME.netserver]: netserver's data side on `port`. What it serves (TCP_RR or TCP_CRR,
// the request and response sizes) the netperf control connection would tell it: the parser takes
// them from the scenario's client of this port (RR 1,1 if none).
struct NetserverConfig {
  uint16_t port = 12866;
  bool crr = false;
  uint32_t req = 1, resp = 1;
};

// What the protocol stack's steps cost the CPU ([cpu] *_ns keys beyond the driver's); the
// defaults are the stack's own (stack::CpuCosts), the wiring maps these onto it.
struct StackCpuCosts {
  model::Duration ip_rcv = stack::CpuCosts{}.ip_rcv;
  model::Duration ip_local_deliver = stack::CpuCosts{}.ip_local_deliver;
  model::Duration ip_output = stack::CpuCosts{}.ip_output;
  model::Duration tc_ingress = stack::CpuCosts{}.tc_ingress;
  model::Duration tap = stack::CpuCosts{}.tap;
  model::Duration icmp = stack::CpuCosts{}.icmp;
  model::Duration ip_forward = stack::CpuCosts{}.ip_forward;
  model::Duration nf_hook = stack::CpuCosts{}.nf_hook;
  model::Duration ip_fragment = stack::CpuCosts{}.ip_fragment;
  model::Duration ip_defrag = stack::CpuCosts{}.ip_defrag;
  model::Duration gro_receive = stack::CpuCosts{}.gro_receive;
  model::Duration syscall = stack::CpuCosts{}.syscall;
  model::Duration udp_sendmsg = stack::CpuCosts{}.udp_sendmsg;
  model::Duration udp_rcv = stack::CpuCosts{}.udp_rcv;
  model::Duration sock_recvmsg = stack::CpuCosts{}.sock_recvmsg;
  model::Duration wakeup = stack::CpuCosts{}.wakeup;
  model::Duration context_switch = stack::CpuCosts{}.context_switch;
  model::Duration epoll_wait = stack::CpuCosts{}.epoll_wait;
};

// The driver's interrupt moderation defaults (ethtool -C, driver::DriverConfig): every host,
// driver or direct, starts from these unless the scenario sets rx-usecs / rx-frames / tx-usecs /
// tx-frames, and the platform hands the result to either kind the same way.
inline Coalesce default_coalesce() {
  const stack::EthtoolCoalesce d = driver::DriverConfig{}.coalesce;
  return Coalesce{d.rx_coalesce_usecs,        d.rx_max_coalesced_frames,  d.tx_coalesce_usecs,
                  d.tx_max_coalesced_frames,  d.use_adaptive_rx_coalesce, d.use_adaptive_tx_coalesce};
}

inline TestHostConfig default_nic_traffic() {
  TestHostConfig c;
  c.coalesce = default_coalesce();
  return c;
}

// One NIC of a host: [host.NAME] describes eth0, [host.NAME.ethN] the others.
struct NicSide {
  std::string ifname = "eth0";
  model::MacAddr mac{};
  // Rings, moderation, RX buffer size and the pktgen traffic of this NIC (count, pattern, interval).
  TestHostConfig host = default_nic_traffic();
  std::optional<Ipv4Cidr> address;  // for the stack
  std::string qdisc;                // "fq_codel" | "pfifo_fast" | "noqueue"; empty: the host's default_qdisc
  std::string tcpdump;              // `tcpdump -i ethN -w FILE` on the stack's tap; empty: none
  std::string switch_name;          // `switch = "sw0"`: on that switch's next free port, not on a link
  // This NIC's offloads (driver hosts); unset: [driver]'s (DriverSide).
  std::optional<bool> gso, gro;
  std::optional<uint32_t> gso_max_size, gso_max_segs;
};

struct HostConfig {
  std::string name;                 // [a-z][a-z0-9_-]*
  bool iommu = false;               // the host's IOMMU-like check on device accesses
  // Tests only, not a scenario key: each NIC's driver reaches its bus through a
  // driver::FaultInjectingBus (DriverHost::fault_bus) that a test arms. Driver hosts only.
  bool fault_injection = false;
  std::vector<NicSide> nics;        // nics[0] is eth0, nics[i] is eth<i>
  std::vector<RouteConfig> routes;  // for the stack
  HostSysctls sysctl{};
  std::optional<PingConfig> ping;   // for the stack
  std::vector<UdpSendConfig> udp_send;  // UDP applications (driver hosts)
  std::vector<UdpRecvConfig> udp_recv;
  std::optional<UdpRrConfig> udp_rr;
  std::optional<uint16_t> udp_rr_server;  // [host.NAME.udp_rr_server] port
  std::vector<TcpIperf3ServerConfig> tcp_iperf3_server;  // TCP applications (driver hosts)
  std::vector<TcpIperf3ClientConfig> tcp_iperf3_client;
  std::vector<TcpNetperfConfig> tcp_rr;
  std::vector<TcpNetperfConfig> tcp_crr;
  std::vector<NetserverConfig> netserver;
  std::vector<std::string> iptables;  // iptables commands run at boot (for the stack)
  // The NIC named `ifname` ("eth1"), or nullptr.
  const NicSide* nic(std::string_view ifname) const;
  NicSide* nic(std::string_view ifname);
};

// One end of a link: host and interface ("a.eth1").
struct PortRef {
  std::string host;
  std::string ifname = "eth0";
  std::string str() const { return host + "." + ifname; }
  // How reports name it: the host alone for eth0 ("a"), else "a.eth1".
  std::string label() const { return ifname == "eth0" ? host : str(); }
  bool operator==(const PortRef&) const = default;
};

struct LinkConfig {
  std::string name = "link";  // "link" for [link], NAME for [link.NAME]
  PortRef ends[2]{{"a", "eth0"}, {"b", "eth0"}};
  model::BitRate rate = model::BitRate::gbps(10);
  model::Duration propagation = model::Duration::ns(5);
  FaultConfig faults{};
  std::string pcap;  // empty: no capture
};

// [switch.NAME]: a learning store-and-forward switch (tb::EthSwitch); NICs join it with
// `switch = "NAME"`, taking its ports in host name order, then NIC order.
struct SwitchConfig {
  std::string name;
  unsigned ports = 8;
  model::BitRate speed = model::BitRate::gbps(10);  // every port's, unless port_speed says otherwise
  std::vector<std::pair<PortRef, model::BitRate>> port_speed;  // by the NIC on the port
  uint64_t queue_bytes = 512 * 1024;                            // per port's output queue
  model::Duration latency = model::Duration::us(1);             // last bit in to first bit out
  model::Duration propagation = model::Duration::ns(5);         // each port's cable
  model::Duration ageing = model::Duration::s(300);             // the learning table's (802.1D)
  std::string pcap;                 // "sw0.pcap": one capture per port, sw0-p0.pcap, ...; empty: none
  std::vector<PortRef> attached;    // port k's NIC (the parser fills it); ports beyond are empty
  // The rate of port k.
  model::BitRate rate(unsigned k) const {
    if (k < attached.size()) {
      for (const auto& [ref, r] : port_speed) {
        if (ref == attached[k]) return r;
      }
    }
    return speed;
  }
  // Port k's capture file ("" without pcap): the pcap's name with -pK before its extension.
  std::string port_pcap(unsigned k) const;
};

}  // namespace vnic::tb
