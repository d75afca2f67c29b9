// Scenario parsing (toml++) with errors that name the file, key and reason.
#include "vnic/tb/scenario.hpp"

#include "vnic/model/regs.hpp"
#include "vnic/stack/netfilter.hpp"

#include "vnic/tb/splitmix.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <utility>

namespace vnic::tb {

std::string_view default_scenario_toml() {
  return R"(# vnic default scenario: two hosts, a NIC each, back to back over 10 Gb/s, traffic both ways.
[scenario]
name = "default"
seed = 1
quantum_ns = 10000     # how far the event queue may run ahead of SystemC time (no effect on results)
hosts = "driver"       # "driver": driver model + softnet + pktgen on a simulated CPU; "direct": test host

[link]                 # host a's eth0 to host b's eth0
speed = "10G"          # 1G, 10G, 25G, 40G, 100G
propagation_ns = 5     # about 1 m of cable
ber = 0.0              # bit error rate (per bit)
drop_rate = 0.0        # probability a frame is lost on the wire
fault_direction = "both"  # the directions ber, drop_rate, ... apply to: "both", "a_to_b", "b_to_a"
drop_frames = []       # drop exactly these frames (1-based, counted per faulted direction)
reorder_rate = 0.0     # probability a frame is held back until reorder_depth later frames pass it
reorder_depth = 1      # 1..64
reorder_max_ns = 1000000  # a held frame goes at the latest this long after it would have arrived
duplicate_rate = 0.0   # probability a frame is delivered twice
pcap = ""              # wire capture (both directions, with FCS); empty: none

[pcie]                 # Gen3 x8
lanes = 8
mts = 8000
mps = 256
mrrs = 512
read_rtt_ns = 500
tlp_overhead = 24
max_outstanding_reads = 32

[nic]
num_qp = 1
core_mhz = 250
ring = "model"         # descriptor FIFO: "model" (C++ reference) or "rtl" (the Verilated Verilog)

[cpu]                  # what each operation costs the host CPU, in ns (docs/host.md)
cpus = 2               # cores per host: cpu0 takes the NIC's interrupts, pktgen runs on the last
hardirq_ns = 600
softirq_ns = 100
napi_poll_ns = 150
rx_packet_ns = 80
skb_alloc_ns = 50
skb_free_ns = 30
copy_per_kib_ns = 60
rx_refill_ns = 20
netif_receive_ns = 150
tx_xmit_ns = 200
dma_map_ns = 40
tx_clean_ns = 50
mmio_write_ns = 100
mmio_read_ns = 1000
pktgen_ns = 150
dev_queue_xmit_ns = 100   # dev_queue_xmit: device and queue checks
qdisc_ns = 50             # a qdisc enqueue + dequeue of one packet
ip_rcv_ns = 200           # protocol stack: ip_rcv_core + the input route lookup
ip_local_deliver_ns = 60  # ip_local_deliver: the inet_protos dispatch
ip_output_ns = 250        # IP header, output route, neighbour output, Ethernet header
tc_ingress_ns = 100       # one classify pass of the ingress filters
tap_ns = 150              # one ptype_all tap (skb_clone + packet_rcv)
icmp_ns = 300             # build and checksum one ICMP message
ip_forward_ns = 200       # ip_forward + ip_forward_finish + ip_output for a forwarded packet
nf_hook_ns = 60           # one netfilter hook with rules loaded (iptables)
ip_fragment_ns = 120      # one fragment made by ip_do_fragment (its bytes: copy_per_kib_ns)
ip_defrag_ns = 100        # one fragment queued by ip_defrag
gro_receive_ns = 60       # napi_gro_receive: one segment's flow lookup and checks
syscall_ns = 100          # a system call's entry and exit
udp_sendmsg_ns = 250      # udp_sendmsg: checks, route, skb, UDP header (its bytes: copy_per_kib_ns)
udp_rcv_ns = 150          # udp_rcv: checksum state, socket lookup, enqueue
sock_recvmsg_ns = 150     # udp_recvmsg: dequeue, addresses, free (its bytes: copy_per_kib_ns)
wakeup_ns = 400           # try_to_wake_up of a task waiting on a socket
context_switch_ns = 1500  # the woken task switched in on its CPU
epoll_wait_ns = 150       # ep_poll: the ready list, copying events out

[sysctl]               # every host's, by their Linux leaf names; Linux 6.1 defaults (HZ=250)
netdev_budget = 300    # net.core
netdev_budget_usecs = 8000
dev_weight = 64
netdev_max_backlog = 1000
default_qdisc = "fq_codel"  # net.core.default_qdisc: Debian 12 sets fq_codel (systemd's 50-default.conf; the kernel's own is pfifo_fast)
ip_forward = 0         # net.ipv4
ip_forward_update_priority = 1  # a forwarded packet's priority (qdisc band) from its TOS
ip_default_ttl = 64
arp_notify = 0         # net.ipv4.conf.all
icmp_ratelimit = 1000  # ms
icmp_ratemask = 6168
icmp_msgs_per_sec = 1000
icmp_msgs_burst = 50
icmp_echo_ignore_all = 0
icmp_echo_ignore_broadcasts = 1
ipfrag_high_thresh = 4194304  # reassembly memory, bytes
ipfrag_low_thresh = 3145728
ipfrag_time = 30       # s
ipfrag_max_dist = 64
tcp_rmem = [4096, 131072, 6291456]  # bytes: min, default, max
tcp_wmem = [4096, 16384, 4194304]
tcp_congestion_control = "cubic"    # or "reno"
tcp_sack = 1
tcp_timestamps = 1
tcp_window_scaling = 1
tcp_recovery = 1       # RACK
tcp_early_retrans = 3  # TLP
tcp_ecn = 2            # ECN (RFC 3168): 0 off, 1 ask for it and accept it, 2 accept it when asked
tcp_ecn_fallback = 1   # a retransmitted SYN goes without ECN

[driver]
napi_weight = 64                 # NAPI_POLL_WEIGHT
rx_handoff = "netif_receive_skb" # or "netif_rx" (through the per-CPU backlog)
pktgen_burst = 32                # packets per xmit_more batch
skb_pool = 16384                 # skbs that may exist at once per host
bql = true                       # byte queue limits on the TX queue
watchdog_ms = 5000               # TX watchdog timeout (dev->watchdog_timeo)
mtu = 1500
gso = true                       # ethtool -K ethN gso (ethtool -k only: 6.1's TCP builds GSO skbs either way)
gro = true                       # ethtool -K ethN gro: NAPI merges a flow's TCP segments (napi_gro_receive)
gso_max_size = 65536             # ip link set ethN gso_max_size (322..65536)
gso_max_segs = 65535             # ip link set ethN gso_max_segs (0..65535)

# Hosts: [host.NAME] (NAME: [a-z][a-z0-9_-]*) is the host and its first NIC, eth0;
# [host.NAME.ethN] (N >= 1) adds a NIC with the same per-NIC keys (gso, gro, gso_max_size and
# gso_max_segs among them, over [driver]'s, on driver hosts); [host.NAME.sysctl] overrides
# [sysctl]; routes = ["10.0.2.0/24 via 10.0.1.2 dev eth1", "default via 10.0.0.2"] and
# [host.NAME.ping] (enabled, dst, count, interval_ms, size, ttl, start_ms, deadline_s) are for the
# protocol stack, as are a NIC's address, qdisc, tcpdump = "FILE.pcap" (a tap on the device) and
# dst_ip = "10.0.2.2" (pktgen sends IPv4/UDP to that address through its link peer, as Linux's pktgen).
# iptables = ["-A FORWARD -p udp --dport 9 -j DROP", "-P INPUT ACCEPT"] loads netfilter rules at
# boot, in iptables' own syntax (raw, mangle and filter tables; docs/netfilter.md).
# [link.NAME] with ends = ["a.eth1", "c.eth0"] adds a link (same keys as [link]).
# [switch.NAME] (ports, speed, port_speed = { h = "1G" }, queue_bytes, latency_ns, propagation_ns,
# ageing_s, pcap) is a learning switch; a NIC joins it with switch = "NAME" instead of a link.
[host.a]
mac = "02:00:00:00:00:0a"
address = "10.0.0.1/24"  # eth0's IPv4 address (for the protocol stack)
tx = 1024              # ethtool -G tx
rx = 1024              # ethtool -G rx
rx_buf = 2048          # direct hosts only; the driver sizes buffers from the MTU
rx-usecs = 8           # ethtool -C
rx-frames = 32
tx-usecs = 16
tx-frames = 32
frames = 20000
min_len = 60
max_len = 1514
interval_ns = 0        # 0: keep the TX ring full (line rate)

[host.a.ping]          # ping -c 5 -i 0.002 10.0.0.2 on host a, through the flood (driver hosts)
# enabled = false    # turns it off (the built-ins about the NIC or driver alone do)
dst = "10.0.0.2"
count = 5
interval_ms = 2

[host.b]
mac = "02:00:00:00:00:0b"
address = "10.0.0.2/24"
tx = 1024
rx = 1024
rx_buf = 2048
rx-usecs = 8
rx-frames = 32
tx-usecs = 16
tx-frames = 32
frames = 20000
min_len = 60
max_len = 1514
interval_ns = 0
)";
}

