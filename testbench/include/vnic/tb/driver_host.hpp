// DriverHost: a host that runs the driver model: its CPU cores with their softnet, an skb pool,
// and per NIC a PCI function on the host's bus (PciHostBus), a vnic driver instance (eth0,
// eth1, ...) with its own interrupt vectors, a pktgen thread that sends and a checker that
// receives, and the host's protocol stack (stack::NetStack: ARP, IPv4, ICMP, ping) above them;
// the stack hands the pattern traffic (EtherType 0x88B5) to the checker of its device.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vnic/driver/fault_bus.hpp"
#include "vnic/driver/vnic_driver.hpp"
#include "vnic/hw/event_queue.hpp"
#include "vnic/hw/nic.hpp"
#include "vnic/model/trace.hpp"
#include "vnic/stack/apps/ping_app.hpp"
#include "vnic/stack/apps/tcp_apps.hpp"
#include "vnic/stack/apps/udp_apps.hpp"
#include "vnic/stack/udp.hpp"
#include "vnic/stack/co.hpp"
#include "vnic/stack/icmp.hpp"
#include "vnic/stack/net.hpp"
#include "vnic/stack/softnet.hpp"
#include "vnic/stack/tcp.hpp"
#include "vnic/tb/host.hpp"
#include "vnic/tb/host_cpu.hpp"
#include "vnic/tb/host_memory.hpp"
#include "vnic/tb/pci_host_bus.hpp"
#include "vnic/tb/pcap.hpp"
#include "vnic/tb/pktgen.hpp"

namespace vnic::tb {

// One NIC of a driver host.
struct DriverNicConfig {
  driver::DriverConfig drv{};  // drv.ifname: eth0, eth1, ...
  PktGenConfig gen{};
  std::string bus_info = "0000:01:00.0";  // domain:bus:device.function
  uint64_t bar0_base = 0xF000'0000;        // where the function's BAR0 is placed
  std::optional<stack::Ipv4Cidr> address;  // `ip addr add` once the device is up
  std::string qdisc;                       // its root qdisc (empty: net.core.default_qdisc)
  // `tcpdump -i ethN -w FILE`: a ptype_all tap writing what the stack sends and receives on the
  // device (frames without FCS; pktgen's frames bypass the stack on the way out, as in Linux).
  std::string tcpdump;
  // Tests: the driver reaches the bus through a driver::FaultInjectingBus (fault_bus(port)).
  bool fault_injection = false;
  // Offloads set before the device is opened, as `ethtool -K ethN gso|gro on|off` and `ip link set
  // ethN gso_max_size N gso_max_segs N` would (NetDevice's gso, gro, gso_max_size, gso_max_segs).
  bool gso = true;
  bool gro = true;
  uint32_t gso_max_size = 65536;
  uint16_t gso_max_segs = 65535;
};

// One `ip route add` of the host: the device by name (empty: the gateway's connected route's).
struct DriverRoute {
  stack::FibRoute route{};
  std::string dev;
  std::string text;  // as the scenario wrote it (errors)
};

struct DriverHostConfig {
  std::vector<DriverNicConfig> nics = std::vector<DriverNicConfig>(1);
  stack::CpuCosts costs{};
  stack::NetCoreSysctls sysctl{};
  uint32_t skb_pool = 16384;  // skbs that may exist at once (all NICs of the host)
  // CPU cores. The NICs' interrupts (and so NAPI) are bound to cpu0; pktgen runs on the last core.
  unsigned cpus = 2;
  uint32_t mtu = 1500;
  // The protocol stack: the host's network namespace (sysctls, seed), its routes, and a ping
  // run on the last core once every NIC is up (start relative to then).
  stack::NetStackConfig net{};
  std::vector<DriverRoute> routes;
  std::vector<std::string> iptables;  // run at boot, before the NICs come up
  std::optional<stack::PingOptions> ping;
  // UDP applications on the last core (docs/stack.md, "UDP applications"): iperf -c -u, iperf -s -u,
  // netperf UDP_RR and its netserver side; their start times relative to the host being up.
  std::vector<stack::UdpSendOptions> udp_send;
  std::vector<stack::UdpRecvOptions> udp_recv;
  std::optional<stack::UdpRrOptions> udp_rr;
  std::optional<uint16_t> udp_rr_server;  // the port it answers on
  // net.ipv4.tcp_* of the host's TCP ([sysctl] / [host.NAME.sysctl]).
  stack::TcpSysctls tcp{};
  // TCP applications on the last core (stack/apps/tcp_apps.hpp): iperf3 -s and -c, netperf
  // TCP_RR and TCP_CRR and netserver's side; the clients' start times relative to the host being
  // up. The servers listen from then on; a client finds its server's results (iperf3's
  // EXCHANGE_RESULTS, netperf's remote socket sizes) through set_tcp_peers.
  std::vector<stack::Iperf3ServerOptions> iperf3_server;
  std::vector<stack::Iperf3ClientOptions> iperf3_client;
  std::vector<stack::NetperfTcpOptions> tcp_rr;   // test RR
  std::vector<stack::NetperfTcpOptions> tcp_crr;  // test CRR
  std::vector<stack::NetperfTcpServerOptions> netserver;
};

class DriverHost final : public Host {
 public:
  // `name` is the trace source and module prefix ("host_a"); `host_name` the scenario's ("a").
  DriverHost(const std::string& name, hw::EventQueue& q, HostMemory& mem, const DriverHostConfig& cfg,
             std::string host_name = "");
  ~DriverHost() override;

