// UDP over IPv4 and its sockets (net/ipv4/udp.c, af_inet.c's datagram calls, Linux 6.1):
// socket/bind/connect/sendmsg/recvmsg/close, the port table with __udp4_lib_lookup's scoring and
// udp_lib_get_port's randomised ephemeral search, udp_rcv down to __udp_enqueue_schedule_skb,
// __udp4_lib_err for ICMP errors, udp_sendmsg, the Udp MIB, and the views /proc/net/snmp,
// `netstat -su` and `ss -uampn` print. docs/stack.md ("UDP and sockets") has the rules.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vnic/stack/co.hpp"
#include "vnic/stack/cpu.hpp"
#include "vnic/stack/icmp.hpp"
#include "vnic/stack/skb.hpp"
#include "vnic/stack/sock.hpp"
#include "vnic/stack/wire/ipv4.hpp"

namespace vnic::stack {

class NetStack;

// UDP_MIB_* as /proc/net/snmp's Udp: row prints them, in its order.
struct UdpMib {
  uint64_t InDatagrams = 0, NoPorts = 0, InErrors = 0, OutDatagrams = 0, RcvbufErrors = 0, SndbufErrors = 0,
           InCsumErrors = 0, IgnoredMulti = 0, MemErrors = 0;
};
// The "Udp:" header and value lines of /proc/net/snmp (6.1's snmp_seq_show_tcp_udp), then the
// "UdpLite:" pair (UDP-Lite is not built: zeros, as on a host that never used it).
std::string proc_net_snmp_udp(const UdpMib& m);
// `netstat -su`'s Udp: section (net-tools 2.10): the six counters it has words for, then the
// others as "Name: value" when not zero, as netstat prints keys it does not know.
std::string netstat_su(const UdpMib& m);
// The whole of `netstat -su` as net-tools 2.10 prints it (statistics.c process_fd over
// /proc/net/snmp, then /proc/net/netstat, given as their text): a table net-tools knows (Ip,
// Icmp, Tcp, Udp, Sctp, TcpExt) only when -u asks for it (Udp: netstat_su above), every other
// table always ("IcmpMsg", "UdpLite", "IpExt", "MPTcpExt": its title, then "    Key: value" for
// each value that is not 0).
std::string netstat_su(std::string_view proc_net_snmp, std::string_view proc_net_netstat, const UdpMib& m);

// sockaddr_in: an address and a port (host order).
struct SockAddrIn {
  wire::Ipv4Addr addr{};
  uint16_t port = 0;
  constexpr bool operator==(const SockAddrIn&) const = default;
};

// What recvmsg returns beside the bytes: msg_name, msg_flags (MSG_TRUNC), SO_TIMESTAMP's stamp,
// and the datagram's packet id (the model's, for the trace).
struct RecvMeta {
  SockAddrIn from{};
  int msg_flags = 0;
  Instant stamp{};
  uint64_t packet = 0;
};

// A UDP socket: struct udp_sock / inet_sock over Sock.
struct UdpSock : Sock {
  uint16_t num = 0;               // inet_num: the local port (0: not bound)
  wire::Ipv4Addr rcv_saddr{};     // inet_rcv_saddr: bound (or connected) local address
  wire::Ipv4Addr saddr{};         // inet_saddr: the source used for sends
  wire::Ipv4Addr daddr{};         // inet_daddr (connected)
  uint16_t dport = 0;             // inet_dport (connected)
  bool bind_addr_locked = false;  // SOCK_BINDADDR_LOCK: bind() gave an address
  bool bind_port_locked = false;  // SOCK_BINDPORT_LOCK: bind() gave a port
  uint16_t inet_id = 0;           // a connected socket's IP id counter (for DF datagrams)
  int ttl = -1;                   // IP_TTL (-1: ip_default_ttl)
  uint8_t tos = 0;                // IP_TOS
  bool no_check_tx = false;       // SO_NO_CHECK: send without a checksum
  SkbQueue reader_queue;          // udp_sock's reader_queue (recvmsg's side of the receive queue)
  uint32_t forward_deficit = 0;   // receive memory freed but not yet returned (udp_rmem_release)
  uint64_t ino = 0;               // a number for ss (the inode; the model counts sockets from 1)
  // udp_sock's encap_rcv (setup_udp_tunnel_sock): a kernel consumer that takes each datagram in
  // softirq, as VXLAN's or WireGuard's socket does, before the receive queue. Called with skb->data
  // at the UDP header, the checksum verified; returns 0 when it took the skb (InDatagrams counted
  // then), > 0 to let it go on to the receive queue as an ordinary datagram.
  using EncapRcv = int (*)(void* ctx, UdpSock& sk, SkBuff* skb);
  EncapRcv encap_rcv = nullptr;
  void* encap_ctx = nullptr;