namespace {

// Each built-in is an overlay of the default: only the keys that make its point.
constexpr BuiltinScenario kBuiltins[] = {
    {"line-rate", "Both hosts send mixed-size frames as fast as the 10 Gb/s wire takes them; nothing is lost.",
     R"([scenario]
name = "line-rate"
[host.a]
frames = 10000
[host.b]
frames = 10000
[host.a.ping]          # the NIC and driver alone: no ping beside pktgen
enabled = false
)"},
    {"moderation",
     "Host a sends 1000-byte frames every 2 us to host b, whose interrupt moderation (rx-usecs) sets how many "
     "interrupts it takes: sweep host.b.rx-usecs.",
     R"([scenario]
name = "moderation"
[host.a]
frames = 4000
min_len = 1000
max_len = 1000
interval_ns = 2000
[host.b]
frames = 0
rx-usecs = 8
rx-frames = 256
[host.a.ping]          # the NIC and driver alone: no ping beside pktgen
enabled = false
)"},
    {"ring-overflow",
     "A slow receiver (each packet costs host b 2 us) with a 64-entry RX ring: the NIC finds no free "
     "descriptor and drops, counted in rx_missed_errors.",
     R"([scenario]
name = "ring-overflow"
[cpu]
rx_packet_ns = 2000
[host.a]
frames = 4000
[host.b]
frames = 0
rx = 64
[host.a.ping]          # the NIC and driver alone: no ping beside pktgen
enabled = false
)"},
    {"bad-fcs",
     "A noisy link (bit error rate 1e-5): corrupted frames fail host b's FCS check and are counted in "
     "rx_crc_errors, one for each frame the link corrupted.",
     R"([scenario]
name = "bad-fcs"
[link]
ber = 1e-5
[host.a]
frames = 4000
[host.b]
frames = 0
[host.a.ping]          # the NIC and driver alone: no ping beside pktgen
enabled = false
)"},
    {"backlog-overflow",
     "Host b hands packets to the stack with netif_rx through a backlog of 100 that is drained 16 at a time "
     "at 500 ns each: the backlog overflows and softnet_stat counts the drops.",
     R"([scenario]
name = "backlog-overflow"
[cpu]
netif_receive_ns = 500
[sysctl]
netdev_max_backlog = 100
dev_weight = 16
[driver]
rx_handoff = "netif_rx"
[host.a]
frames = 4000
[host.b]
frames = 0
[host.a.ping]          # the NIC and driver alone: no ping beside pktgen
enabled = false
)"},
    {"three-hosts",
     "Host a has two NICs, each its own PCI function and driver: eth0 to host b (10 Gb/s), eth1 to host c "
     "(25 Gb/s); a frame every 2 us each way on both links, conserved per direction.",
     R"([scenario]
name = "three-hosts"
[host.a]
frames = 5000
interval_ns = 2000
[host.a.eth1]
mac = "02:00:00:00:01:0a"
address = "10.0.1.1/24"
frames = 5000
interval_ns = 2000
[host.b]
frames = 5000
interval_ns = 2000
[host.c]
mac = "02:00:00:00:00:0c"
address = "10.0.1.2/24"
frames = 5000
interval_ns = 2000
start_ns = 50000       # after host a's eth1 is up (host a opens eth0, then eth1)
[link.ac]
ends = ["a.eth1", "c.eth0"]
speed = "25G"
propagation_ns = 50
)"},
    {"router",
     "Three hosts in a line, b forwarding between its two NICs: a pings c through b (ttl 63 back), "
     "4000-byte pings fragmented at a and c and reassembled at the other end, a UDP flood from c to a "
     "forwarded by b.",
     R"([scenario]
name = "router"
[host.a]
frames = 0
address = "10.0.1.2/24"
routes = ["default via 10.0.1.1"]
[host.a.ping]
dst = "10.0.2.2"
count = 10
interval_ms = 2
size = 4000
[host.b]
frames = 0
address = "10.0.1.1/24"
[host.b.sysctl]
ip_forward = 1
[host.b.eth1]
mac = "02:00:00:00:01:0b"
address = "10.0.2.1/24"
frames = 0
[host.c]
mac = "02:00:00:00:00:0c"
address = "10.0.2.2/24"
routes = ["default via 10.0.2.1"]
frames = 5000
interval_ns = 2000
start_ns = 100000      # after b's eth1 is up
dst_ip = "10.0.1.2"    # IPv4/UDP to a, through b
[link.bc]
ends = ["b.eth1", "c.eth0"]
)"},
    {"bufferbloat",
     "A router between 10 Gb/s and 1 Gb/s: a floods c through b at 2 Gb/s (IPv4/UDP) and pings c "
     "meanwhile. With fq_codel on b's egress (Debian's default) the ping stays under 1 ms; with "
     "--set host.b.eth1.qdisc=pfifo_fast it waits behind txqueuelen packets (~12 ms). docs/qdisc.md.",
     R"([scenario]
name = "bufferbloat"
[host.a]
address = "10.0.1.2/24"
routes = ["default via 10.0.1.1"]
dst_ip = "10.0.2.2"
frames = 30000         # 180 ms at 2 Gb/s
min_len = 1514
max_len = 1514
interval_ns = 6000
start_ns = 100000      # after b's eth1 is up
[host.a.ping]
dst = "10.0.2.2"
count = 30
interval_ms = 5
start_ms = 10
[host.b]
frames = 0
address = "10.0.1.1/24"
[host.b.sysctl]
ip_forward = 1
[host.b.eth1]
mac = "02:00:00:00:01:0b"
address = "10.0.2.1/24"
frames = 0
[host.c]
mac = "02:00:00:00:00:0c"
address = "10.0.2.2/24"
routes = ["default via 10.0.2.1"]
frames = 0
[link.bc]
ends = ["b.eth1", "c.eth0"]
speed = "1G"
)"},
    {"udp-iperf",
     "iperf 2 over UDP sockets: a sends 1472-byte datagrams to b at a paced 500 Mbit/s (half the "
     "payload rate the 10 Gb/s wire would take is far above that); b's server reads them with no loss and "
     "prints the jitter. host-a/iperf-client.txt, host-b/iperf-server.txt, snmp, netstat-su.txt.",
     R"([scenario]
name = "udp-iperf"
[host.a]
frames = 0
[host.a.ping]
enabled = false
[host.a.udp_send]
dst = "10.0.0.2"
len = 1472
rate = "500M"
count = 1000
[host.b]
frames = 0
[host.b.udp_recv]
)"},
    {"udp-slow-reader",
     "a floods b's UDP socket as fast as its send buffer lets it; b's reader spends 20 us on each "
     "datagram and has a 64 KiB SO_RCVBUF (128 KiB doubled): the queue fills, and what the reader does not "
     "get is in Udp: RcvbufErrors (host-b/snmp, netstat-su.txt) and iperf's Lost.",
     R"([scenario]
name = "udp-slow-reader"
[host.a]
frames = 0
[host.a.ping]          # one ping first: b's address resolved, so no datagram waits in the ARP queue
dst = "10.0.0.2"
count = 1
[host.a.udp_send]
dst = "10.0.0.2"
len = 1472
rate = 0
count = 2000
start_ms = 2
[host.b]
frames = 0
[host.b.udp_recv]
read_cost_ns = 20000
rcvbuf = 65536
)"},
    {"udp-rr",
     "netperf UDP_RR at low load: 200 transactions of 64-byte requests and responses, one at a time; "
     "the round trip's percentiles in host-a/netperf.txt (moderation adds rx-usecs on each side's RX).",
     R"([scenario]
name = "udp-rr"
[host.a]
frames = 0
[host.a.ping]
enabled = false
[host.a.udp_rr]
dst = "10.0.0.2"
req = 64
resp = 64
count = 200
[host.b]
frames = 0
[host.b.udp_rr_server]
)"},
    {"tcp-iperf3",
     "iperf3 over TCP: a sends 8 MiB to b (128 KiB writes) over the 10 Gb/s link with Linux's default "
     "sysctls (cubic, SACK, timestamps, window scaling; GSO and GRO on: a's GSO skbs of 1448-byte segments are "
     "cut at its device and merged again by b's NAPI, ethtool-S.txt's tx_queue_0_gso_* and rx_queue_0_gro_*; "
     "--set host.b.gro=false turns GRO off); host-a/iperf3-client.txt (Retr, Cwnd, both summary lines), "
     "host-b/iperf3-server.txt, netstat-st.txt, ss-tin.txt.",
     R"([scenario]
name = "tcp-iperf3"
[host.a]
frames = 0
[host.a.ping]
enabled = false
[host.a.tcp_iperf3_client]
dst = "b"
bytes = 8388608
[host.b]
frames = 0
[host.b.tcp_iperf3_server]
)"},
    {"tcp-rr",
     "netperf TCP_RR: 1000 transactions of 1 byte each way over one connection, one at a time; "
     "host-a/netperf-tcp-rr.txt (transactions per second), the delayed and quick ACKs in netstat-st.txt.",
     R"([scenario]
name = "tcp-rr"
[host.a]
frames = 0
[host.a.ping]
enabled = false
[host.a.tcp_rr]
dst = "b"
count = 1000
[host.b]
frames = 0
[host.b.netserver]
)"},
    {"tcp-crr",
     "netperf TCP_CRR: 100 connections, each a handshake, 1 byte each way, netserver closing first (its "
     "sockets in TIME-WAIT: host-b/ss-tin.txt); host-a/netperf-tcp-crr.txt, ActiveOpens/PassiveOpens in snmp.",
     R"([scenario]
name = "tcp-crr"
[host.a]
frames = 0
[host.a.ping]
enabled = false
[host.a.tcp_crr]
dst = "b"
count = 100
[host.b]
frames = 0
[host.b.netserver]
)"},
    {"tcp-bufferbloat",
     "TCP through a router between 10 Gb/s and 1 Gb/s: an iperf3 flow a -> c through b (cubic) and a ping a -> c "
     "every 5 ms. With fq_codel on b's egress (the default) the flow's standing queue stays near CoDel's 5 ms "
     "target and the ping, a flow of its own, under 1 ms; with --set host.b.eth1.qdisc=pfifo_fast the queue "
     "fills to txqueuelen and the ping waits behind it (~12 ms). --trace trace.json --trace-kinds "
     "qdisc.dequeue,tcp.cwnd and vnic plot draw both. docs/tcp.md.",
     R"([scenario]
name = "tcp-bufferbloat"
[host.a]
address = "10.0.1.2/24"
routes = ["default via 10.0.1.1"]
frames = 0
[host.a.ping]
dst = "10.0.2.2"
count = 160
interval_ms = 5
start_ms = 10
[host.a.tcp_iperf3_client]
dst = "10.0.2.2"
duration_ms = 800
interval_ms = 100
[host.b]
frames = 0
address = "10.0.1.1/24"
[host.b.sysctl]
ip_forward = 1
[host.b.eth1]
mac = "02:00:00:00:01:0b"
address = "10.0.2.1/24"
frames = 0
[host.c]
mac = "02:00:00:00:00:0c"
address = "10.0.2.2/24"
routes = ["default via 10.0.2.1"]
frames = 0
[host.c.tcp_iperf3_server]
interval_ms = 100
[link.bc]
ends = ["b.eth1", "c.eth0"]
speed = "1G"
)"},
    {"switch8",
     "Eight hosts on one learning switch (10 Gb/s ports, 1 us store-and-forward), each sending to every other "
     "in turn: the first frames are flooded (each flood copy a packet of its own, filtered by the NICs it was "
     "not for), the rest forwarded by the learned table; every frame delivered or in one drop counter.",
     R"([scenario]
name = "switch8"
[switch.sw0]           # 8 ports at 10G; latency_ns = 1000, queue_bytes = 524288, ageing_s = 300
ports = 8
[host.a]
switch = "sw0"
frames = 7000
interval_ns = 2000
[host.a.ping]          # raw frames only: no ping
enabled = false
[host.b]
switch = "sw0"
frames = 7000
interval_ns = 2000
[host.c]
switch = "sw0"
frames = 7000
interval_ns = 2000
[host.d]
switch = "sw0"
frames = 7000
interval_ns = 2000
[host.e]
switch = "sw0"
frames = 7000
interval_ns = 2000
[host.f]
switch = "sw0"
frames = 7000
interval_ns = 2000
[host.g]
switch = "sw0"
frames = 7000
interval_ns = 2000
[host.h]
switch = "sw0"
frames = 7000
interval_ns = 2000
)"},
    {"switch8-udp",
     "Eight hosts on one learning switch, UDP through sockets all to all: each host runs seven iperf -u clients "
     "(300 datagrams of 1472 bytes at 400 Mbit/s, one to every other host, port 5000 + the sender's number) and "
     "seven servers. h's port is 1 Gb/s: seven senders at 2.8 Gbit/s overflow its switch queue "
     "(dropped_queue_full); g's servers spend 5 us on each datagram: their sockets overflow (Udp: RcvbufErrors). "
     "Every datagram read or in one of those counters (--account); each iperf-server.N.txt's Lost is its share.",
     R"([scenario]
name = "switch8-udp"
[switch.sw0]           # 10 Gb/s ports but h's (1 Gb/s, and so h's NIC); latency_ns = 1000, queue_bytes = 524288
ports = 8
port_speed = { h = "1G" }
[host.a.ping]          # sockets only: no ping
enabled = false
[host.a]
switch = "sw0"
address = "10.0.0.1/24"
frames = 0
udp_send = [{dst = "10.0.0.2", port = 5001, len = 1472, rate = "400M", count = 300}, {dst = "10.0.0.3", port = 5001, len = 1472, rate = "400M", count = 300}, {dst = "10.0.0.4", port = 5001, len = 1472, rate = "400M", count = 300}, {dst = "10.0.0.5", port = 5001, len = 1472, rate = "400M", count = 300}, {dst = "10.0.0.6", port = 5001, len = 1472, rate = "400M", count = 300}, {dst = "10.0.0.7", port = 5001, len = 1472, rate = "400M", count = 300}, {dst = "10.0.0.8", port = 5001, len = 1472, rate = "400M", count = 300}]
udp_recv = [{port = 5002}, {port = 5003}, {port = 5004}, {port = 5005}, {port = 5006}, {port = 5007}, {port = 5008}]
[host.b]
switch = "sw0"
address = "10.0.0.2/24"
frames = 0
udp_send = [{dst = "10.0.0.1", port = 5002, len = 1472, rate = "400M", count = 300}, {dst = "10.0.0.3", port = 5002, len = 1472, rate = "400M", count = 300}, {dst = "10.0.0.4", port = 5002, len = 1472, rate = "400M", count = 300}, {dst = "10.0.0.5", port = 5002, len = 1472, rate = "400M", count = 300}, {dst = "10.0.0.6", port = 5002, len = 1472, rate = "400M", count = 300}, {dst = "10.0.0.7", port = 5002, len = 1472, rate = "400M", count = 300}, {dst = "10.0.0.8", port = 5002, len = 1472, rate = "400M", count = 300}]
udp_recv = [{port = 5001}, {port = 5003}, {port = 5004}, {port = 5005}, {port = 5006}, {port = 5007}, {port = 5008}]
[host.c]
switch = "sw0"
address = "10.0.0.3/24"
frames = 0
udp_send = [{dst = "10.0.0.1", port = 5003, len = 1472, rate = "400M", count = 300}, {dst = "10.0.0.2", port = 5003, len = 1472, rate = "400M", count = 300}, {dst = "10.0.0.4", port = 5003, len = 1472, rate = "400M", count = 300}, {dst = "10.0.0.5", port = 5003, len = 1472, rate = "400M", count = 300}, {dst = "10.0.0.6", port = 5003, len = 1472, rate = "400M", count = 300}, {dst = "10.0.0.7", port = 5003, len = 1472, rate = "400M", count = 300}, {dst = "10.0.0.8", port = 5003, len = 1472, rate = "400M", count = 300}]
udp_recv = [{port = 5001}, {port = 5002}, {port = 5004}, {port = 5005}, {port = 5006}, {port = 5007}, {port = 5008}]
[host.d]
switch = "sw0"
address = "10.0.0.4/24"
frames = 0
udp_send = [{dst = "10.0.0.1", port = 5004, len = 1472, rate = "400M", count = 300}, {dst = "10.0.0.2", port = 5004, len = 1472, rate = "400M", count = 300}, {dst = "10.0.0.3", port = 5004, len = 1472, rate = "400M", count = 300}, {dst = "10.0.0.5", port = 5004, len = 1472, rate = "400M", count = 300}, {dst = "10.0.0.6", port = 5004, len = 1472, rate = "400M", count = 300}, {dst = "10.0.0.7", port = 5004, len = 1472, rate = "400M", count = 300}, {dst = "10.0.0.8", port = 5004, len = 1472, rate = "400M", count = 300}]
udp_recv = [{port = 5001}, {port = 5002}, {port = 5003}, {port = 5005}, {port = 5006}, {port = 5007}, {port = 5008}]
[host.e]
switch = "sw0"
address = "10.0.0.5/24"
frames = 0
udp_send = [{dst = "10.0.0.1", port = 5005, len = 1472, rate = "400M", count = 300}, {dst = "10.0.0.2", port = 5005, len = 1472, rate = "400M", count = 300}, {dst = "10.0.0.3", port = 5005, len = 1472, rate = "400M", count = 300}, {dst = "10.0.0.4", port = 5005, len = 1472, rate = "400M", count = 300}, {dst = "10.0.0.6", port = 5005, len = 1472, rate = "400M", count = 300}, {dst = "10.0.0.7", port = 5005, len = 1472, rate = "400M", count = 300}, {dst = "10.0.0.8", port = 5005, len = 1472, rate = "400M", count = 300}]
udp_recv = [{port = 5001}, {port = 5002}, {port = 5003}, {port = 5004}, {port = 5006}, {port = 5007}, {port = 5008}]
[host.f]
switch = "sw0"
address = "10.0.0.6/24"
frames = 0
udp_send = [{dst = "10.0.0.1", port = 5006, len = 1472, rate = "400M", count = 300}, {dst = "10.0.0.2", port = 5006, len = 1472, rate = "400M", count = 300}, {dst = "10.0.0.3", port = 5006, len = 1472, rate = "400M", count = 300}, {dst = "10.0.0.4", port = 5006, len = 1472, rate = "400M", count = 300}, {dst = "10.0.0.5", port = 5006, len = 1472, rate = "400M", count = 300}, {dst = "10.0.0.7", port = 5006, len = 1472, rate = "400M", count = 300}, {dst = "10.0.0.8", port = 5006, len = 1472, rate = "400M", count = 300}]
udp_recv = [{port = 5001}, {port = 5002}, {port = 5003}, {port = 5004}, {port = 5005}, {port = 5007}, {port = 5008}]
[host.g]
switch = "sw0"
address = "10.0.0.7/24"
frames = 0
udp_send = [{dst = "10.0.0.1", port = 5007, len = 1472, rate = "400M", count = 300}, {dst = "10.0.0.2", port = 5007, len = 1472, rate = "400M", count = 300}, {dst = "10.0.0.3", port = 5007, len = 1472, rate = "400M", count = 300}, {dst = "10.0.0.4", port = 5007, len = 1472, rate = "400M", count = 300}, {dst = "10.0.0.5", port = 5007, len = 1472, rate = "400M", count = 300}, {dst = "10.0.0.6", port = 5007, len = 1472, rate = "400M", count = 300}, {dst = "10.0.0.8", port = 5007, len = 1472, rate = "400M", count = 300}]
udp_recv = [{port = 5001, read_cost_ns = 5000}, {port = 5002, read_cost_ns = 5000}, {port = 5003, read_cost_ns = 5000}, {port = 5004, read_cost_ns = 5000}, {port = 5005, read_cost_ns = 5000}, {port = 5006, read_cost_ns = 5000}, {port = 5008, read_cost_ns = 5000}]
[host.h]
switch = "sw0"
address = "10.0.0.8/24"
frames = 0
udp_send = [{dst = "10.0.0.1", port = 5008, len = 1472, rate = "400M", count = 300}, {dst = "10.0.0.2", port = 5008, len = 1472, rate = "400M", count = 300}, {dst = "10.0.0.3", port = 5008, len = 1472, rate = "400M", count = 300}, {dst = "10.0.0.4", port = 5008, len = 1472, rate = "400M", count = 300}, {dst = "10.0.0.5", port = 5008, len = 1472, rate = "400M", count = 300}, {dst = "10.0.0.6", port = 5008, len = 1472, rate = "400M", count = 300}, {dst = "10.0.0.7", port = 5008, len = 1472, rate = "400M", count = 300}]
udp_recv = [{port = 5001}, {port = 5002}, {port = 5003}, {port = 5004}, {port = 5005}, {port = 5006}, {port = 5007}]
)"},
};

}  // namespace