  // Host
  const std::string& host_name() const override { return host_name_; }
  unsigned num_ports() const override { return static_cast<unsigned>(ports_.size()); }
  HostMemory& memory() override { return mem_; }
  void connect(unsigned port, hw::Nic& nic) override;
  void expect(unsigned port, const TrafficPattern& p) override { ports_.at(port)->checker.expect(p); }
  void expect_also(unsigned port, const TrafficPattern& p, const model::MacAddr& me) override {
    ports_.at(port)->checker.expect_also(p, me);
  }
  void set_trace(model::TraceSink* sink, const std::vector<uint64_t>& id_base) override;
  std::string trace_source(unsigned) const override { return name_; }
  // Starts a task: probe and open each NIC's driver in turn, then its pktgen.
  void bring_up() override;
  // Every pktgen has sent its frames, the ping (if any) has finished, no TX queue holds packets.
  bool traffic_done() const override;
  // Reads the devices' counters; throws std::runtime_error if setting up the stack failed.
  bool finish() override;
  // What the NIC was given to send: pktgen's frames and the stack's (ARP, ICMP, ...).
  uint64_t sent(unsigned port) const override {
    return ports_.at(port)->gen->stats().sent + ports_.at(port)->drv->tx_from_core;
  }
  // What the driver handed to the kernel stack (netif_receive_skb / netif_rx); the stack's own
  // fate of each packet is the per-packet account's (PacketAccount).
  uint64_t delivered(unsigned port) const override;
  bool rx_clean(unsigned port) const override;
  std::vector<ConservationTerm> tx_drops(unsigned port) const override;
  std::vector<ConservationTerm> rx_drops(unsigned port) const override;
  std::string port_header(unsigned port) const override;
  std::string prompt() const override { return "[host " + host_name_ + "]$ "; }
  std::vector<ReportView> views(uint64_t elapsed_ps, const std::vector<std::string>& conservation) const override;
  nlohmann::ordered_json port_summary(unsigned port, double sim_s) const override;
  nlohmann::ordered_json host_summary(double sim_s) const override;

  // Port 0 alone (the single-NIC form tests use): connect and trace.
  void connect(hw::Nic& nic) { connect(0, nic); }
  // Trace events of this host (CPUs, softnet, drivers, pktgens, checkers) go to `sink`; packets
  // port i makes get ids from id_base + (i << 32) + 1 on, and carry them across the descriptor
  // interface through that port's side band (model::PacketTags), which its NIC shares.
  void set_trace(stack::TraceSink* sink, uint64_t id_base = 0);
  const std::string& name() const { return name_; }
  void expect(const TrafficPattern& p) { expect(0, p); }
  // Starts a task reading every NIC's counters for ethtool -S (run the simulation after it).
  void refresh_stats();
  // Starts any task on this host (tests: close, reopen, ethtool calls).
  void spawn(stack::Co<void> task) { tasks_.spawn(std::move(task)); }
  std::size_t tasks_running() const { return tasks_.running(); }

  int probe_rc(unsigned port = 0) const { return ports_.at(port)->probe_rc; }
  int open_rc(unsigned port = 0) const { return ports_.at(port)->open_rc; }
  bool up(unsigned port = 0) const { return ports_.at(port)->drv->up; }