  // udp_poll: datagram_poll, EPOLLIN also for the reader queue.
  uint32_t poll_mask() const override;
};

// One host's UDP: the MIB, the socket table, and udp.c's entry points. Construction registers
// udp_rcv as IP protocol 17 and __udp4_lib_err with ICMP.
class Udp {
 public:
  // UDP_HTABLE_SIZE: Linux sizes the table from memory (alloc_large_system_hash, one slot per
  // 2 MiB, at least 256); this is the size on a host with 8 GiB. It decides only the order of
  // the ephemeral port search.
  static constexpr uint32_t kHtableSize = 4096;
  static constexpr uint64_t kRngSalt = 0x7564'7034'706f'7274ull;  // "udp4port"

  Udp(NetStack& net, Icmp& icmp);
  ~Udp();
  Udp(const Udp&) = delete;
  Udp& operator=(const Udp&) = delete;

  // socket(AF_INET, SOCK_DGRAM, 0): sk_rcvbuf/sk_sndbuf from rmem_default/wmem_default.
  UdpSock* socket();
  // close(): unhashed, what is queued freed (NOT_SPECIFIED at ingress 22), sends in flight keep
  // their skbs (their wmem is released into the void, as after sock_orphan).
  void close(UdpSock* sk);
  // inet_bind: -EINVAL if bound already, -EADDRNOTAVAIL for an address that is not ours (nor
  // 0.0.0.0, broadcast, multicast), -EADDRINUSE if the port conflicts (udp_lib_lport_inuse: same
  // port, not both SO_REUSEADDR, devices compatible, addresses equal or either a wildcard).
  // Port 0 picks an ephemeral one (udp_lib_get_port's search; -EADDRINUSE when none is free).
  int bind(UdpSock& sk, SockAddrIn addr);
  // connect (__ip4_datagram_connect via inet_dgram_connect): autobind, route (-ENETUNREACH
  // counts OutNoRoutes; a broadcast route without SO_BROADCAST -EACCES), local address fixed,
  // peer set, ESTABLISHED. nullopt is AF_UNSPEC: udp_disconnect.
  int connect(UdpSock& sk, std::optional<SockAddrIn> peer);
  // setsockopt.
  void set_rcvbuf(UdpSock& sk, int val);   // SO_RCVBUF
  void set_sndbuf(Cpu& cpu, UdpSock& sk, int val);   // SO_SNDBUF