const HostConfig* Scenario::find_host(std::string_view n) const {
  for (const auto& h : host_list) {
    if (h.name == n) return &h;
  }
  return nullptr;
}

const HostConfig& Scenario::host(std::string_view n) const {
  if (const HostConfig* h = find_host(n)) return *h;
  throw std::out_of_range(fmt::format("the scenario has no host {}", n));
}
HostConfig& Scenario::host(std::string_view n) { return const_cast<HostConfig&>(std::as_const(*this).host(n)); }

const NicSide& Scenario::nic_side(std::string_view h, unsigned index) const {
  const HostConfig& c = host(h);
  if (index >= c.nics.size()) throw std::out_of_range(fmt::format("host {} has no eth{}", h, index));
  return c.nics[index];
}
NicSide& Scenario::nic_side(std::string_view h, unsigned index) {
  return const_cast<NicSide&>(std::as_const(*this).nic_side(h, index));
}

const LinkConfig& Scenario::link(std::string_view n) const {
  for (const auto& l : links) {
    if (l.name == n) return l;
  }
  throw std::out_of_range(fmt::format("the scenario has no link {}", n));
}
LinkConfig& Scenario::link(std::string_view n) { return const_cast<LinkConfig&>(std::as_const(*this).link(n)); }

std::span<const BuiltinScenario> builtin_scenarios() { return kBuiltins; }

const BuiltinScenario* find_builtin(std::string_view name) {
  for (const auto& b : kBuiltins) {
    if (b.name == name) return &b;
  }
  return nullptr;
}

