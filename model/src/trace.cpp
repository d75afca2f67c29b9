// The step table of ../shared/reference/linux-network-flow.md and the trace vocabulary's names.
#include "vnic/model/trace.hpp"

#include <array>

#include "vnic/model/regs.hpp"

namespace vnic::model {

namespace {

using S = StepState;
constexpr std::string_view kDriver = "driver/src/vnic_driver.cpp";
constexpr std::string_view kNic = "hw/src/nic.cpp";

constexpr StepInfo kTable[] = {
    // Egress: the sender.
    {egress(1), "Application sends message (sendmsg or other)", "ping_v4_sendmsg, udp_sendmsg, tcp_sendmsg", S::Emitted, "stack/src/apps/ping_app.cpp, stack/src/ipv4/ping.cpp (ping), stack/src/ipv4/udp.cpp (UDP), stack/src/ipv4/tcp.cpp (TCP)"},
    {egress(2), "TCP send message allocates skb_buff", "ping_v4_sendmsg, udp_sendmsg (ip_append_data), tcp_sendmsg (tcp_stream_alloc_skb)", S::Emitted, "stack/src/ipv4/ping.cpp, stack/src/ipv4/udp.cpp, stack/src/ipv4/tcp.cpp (a retransmission: tcp.retransmit, stack/src/ipv4/tcp_output.cpp)"},
    {egress(3), "It enqueues skb to the socket write buffer of tcp_wmem size", "skb_set_owner_w (udp_sendmsg), tcp_skb_entail (tcp_sendmsg)", S::Conditional, "stack/src/ipv4/udp.cpp: UDP charges sk_wmem_alloc until the skb is freed; stack/src/ipv4/tcp.cpp: TCP's write queue in sk_wmem_queued (ping does not trace it)"},
    {egress(4), "Builds the TCP header (src and dst port, checksum)", "udp_send_skb, __tcp_transmit_skb", S::Conditional, "stack/src/ipv4/udp.cpp: the UDP header; stack/src/ipv4/tcp_output.cpp: the TCP header and options"},
    {egress(5), "Calls L3 handler (tcp_write_xmit, tcp_transmit_skb)", "ip_push_pending_frames, ip_queue_xmit", S::Emitted, "stack/src/ipv4/ip_output.cpp (ICMP, ping, UDP, and TCP's tcp_write_xmit -> tcp_transmit_skb)"},
    {egress(6), "L3 builds the IP header and calls netfilter LOCAL_OUT", "__ip_make_skb, NF_HOOK(LOCAL_OUT)", S::Emitted, "stack/src/ipv4/ip_output.cpp; the hook's nf.hook event from stack/src/netfilter/nf_hooks.cpp when a table is loaded (as the kernel runs no hook before)"},
    {egress(7), "Calls output route action", "ip_route_output_flow, dst_output", S::Emitted, "stack/src/ipv4/ip_output.cpp"},
    {egress(8), "Calls netfilter POST_ROUTING", "ip_output, NF_HOOK(POST_ROUTING)", S::Emitted, "stack/src/ipv4/ip_output.cpp (local and forwarded packets); nf.hook from stack/src/netfilter/nf_hooks.cpp when a table is loaded"},
    {egress(9), "Fragment the packet (ip_output)", "ip_fragment, ip_do_fragment", S::Conditional, "stack/src/ipv4/ip_do_fragment.cpp: only a datagram over the device's MTU (each fragment's ip_fragment event; DF: FragFails and frag-needed)"},
    {egress(10), "Calls L2 send function (dev_queue_xmit)", "dev_queue_xmit", S::Emitted, "stack/src/core/dev_xmit.cpp (the stack's packets: ARP, ICMP, ping; pktgen bypasses it, as Linux's pktgen does)"},
    {egress(11), "Feeds the qdisc of txqueuelen length, default_qdisc", "__dev_xmit_skb, validate_xmit_skb (skb_gso_segment)", S::Emitted, "stack/src/core/dev_xmit.cpp, stack/src/sched/sch_generic.cpp (as egress 10); stack/src/core/gso.cpp: a GSO skb cut into segments (gso.segment)"},
    {egress(12), "The driver enqueues the packets at the ring buffer tx", "vnic_start_xmit", S::Emitted, kDriver},
    {egress(13), "soft IRQ NET_TX_SOFTIRQ (the qdisc runs again)", "netif_tx_wake_queue", S::Conditional, kDriver},
    {egress(14), "Re-enable hard IRQ to NIC", "napi_complete_done", S::Emitted, kDriver},
    {egress(15), "Driver maps the packets to a DMA region", "dma_map_single", S::Emitted, kDriver},
    {egress(16), "NIC fetches the packets (via DMA) from RAM to transmit", "Nic::tx_launch", S::Emitted, kNic},
    {egress(17), "After the transmission NIC raises a hard IRQ", "Nic::tx_wire_end, Nic::send_msi", S::Emitted, kNic},
    {egress(18), "The driver handles this IRQ (turns it off)", "vnic_msix_handler", S::Emitted, "testbench/src/host_cpu.cpp, driver/src/vnic_driver.cpp"},
    {egress(19), "And schedules (soft IRQ) the NAPI poll", "napi_schedule", S::Emitted, kDriver},
    {egress(20), "NAPI handles the completion: frees the packets' memory", "vnic_clean_tx", S::Emitted, kDriver},
    // Ingress: the receiver.
    {ingress(1), "Packets arrive at the NIC", "Nic::eth_receive", S::Emitted, kNic},
    {ingress(2), "NIC verifies MAC and FCS, drops or continues", "Nic::eth_receive", S::Emitted, kNic},
    {ingress(3), "NIC DMAs the packets to RAM, in buffers the driver mapped", "Nic::eth_receive", S::Emitted, kNic},
    {ingress(4), "NIC enqueues references on the rx ring until rx-usecs or rx-frames", "Nic::on_write_done, Nic::mod_complete", S::Emitted, kNic},
    {ingress(5), "NIC raises a hard IRQ", "Nic::send_msi", S::Emitted, kNic},
    {ingress(6), "CPU runs the IRQ handler, the driver's code", "vnic_msix_handler", S::Emitted, "testbench/src/host_cpu.cpp"},
    {ingress(7), "Driver schedules a NAPI, clears the hard IRQ and returns", "napi_schedule", S::Emitted, kDriver},
    {ingress(8), "Driver raises a soft IRQ (NET_RX_SOFTIRQ)", "__napi_schedule", S::Emitted, "stack/src/softnet.cpp"},
    {ingress(9), "NAPI polls the rx ring (netdev_budget, netdev_budget_usecs, dev_weight)", "vnic_clean_rx", S::Emitted, kDriver},
    {ingress(10), "Linux allocates the sk_buff", "napi_alloc_skb", S::Emitted, kDriver},
    {ingress(11), "Fills the metadata: protocol, interface, MAC header; removes Ethernet", "eth_type_trans", S::Emitted,
     "driver/src/vnic_driver.cpp; stack/src/core/net.cpp (loopback_xmit: a packet lo turns around)"},
    {ingress(12), "Passes the skb to the kernel stack (netif_receive_skb)", "napi_gro_receive, netif_receive_skb", S::Emitted, "stack/src/softnet.cpp; stack/src/core/gro.cpp: GRO merges a flow's segments (gro.merge, gro.flush)"},
    {ingress(13), "Network header, taps (tcpdump) and tc ingress", "__netif_receive_skb_core", S::Emitted, "stack/src/core/dev.cpp"},
    {ingress(14), "Queued on the backlog of netdev_max_backlog (netif_rx)", "enqueue_to_backlog", S::Conditional,
     "stack/src/softnet.cpp: what lo turns around (loopback_xmit's __netif_rx), and test rigs' wires"},
    {ingress(15), "ip_rcv: IP's main receive routine", "ip_rcv", S::Emitted, "stack/src/ipv4/ip_input.cpp"},
    {ingress(16), "Netfilter PREROUTING", "ip_rcv, NF_HOOK(PRE_ROUTING)", S::Conditional, "stack/src/ipv4/ip_input.cpp, stack/src/netfilter/nf_hooks.cpp: only when a raw or mangle table is loaded (no hook is registered before, as in the kernel)"},
    {ingress(17), "Routing table: forward or local", "ip_rcv_finish, ip_forward", S::Emitted, "stack/src/ipv4/ip_input.cpp (the route); stack/src/ipv4/ip_forward.cpp (the forward branch: ip_forward, then the FORWARD hook and egress 8-11 on the way out)"},
    {ingress(18), "If local, netfilter LOCAL_IN", "ip_local_deliver, ip_defrag, NF_HOOK(LOCAL_IN)", S::Emitted, "stack/src/ipv4/ip_input.cpp; fragments: stack/src/ipv4/ip_fragment.cpp (ip_defrag, ip_frag_reasm); nf.hook when a table is loaded"},
    {ingress(19), "Calls the L4 protocol (tcp_v4_rcv)", "ip_local_deliver_finish, icmp_rcv, udp_rcv, tcp_v4_rcv", S::Emitted, "stack/src/ipv4/ip_input.cpp, stack/src/ipv4/icmp.cpp, stack/src/ipv4/udp.cpp, stack/src/ipv4/tcp_ipv4.cpp"},
    {ingress(20), "Finds the right socket", "ping_lookup, __udp4_lib_lookup, __inet_lookup_skb", S::Emitted, "stack/src/ipv4/ping.cpp, stack/src/ipv4/udp.cpp, stack/src/ipv4/tcp_ipv4.cpp (ping, UDP and TCP sockets)"},
    {ingress(21), "The TCP finite state machine", "tcp_rcv_established, tcp_rcv_state_process", S::Conditional, "stack/src/ipv4/tcp_ipv4.cpp, tcp_input.cpp: tcp.input for every TCP segment a socket takes (stack/tests/tcp_test.cpp's journeys)"},
    {ingress(22), "Enqueued on the receive buffer (tcp_rmem, tcp_moderate_rcvbuf)", "ping_queue_rcv_skb, __udp_enqueue_schedule_skb, tcp_queue_rcv, tcp_data_queue_ofo", S::Emitted, "stack/src/ipv4/ping.cpp, stack/src/ipv4/udp.cpp, stack/src/ipv4/tcp_input.cpp (ping, UDP and TCP sockets)"},
    {ingress(23), "Signals data available to applications (epoll)", "sk_data_ready", S::Emitted, "stack/src/ipv4/ping.cpp, stack/src/ipv4/udp.cpp (when a task or epoll waits on the socket)"},
    {ingress(24), "Application wakes up and reads the data", "ping_recvmsg, udp_recvmsg, tcp_recvmsg", S::Emitted, "stack/src/ipv4/ping.cpp, stack/src/apps/ping_app.cpp, stack/src/ipv4/udp.cpp, stack/src/ipv4/tcp.cpp"},
};

constexpr std::array<std::string_view, 21> kEgressNames = {
    "-",         "egress:1",  "egress:2",  "egress:3",  "egress:4",  "egress:5",  "egress:6",
    "egress:7",  "egress:8",  "egress:9",  "egress:10", "egress:11", "egress:12", "egress:13",
    "egress:14", "egress:15", "egress:16", "egress:17", "egress:18", "egress:19", "egress:20"};
constexpr std::array<std::string_view, 25> kIngressNames = {
    "-",          "ingress:1",  "ingress:2",  "ingress:3",  "ingress:4",  "ingress:5",  "ingress:6",
    "ingress:7",  "ingress:8",  "ingress:9",  "ingress:10", "ingress:11", "ingress:12", "ingress:13",
    "ingress:14", "ingress:15", "ingress:16", "ingress:17", "ingress:18", "ingress:19", "ingress:20",
    "ingress:21", "ingress:22", "ingress:23", "ingress:24"};

}  // namespace

std::span<const StepInfo> steps() { return kTable; }

std::string steps_markdown() {
  std::string out = "| Step | The reference's words | Function | State | Emitted by / built by |\n|---|---|---|---|---|\n";
  for (const StepInfo& i : kTable) {
    const char* state = i.state == StepState::Emitted ? "emitted" : i.state == StepState::Conditional ? "conditional" : "not built";
    out += "| " + std::string(step_name(i.step)) + " | " + std::string(i.words) + " | `" + std::string(i.function) + "` | " +
           state + " | " + std::string(i.by) + " |\n";
  }
  return out;
}

const StepInfo* step_info(Step s) {
  for (const StepInfo& i : kTable) {
    if (i.step == s) return &i;
  }
  return nullptr;
}

std::string_view step_name(Step s) {
  if (s.path == Path::Egress && s.n < kEgressNames.size()) return kEgressNames[s.n];
  if (s.path == Path::Ingress && s.n < kIngressNames.size()) return kIngressNames[s.n];
  return "-";
}

std::string_view drop_counter_name(uint64_t b) {
  if ((b & kHostDropBit) == 0) return b < regs::kNumStats ? regs::kStatInfo[b].name : "?";
  switch (static_cast<HostDrop>(b & 0xFF)) {
    case HostDrop::SoftnetDropped: return "softnet_stat.dropped";
    case HostDrop::RxErrors: return "rx_queue_0_errors";
    case HostDrop::RxAllocFailed: return "rx_queue_0_alloc_failed";
    case HostDrop::RxNohandler: return "rx_nohandler";
    case HostDrop::TxMapErrors: return "tx_queue_0_map_errors";
    case HostDrop::QdiscDrop: return "qdisc.dropped";
    case HostDrop::TxDroppedCore: return "tx_dropped";
    case HostDrop::ClsactDropped: return "clsact.dropped";
    case HostDrop::RxDroppedCore: return "rx_dropped";
    case HostDrop::LinkFault: return "link.dropped_fault";
    case HostDrop::LinkDown: return "link.dropped_link_down";
    case HostDrop::NetfilterDrop: return "netfilter";
    case HostDrop::FragQueueDropped: return "ipfrag.dropped";
    case HostDrop::IpInHdrErrors: return "Ip.InHdrErrors";
    case HostDrop::IpFragFails: return "Ip.FragFails";
    case HostDrop::IpInNoRoutes: return "IpExt.InNoRoutes";
    case HostDrop::SwitchQueueFull: return "switch.dropped_queue_full";
    case HostDrop::SwitchFiltered: return "switch.dropped_filtered";
    case HostDrop::SwitchLinkDown: return "switch.dropped_link_down";
    case HostDrop::UdpNoPorts: return "Udp.NoPorts";
    case HostDrop::UdpRcvbufErrors: return "Udp.RcvbufErrors";
    case HostDrop::UdpInCsumErrors: return "Udp.InCsumErrors";
    case HostDrop::UdpInErrors: return "Udp.InErrors";
    case HostDrop::UdpIgnoredMulti: return "Udp.IgnoredMulti";
    case HostDrop::UdpSinkUnknown: return "udp_sink.unknown_sender";
    case HostDrop::TcpInErrs: return "Tcp.InErrs";
    case HostDrop::TcpNoSocket: return "tcp.no_socket";
    case HostDrop::TcpOldData: return "TcpExt.DelayedACKLost";
    case HostDrop::TcpOutOfWindow: return "tcp.out_of_window";
    case HostDrop::TcpPawsDrop: return "TcpExt.PAWSEstab";
    case HostDrop::TcpRcvQDrop: return "TcpExt.TCPRcvQDrop";
    case HostDrop::TcpOfoDrop: return "TcpExt.TCPOFODrop";
    case HostDrop::TcpZeroWindowDrop: return "TcpExt.TCPZeroWindowDrop";
    case HostDrop::TcpBadSegment: return "tcp.bad_segment";
    case HostDrop::TcpListenDrop: return "TcpExt.ListenDrops";
    case HostDrop::TcpOfoMerge: return "TcpExt.TCPOFOMerge";
    case HostDrop::TcpClosedData: return "tcp.closed";
    case HostDrop::TcpWriteQueuePurged: return "tcp.write_queue_purged";
  }
  return "?";
}

std::string_view trace_kind_name(TraceKind k) {
  switch (k) {
    case TraceKind::PacketMade: return "packet.made";
    case TraceKind::DevQueueXmit: return "dev_queue_xmit";
    case TraceKind::QdiscEnqueue: return "qdisc.enqueue";
    case TraceKind::TxMap: return "tx.map";
    case TraceKind::TxRing: return "tx.ring";
    case TraceKind::TxDoorbell: return "tx.doorbell";
    case TraceKind::TxLaunch: return "tx.launch";
    case TraceKind::TxWire: return "tx.wire";
    case TraceKind::TxDropped: return "tx.dropped";
    case TraceKind::TxDone: return "tx.done";
    case TraceKind::TxClean: return "tx.clean";
    case TraceKind::TxWake: return "tx.wake";
    case TraceKind::RxArrive: return "rx.arrive";
    case TraceKind::RxAccept: return "rx.accept";
    case TraceKind::RxDrop: return "rx.drop";
    case TraceKind::RxDma: return "rx.dma";
    case TraceKind::RxComplete: return "rx.complete";
    case TraceKind::RxPoll: return "rx.poll";
    case TraceKind::SkbAlloc: return "skb.alloc";
    case TraceKind::EthTypeTrans: return "eth_type_trans";
    case TraceKind::NetifRx: return "netif_rx";
    case TraceKind::ReceiveSkb: return "netif_receive_skb";
    case TraceKind::Consumed: return "consumed";
    case TraceKind::Drop: return "drop";
    case TraceKind::ReceiveCore: return "netif_receive_skb_core";
    case TraceKind::Tap: return "tap";
    case TraceKind::TcIngress: return "tc.ingress";
    case TraceKind::IpRcv: return "ip_rcv";
    case TraceKind::RouteInput: return "ip_route_input";
    case TraceKind::IpLocalDeliver: return "ip_local_deliver";
    case TraceKind::L4Deliver: return "ip_protocol_deliver";
    case TraceKind::IpSend: return "ip.send";
    case TraceKind::IpHeader: return "ip.header";
    case TraceKind::RouteOutput: return "ip_route_output";
    case TraceKind::IpOutput: return "ip_output";
    case TraceKind::NeighOutput: return "neigh_output";
    case TraceKind::SockSend: return "sock.sendmsg";
    case TraceKind::SockWmem: return "sock.wmem";
    case TraceKind::L4Header: return "l4.header";
    case TraceKind::SockLookup: return "sock.lookup";
    case TraceKind::SockQueue: return "sock.queue";
    case TraceKind::SockWake: return "sock.wake";
    case TraceKind::AppRecv: return "app.recvmsg";
    case TraceKind::NfHook: return "nf.hook";
    case TraceKind::IpForward: return "ip_forward";
    case TraceKind::IpFragment: return "ip_fragment";
    case TraceKind::IpDefrag: return "ip_defrag";
    case TraceKind::IpReasm: return "ip_frag_reasm";
    case TraceKind::QdiscDequeue: return "qdisc.dequeue";
    case TraceKind::TcpRetransmit: return "tcp.retransmit";
    case TraceKind::TcpInput: return "tcp.input";
    case TraceKind::GsoSegment: return "gso.segment";
    case TraceKind::GroMerge: return "gro.merge";
    case TraceKind::GroFlush: return "gro.flush";
    case TraceKind::EcnMark: return "ecn.mark";
    case TraceKind::TcpCwnd: return "tcp.cwnd";
    case TraceKind::LinkReorder: return "link.reorder";
    case TraceKind::LinkDuplicate: return "link.duplicate";
    case TraceKind::Irq: return "irq";
    case TraceKind::HardIrq: return "hardirq";
    case TraceKind::NapiSchedule: return "napi_schedule";
    case TraceKind::SoftirqRaise: return "softirq.raise";
    case TraceKind::Softirq: return "softirq";
    case TraceKind::NapiPoll: return "napi_poll";
    case TraceKind::IrqEnable: return "irq.enable";
    case TraceKind::DmaError: return "dma.error";
    case TraceKind::TxTimeout: return "tx_timeout";
    case TraceKind::Reset: return "reset";
    case TraceKind::RingLevel: return "ring.level";
    case TraceKind::BacklogLevel: return "backlog.level";
    case TraceKind::kCount: break;
  }
  return "?";
}

Step default_step(TraceKind k) {
  switch (k) {
    case TraceKind::DevQueueXmit: return egress(10);
    case TraceKind::QdiscEnqueue: return egress(11);
    case TraceKind::TxMap: return egress(15);
    case TraceKind::TxRing: return egress(12);
    case TraceKind::TxDoorbell: return egress(12);
    case TraceKind::TxLaunch: return egress(16);
    case TraceKind::TxDropped: return egress(16);
    case TraceKind::TxDone: return egress(17);
    case TraceKind::TxClean: return egress(20);
    case TraceKind::TxWake: return egress(13);
    case TraceKind::RxArrive: return ingress(1);
    case TraceKind::RxAccept: return ingress(2);
    case TraceKind::RxDrop: return ingress(2);
    case TraceKind::RxDma: return ingress(3);
    case TraceKind::RxComplete: return ingress(4);
    case TraceKind::RxPoll: return ingress(9);
    case TraceKind::SkbAlloc: return ingress(10);
    case TraceKind::EthTypeTrans: return ingress(11);
    case TraceKind::NetifRx: return ingress(14);
    case TraceKind::ReceiveSkb: return ingress(12);
    case TraceKind::Irq: return ingress(5);
    case TraceKind::HardIrq: return ingress(6);
    case TraceKind::NapiSchedule: return ingress(7);
    case TraceKind::SoftirqRaise: return ingress(8);
    case TraceKind::IrqEnable: return egress(14);
    case TraceKind::ReceiveCore: return ingress(13);
    case TraceKind::Tap: return ingress(13);
    case TraceKind::TcIngress: return ingress(13);
    case TraceKind::IpRcv: return ingress(15);
    case TraceKind::RouteInput: return ingress(17);
    case TraceKind::IpLocalDeliver: return ingress(18);
    case TraceKind::L4Deliver: return ingress(19);
    case TraceKind::IpSend: return egress(5);
    case TraceKind::IpHeader: return egress(6);
    case TraceKind::RouteOutput: return egress(7);
    case TraceKind::IpOutput: return egress(8);
    case TraceKind::SockSend: return egress(1);
    case TraceKind::SockWmem: return egress(3);
    case TraceKind::L4Header: return egress(4);
    case TraceKind::SockLookup: return ingress(20);
    case TraceKind::SockQueue: return ingress(22);
    case TraceKind::SockWake: return ingress(23);
    case TraceKind::AppRecv: return ingress(24);
    case TraceKind::IpForward: return ingress(17);
    case TraceKind::IpFragment: return egress(9);
    case TraceKind::IpDefrag: return ingress(18);
    case TraceKind::IpReasm: return ingress(18);
    case TraceKind::QdiscDequeue: return egress(11);
    case TraceKind::TcpRetransmit: return egress(2);
    case TraceKind::TcpInput: return ingress(21);
    case TraceKind::GsoSegment: return egress(11);
    case TraceKind::GroMerge: return ingress(12);
    case TraceKind::GroFlush: return ingress(12);
    case TraceKind::EcnMark: return egress(11);
    default: return kNoStep;
  }
}

}  // namespace vnic::model