  // udp_sendmsg (+ inet_sendmsg's autobind and the syscall's cost): `data` to `to` or to the
  // connected peer. Returns the bytes sent or -errno: -EDESTADDRREQ (no destination), -EINVAL
  // (port 0), -EMSGSIZE (over 65507 bytes), the pending sk_err (ECONNREFUSED ...), the route's
  // errors, -EACCES (broadcast without SO_BROADCAST), -EAGAIN (send buffer full:
  // wmem_alloc >= sndbuf; SndbufErrors), what ip_send returns; a qdisc drop (-ENOBUFS) counts
  // SndbufErrors and returns the length, as without IP_RECVERR. Non-blocking: the blocking form
  // is send(). `packet_out` gets the datagram's packet id.
  int sendmsg(Cpu& cpu, UdpSock& sk, std::span<const uint8_t> data, int flags, const SockAddrIn* to = nullptr,
              uint64_t* packet_out = nullptr);
  // udp_recvmsg without waiting: copies min(len, buf) bytes, returns the copied length (the
  // datagram's whole length with MSG_TRUNC in flags), -EAGAIN when nothing is queued, or the
  // pending error (-ECONNREFUSED after a port unreachable on a connected socket). MSG_PEEK
  // leaves the datagram queued. meta->msg_flags gets MSG_TRUNC when the buffer was short.
  int recvmsg(Cpu& cpu, UdpSock& sk, std::span<uint8_t> buf, int flags, RecvMeta* meta = nullptr);
  // Blocking forms (a task: co_await udp.recv(...)): wait on the socket until the call does not
  // answer -EAGAIN, for SO_RCVTIMEO / SO_SNDTIMEO at most (0: forever; then -EAGAIN).
  // MSG_DONTWAIT in flags makes them the non-blocking call.
  Co<int> recv(Cpu& cpu, UdpSock& sk, std::span<uint8_t> buf, int flags, RecvMeta* meta = nullptr);
  Co<int> send(Cpu& cpu, UdpSock& sk, std::span<const uint8_t> data, int flags, const SockAddrIn* to = nullptr,
               uint64_t* packet_out = nullptr);

  // ingress 19-23: udp_rcv (skb->data at the UDP header, the network header set; takes it).
  void udp_rcv(SkBuff* skb);
  // __udp4_lib_err: an ICMP error quoting a UDP datagram (skb->data at the quoted IP header).
  bool udp_err(SkBuff* skb, uint32_t info);
  // __udp4_lib_lookup: the socket for a datagram from saddr:sport to daddr:dport on `dif`.
  UdpSock* lookup(wire::Ipv4Addr saddr, uint16_t sport, wire::Ipv4Addr daddr, uint16_t dport, int dif);

  UdpMib& mib() { return mib_; }
  const UdpMib& mib() const { return mib_; }
  std::string proc_net_snmp_udp() const { return vnic::stack::proc_net_snmp_udp(mib_); }
  std::string netstat_su() const { return vnic::stack::netstat_su(mib_); }
  // `ss -uampn`: a header, then per bound socket in port order "State Recv-Q Send-Q Local:Port
  // Peer:Port" and its skmem line (r, rb, t, tb, f, w, o, bl, d as ss prints them).
  std::string ss_uampn() const;
  std::size_t size() const { return socks_.size(); }

 private:
  bool port_conflict(const UdpSock& sk, uint16_t port) const;
  int get_port(UdpSock& sk, uint16_t snum);  // udp_lib_get_port
  void hash(UdpSock& sk);
  void unhash(UdpSock& sk);
  void rehash(UdpSock& sk);                  // udp_lib_rehash: to the front of its chain
  int autobind(UdpSock& sk);
  UdpSock* lookup2(wire::Ipv4Addr saddr, uint16_t sport, wire::Ipv4Addr daddr, uint16_t dport, int dif);
  // __udp_queue_rcv_skb / __udp_enqueue_schedule_skb: 0 queued; else the skb was dropped.
  int queue_rcv_skb(UdpSock& sk, SkBuff* skb);
  void mcast_deliver(SkBuff* skb, wire::Ipv4Addr saddr, uint16_t sport, wire::Ipv4Addr daddr, uint16_t dport);
  void rmem_release(UdpSock& sk, uint32_t size, bool partial);  // udp_rmem_release
  void free_queues(UdpSock& sk, bool trace);
  static void rcv_cb(void* ctx, SkBuff* skb);
  static bool err_cb(void* ctx, SkBuff* skb, uint32_t info);

  NetStack& net_;
  Icmp& icmp_;
  UdpMib mib_;
  Prandom rng_;
  uint64_t next_ino_ = 0;
  bool send_full_ = false;  // the last sendmsg found the send buffer full
  std::vector<std::unique_ptr<UdpSock>> socks_;
  std::map<uint16_t, std::vector<UdpSock*>> ports_;  // by local port, newest (or rehashed) first
};

}  // namespace vnic::stack