namespace {

// Which layer set each key of a merged table (dotted paths), so that an error names the file
// or the --set that brought the bad key rather than the default it was merged over.
using Origins = std::map<std::string, std::string, std::less<>>;

struct Ctx {
  std::string_view source;
  std::string* error;
  const Origins* origins = nullptr;
  bool ok = true;
  std::string_view source_of(std::string_view key) const {
    if (!origins) return source;
    for (std::string_view k = key;;) {  // the key, else the nearest table above it that a layer replaced
      if (auto it = origins->find(k); it != origins->end()) return it->second;
      if (k.ends_with(']') && k.rfind('[') != std::string_view::npos) {  // "host.b.routes[1]": the array's
        k = k.substr(0, k.rfind('['));
        continue;
      }
      const auto dot = k.rfind('.');
      if (dot == std::string_view::npos) return source;
      k = k.substr(0, dot);
    }
  }
  void fail(const std::string& key, const std::string& why) {
    if (ok && error) *error = fmt::format("{}: {}: {}", source_of(key), key, why);
    ok = false;
  }
};

// Reads an integer key within [lo, hi]; missing keys keep the default.
template <typename T>
void get_int(Ctx& c, const toml::table& t, std::string_view table, std::string_view key, T& out, int64_t lo,
             int64_t hi) {
  const toml::node* n = t.get(key);
  if (!n) return;
  const auto v = n->value<int64_t>();
  const std::string full = fmt::format("{}.{}", table, key);
  if (!v || !n->is_integer()) return c.fail(full, "expected an integer");
  if (*v < lo || *v > hi) return c.fail(full, fmt::format("{} is outside {}..{}", *v, lo, hi));
  out = static_cast<T>(*v);
}

void get_double(Ctx& c, const toml::table& t, std::string_view table, std::string_view key, double& out,
                double lo, double hi) {
  const toml::node* n = t.get(key);
  if (!n) return;
  const auto v = n->value<double>();
  const std::string full = fmt::format("{}.{}", table, key);
  if (!v) return c.fail(full, "expected a number");
  if (!(*v >= lo && *v <= hi)) return c.fail(full, fmt::format("{} is outside {}..{}", *v, lo, hi));
  out = *v;
}

void get_bool(Ctx& c, const toml::table& t, std::string_view table, std::string_view key, bool& out) {
  const toml::node* n = t.get(key);
  if (!n) return;
  if (!n->is_boolean()) return c.fail(fmt::format("{}.{}", table, key), "expected true or false");
  out = *n->value<bool>();
}

void get_string(Ctx& c, const toml::table& t, std::string_view table, std::string_view key, std::string& out) {
  const toml::node* n = t.get(key);
  if (!n) return;
  if (!n->is_string()) return c.fail(fmt::format("{}.{}", table, key), "expected a string");
  out = *n->value<std::string>();
}

void check_keys(Ctx& c, const toml::table& t, std::string_view table, const std::set<std::string_view>& allowed) {
  for (const auto& [k, v] : t) {
    (void)v;
    if (!allowed.contains(k.str())) c.fail(fmt::format("{}.{}", table, k.str()), "unknown key");
  }
}

const toml::table* sub(Ctx& c, const toml::table& root, std::string_view name) {
  const toml::node* n = root.get(name);
  if (!n) return nullptr;
  if (!n->is_table()) {
    c.fail(std::string(name), "expected a table");
    return nullptr;
  }
  return n->as_table();
}

// The keys of one NIC ([host.NAME] for eth0, [host.NAME.ethN]).
const std::set<std::string_view> kNicKeys{"mac",       "tx",       "rx",          "rx_buf", "rx-usecs", "rx-frames",
                                          "tx-usecs",  "tx-frames", "frames",     "min_len", "max_len", "interval_ns",
                                          "refill",    "promisc",  "rx-fcs",      "rx-all", "start_ns", "address",
                                          "qdisc",     "tcpdump",  "dst_ip",      "adaptive-rx", "adaptive-tx",
                                          "rx-moderation", "tx-moderation", "rx-abs-usecs", "tx-abs-usecs",
                                          "switch",    "gso",      "gro",         "gso_max_size", "gso_max_segs"};

// The device's moderation rules by their scenario names (RX_USECS.MODE / TX_USECS.MODE values).
constexpr std::array<std::string_view, 3> kModerationModes{"first-completion", "min-interval", "packet-timer"};

bool valid_name(std::string_view n) {
  if (n.empty() || n.front() < 'a' || n.front() > 'z') return false;
  for (char ch : n) {
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-')) return false;
  }
  return true;
}

// "ethN" -> N; nullopt for anything else.
std::optional<unsigned> eth_index(std::string_view n) {
  if (!n.starts_with("eth") || n.size() < 4 || n.size() > 6) return std::nullopt;
  unsigned v = 0;
  for (char ch : n.substr(3)) {
    if (ch < '0' || ch > '9') return std::nullopt;
    v = v * 10 + static_cast<unsigned>(ch - '0');
  }
  if (n.size() > 4 && n[3] == '0') return std::nullopt;  // eth01
  return v;
}

// The offload keys of [driver] and of a NIC: gso and gro (ethtool -K), gso_max_size and
// gso_max_segs (ip link set). What is not given stays unset.
struct OffloadKeys {
  std::optional<bool> gso, gro;
  std::optional<uint32_t> gso_max_size, gso_max_segs;
};
// gso_max_size: at most the device's tso_max_size (TSO_LEGACY_MAX_SIZE, 65536: rtnetlink's
// do_setlink refuses more); at least MAX_TCP_HEADER + 2, since sk_setup_caps takes MAX_TCP_HEADER
// + 1 (321 bytes) off it for TCP's size goal, which would wrap below that (Linux takes such a value
// and wraps). gso_max_segs: 0..GSO_MAX_SEGS, as do_setlink takes it.
constexpr int64_t kGsoMaxSizeMin = 322, kGsoMaxSizeMax = 65536, kGsoMaxSegsMax = 65535;

OffloadKeys parse_offloads(Ctx& c, const toml::table& t, std::string_view table) {
  OffloadKeys k;
  for (auto [key, out] : {std::pair{"gso", &k.gso}, std::pair{"gro", &k.gro}}) {
    const toml::node* n = t.get(key);
    if (n == nullptr) continue;
    bool v = true;
    get_bool(c, t, table, key, v);  // true or false, or refused
    if (n->is_boolean()) *out = v;
  }
  const auto get_u32 = [&](std::string_view key, int64_t lo, int64_t hi, std::string_view why) -> std::optional<uint32_t> {
    const toml::node* n = t.get(key);
    if (n == nullptr) return std::nullopt;
    int64_t v = 0;
    get_int(c, t, table, key, v, INT64_MIN, INT64_MAX);  // an integer, or refused
    if (!n->is_integer()) return std::nullopt;
    if (v < lo || v > hi) {
      c.fail(fmt::format("{}.{}", table, key), fmt::format("{} is outside {}..{} ({})", v, lo, hi, why));
      return std::nullopt;
    }
    return static_cast<uint32_t>(v);
  };
  k.gso_max_size = get_u32("gso_max_size", kGsoMaxSizeMin, kGsoMaxSizeMax,
                           "at most the device's tso_max_size; TCP takes MAX_TCP_HEADER + 1 = 321 bytes off it");
  k.gso_max_segs = get_u32("gso_max_segs", 0, kGsoMaxSegsMax, "GSO_MAX_SEGS is 65535");
  return k;
}

// Reads the per-NIC keys of `t` (named `name`, "host.a" or "host.a.eth1") into n; the caller checks
// which keys are allowed. *mac_given says whether mac was set.
void parse_nic(Ctx& c, const toml::table& t, std::string_view name, NicSide& n, bool* mac_given) {
  std::string mac;
  get_string(c, t, name, "mac", mac);
  *mac_given = false;
  if (!mac.empty()) {
    const auto m = model::MacAddr::parse(mac);
    if (!m) {
      c.fail(fmt::format("{}.mac", name), fmt::format("'{}' is not a MAC address like 02:00:00:00:00:01", mac));
    } else if (m->is_multicast()) {
      c.fail(fmt::format("{}.mac", name), "a station address must be unicast");
    } else {
      n.mac = *m;
      *mac_given = true;
    }
  }
  auto& hc = n.host;
  get_int(c, t, name, "tx", hc.tx_ring, 8, 4096);
  get_int(c, t, name, "rx", hc.rx_ring, 8, 4096);
  for (auto [key, v] : {std::pair{"tx", hc.tx_ring}, std::pair{"rx", hc.rx_ring}}) {
    if ((v & (v - 1)) != 0) c.fail(fmt::format("{}.{}", name, key), fmt::format("{} is not a power of two", v));
  }
  get_int(c, t, name, "rx_buf", hc.rx_buf, 64, 16384);
  get_int(c, t, name, "rx-usecs", hc.coalesce.rx_usecs, 0, 65535);
  get_int(c, t, name, "rx-frames", hc.coalesce.rx_frames, 0, 65535);
  get_int(c, t, name, "tx-usecs", hc.coalesce.tx_usecs, 0, 65535);
  get_int(c, t, name, "tx-frames", hc.coalesce.tx_frames, 0, 65535);
  get_bool(c, t, name, "adaptive-rx", hc.coalesce.adaptive_rx);
  get_bool(c, t, name, "adaptive-tx", hc.coalesce.adaptive_tx);
  for (auto [key, mode] : {std::pair{"rx-moderation", &hc.coalesce.rx_mode}, std::pair{"tx-moderation", &hc.coalesce.tx_mode}}) {
    std::string v;
    get_string(c, t, name, key, v);
    if (!t.contains(key) || !t.get(key)->is_string()) continue;
    const auto it = std::find(kModerationModes.begin(), kModerationModes.end(), v);
    if (it == kModerationModes.end()) {
      c.fail(fmt::format("{}.{}", name, key),
             fmt::format("'{}' is not one of first-completion, min-interval, packet-timer", v));
    } else {
      *mode = static_cast<uint32_t>(it - kModerationModes.begin());
    }
  }
  get_int(c, t, name, "rx-abs-usecs", hc.coalesce.rx_abs_usecs, 0, 65535);
  get_int(c, t, name, "tx-abs-usecs", hc.coalesce.tx_abs_usecs, 0, 65535);
  get_int(c, t, name, "frames", hc.count, 0, int64_t{1} << 40);
  get_int(c, t, name, "min_len", hc.pattern.min_len, 60, 9014);
  get_int(c, t, name, "max_len", hc.pattern.max_len, 60, 9014);
  if (hc.pattern.max_len < hc.pattern.min_len) c.fail(fmt::format("{}.max_len", name), "is below min_len");
  int64_t interval_ns = hc.interval.ps() / 1000;
  get_int(c, t, name, "interval_ns", interval_ns, 0, int64_t{1} << 40);
  hc.interval = model::Duration::ns(interval_ns);
  int64_t start_ns = hc.start.ps() / 1000;
  get_int(c, t, name, "start_ns", start_ns, 0, int64_t{1} << 40);
  hc.start = model::Duration::ns(start_ns);
  get_bool(c, t, name, "refill", hc.refill_rx);
  namespace rx_ctrl = model::regs::rx_ctrl;
  bool promisc = rx_ctrl::kPromisc.get(hc.rx_ctrl) != 0, rx_fcs = rx_ctrl::kRxFcs.get(hc.rx_ctrl) != 0,
       rx_all = rx_ctrl::kRxAll.get(hc.rx_ctrl) != 0;
  get_bool(c, t, name, "promisc", promisc);
  get_bool(c, t, name, "rx-fcs", rx_fcs);
  get_bool(c, t, name, "rx-all", rx_all);
  hc.rx_ctrl = rx_ctrl::kBcast.mask() | (promisc ? rx_ctrl::kPromisc.mask() : 0u) |
               (rx_fcs ? rx_ctrl::kRxFcs.mask() : 0u) | (rx_all ? rx_ctrl::kRxAll.mask() : 0u);
  std::string addr;
  get_string(c, t, name, "address", addr);
  if (t.contains("address") && t.get("address")->is_string()) {
    const auto a = Ipv4Cidr::parse(addr);
    if (!a) {
      c.fail(fmt::format("{}.address", name), fmt::format("'{}' is not an IPv4 address with a prefix like 10.0.0.1/24", addr));
    } else if (a->addr == 0 || (a->addr >> 28) >= 14) {
      c.fail(fmt::format("{}.address", name), fmt::format("'{}' is not a unicast address", addr));
    } else {
      n.address = *a;
    }
  }
  get_string(c, t, name, "qdisc", n.qdisc);
  if (t.contains("qdisc") && n.qdisc != "pfifo_fast" && n.qdisc != "noqueue" && n.qdisc != "fq_codel") {
    c.fail(fmt::format("{}.qdisc", name), fmt::format("'{}' is not one of fq_codel, pfifo_fast, noqueue", n.qdisc));
  }
  std::string dst_ip;
  get_string(c, t, name, "dst_ip", dst_ip);
  if (t.contains("dst_ip") && t.get("dst_ip")->is_string()) {
    const auto a = parse_ipv4(dst_ip);
    if (!a || *a == 0 || (*a >> 28) >= 14) {
      c.fail(fmt::format("{}.dst_ip", name), fmt::format("'{}' is not a unicast IPv4 address", dst_ip));
    } else {
      hc.pattern.ip_dst = *a;
    }
  }
  get_string(c, t, name, "tcpdump", n.tcpdump);
  if (t.contains("tcpdump") && n.tcpdump.empty()) {
    c.fail(fmt::format("{}.tcpdump", name), "is empty (give a pcap file, or leave the key out)");
  }
  get_string(c, t, name, "switch", n.switch_name);
  if (t.contains("switch") && n.switch_name.empty()) {
    c.fail(fmt::format("{}.switch", name), "is empty (name a [switch.NAME], or leave the key out)");
  }
  const OffloadKeys o = parse_offloads(c, t, name);
  if (o.gso) n.gso = o.gso;
  if (o.gro) n.gro = o.gro;
  if (o.gso_max_size) n.gso_max_size = o.gso_max_size;
  if (o.gso_max_segs) n.gso_max_segs = o.gso_max_segs;
}

// tcp_rmem / tcp_wmem: three integers "min default max" (bytes), as the sysctl takes them; each at
// least 1 (proc_dointvec_minmax's bound) and in order.
void get_tcp_mem(Ctx& c, const toml::table& t, std::string_view table, std::string_view key, uint32_t (&out)[3]) {
  const toml::node* n = t.get(key);
  if (!n) return;
  const std::string full = fmt::format("{}.{}", table, key);
  const toml::array* a = n->as_array();
  if (a == nullptr || a->size() != 3) return c.fail(full, "expected three integers [min, default, max] (bytes)");
  uint32_t v[3];
  for (std::size_t i = 0; i < 3; ++i) {
    const auto x = (*a)[i].value<int64_t>();
    if (!x || !(*a)[i].is_integer()) return c.fail(full, "expected three integers [min, default, max] (bytes)");
    if (*x < 1 || *x > INT32_MAX) return c.fail(full, fmt::format("{} is outside 1..{}", *x, INT32_MAX));
    v[i] = static_cast<uint32_t>(*x);
  }
  if (v[0] > v[1] || v[1] > v[2]) {
    return c.fail(full, fmt::format("[{}, {}, {}] is not in order (min <= default <= max)", v[0], v[1], v[2]));
  }
  for (std::size_t i = 0; i < 3; ++i) out[i] = v[i];
}

// The net.ipv4.tcp_* keys of [sysctl] / [host.NAME.sysctl].
void parse_tcp_sysctl(Ctx& c, const toml::table& t, std::string_view table, stack::TcpSysctls& y) {
  get_tcp_mem(c, t, table, "tcp_rmem", y.tcp_rmem);
  get_tcp_mem(c, t, table, "tcp_wmem", y.tcp_wmem);
  std::string cc = y.tcp_congestion_control;
  get_string(c, t, table, "tcp_congestion_control", cc);
  if (cc != "reno" && cc != "cubic") {
    c.fail(fmt::format("{}.tcp_congestion_control", table),
           fmt::format("'{}' is not one of cubic, reno (the congestion controls the stack has)", cc));
  } else {
    y.tcp_congestion_control = cc;
  }
  const auto flag = [&](std::string_view key, bool& out) {
    int v = out ? 1 : 0;
    get_int(c, t, table, key, v, 0, 1);
    out = v != 0;
  };
  flag("tcp_sack", y.tcp_sack);
  flag("tcp_timestamps", y.tcp_timestamps);
  flag("tcp_window_scaling", y.tcp_window_scaling);
  // tcp_recovery: a bit mask (RACK 0x1, static reordering window 0x2, no DUPACK threshold 0x4).
  get_int(c, t, table, "tcp_recovery", y.tcp_recovery, 0, 7);
  get_int(c, t, table, "tcp_early_retrans", y.tcp_early_retrans, 0, 4);
  // tcp_ecn: 0, 1 or 2 (net.ipv4.tcp_ecn's range); anything else is named with what each means
  const toml::node* ecn = t.get("tcp_ecn");
  const int64_t ecn_v = ecn != nullptr && ecn->is_integer() ? *ecn->value<int64_t>() : 0;
  if (ecn_v < 0 || ecn_v > 2) {
    c.fail(fmt::format("{}.tcp_ecn", table),
           fmt::format("{} is not one of 0 (off), 1 (ask for ECN and accept it), 2 (accept it when asked)", ecn_v));
  } else {
    get_int(c, t, table, "tcp_ecn", y.tcp_ecn, 0, 2);
  }
  get_int(c, t, table, "tcp_ecn_fallback", y.tcp_ecn_fallback, 0, 1);
}

// [sysctl] or [host.NAME.sysctl]: the keys it sets replace those of y.
void parse_sysctl(Ctx& c, const toml::table& t, std::string_view table, HostSysctls& y) {
  check_keys(c, t, table,
             {"netdev_budget", "netdev_budget_usecs", "dev_weight", "netdev_max_backlog", "default_qdisc", "ip_forward",
              "ip_forward_update_priority", "ip_default_ttl", "arp_notify", "icmp_ratelimit", "icmp_ratemask",
              "icmp_msgs_per_sec", "icmp_msgs_burst", "icmp_echo_ignore_all", "icmp_echo_ignore_broadcasts",
              "ipfrag_high_thresh", "ipfrag_low_thresh", "ipfrag_time", "ipfrag_max_dist", "tcp_rmem", "tcp_wmem",
              "tcp_congestion_control", "tcp_sack", "tcp_timestamps", "tcp_window_scaling", "tcp_recovery",
              "tcp_early_retrans", "tcp_ecn", "tcp_ecn_fallback"});
  auto& k = y.core;
  get_int(c, t, table, "netdev_budget", k.netdev_budget, 1, 1'000'000);
  get_int(c, t, table, "netdev_budget_usecs", k.netdev_budget_usecs, 1, 100'000'000);
  get_int(c, t, table, "dev_weight", k.dev_weight, 1, 1'000'000);
  get_int(c, t, table, "netdev_max_backlog", k.netdev_max_backlog, 1, 10'000'000);
  get_string(c, t, table, "default_qdisc", y.default_qdisc);
  if (y.default_qdisc != "pfifo_fast" && y.default_qdisc != "noqueue" && y.default_qdisc != "fq_codel") {
    c.fail(fmt::format("{}.default_qdisc", table),
           fmt::format("'{}' is not one of fq_codel, pfifo_fast, noqueue (the qdiscs the stack has)", y.default_qdisc));
  }
  get_int(c, t, table, "ip_forward", y.ip_forward, 0, 1);
  get_int(c, t, table, "ip_forward_update_priority", y.ip_forward_update_priority, 0, 1);
  get_int(c, t, table, "ipfrag_high_thresh", y.ipfrag_high_thresh, 0, INT32_MAX);
  get_int(c, t, table, "ipfrag_low_thresh", y.ipfrag_low_thresh, 0, INT32_MAX);
  get_int(c, t, table, "ipfrag_time", y.ipfrag_time, 1, 86400);
  get_int(c, t, table, "ipfrag_max_dist", y.ipfrag_max_dist, 0, INT32_MAX);
  if (y.ipfrag_low_thresh > y.ipfrag_high_thresh) {
    // proc_doulongvec_minmax's bounds: low_thresh may not pass high_thresh (EINVAL).
    c.fail(fmt::format("{}.ipfrag_low_thresh", table),
           fmt::format("{} is above ipfrag_high_thresh {}", y.ipfrag_low_thresh, y.ipfrag_high_thresh));
  }
  get_int(c, t, table, "ip_default_ttl", y.ip_default_ttl, 1, 255);
  get_int(c, t, table, "arp_notify", y.arp_notify, 0, 1);
  get_int(c, t, table, "icmp_ratelimit", y.icmp_ratelimit, 0, INT32_MAX);
  get_int(c, t, table, "icmp_ratemask", y.icmp_ratemask, 0, UINT32_MAX);
  get_int(c, t, table, "icmp_msgs_per_sec", y.icmp_msgs_per_sec, 0, INT32_MAX);
  get_int(c, t, table, "icmp_msgs_burst", y.icmp_msgs_burst, 0, INT32_MAX);
  get_int(c, t, table, "icmp_echo_ignore_all", y.icmp_echo_ignore_all, 0, 1);
  get_int(c, t, table, "icmp_echo_ignore_broadcasts", y.icmp_echo_ignore_broadcasts, 0, 1);
  parse_tcp_sysctl(c, t, table, y.tcp);
}

void parse_ping(Ctx& c, const toml::table& t, std::string_view table, PingConfig& p) {
  check_keys(c, t, table, {"enabled", "dst", "count", "interval_ms", "size", "ttl", "start_ms", "deadline_s"});
  get_bool(c, t, table, "enabled", p.enabled);
  std::string dst;
  get_string(c, t, table, "dst", dst);
  if (!t.contains("dst")) {
    // A disabled ping needs no address (enabled = false may stand alone).
    if (p.enabled) c.fail(fmt::format("{}.dst", table), "is required (the address to ping)");
  } else if (t.get("dst")->is_string()) {
    const auto a = parse_ipv4(dst);
    if (!a) {
      c.fail(fmt::format("{}.dst", table), fmt::format("'{}' is not an IPv4 address like 10.0.0.2", dst));
    } else {
      p.dst = *a;
    }
  }
  get_int(c, t, table, "count", p.count, 0, 1'000'000'000);
  get_int(c, t, table, "interval_ms", p.interval_ms, 1, 3'600'000);
  get_int(c, t, table, "size", p.size, 0, 65507);
  uint32_t ttl = 64;
  get_int(c, t, table, "ttl", ttl, 1, 255);
  if (t.contains("ttl")) p.ttl = ttl;
  get_int(c, t, table, "start_ms", p.start_ms, 0, 3'600'000'000);
  uint32_t deadline = 0;
  get_int(c, t, table, "deadline_s", deadline, 1, 86'400);
  if (t.contains("deadline_s")) p.deadline_s = deadline;
}

// "1G", "500M", "64k", "0" or an integer: bits per second (decimal multiples, as iperf's -b).
std::optional<uint64_t> parse_rate(std::string_view s) {
  if (s.empty()) return std::nullopt;
  uint64_t mult = 1;
  const char last = s.back();
  if (last == 'k' || last == 'K') mult = 1'000;
  if (last == 'm' || last == 'M') mult = 1'000'000;
  if (last == 'g' || last == 'G') mult = 1'000'000'000;
  if (mult != 1) s.remove_suffix(1);
  if (s.empty() || s.size() > 12) return std::nullopt;
  uint64_t v = 0;
  for (char ch : s) {
    if (ch < '0' || ch > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(ch - '0');
  }
  if (v > 400'000'000'000ull / mult) return std::nullopt;  // at most 400 Gbit/s
  return v * mult;
}

// dst: a required IPv4 address.
void get_dst(Ctx& c, const toml::table& t, std::string_view table, uint32_t& out, const char* what) {
  std::string dst;
  get_string(c, t, table, "dst", dst);
  if (!t.contains("dst")) return c.fail(fmt::format("{}.dst", table), fmt::format("is required ({})", what));
  if (!t.get("dst")->is_string()) return;
  const auto a = parse_ipv4(dst);
  if (!a) return c.fail(fmt::format("{}.dst", table), fmt::format("'{}' is not an IPv4 address like 10.0.0.2", dst));
  out = *a;
}

void parse_udp_send(Ctx& c, const toml::table& t, std::string_view table, UdpSendConfig& u) {
  check_keys(c, t, table, {"dst", "port", "len", "rate", "count", "duration_ms", "start_ms", "sndbuf"});
  get_dst(c, t, table, u.dst, "the address to send to");
  get_int(c, t, table, "port", u.port, 1, 65535);
  get_int(c, t, table, "len", u.len, 56, 65507);  // iperf's header and its report's room; the UDP maximum
  if (const toml::node* n = t.get("rate")) {
    const std::string full = fmt::format("{}.rate", table);
    std::optional<uint64_t> r;
    if (n->is_integer()) {
      const int64_t v = *n->value<int64_t>();
      if (v >= 0 && v <= 400'000'000'000) r = static_cast<uint64_t>(v);
    } else if (n->is_string()) {
      r = parse_rate(*n->value<std::string>());
    }
    if (!r) {
      c.fail(full, "expected bits per second like \"1G\", \"500M\", \"64k\" or 0 (as fast as the socket lets), "
                   "at most 400G");
    } else {
      u.rate_bps = *r;
    }
  }
  get_int(c, t, table, "count", u.count, 1, 1'000'000'000);
  get_int(c, t, table, "duration_ms", u.duration_ms, 1, 3'600'000);
  if (t.contains("count") && t.contains("duration_ms"))
    c.fail(fmt::format("{}.duration_ms", table), "give count or duration_ms, not both");
  get_int(c, t, table, "start_ms", u.start_ms, 0, 3'600'000);
  get_int(c, t, table, "sndbuf", u.sndbuf, 1, INT32_MAX);
}

void parse_udp_recv(Ctx& c, const toml::table& t, std::string_view table, UdpRecvConfig& u) {
  check_keys(c, t, table, {"port", "read_cost_ns", "rcvbuf", "use_epoll"});
  get_int(c, t, table, "port", u.port, 1, 65535);
  get_int(c, t, table, "read_cost_ns", u.read_cost_ns, 0, 1'000'000'000);
  get_int(c, t, table, "rcvbuf", u.rcvbuf, 1, INT32_MAX);
  get_bool(c, t, table, "use_epoll", u.use_epoll);
}

void parse_udp_rr(Ctx& c, const toml::table& t, std::string_view table, UdpRrConfig& u) {
  check_keys(c, t, table, {"dst", "port", "req", "resp", "count", "duration_ms", "start_ms", "timeout_ms"});
  get_dst(c, t, table, u.dst, "the netserver's address");
  get_int(c, t, table, "port", u.port, 1, 65535);
  get_int(c, t, table, "req", u.req, 1, 65507);
  get_int(c, t, table, "resp", u.resp, 1, 65507);
  get_int(c, t, table, "count", u.count, 1, 1'000'000'000);
  get_int(c, t, table, "duration_ms", u.duration_ms, 1, 3'600'000);
  if (t.contains("count") && t.contains("duration_ms"))
    c.fail(fmt::format("{}.duration_ms", table), "give count or duration_ms, not both");
  get_int(c, t, table, "start_ms", u.start_ms, 0, 3'600'000);
  get_int(c, t, table, "timeout_ms", u.timeout_ms, 1, 3'600'000);
}

// A TCP client's dst: a host's name (resolved once every host is read: resolve_tcp_apps) or an
// IPv4 address.
void get_tcp_dst(Ctx& c, const toml::table& t, std::string_view table, uint32_t& out, std::string& host,
                 const char* what) {
  std::string dst;
  get_string(c, t, table, "dst", dst);
  if (!t.contains("dst")) return c.fail(fmt::format("{}.dst", table), fmt::format("is required ({})", what));
  if (!t.get("dst")->is_string()) return;
  if (const auto a = parse_ipv4(dst)) {
    out = *a;
    host.clear();
  } else if (valid_name(dst)) {
    host = dst;
  } else {
    c.fail(fmt::format("{}.dst", table), fmt::format("'{}' is neither a host's name nor an IPv4 address like 10.0.0.2", dst));
  }
}

void parse_tcp_iperf3_server(Ctx& c, const toml::table& t, std::string_view table, TcpIperf3ServerConfig& u) {
  check_keys(c, t, table, {"port", "interval_ms"});
  get_int(c, t, table, "port", u.port, 1, 65535);
  get_int(c, t, table, "interval_ms", u.interval_ms, 1, 3'600'000);
}

void parse_tcp_iperf3_client(Ctx& c, const toml::table& t, std::string_view table, TcpIperf3ClientConfig& u) {
  check_keys(c, t, table, {"dst", "port", "bytes", "duration_ms", "len", "interval_ms", "start_ms"});
  get_tcp_dst(c, t, table, u.dst, u.dst_host, "the iperf3 server's host or address");
  get_int(c, t, table, "port", u.port, 1, 65535);
  get_int(c, t, table, "bytes", u.bytes, 1, int64_t{1} << 40);
  get_int(c, t, table, "duration_ms", u.duration_ms, 1, 3'600'000);
  if (t.contains("bytes") && t.contains("duration_ms"))
    c.fail(fmt::format("{}.duration_ms", table), "give bytes or duration_ms, not both");
  get_int(c, t, table, "len", u.len, 1, 16 * 1024 * 1024);
  get_int(c, t, table, "interval_ms", u.interval_ms, 1, 3'600'000);
  get_int(c, t, table, "start_ms", u.start_ms, 0, 3'600'000);
}

void parse_tcp_netperf(Ctx& c, const toml::table& t, std::string_view table, TcpNetperfConfig& u) {
  check_keys(c, t, table, {"dst", "port", "req", "resp", "count", "duration_ms", "nodelay", "latency", "start_ms"});
  get_tcp_dst(c, t, table, u.dst, u.dst_host, "the netserver's host or address");
  get_int(c, t, table, "port", u.port, 1, 65535);
  get_int(c, t, table, "req", u.req, 1, 16 * 1024 * 1024);
  get_int(c, t, table, "resp", u.resp, 1, 16 * 1024 * 1024);
  get_int(c, t, table, "count", u.count, 1, 1'000'000'000);
  get_int(c, t, table, "duration_ms", u.duration_ms, 1, 3'600'000);
  if (t.contains("count") && t.contains("duration_ms"))
    c.fail(fmt::format("{}.duration_ms", table), "give count or duration_ms, not both");
  get_bool(c, t, table, "nodelay", u.nodelay);
  get_bool(c, t, table, "latency", u.latency);
  get_int(c, t, table, "start_ms", u.start_ms, 0, 3'600'000);
}

void parse_netserver(Ctx& c, const toml::table& t, std::string_view table, NetserverConfig& u) {
  check_keys(c, t, table, {"port"});
  get_int(c, t, table, "port", u.port, 1, 65535);
}

// How an error names the i-th of n tables of a key: "host.a.tcp_rr" for a host's only one,
// "host.a.tcp_rr[1]" when it has several.
std::string app_key(std::string_view host, std::string_view key, std::size_t i, std::size_t n) {
  return n == 1 ? fmt::format("host.{}.{}", host, key) : fmt::format("host.{}.{}[{}]", host, key, i);
}

// The TCP applications across hosts, once every host and address is known: each client's dst
// resolved (a host's name: its first NIC's address); a client whose dst is a host of the scenario
// needs that host's server on its port (else connect would be refused), and each server takes one
// client (iperf3 -s runs one test; the model's netserver one netperf test per port, whose kind and
// sizes it takes from that client, as netperf's control connection would tell it).
void resolve_tcp_apps(Ctx& c, Scenario& s) {
  const auto owner = [&](uint32_t addr) -> HostConfig* {
    for (auto& h : s.host_list) {
      for (const auto& n : h.nics) {
        if (n.address && n.address->addr == addr) return &h;
      }
    }
    return nullptr;
  };
  const auto resolve = [&](const std::string& key, uint32_t& dst, const std::string& dst_host) {
    if (dst_host.empty()) return;
    const HostConfig* h = s.find_host(dst_host);
    if (h == nullptr) return c.fail(key + ".dst", fmt::format("there is no host {} (a host's name or an IPv4 address)", dst_host));
    for (const auto& n : h->nics) {
      if (n.address) {
        dst = n.address->addr;
        return;
      }
    }
    c.fail(key + ".dst", fmt::format("host {} has no address (give its NIC one: address = \"10.0.0.2/24\")", dst_host));
  };
  std::map<std::pair<std::string, uint16_t>, std::string> served;  // (server host, port) -> its client
  for (auto& h : s.host_list) {
    const std::size_t ni = h.tcp_iperf3_client.size();
    for (std::size_t i = 0; i < ni; ++i) {
      auto& u = h.tcp_iperf3_client[i];
      const std::string key = app_key(h.name, "tcp_iperf3_client", i, ni);
      resolve(key, u.dst, u.dst_host);
      if (!c.ok) return;
      HostConfig* o = owner(u.dst);
      if (o == nullptr) continue;  // an address the scenario has no host for: nothing to check
      const auto& sv = o->tcp_iperf3_server;
      if (std::none_of(sv.begin(), sv.end(), [&](const TcpIperf3ServerConfig& x) { return x.port == u.port; })) {
        return c.fail(key, fmt::format("host {} runs no tcp_iperf3_server on port {} (connect would be refused: "
                                       "ECONNREFUSED)", o->name, u.port));
      }
      const auto [it, fresh] = served.emplace(std::pair{o->name + "/iperf3", u.port}, key);
      if (!fresh) {
        return c.fail(key, fmt::format("host {}'s tcp_iperf3_server on port {} serves {} already (iperf3 -s runs one "
                                       "test at a time: give each client its own server port)", o->name, u.port,
                                       it->second));
      }
    }
    for (const bool crr : {false, true}) {
      auto& v = crr ? h.tcp_crr : h.tcp_rr;
      const char* what = crr ? "tcp_crr" : "tcp_rr";
      for (std::size_t i = 0; i < v.size(); ++i) {
        auto& u = v[i];
        const std::string key = app_key(h.name, what, i, v.size());
        resolve(key, u.dst, u.dst_host);
        if (!c.ok) return;
        HostConfig* o = owner(u.dst);
        if (o == nullptr) continue;
        auto ns = std::find_if(o->netserver.begin(), o->netserver.end(),
                               [&](const NetserverConfig& x) { return x.port == u.port; });
        if (ns == o->netserver.end()) {
          return c.fail(key, fmt::format("host {} runs no netserver on port {} (connect would be refused: "
                                         "ECONNREFUSED)", o->name, u.port));
        }
        const auto [it, fresh] = served.emplace(std::pair{o->name + "/netserver", u.port}, key);
        if (!fresh) {
          return c.fail(key, fmt::format("host {}'s netserver on port {} serves {} already (the model's netserver "
                                         "serves one netperf test per port: give each its own)", o->name, u.port,
                                         it->second));
        }
        ns->crr = crr;
        ns->req = u.req;
        ns->resp = u.resp;
      }
    }
  }
}

// A host's keys: eth0's, the host-wide ones (iommu, routes) and its subtables (ethN, sysctl, ping).
// *mac_given[i]: whether NIC i's MAC was set.
void parse_host(Ctx& c, const toml::table& t, const std::string& table, HostConfig& h, const HostSysctls& global,
                std::vector<bool>* mac_given) {
  h.sysctl = global;
  std::set<std::string_view> allowed = kNicKeys;
  allowed.insert({"iommu", "routes", "sysctl", "ping", "iptables", "udp_send", "udp_recv", "udp_rr", "udp_rr_server",
                  "tcp_iperf3_server", "tcp_iperf3_client", "tcp_rr", "tcp_crr", "netserver"});
  // ethN subtables, numbered from eth1 without gaps.
  std::map<unsigned, const toml::table*> extra;
  for (const auto& [k, v] : t) {
    const auto n = eth_index(k.str());
    if (!n) continue;
    allowed.insert(k.str());
    if (*n == 0) {
      c.fail(fmt::format("{}.eth0", table), fmt::format("eth0's keys go in [{}] itself", table));
    } else if (!v.is_table()) {
      c.fail(fmt::format("{}.{}", table, k.str()), "expected a table (a NIC's keys)");
    } else {
      extra[*n] = v.as_table();
    }
  }
  check_keys(c, t, table, allowed);
  get_bool(c, t, table, "iommu", h.iommu);
  h.nics.assign(1, NicSide{});
  mac_given->assign(1, false);
  bool given = false;
  parse_nic(c, t, table, h.nics[0], &given);
  (*mac_given)[0] = given;
  for (const auto& [n, sub_t] : extra) {
    const std::string name = fmt::format("{}.eth{}", table, n);
    if (n != h.nics.size()) {
      c.fail(name, fmt::format("host {} has no eth{} (NICs are numbered from eth0 without gaps)", h.name, h.nics.size()));
      break;
    }
    check_keys(c, *sub_t, name, kNicKeys);
    NicSide nic;
    nic.ifname = fmt::format("eth{}", n);
    parse_nic(c, *sub_t, name, nic, &given);
    h.nics.push_back(std::move(nic));
    mac_given->push_back(given);
  }
  if (const toml::node* st = t.get("sysctl")) {
    if (!st->is_table()) {
      c.fail(table + ".sysctl", "expected a table");
    } else {
      parse_sysctl(c, *st->as_table(), table + ".sysctl", h.sysctl);
    }
  }
  if (const toml::node* pt = t.get("ping")) {
    if (!pt->is_table()) {
      c.fail(table + ".ping", "expected a table");
    } else {
      PingConfig p;
      parse_ping(c, *pt->as_table(), table + ".ping", p);
      h.ping = p;
    }
  }
  // UDP applications: each its subtable.
  const auto app = [&](const char* key, auto parse, auto& field) {
    const toml::node* n = t.get(key);
    if (n == nullptr) return;
    const std::string name = table + "." + key;
    if (!n->is_table()) return c.fail(name, "expected a table");
    typename std::remove_reference_t<decltype(field)>::value_type v{};
    parse(c, *n->as_table(), name, v);
    field = v;
  };
  // udp_send and udp_recv: one table, or an array of tables ([[host.NAME.udp_send]]) for several.
  const auto apps = [&](const char* key, auto parse, auto& field) {
    const toml::node* n = t.get(key);
    if (n == nullptr) return;
    const std::string name = table + "." + key;
    typename std::remove_reference_t<decltype(field)>::value_type v{};
    if (n->is_table()) {
      parse(c, *n->as_table(), name, v);
      field.push_back(v);
    } else if (const toml::array* arr = n->as_array(); arr != nullptr && !arr->empty()) {
      for (std::size_t i = 0; i < arr->size(); ++i) {
        const std::string item = fmt::format("{}[{}]", name, i);
        if (!(*arr)[i].is_table()) return c.fail(item, "expected a table");
        v = {};
        parse(c, *(*arr)[i].as_table(), item, v);
        field.push_back(v);
      }
    } else {
      c.fail(name, "expected a table, or an array of tables ([[" + name + "]]) for several");
    }
  };
  apps("udp_send", parse_udp_send, h.udp_send);
  apps("udp_recv", parse_udp_recv, h.udp_recv);
  app("udp_rr", parse_udp_rr, h.udp_rr);
  if (const toml::node* n = t.get("udp_rr_server")) {
    const std::string name = table + ".udp_rr_server";
    if (!n->is_table()) {
      c.fail(name, "expected a table");
    } else {
      check_keys(c, *n->as_table(), name, {"port"});
      uint16_t port = 5002;
      get_int(c, *n->as_table(), name, "port", port, 1, 65535);
      h.udp_rr_server = port;
    }
  }
  // TCP applications: one table or an array of tables each.
  apps("tcp_iperf3_server", parse_tcp_iperf3_server, h.tcp_iperf3_server);
  apps("tcp_iperf3_client", parse_tcp_iperf3_client, h.tcp_iperf3_client);
  apps("tcp_rr", parse_tcp_netperf, h.tcp_rr);
  apps("tcp_crr", parse_tcp_netperf, h.tcp_crr);
  apps("netserver", parse_netserver, h.netserver);
  // TCP listeners on the wildcard address: two on one port would fail with EADDRINUSE (TCP's
  // ports are apart from UDP's).
  {
    std::map<uint16_t, std::string> bound;
    for (std::size_t i = 0; i < h.tcp_iperf3_server.size(); ++i) {
      const std::string who = app_key(h.name, "tcp_iperf3_server", i, h.tcp_iperf3_server.size());
      const auto [it, fresh] = bound.emplace(h.tcp_iperf3_server[i].port, who);
      if (!fresh) c.fail(who + ".port", fmt::format("{} is taken by {} (bind would fail: EADDRINUSE)", it->first, it->second));
    }
    for (std::size_t i = 0; i < h.netserver.size(); ++i) {
      const std::string who = app_key(h.name, "netserver", i, h.netserver.size());
      const auto [it, fresh] = bound.emplace(h.netserver[i].port, who);
      if (!fresh) c.fail(who + ".port", fmt::format("{} is taken by {} (bind would fail: EADDRINUSE)", it->first, it->second));
    }
  }
  // Servers bind their port on the wildcard address: two on one port would fail with EADDRINUSE.
  {
    std::map<uint16_t, std::string> bound;
    for (std::size_t i = 0; i < h.udp_recv.size(); ++i) {
      const std::string who = h.udp_recv.size() == 1 ? table + ".udp_recv" : fmt::format("{}.udp_recv[{}]", table, i);
      const auto [it, fresh] = bound.emplace(h.udp_recv[i].port, who);
      if (!fresh) c.fail(who + ".port", fmt::format("{} is taken by {} (bind would fail: EADDRINUSE)", it->first, it->second));
    }
    if (h.udp_rr_server) {
      if (const auto it = bound.find(*h.udp_rr_server); it != bound.end()) {
        c.fail(table + ".udp_rr_server.port",
               fmt::format("{} is taken by {} (bind would fail: EADDRINUSE)", it->first, it->second));
      }
    }
  }
  if (const toml::node* rt = t.get("routes")) {
    const toml::array* arr = rt->as_array();
    if (arr == nullptr) {
      c.fail(table + ".routes", "expected an array of strings like \"default via 10.0.0.2\"");
      return;
    }
    for (std::size_t i = 0; i < arr->size(); ++i) {
      const std::string key = fmt::format("{}.routes[{}]", table, i);
      const auto text = (*arr)[i].value<std::string>();
      if (!text || !(*arr)[i].is_string()) {
        c.fail(key, "expected a string like \"10.0.2.0/24 via 10.0.1.2 dev eth1\"");
        continue;
      }
      std::string why;
      auto r = parse_route(*text, &why);
      if (!r) {
        c.fail(key, fmt::format("'{}': {}", *text, why));
        continue;
      }
      if (!r->dev.empty() && h.nic(r->dev) == nullptr) {
        c.fail(key, fmt::format("'{}': dev {}: host {} has no such device", *text, r->dev, h.name));
        continue;
      }
      h.routes.push_back(std::move(*r));
    }
  }
  if (const toml::node* it = t.get("iptables")) {
    const toml::array* arr = it->as_array();
    if (arr == nullptr) {
      c.fail(table + ".iptables", "expected an array of iptables commands like \"-A FORWARD -p udp -j DROP\"");
      return;
    }
    // Each command runs on a scratch table set, in order, so a mistake is reported here with
    // iptables' own words (the host runs them again at boot, before its NICs come up).
    stack::IpTables scratch;
    for (std::size_t i = 0; i < arr->size(); ++i) {
      const std::string key = fmt::format("{}.iptables[{}]", table, i);
      const auto text = (*arr)[i].value<std::string>();
      if (!text || !(*arr)[i].is_string()) {
        c.fail(key, "expected a string like \"-A INPUT -p icmp -j ACCEPT\"");
        continue;
      }
      const stack::IptResult r = scratch.exec(*text);
      if (!r.ok()) {
        std::string why = r.err;
        while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
        for (char& ch : why) {
          if (ch == '\n') ch = ' ';
        }
        c.fail(key, fmt::format("'{}': {}", *text, why));
        continue;
      }
      h.iptables.push_back(*text);
    }
  }
}

// "host.ethN" -> PortRef; nullopt if it is not of that form.
std::optional<PortRef> parse_port(std::string_view text) {
  const auto dot = text.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  PortRef p{std::string(text.substr(0, dot)), std::string(text.substr(dot + 1))};
  if (!valid_name(p.host) || !eth_index(p.ifname)) return std::nullopt;
  return p;
}

// "10G" -> 10 Gb/s; nullopt for anything but 1G, 10G, 25G, 40G, 100G.
std::optional<model::BitRate> parse_speed(std::string_view speed) {
  static const std::pair<std::string_view, uint64_t> kSpeeds[] = {
      {"1G", 1}, {"10G", 10}, {"25G", 25}, {"40G", 40}, {"100G", 100}};
  for (auto [name, g] : kSpeeds) {
    if (speed == name) return model::BitRate::gbps(g);
  }
  return std::nullopt;
}

// [switch.NAME]'s own keys (which NICs attach is read from the hosts' `switch` keys).
void parse_switch(Ctx& c, const toml::table& t, const std::string& table, SwitchConfig& w) {
  check_keys(c, t, table,
             {"ports", "speed", "port_speed", "queue_bytes", "latency_ns", "propagation_ns", "ageing_s", "pcap"});
  get_int(c, t, table, "ports", w.ports, 1, 64);
  if (const toml::node* n = t.get("speed")) {
    std::string speed;
    get_string(c, t, table, "speed", speed);
    if (n->is_string()) {
      if (const auto r = parse_speed(speed)) {
        w.speed = *r;
      } else {
        c.fail(table + ".speed", fmt::format("'{}' is not one of 1G, 10G, 25G, 40G, 100G", speed));
      }
    }
  }
  if (const toml::node* n = t.get("port_speed")) {
    if (!n->is_table()) {
      c.fail(table + ".port_speed", "expected a table of ports and speeds like { h = \"1G\", \"a.eth1\" = \"25G\" }");
    } else {
      for (const auto& [k, v] : *n->as_table()) {
        const std::string key = fmt::format("{}.port_speed.{}", table, k.str());
        const std::string label(k.str());
        auto ref = label.find('.') == std::string::npos ? std::optional<PortRef>(PortRef{label, "eth0"}) : std::nullopt;
        if (!ref) {
          const auto dot = label.find('.');
          PortRef p{label.substr(0, dot), label.substr(dot + 1)};
          if (valid_name(p.host) && eth_index(p.ifname)) ref = p;
        }
        if (!ref || !valid_name(ref->host)) {
          c.fail(key, fmt::format("'{}' is not a port like h or a.eth1", label));
          continue;
        }
        const auto r = v.is_string() ? parse_speed(*v.value<std::string>()) : std::nullopt;
        if (!r) {
          c.fail(key, fmt::format("'{}' is not one of 1G, 10G, 25G, 40G, 100G",
                                  v.is_string() ? *v.value<std::string>() : std::string("(not a string)")));
          continue;
        }
        w.port_speed.emplace_back(*ref, *r);
      }
    }
  }
  get_int(c, t, table, "queue_bytes", w.queue_bytes, 64, int64_t{1} << 34);
  int64_t lat = w.latency.ps() / 1000;
  get_int(c, t, table, "latency_ns", lat, 0, 1000'000'000);
  w.latency = model::Duration::ns(lat);
  int64_t prop = w.propagation.ps() / 1000;
  get_int(c, t, table, "propagation_ns", prop, 0, 1000'000'000);
  w.propagation = model::Duration::ns(prop);
  int64_t ageing = w.ageing.ps() / 1'000'000'000'000;
  get_int(c, t, table, "ageing_s", ageing, 1, 1'000'000);  // 802.1D allows 10..1,000,000 s; 1 for tests
  w.ageing = model::Duration::s(ageing);
  get_string(c, t, table, "pcap", w.pcap);
}

// The keys [link] and [link.NAME] share.
constexpr std::array<std::string_view, 11> kLinkKeys{"speed",          "propagation_ns", "ber",
                                                     "drop_rate",      "fault_direction", "drop_frames",
                                                     "reorder_rate",   "reorder_depth",  "reorder_max_ns",
                                                     "duplicate_rate", "pcap"};

void parse_link_keys(Ctx& c, const toml::table& t, const std::string& table, LinkConfig& l) {
  if (const toml::node* n = t.get("speed")) {
    std::string speed;
    get_string(c, t, table, "speed", speed);
    const auto r = parse_speed(speed);
    if (r) l.rate = *r;
    if (n->is_string() && !r) {
      c.fail(table + ".speed", fmt::format("'{}' is not one of 1G, 10G, 25G, 40G, 100G", speed));
    }
  }
  int64_t prop = l.propagation.ps() / 1000;
  get_int(c, t, table, "propagation_ns", prop, 0, 1000'000'000);
  l.propagation = model::Duration::ns(prop);
  get_double(c, t, table, "ber", l.faults.bit_error_rate, 0.0, 0.5);
  get_double(c, t, table, "drop_rate", l.faults.drop_probability, 0.0, 1.0);
  get_double(c, t, table, "reorder_rate", l.faults.reorder_rate, 0.0, 1.0);
  get_int(c, t, table, "reorder_depth", l.faults.reorder_depth, 1, 64);
  get_int(c, t, table, "reorder_max_ns", l.faults.reorder_max_ns, 1, 1000'000'000);
  get_double(c, t, table, "duplicate_rate", l.faults.duplicate_rate, 0.0, 1.0);
  if (const toml::node* n = t.get("fault_direction")) {
    const std::string key = table + ".fault_direction";
    const auto v = n->value<std::string>();
    if (!n->is_string()) {
      c.fail(key, "expected a string");
    } else if (*v == "both") {
      l.faults.direction = FaultDirection::Both;
    } else if (*v == "a_to_b") {
      l.faults.direction = FaultDirection::AToB;
    } else if (*v == "b_to_a") {
      l.faults.direction = FaultDirection::BToA;
    } else {
      c.fail(key, fmt::format("'{}' is not one of both, a_to_b ({} to {}), b_to_a", *v, l.ends[0].str(),
                              l.ends[1].str()));
    }
  }
  if (const toml::node* n = t.get("drop_frames")) {
    const std::string key = table + ".drop_frames";
    const toml::array* arr = n->as_array();
    if (arr == nullptr) return c.fail(key, "expected an array of frame numbers, like [1, 5]");
    std::vector<uint64_t> frames;
    for (std::size_t i = 0; i < arr->size(); ++i) {
      const auto v = (*arr)[i].value<int64_t>();
      if (!(*arr)[i].is_integer() || !v) return c.fail(fmt::format("{}[{}]", key, i), "expected an integer");
      if (*v < 1) return c.fail(fmt::format("{}[{}]", key, i), fmt::format("{} is not a frame number (1, 2, ...)", *v));
      frames.push_back(static_cast<uint64_t>(*v));
    }
    std::sort(frames.begin(), frames.end());
    frames.erase(std::unique(frames.begin(), frames.end()), frames.end());
    l.faults.drop_frames = std::move(frames);
  }
  get_string(c, t, table, "pcap", l.pcap);
}

}  // namespace

namespace {

std::optional<toml::table> parse_toml(std::string_view text, std::string_view source, std::string* error) {
  try {
    return toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    if (error) {
      *error = fmt::format("{}:{}:{}: {}", source, e.source().begin.line, e.source().begin.column, e.description());
    }
    return std::nullopt;
  }
}

// A link's own seed for its fault injectors: the scenario's for [link] (as before links had
// names), a mix of the seed and the name for [link.NAME], so each link draws its own faults.
uint64_t link_seed(uint64_t seed, std::string_view name) {
  if (name == "link") return seed;
  uint64_t st = seed ^ fnv1a64(name);
  return splitmix64(st);
}

// [host.*] and [link], [link.*]: the hosts, their NICs, the links between NIC ports, and the checks
// that tie them together (every port on exactly one link, MACs distinct, direct hosts one NIC).
void parse_topology(Ctx& c, const toml::table& root, Scenario& s) {
  std::vector<std::vector<bool>> mac_given;
  if (const auto* t = sub(c, root, "host")) {
    for (const auto& [k, v] : *t) {
      const std::string name(k.str());
      const std::string table = "host." + name;
      if (!valid_name(name)) {
        c.fail(table, "a host name is a lower-case letter, then letters, digits, '_' or '-'");
        continue;
      }
      if (!v.is_table()) {
        c.fail(table, "expected a table");
        continue;
      }
      HostConfig h;
      h.name = name;
      mac_given.emplace_back();
      parse_host(c, *v.as_table(), table, h, s.sysctl, &mac_given.back());
      s.host_list.push_back(std::move(h));
    }
  }
  if (!c.ok) return;
  // Hosts a and b are always there ([link] joins a.eth0 and b.eth0), with the defaults of the
  // structs if the TOML does not name them.
  for (const char* need : {"a", "b"}) {
    if (s.find_host(need) != nullptr) continue;
    HostConfig h;
    h.name = need;
    h.sysctl = s.sysctl;
    h.nics.assign(1, NicSide{});
    s.host_list.push_back(std::move(h));
    mac_given.push_back({false});
  }
  std::vector<std::size_t> order(s.host_list.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) { return s.host_list[x].name < s.host_list[y].name; });
  {
    std::vector<HostConfig> hl;
    std::vector<std::vector<bool>> mg;
    for (std::size_t i : order) {
      hl.push_back(std::move(s.host_list[i]));
      mg.push_back(std::move(mac_given[i]));
    }
    s.host_list = std::move(hl);
    mac_given = std::move(mg);
  }
  // MACs: a NIC without one gets 02:00:00:00:<NIC index>:<0x0a + the host's position in name
  // order> (a: ...:0a, b: ...:0b as before hosts had names); every NIC's must differ.
  std::map<model::MacAddr, std::string> taken;
  for (std::size_t hi = 0; hi < s.host_list.size(); ++hi) {
    auto& h = s.host_list[hi];
    for (std::size_t ni = 0; ni < h.nics.size(); ++ni) {
      const std::string key = ni == 0 ? fmt::format("host.{}.mac", h.name) : fmt::format("host.{}.eth{}.mac", h.name, ni);
      if (!mac_given[hi][ni]) {
        h.nics[ni].mac = model::MacAddr{{0x02, 0, 0, 0, static_cast<uint8_t>(ni), static_cast<uint8_t>(0x0a + hi)}};
      }
      const auto [it, fresh] = taken.emplace(h.nics[ni].mac, key);
      if (!fresh) {
        c.fail(key, fmt::format("must differ from {} ({}{}; every NIC needs its own MAC)", it->second,
                                h.nics[ni].mac.str(), mac_given[hi][ni] ? "" : ", the default"));
      }
    }
  }
  if (s.hosts == "direct") {
    for (const auto& h : s.host_list) {
      const std::pair<const char*, bool> apps[] = {{"udp_send", !h.udp_send.empty()},
                                                   {"udp_recv", !h.udp_recv.empty()},
                                                   {"udp_rr", h.udp_rr.has_value()},
                                                   {"udp_rr_server", h.udp_rr_server.has_value()},
                                                   {"tcp_iperf3_server", !h.tcp_iperf3_server.empty()},
                                                   {"tcp_iperf3_client", !h.tcp_iperf3_client.empty()},
                                                   {"tcp_rr", !h.tcp_rr.empty()},
                                                   {"tcp_crr", !h.tcp_crr.empty()},
                                                   {"netserver", !h.netserver.empty()}};
      for (const auto& [k, has] : apps) {
        if (has) {
          c.fail(fmt::format("host.{}.{}", h.name, k),
                 fmt::format("{} applications run on the protocol stack: they need driver hosts (scenario.hosts = "
                             "\"driver\")", k[0] == 'u' ? "UDP" : "TCP"));
        }
      }
      if (h.nics.size() > 1) {
        c.fail(fmt::format("host.{}.eth1", h.name),
               "a direct host (scenario.hosts = \"direct\") has one NIC; more need driver hosts");
      }
      const NicSide& n = h.nics.front();
      for (const auto& [k, has] : {std::pair{"gso", n.gso.has_value()}, std::pair{"gro", n.gro.has_value()},
                                   std::pair{"gso_max_size", n.gso_max_size.has_value()},
                                   std::pair{"gso_max_segs", n.gso_max_segs.has_value()}}) {
        if (has) {
          c.fail(fmt::format("host.{}.{}", h.name, k),
                 "GSO and GRO are the protocol stack's: they need driver hosts (scenario.hosts = \"driver\")");
        }
      }
    }
  }
  // Switches: [switch.NAME]; each NIC with `switch = "NAME"` takes the switch's next port (hosts in
  // name order, then NICs in order).
  if (const auto* t = sub(c, root, "switch")) {
    for (const auto& [k, v] : *t) {
      const std::string name(k.str());
      const std::string table = "switch." + name;
      if (!valid_name(name)) {
        c.fail(table, "a switch name is a lower-case letter, then letters, digits, '_' or '-'");
        continue;
      }
      if (!v.is_table()) {
        c.fail(table, "expected a table");
        continue;
      }
      SwitchConfig w;
      w.name = name;
      parse_switch(c, *v.as_table(), table, w);
      s.switches.push_back(std::move(w));
    }
  }
  for (const auto& h : s.host_list) {
    for (const auto& n : h.nics) {
      if (n.switch_name.empty()) continue;
      const std::string key = n.ifname == "eth0" ? fmt::format("host.{}.switch", h.name)
                                                 : fmt::format("host.{}.{}.switch", h.name, n.ifname);
      const auto w = std::find_if(s.switches.begin(), s.switches.end(),
                                  [&](const SwitchConfig& x) { return x.name == n.switch_name; });
      if (w == s.switches.end()) {
        c.fail(key, fmt::format("there is no switch {} (give it a [switch.{}] table)", n.switch_name, n.switch_name));
        continue;
      }
      w->attached.push_back(PortRef{h.name, n.ifname});
    }
  }
  for (const auto& w : s.switches) {
    if (w.attached.size() > w.ports) {
      std::string who;
      for (const auto& p : w.attached) who += (who.empty() ? "" : ", ") + p.label();
      c.fail(fmt::format("switch.{}.ports", w.name),
             fmt::format("{} NICs are on switch {} ({}), but it has {} ports", w.attached.size(), w.name, who, w.ports));
    }
    for (const auto& [ref, r] : w.port_speed) {
      if (std::find(w.attached.begin(), w.attached.end(), ref) == w.attached.end()) {
        c.fail(fmt::format("switch.{}.port_speed.{}", w.name, ref.label()),
               fmt::format("{} is not on switch {} (its NIC needs switch = \"{}\")", ref.str(), w.name, w.name));
      }
    }
  }
  if (!c.ok) return;
  // Links: [link] joins a.eth0 and b.eth0, unless one of them is on a switch; [link.NAME]
  // subtables add links between any two ports.
  const auto on_switch = [&](std::string_view host) {
    const HostConfig* h = s.find_host(host);
    return h != nullptr && !h->nics.empty() && !h->nics[0].switch_name.empty();
  };
  const bool main_link = !on_switch("a") && !on_switch("b");
  LinkConfig main;
  main.name = "link";
  std::vector<std::pair<std::string, const toml::table*>> named;
  if (const auto* t = sub(c, root, "link")) {
    std::set<std::string_view> allowed(kLinkKeys.begin(), kLinkKeys.end());
    for (const auto& [k, v] : *t) {
      if (!v.is_table() || allowed.contains(k.str())) continue;
      const std::string name(k.str());
      allowed.insert(k.str());
      if (!valid_name(name)) {
        c.fail("link." + name, "a link name is a lower-case letter, then letters, digits, '_' or '-'");
      } else {
        named.emplace_back(name, v.as_table());
      }
    }
    check_keys(c, *t, "link", allowed);
    parse_link_keys(c, *t, "link", main);
  }
  main.faults.seed = link_seed(s.seed, main.name);
  if (main_link) s.links.push_back(main);
  for (const auto& [name, t] : named) {
    const std::string table = "link." + name;
    std::set<std::string_view> keys(kLinkKeys.begin(), kLinkKeys.end());
    keys.insert("ends");
    check_keys(c, *t, table, keys);
    LinkConfig l;
    l.name = name;
    const toml::node* e = t->get("ends");
    const toml::array* arr = e != nullptr ? e->as_array() : nullptr;
    if (arr == nullptr || arr->size() != 2 || !(*arr)[0].is_string() || !(*arr)[1].is_string()) {
      c.fail(table + ".ends", "expected two ports like [\"a.eth1\", \"c.eth0\"]");
      continue;
    }
    for (unsigned i = 0; i < 2; ++i) {
      const std::string text = *(*arr)[i].value<std::string>();
      const auto port = parse_port(text);
      if (!port) {
        c.fail(table + ".ends", fmt::format("'{}' is not a port like a.eth1 (host.ethN)", text));
      } else if (const HostConfig* h = s.find_host(port->host); h == nullptr) {
        c.fail(table + ".ends", fmt::format("{}: there is no host {}", text, port->host));
      } else if (h->nic(port->ifname) == nullptr) {
        c.fail(table + ".ends", fmt::format("{}: host {} has no NIC {}", text, port->host, port->ifname));
      } else {
        l.ends[i] = *port;
      }
    }
    if (c.ok && l.ends[0] == l.ends[1]) c.fail(table + ".ends", fmt::format("both ends are {}", l.ends[0].str()));
    parse_link_keys(c, *t, table, l);
    l.faults.seed = link_seed(s.seed, name);
    s.links.push_back(std::move(l));
  }
  if (!c.ok) return;
  // Every port on exactly one link; every capture its own file.
  std::map<std::string, std::string> on;  // port -> the table of its link (or switch)
  std::map<std::string, std::string> pcaps;
  for (const auto& w : s.switches) {
    for (const auto& p : w.attached) on.emplace(p.str(), "switch." + w.name);
    if (!w.pcap.empty()) {
      const auto [it, fresh] = pcaps.emplace(w.pcap, "switch." + w.name);
      if (!fresh) c.fail("switch." + w.name + ".pcap", fmt::format("'{}' is {}'s capture too", w.pcap, it->second));
    }
  }
  for (const auto& l : s.links) {
    const std::string table = l.name == "link" ? "link" : "link." + l.name;
    for (const auto& end : l.ends) {
      const auto [it, fresh] = on.emplace(end.str(), table);
      if (!fresh) {
        c.fail(table + (l.name == "link" ? "" : ".ends"),
               fmt::format("{} is on {} already (a port takes one link)", end.str(), it->second));
      }
    }
    if (!l.pcap.empty()) {
      const auto [it, fresh] = pcaps.emplace(l.pcap, table);
      if (!fresh) c.fail(table + ".pcap", fmt::format("'{}' is {}'s capture too", l.pcap, it->second));
    }
  }
  for (const auto& h : s.host_list) {
    for (const auto& n : h.nics) {
      if (!on.contains(h.name + "." + n.ifname)) {
        c.fail(n.ifname == "eth0" ? "host." + h.name : fmt::format("host.{}.{}", h.name, n.ifname),
               fmt::format("host.{}.{} is on no link (give it one with [link.NAME] ends = [\"{}.{}\", ...], or "
                           "put it on a switch with switch = \"NAME\")",
                           h.name, n.ifname, h.name, n.ifname));
      }
    }
  }
  if (c.ok) resolve_tcp_apps(c, s);
}

std::optional<Scenario> parse_table(const toml::table& root, Ctx& c) {
  Scenario s;
  check_keys(c, root, "", {"scenario", "link", "pcie", "nic", "host", "cpu", "sysctl", "driver", "switch"});
  if (const auto* t = sub(c, root, "scenario")) {
    check_keys(c, *t, "scenario", {"name", "seed", "stop_after_us", "quantum_ns", "hosts"});
    get_string(c, *t, "scenario", "hosts", s.hosts);
    if (s.hosts != "driver" && s.hosts != "direct") {
      c.fail("scenario.hosts", fmt::format("'{}' is not one of driver, direct", s.hosts));
    }
    int64_t quantum = s.quantum.ps() / 1000;
    get_int(c, *t, "scenario", "quantum_ns", quantum, 0, 1000'000'000);
    s.quantum = model::Duration::ns(quantum);
    get_string(c, *t, "scenario", "name", s.name);
    get_int(c, *t, "scenario", "seed", s.seed, 0, INT64_MAX);
    int64_t stop = 0;
    get_int(c, *t, "scenario", "stop_after_us", stop, 0, int64_t{1} << 40);
    s.stop_after = model::Duration::us(stop);
  }
  if (const auto* t = sub(c, root, "pcie")) {
    check_keys(c, *t, "pcie",
               {"lanes", "mts", "mps", "mrrs", "read_rtt_ns", "tlp_overhead", "max_outstanding_reads"});
    auto& p = s.nic.pcie;
    get_int(c, *t, "pcie", "lanes", p.lanes, 1, 32);
    get_int(c, *t, "pcie", "mts", p.mts, 2500, 64000);
    if (p.mts <= 5000) {  // Gen1/Gen2 use 8b/10b
      p.enc_payload = 8;
      p.enc_total = 10;
    }
    get_int(c, *t, "pcie", "mps", p.mps, 128, 4096);
    get_int(c, *t, "pcie", "mrrs", p.mrrs, 128, 4096);
    for (auto [key, v] : {std::pair{"mps", p.mps}, std::pair{"mrrs", p.mrrs}}) {
      if ((v & (v - 1)) != 0) c.fail(fmt::format("pcie.{}", key), fmt::format("{} is not a power of two", v));
    }
    int64_t rtt = 500;
    get_int(c, *t, "pcie", "read_rtt_ns", rtt, 0, 100'000);
    p.read_rtt = model::Duration::ns(rtt);
    get_int(c, *t, "pcie", "tlp_overhead", p.tlp_overhead, 0, 64);
    get_int(c, *t, "pcie", "max_outstanding_reads", p.max_outstanding_reads, 1, 1024);
  }
  if (const auto* t = sub(c, root, "nic")) {
    check_keys(c, *t, "nic", {"num_qp", "core_mhz", "desc_cache_depth", "tx_buffer_bytes", "ring"});
    get_string(c, *t, "nic", "ring", s.ring);
    if (s.ring != "model" && s.ring != "rtl" && s.ring != "rtl-broken") {
      c.fail("nic.ring", fmt::format("'{}' is not one of model, rtl", s.ring));
    }
    get_int(c, *t, "nic", "num_qp", s.nic.num_qp, 1, 8);
    get_int(c, *t, "nic", "core_mhz", s.nic.core_mhz, 1, 4000);
    get_int(c, *t, "nic", "desc_cache_depth", s.nic.desc_cache_depth, 2, 4096);
    if ((s.nic.desc_cache_depth & (s.nic.desc_cache_depth - 1)) != 0) {
      c.fail("nic.desc_cache_depth", "must be a power of two");
    }
    get_int(c, *t, "nic", "tx_buffer_bytes", s.nic.tx_buffer_bytes, 2048, 1 << 24);
  }
  if (const auto* t = sub(c, root, "cpu")) {
    auto& k = s.driver.costs;
    const std::pair<std::string_view, model::Duration*> keys[] = {
        {"hardirq_ns", &k.hardirq},         {"softirq_ns", &k.softirq},       {"napi_poll_ns", &k.napi_poll},
        {"rx_packet_ns", &k.rx_packet},     {"skb_alloc_ns", &k.skb_alloc},   {"skb_free_ns", &k.skb_free},
        {"copy_per_kib_ns", &k.copy_per_kib}, {"rx_refill_ns", &k.rx_refill}, {"netif_receive_ns", &k.netif_receive},
        {"tx_xmit_ns", &k.tx_xmit},         {"dma_map_ns", &k.dma_map},       {"tx_clean_ns", &k.tx_clean},
        {"mmio_write_ns", &k.mmio_write},   {"mmio_read_ns", &k.mmio_read},   {"pktgen_ns", &k.pktgen},
        {"dev_queue_xmit_ns", &k.dev_queue_xmit}, {"qdisc_ns", &k.qdisc},
        {"ip_rcv_ns", &s.stack_costs.ip_rcv}, {"ip_local_deliver_ns", &s.stack_costs.ip_local_deliver},
        {"ip_output_ns", &s.stack_costs.ip_output}, {"tc_ingress_ns", &s.stack_costs.tc_ingress},
        {"tap_ns", &s.stack_costs.tap}, {"icmp_ns", &s.stack_costs.icmp},
        {"ip_forward_ns", &s.stack_costs.ip_forward}, {"nf_hook_ns", &s.stack_costs.nf_hook},
        {"ip_fragment_ns", &s.stack_costs.ip_fragment}, {"ip_defrag_ns", &s.stack_costs.ip_defrag}, {"gro_receive_ns", &s.stack_costs.gro_receive},
        {"syscall_ns", &s.stack_costs.syscall}, {"udp_sendmsg_ns", &s.stack_costs.udp_sendmsg},
        {"udp_rcv_ns", &s.stack_costs.udp_rcv}, {"sock_recvmsg_ns", &s.stack_costs.sock_recvmsg},
        {"wakeup_ns", &s.stack_costs.wakeup}, {"context_switch_ns", &s.stack_costs.context_switch},
        {"epoll_wait_ns", &s.stack_costs.epoll_wait}};
    std::set<std::string_view> allowed{"cpus"};
    get_int(c, *t, "cpu", "cpus", s.driver.cpus, 1, 64);
    for (const auto& [name, d] : keys) {
      allowed.insert(name);
      int64_t ns = d->ps() / 1000;
      get_int(c, *t, "cpu", name, ns, 0, 1000'000'000);
      *d = model::Duration::ns(ns);
    }
    check_keys(c, *t, "cpu", allowed);
  }
  if (const auto* t = sub(c, root, "sysctl")) parse_sysctl(c, *t, "sysctl", s.sysctl);
  if (const auto* t = sub(c, root, "driver")) {
    check_keys(c, *t, "driver",
               {"napi_weight", "rx_handoff", "pktgen_burst", "skb_pool", "bql", "watchdog_ms", "mtu", "gso", "gro",
                "gso_max_size", "gso_max_segs"});
    get_bool(c, *t, "driver", "bql", s.driver.bql);
    int64_t wd = s.driver.watchdog.ps() / 1000'000'000;
    get_int(c, *t, "driver", "watchdog_ms", wd, 1, 3'600'000);
    s.driver.watchdog = model::Duration::ms(wd);
    get_int(c, *t, "driver", "mtu", s.driver.mtu, 68, 9000);
    auto& d = s.driver;
    get_int(c, *t, "driver", "napi_weight", d.napi_weight, 1, 4096);
    get_string(c, *t, "driver", "rx_handoff", d.rx_handoff);
    if (d.rx_handoff != "netif_receive_skb" && d.rx_handoff != "netif_rx") {
      c.fail("driver.rx_handoff", fmt::format("'{}' is not one of netif_receive_skb, netif_rx", d.rx_handoff));
    }
    get_int(c, *t, "driver", "pktgen_burst", d.pktgen_burst, 1, 4096);
    get_int(c, *t, "driver", "skb_pool", d.skb_pool, 64, 1 << 22);
    const OffloadKeys o = parse_offloads(c, *t, "driver");
    d.gso = o.gso.value_or(d.gso);
    d.gro = o.gro.value_or(d.gro);
    d.gso_max_size = o.gso_max_size.value_or(d.gso_max_size);
    d.gso_max_segs = o.gso_max_segs.value_or(d.gso_max_segs);
  }
  parse_topology(c, root, s);
  if (!c.ok) return std::nullopt;
  return s;
}

// Lays `over` onto `base` key by key: tables merge, anything else replaces what was there.
void merge(toml::table& base, const toml::table& over, const std::string& prefix, const std::string& source,
           Origins& origins) {
  for (const auto& [k, v] : over) {
    const std::string path = prefix.empty() ? std::string(k.str()) : fmt::format("{}.{}", prefix, k.str());
    toml::node* b = base.get(k.str());
    if (b && b->is_table() && v.is_table()) {
      merge(*b->as_table(), *v.as_table(), path, source, origins);
      continue;
    }
    base.insert_or_assign(k.str(), v);
    // Whatever an earlier layer set below this key is gone with it.
    for (auto it = origins.lower_bound(path + "."); it != origins.end() && it->first.starts_with(path + ".");) {
      it = origins.erase(it);
    }
    origins[path] = source;
  }
}

// A setting as a one-key TOML table ({host = {b = {rx-usecs = 50}}}), to be merged like a layer.
std::optional<toml::table> setting_table(const ScenarioSetting& set, std::string* error) {
  const auto fail = [&](const std::string& why) {
    if (error) *error = fmt::format("{}: {}", set.source, why);
    return std::nullopt;
  };
  std::vector<std::string> parts;
  for (std::size_t at = 0;;) {
    const std::size_t dot = set.key.find('.', at);
    parts.push_back(set.key.substr(at, dot == std::string::npos ? std::string::npos : dot - at));
    if (dot == std::string::npos) break;
    at = dot + 1;
  }
  for (const auto& p : parts) {
    if (p.empty()) return fail(fmt::format("'{}' is not a dotted key like host.b.rx-usecs", set.key));
  }
  toml::table value_holder;
  try {
    value_holder = toml::parse(fmt::format("v = {}\n", set.value));
  } catch (const toml::parse_error&) {
  }
  toml::table leaf;
  if (value_holder.size() == 1 && value_holder.contains("v")) {
    leaf.insert_or_assign(parts.back(), *value_holder.get("v"));
  } else {
    leaf.insert_or_assign(parts.back(), set.value);  // not a TOML value: a bare string
  }
  for (std::size_t i = parts.size() - 1; i-- > 0;) {
    toml::table up;
    up.insert_or_assign(parts[i], std::move(leaf));
    leaf = std::move(up);
  }
  return leaf;
}

// The tables a setting passes through must be tables already: --set link.speed.x=1 is an error
// here rather than a silent replacement of link.speed.
bool setting_path_ok(const toml::table& root, const ScenarioSetting& set, std::string* error) {
  const toml::table* t = &root;
  for (std::size_t at = 0;;) {
    const std::size_t dot = set.key.find('.', at);
    if (dot == std::string::npos) return true;
    const std::string part = set.key.substr(at, dot - at);
    const toml::node* n = t->get(part);
    if (!n) return true;  // a new table: validation names the unknown key
    if (!n->is_table()) {
      if (error) *error = fmt::format("{}: {}: is not a table", set.source, set.key.substr(0, dot));
      return false;
    }
    t = n->as_table();
    at = dot + 1;
  }
}

std::string read_file(const std::string& path, bool* ok) {
  std::ifstream in(path, std::ios::binary);
  *ok = static_cast<bool>(in);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::optional<Scenario> parse_scenario(std::string_view text, std::string* error, std::string_view source) {
  const auto root = parse_toml(text, source, error);
  if (!root) return std::nullopt;
  Ctx c{source, error};
  return parse_table(*root, c);
}

std::optional<ScenarioSetting> parse_setting(std::string_view assignment, std::string* error) {
  const auto eq = assignment.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    if (error) *error = fmt::format("--set {}: expected KEY=VALUE, e.g. host.b.rx-usecs=50", assignment);
    return std::nullopt;
  }
  return ScenarioSetting{std::string(assignment.substr(0, eq)), std::string(assignment.substr(eq + 1)),
                         fmt::format("--set {}", assignment)};
}

std::optional<ResolvedScenario> resolve_scenario(const std::vector<ScenarioLayer>& layers,
                                                 const std::vector<ScenarioSetting>& settings, std::string* error) {
  constexpr std::string_view kDefault = "default scenario";
  auto root = parse_toml(default_scenario_toml(), kDefault, error);
  if (!root) return std::nullopt;
  Origins origins;
  for (const auto& layer : layers) {
    const auto t = parse_toml(layer.text, layer.source, error);
    if (!t) return std::nullopt;
    merge(*root, *t, "", layer.source, origins);
  }
  for (const auto& set : settings) {
    if (!setting_path_ok(*root, set, error)) return std::nullopt;
    const auto t = setting_table(set, error);
    if (!t) return std::nullopt;
    merge(*root, *t, "", set.source, origins);
  }
  Ctx c{kDefault, error, &origins};
  auto s = parse_table(*root, c);
  if (!s) return std::nullopt;
  std::stringstream out;
  out << *root << "\n";
  return ResolvedScenario{std::move(*s), out.str()};
}

std::optional<Scenario> load_scenario(const std::string& path, std::string* error) {
  auto layer = scenario_layer(path, error);
  if (!layer) return std::nullopt;
  auto r = resolve_scenario({*layer}, {}, error);
  if (!r) return std::nullopt;
  return std::move(r->scenario);
}

std::optional<ScenarioLayer> scenario_layer(const std::string& arg, std::string* error) {
  if (arg.starts_with("builtin:")) {
    const auto* b = find_builtin(std::string_view(arg).substr(8));
    if (!b) {
      if (error) *error = fmt::format("{}: no such built-in scenario (vnic list shows them)", arg);
      return std::nullopt;
    }
    return ScenarioLayer{std::string(b->toml), arg};
  }
  bool ok = false;
  std::string text = read_file(arg, &ok);
  if (!ok) {
    if (error) *error = fmt::format("{}: cannot open the scenario file", arg);
    return std::nullopt;
  }
  return ScenarioLayer{std::move(text), arg};
}

uint64_t fnv1a64(std::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (const char ch : bytes) {
    h ^= static_cast<unsigned char>(ch);
    h *= 0x100000001b3ull;
  }
  return h;
}

}  // namespace vnic::tb