  SmpCpus& cpus() { return cpus_; }
  HostCpu& cpu(unsigned i = 0) { return cpus_.core(i); }
  const HostCpu& cpu(unsigned i = 0) const { return cpus_.core(i); }
  PciHostBus& bus(unsigned port = 0) { return *ports_.at(port)->bus; }
  const PciHostBus& bus(unsigned port = 0) const { return *ports_.at(port)->bus; }
  // The fault-injecting decorator between the port's driver and its bus (DriverNicConfig::
  // fault_injection), or nullptr.
  driver::FaultInjectingBus* fault_bus(unsigned port = 0) { return ports_.at(port)->fault_bus.get(); }
  // cpu i's softnet_data (cpu0's takes the NICs' packets).
  stack::Softnet& softnet(unsigned i = 0) { return *softnet_[i]; }
  const stack::Softnet& softnet(unsigned i = 0) const { return *softnet_[i]; }
  // softnet_stat columns summed over the CPUs.
  stack::SoftnetStats softnet_total() const;
  stack::SkbPool& skbs() { return skbs_; }
  driver::VnicDriver& driver(unsigned port = 0) { return *ports_.at(port)->drv; }
  const driver::VnicDriver& driver(unsigned port = 0) const { return *ports_.at(port)->drv; }
  PktGen& pktgen(unsigned port = 0) { return *ports_.at(port)->gen; }
  const PktGen& pktgen(unsigned port = 0) const { return *ports_.at(port)->gen; }
  const RxChecker& checker(unsigned port = 0) const { return ports_.at(port)->checker; }
  // pktgen's IPv4/UDP floods addressed to this host: each sender's pattern checked by the
  // testbench's discard sink, a kernel UDP socket bound to port 9 (0.0.0.0:9, made with the
  // first) whose encap_rcv hook takes each datagram in softirq, as a tunnel's socket does, and
  // hands it to the checker of its source address. It passes through udp_rcv like any datagram
  // (checksum, lookup, Udp: InDatagrams); a UDP application of the host may not use port 9.
  void expect_udp(const TrafficPattern& p);
  std::size_t udp_sinks() const { return udp_sinks_.size(); }
  const RxChecker& udp_sink(std::size_t i) const { return *udp_sinks_.at(i); }
  // Datagrams to port 9 from no expected sender: dropped by the sink (NOT_SPECIFIED, counter udp_sink_unknown).
  uint64_t udp_unknown() const { return udp_unknown_; }
  const DriverHostConfig& config() const { return cfg_; }
  // Pattern frames (EtherType 0x88B5) the stack handed to the checkers from a device that is
  // none of this host's NICs (dropped).
  uint64_t rx_unknown_dev() const { return rx_unknown_dev_; }
  // The host's network namespace (the protocol stack), its ICMP and its ping (nullptr if none).
  stack::NetStack& net() { return *net_; }
  const stack::NetStack& net() const { return *net_; }
  stack::Icmp& icmp() { return *icmp_; }
  const stack::PingApp* ping() const { return ping_.get(); }
  // The host's UDP (its MIB, sockets) and its UDP applications (nullptr if none).
  stack::Udp& udp() { return *udp_; }
  const stack::Udp& udp() const { return *udp_; }
  // The host's TCP (IP protocol 6 of its NetStack: its MIBs, sockets), made as udp() is.
  stack::Tcp& tcp() { return *tcp_; }
  const stack::Tcp& tcp() const { return *tcp_; }
  // The i-th [host.NAME.udp_send] / udp_recv in the scenario's order (nullptr if none or not started).
  const stack::UdpSender* udp_sender(std::size_t i = 0) const { return i < udp_send_.size() ? udp_send_[i].get() : nullptr; }
  const stack::UdpReceiver* udp_receiver(std::size_t i = 0) const {
    return i < udp_recv_.size() ? udp_recv_[i].get() : nullptr;
  }
  // The i-th [host.NAME.tcp_iperf3_server] / tcp_iperf3_client / tcp_rr / tcp_crr / netserver in the
  // scenario's order (nullptr if none or, for a client, not started yet). The servers exist from
  // construction on (they start listening when the host is up).
  const stack::Iperf3Server* iperf3_server(std::size_t i = 0) const {
    return i < iperf3_server_.size() ? iperf3_server_[i].get() : nullptr;
  }
  const stack::Iperf3Client* iperf3_client(std::size_t i = 0) const {
    return i < iperf3_client_.size() ? iperf3_client_[i].get() : nullptr;
  }
  const stack::NetperfTcpClient* tcp_rr_client(std::size_t i = 0) const {
    return i < tcp_rr_.size() ? tcp_rr_[i].get() : nullptr;
  }
  const stack::NetperfTcpClient* tcp_crr_client(std::size_t i = 0) const {
    return i < tcp_crr_.size() ? tcp_crr_[i].get() : nullptr;
  }
  const stack::NetperfTcpServer* netserver(std::size_t i = 0) const {
    return i < netserver_.size() ? netserver_[i].get() : nullptr;
  }
  // This host's iperf3 server / netserver on a port (nullptr if none).
  const stack::Iperf3Server* iperf3_server_on(uint16_t port) const;
  const stack::NetperfTcpServer* netserver_on(uint16_t port) const;
  // The host that owns an address (nullptr: none of the scenario's), for a TCP client to find
  // its server's results; set by the platform before bring_up.
  using TcpPeers = std::function<const DriverHost*(stack::Ipv4Addr)>;
  void set_tcp_peers(TcpPeers peers) { tcp_peers_ = std::move(peers); }
  const stack::UdpRrClient* udp_rr_client() const { return udp_rr_.get(); }
  const stack::UdpRrServer* udp_rr_server() const { return udp_rr_server_.get(); }
  int ifindex(unsigned port = 0) const { return ports_.at(port)->ifindex; }
  // Setting up the stack at bring-up failed (an address or route refused): why, else empty.
  const std::string& stack_error() const { return stack_error_; }

  // /sys/class/net/<if>/queues/tx-0/byte_queue_limits/{limit,inflight} as `grep` prints them.
  std::string bql_sysfs(unsigned port = 0) const;
  // `ethtool -S <ifname>`, `ethtool -c`, `ethtool -g` and `ethtool <ifname>` output.
  std::string ethtool_s(unsigned port = 0) const;
  std::string ethtool_c(unsigned port = 0) const;
  std::string ethtool_g(unsigned port = 0) const;
  std::string ethtool_k(unsigned port = 0) const;
  std::string ethtool_link(unsigned port = 0) const;
  // /proc/net/softnet_stat (one line per CPU).
  std::string softnet_stat() const;
  // CPU time by context over `elapsed`, one line per CPU.
  std::string cpu_usage(uint64_t elapsed_ps) const;

 private:
  struct Port {
    DriverNicConfig cfg;
    std::unique_ptr<PciHostBus> bus;
    std::unique_ptr<driver::FaultInjectingBus> fault_bus;  // between drv and bus, if asked for
    std::unique_ptr<driver::VnicDriver> drv;
    std::unique_ptr<PktGen> gen;
    RxChecker checker;
    hw::Nic* nic = nullptr;
    model::PacketTags tags;
    int probe_rc = 1, open_rc = 1;  // 1: not run yet
    int ifindex = 0;                // in the host's namespace
    std::unique_ptr<PcapWriter> tcpdump;
  };
  static void tcpdump_tap(void* ctx, const stack::SkBuff& skb, bool outgoing, stack::Instant t);
  static std::string core_usage(const HostCpu& cpu, uint64_t elapsed_ps);
  // ptype_base handler of the pattern traffic (EtherType 0x88B5): the packet's device picks the checker.
  static void rx(void* ctx, stack::SkBuff* skb);
  static int udp_sink_rcv(void* ctx, stack::UdpSock& sk, stack::SkBuff* skb);
  stack::UdpSock* udp_sink_sock_ = nullptr;
  std::vector<std::unique_ptr<RxChecker>> udp_sinks_;
  uint64_t udp_unknown_ = 0;
  // After every NIC is up: the routes, then the ping.
  void stack_up();
  stack::Co<void> bring_up_task();
  stack::Co<void> refresh_task();

  std::string name_;
  std::string host_name_;
  HostMemory& mem_;
  DriverHostConfig cfg_;
  SmpCpus cpus_;
  std::vector<std::unique_ptr<Port>> ports_;  // before the pool: its page allocator is port 0's bus
  std::vector<std::unique_ptr<stack::Softnet>> softnet_;
  stack::SkbPool skbs_;
  std::unique_ptr<stack::NetStack> net_;
  std::unique_ptr<stack::Icmp> icmp_;
  std::unique_ptr<stack::PingApp> ping_;
  std::unique_ptr<stack::Udp> udp_;
  std::unique_ptr<stack::Tcp> tcp_;  // after udp_ and the stack: torn down before them
  std::vector<std::unique_ptr<stack::UdpSender>> udp_send_;
  std::vector<std::unique_ptr<stack::UdpReceiver>> udp_recv_;
  std::unique_ptr<stack::UdpRrClient> udp_rr_;
  std::unique_ptr<stack::UdpRrServer> udp_rr_server_;
  std::vector<std::unique_ptr<stack::Iperf3Server>> iperf3_server_;  // after tcp_: closed before it
  std::vector<std::unique_ptr<stack::Iperf3Client>> iperf3_client_;
  std::vector<std::unique_ptr<stack::NetperfTcpClient>> tcp_rr_;
  std::vector<std::unique_ptr<stack::NetperfTcpClient>> tcp_crr_;
  std::vector<std::unique_ptr<stack::NetperfTcpServer>> netserver_;
  TcpPeers tcp_peers_;
  std::string stack_error_;
  bool up_done_ = false;  // the bring-up task has run to its end
  uint64_t rx_unknown_dev_ = 0;
  stack::TaskScope servers_;  // servers that run until the end (not waited for by traffic_done)
  stack::TaskScope tasks_;  // last: its tasks use everything above
};

}  // namespace vnic::tb
