// ICMP (net/ipv4/icmp.c and the icmp rows of net/ipv4/proc.c, Linux 6.1).
#include "vnic/stack/icmp.hpp"

#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "vnic/stack/net.hpp"
#include "vnic/stack/ping.hpp"
#include "vnic/stack/wire/endian.hpp"

namespace vnic::stack {

// ------------------------------------------------------------------------------ MIB

IcmpErrConvert icmp_err_convert(uint8_t code) {
  constexpr int kEnoprotoopt = 92, kEopnotsupp = 95, kEhostdown = 112, kEnonet = 64, kEhostunreach = 113,
                kEnetunreach = 101, kEconnrefused = 111, kEmsgsize = 90;
  constexpr IcmpErrConvert kTable[16] = {
      {kEnetunreach, false}, {kEhostunreach, false}, {kEnoprotoopt, true},  {kEconnrefused, true},
      {kEmsgsize, false},    {kEopnotsupp, false},   {kEnetunreach, true},  {kEhostdown, true},
      {kEnonet, true},       {kEnetunreach, true},   {kEhostunreach, true}, {kEnetunreach, false},
      {kEhostunreach, false}, {kEhostunreach, true}, {kEhostunreach, true}, {kEhostunreach, true},
  };
  return code < 16 ? kTable[code] : IcmpErrConvert{kEhostunreach, false};
}

namespace {

// icmpmibmap (net/ipv4/proc.c): the column names and the IcmpMsg index each one reads.
struct MibMapEntry {
  const char* name;
  uint8_t type;
};
constexpr MibMapEntry kIcmpMibMap[] = {
    {"DestUnreachs", 3}, {"TimeExcds", 11},     {"ParmProbs", 12},  {"SrcQuenchs", 4},
    {"Redirects", 5},    {"Echos", 8},          {"EchoReps", 0},    {"Timestamps", 13},
    {"TimestampReps", 14}, {"AddrMasks", 17},   {"AddrMaskReps", 18},
};

// icmpmsg_put_line: "IcmpMsg: InType0 OutType8\nIcmpMsg: 5 5\n".
void icmpmsg_put_line(std::string& out, const uint16_t* type, const uint64_t* vals, int count) {
  if (count == 0) return;
  out += "IcmpMsg:";
  for (int j = 0; j < count; ++j) out += fmt::format(" {}Type{}", (type[j] & 0x100) ? "Out" : "In", type[j] & 0xff);
  out += "\nIcmpMsg:";
  for (int j = 0; j < count; ++j) out += fmt::format(" {}", vals[j]);
  out += "\n";
}

}  // namespace

std::string proc_net_snmp_icmp(const IcmpMib& m) {
  std::string out = "Icmp: InMsgs InErrors InCsumErrors";
  for (const auto& e : kIcmpMibMap) out += fmt::format(" In{}", e.name);
  out += " OutMsgs OutErrors";  // 6.1: no OutRateLimitGlobal / OutRateLimitHost (they came in 6.8)
  for (const auto& e : kIcmpMibMap) out += fmt::format(" Out{}", e.name);
  out += fmt::format("\nIcmp: {} {} {}", m.InMsgs, m.InErrors, m.InCsumErrors);
  for (const auto& e : kIcmpMibMap) out += fmt::format(" {}", m.in_type(e.type));
  out += fmt::format(" {} {}", m.OutMsgs, m.OutErrors);
  for (const auto& e : kIcmpMibMap) out += fmt::format(" {}", m.out_type(e.type));
  out += "\n";
  // icmpmsg_put: PERLINE 16.
  constexpr int kPerLine = 16;
  uint16_t type[kPerLine];
  uint64_t vals[kPerLine];
  int count = 0;
  for (std::size_t i = 0; i < m.msg.size(); ++i) {
    if (m.msg[i] != 0) {
      type[count] = static_cast<uint16_t>(i);
      vals[count++] = m.msg[i];
    }
    if (count == kPerLine) {
      icmpmsg_put_line(out, type, vals, count);
      count = 0;
    }
  }
  icmpmsg_put_line(out, type, vals, count);
  return out;
}

std::string icmp_ratelimit_report(const IcmpMib& m) {
  return fmt::format("IcmpRateLimit(model, not in 6.1's /proc/net/snmp): OutRateLimitGlobal {} OutRateLimitHost {}\n",
                     m.RateLimitGlobal, m.RateLimitHost);
}

// ------------------------------------------------------------------------------ rate limits

uint32_t Prandom::u32() {
  // SplitMix64 (Steele, Lea, Flood 2014), the upper half of each output.
  uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return static_cast<uint32_t>((z ^ (z >> 31)) >> 32);
}

bool icmp_global_allow(IcmpGlobal& g, uint32_t now, uint32_t msgs_per_sec, uint32_t msgs_burst, Prandom& rng) {
  constexpr uint32_t hz = static_cast<uint32_t>(kHz);
  // The lockless early exit: an empty bucket that cannot be refilled yet.
  if (g.credit == 0) {
    const uint32_t delta = std::min<uint32_t>(now - g.stamp, hz);
    if (delta < hz / 50) return false;
  }
  uint32_t incr = 0;
  const uint32_t delta = std::min<uint32_t>(now - g.stamp, hz);
  if (delta >= hz / 50) {
    incr = msgs_per_sec * delta / hz;
    if (incr != 0) g.stamp = now;
  }
  uint32_t credit = std::min<uint32_t>(g.credit + incr, msgs_burst);
  bool rc = false;
  if (credit != 0) {
    // "We want to use a credit of one in average, but need to randomize it for security reasons."
    credit = static_cast<uint32_t>(std::max<int>(static_cast<int>(credit - rng.u32_max(3)), 0));
    rc = true;
  }
  g.credit = credit;
  return rc;
}

bool icmpv4_mask_allow(uint32_t ratemask, uint8_t type, uint8_t code) {
  if (type > wire::kIcmpLinuxMaxType) return true;
  // Don't limit PMTU discovery.
  if (type == static_cast<uint8_t>(wire::IcmpType::DestUnreachable) &&
      code == static_cast<uint8_t>(wire::IcmpUnreachable::FragmentationNeeded))
    return true;
  // Limit if the type is enabled in ratemask.
  return ((1u << type) & ratemask) == 0;
}

}  // namespace vnic::stack

// ------------------------------------------------------------------------------ the protocol

namespace vnic::stack {

namespace {

using wire::Ipv4Addr;
using wire::IcmpType;
using model::ingress;

constexpr uint8_t kIpprotoIcmp = 1;
constexpr uint8_t kIptosPrecInternetcontrol = 0xc0;  // IPTOS_PREC_INTERNETCONTROL
constexpr uint8_t kIptosTosMask = 0x1e;              // RT_TOS: IPTOS_TOS_MASK
constexpr Ipv4Addr kInaddrDummy{{192, 0, 0, 8}};     // INADDR_DUMMY (RFC 7600)
constexpr uint8_t t(IcmpType x) { return static_cast<uint8_t>(x); }

// icmp_pointers[].error: the types 6.1 classes as errors (never answered with an error).
constexpr bool icmp_type_is_error(uint8_t type) {
  switch (type) {
    case 1: case 2: case 3: case 4: case 5: case 6: case 7: case 9: case 10: case 11: case 12: return true;
    default: return false;
  }
}

// The fields of the IPv4 header at `h` (at least 20 bytes there).
struct IpHdr {
  std::span<const uint8_t> b;
  uint8_t ihl() const { return b[0] & 0x0f; }
  uint8_t tos() const { return b[1]; }
  uint16_t frag_off() const { return wire::load_be16(b, 6); }
  uint8_t ttl() const { return b[8]; }
  uint8_t protocol() const { return b[9]; }
  Ipv4Addr saddr() const { return wire::load_ipv4(b, 12); }
  Ipv4Addr daddr() const { return wire::load_ipv4(b, 16); }
};

}  // namespace

Icmp::Icmp(NetStack& net)
    : net_(net), rng_(net.config().seed ^ kRngSalt),
      ping_(std::make_unique<PingSockets>(net, *this)) {
  net_.inet_add_protocol(kIpprotoIcmp, &Icmp::rcv_cb, this);
  net_.set_icmp_send(&Icmp::send_cb, this);
}

Icmp::~Icmp() {
  net_.inet_add_protocol(kIpprotoIcmp, nullptr, nullptr);
  net_.set_icmp_send(nullptr, nullptr);
}

void Icmp::rcv_cb(void* ctx, SkBuff* skb) { static_cast<Icmp*>(ctx)->icmp_rcv(skb); }

void Icmp::send_cb(void* ctx, Cpu& cpu, const SkBuff& in, uint8_t type, uint8_t code, uint32_t info) {
  static_cast<Icmp*>(ctx)->icmp_send(cpu, in, type, code, info);
}

void Icmp::add_err_handler(uint8_t proto, IcmpErrHandler fn, void* ctx) { err_handlers_[proto] = {fn, ctx}; }

// ingress 19: icmp_rcv. The order of 6.1: InMsgs; the checksum (InCsumErrors + InErrors,
// ICMP_CSUM); the 8-byte header (InErrors); the IcmpMsg In counter; PROBE; a type above 18
// (InErrors, UNHANDLED_PROTO); to a broadcast/multicast address only echo/timestamp/address mask
// (InErrors, INVALID_PROTO); then the type's handler.
void Icmp::icmp_rcv(SkBuff* skb) {
  Cpu& cpu = net_.cpu(0);
  cpu.charge(cpu.costs().icmp);
  ++mib_.InMsgs;
  const auto checked = wire::IcmpPacket::checked(
      skb->bytes(), skb->ip_summed == IpSummed::Unnecessary ? wire::ChecksumCheck::Skip : wire::ChecksumCheck::Verify);
  if (!checked) {
    const bool csum = checked.error() == wire::IcmpError::BadChecksum;
    if (csum) ++mib_.InCsumErrors;
    ++mib_.InErrors;
    net_.drop(cpu, skb, csum ? SkbDropReason::IcmpCsum : SkbDropReason::NotSpecified, ingress(19));
    return;
  }
  const uint8_t type = skb->bytes()[0];
  ++mib_.msg[type];  // ICMPMSGIN_INC_STATS
  // pskb_pull(skb, sizeof(*icmph)): the handlers see what follows the header.
  skb_pull(*skb, wire::kIcmpHeaderLen);

  Rx rx;
  if (type == t(IcmpType::ExtendedEchoRequest)) {
    rx = icmp_echo(skb);  // icmp_build_probe: icmp_echo_enable_probe is 0, nothing is sent
  } else if (type == t(IcmpType::ExtendedEchoRequest) + 1) {  // ICMP_EXT_ECHOREPLY
    skb_push(*skb, wire::kIcmpHeaderLen);
    const auto why = ping_->ping_rcv(skb);
    rx = why ? Rx{Rx::Dropped, *why} : Rx{Rx::Taken};
  } else if (type > wire::kIcmpLinuxMaxType) {
    ++mib_.InErrors;
    rx = {Rx::Dropped, SkbDropReason::UnhandledProto};
  } else if ((skb->rt_type == kRtnBroadcast || skb->rt_type == kRtnMulticast) &&
             (((type == t(IcmpType::EchoRequest) || type == t(IcmpType::Timestamp)) &&
               net_.ipv4_sysctls().icmp_echo_ignore_broadcasts) ||
              (type != t(IcmpType::EchoRequest) && type != t(IcmpType::Timestamp) &&
               type != t(IcmpType::AddressMaskRequest) && type != t(IcmpType::AddressMaskReply)))) {
    // RFC 1122 3.2.2.6 / 3.2.2.8: echo and timestamp to a broadcast MAY be ignored (the sysctl);
    // anything else to a broadcast/multicast address is dropped.
    ++mib_.InErrors;
    rx = {Rx::Dropped, SkbDropReason::InvalidProto};
  } else {
    switch (type) {
      case t(IcmpType::EchoReply): {
        skb_push(*skb, wire::kIcmpHeaderLen);  // ping_rcv pushes the header back
        const auto why = ping_->ping_rcv(skb);
        rx = why ? Rx{Rx::Dropped, *why} : Rx{Rx::Taken};
        break;
      }
      case t(IcmpType::DestUnreachable):
      case t(IcmpType::SourceQuench):
      case t(IcmpType::TimeExceeded):
      case t(IcmpType::ParameterProblem): rx = icmp_unreach(skb); break;
      case t(IcmpType::Redirect): rx = icmp_redirect(skb); break;
      case t(IcmpType::EchoRequest): rx = icmp_echo(skb); break;
      case t(IcmpType::Timestamp): rx = icmp_timestamp(skb); break;
      default: rx = {Rx::Consumed}; break;  // icmp_discard: "pretend it was a success"
    }
  }
  switch (rx.kind) {
    case Rx::Taken: return;
    case Rx::Consumed: net_.consume(cpu, skb, ingress(19), type); return;
    case Rx::Dropped: net_.drop(cpu, skb, rx.reason, ingress(19)); return;
  }
}

// icmp_echo (RFC 1122 3.2.2.6: MUST answer, with the request's data; RFC 1812 4.3.3.6: the
// sysctl to ignore them). The request is used up either way.
Icmp::Rx Icmp::icmp_echo(SkBuff* skb) {
  if (net_.ipv4_sysctls().icmp_echo_ignore_all) return {};
  const uint8_t* h = skb_transport_header(*skb);
  std::array<uint8_t, wire::kIcmpHeaderLen> head;
  std::copy(h, h + wire::kIcmpHeaderLen, head.begin());
  if (head[0] != t(IcmpType::EchoRequest)) return {};  // PROBE: disabled (icmp_echo_enable_probe 0)
  head[0] = t(IcmpType::EchoReply);                     // code, identifier and sequence stay
  icmp_reply(skb, head, skb->bytes());
  return {};
}

// icmp_timestamp (RFC 1122 3.2.2.8): the originate time echoed, receive = transmit = now in ms
// since midnight UT (inet_current_timestamp; the model's clock starts at midnight).
Icmp::Rx Icmp::icmp_timestamp(SkBuff* skb) {
  if (skb->len < 4) {
    ++mib_.InErrors;
    return {Rx::Dropped, SkbDropReason::PktTooSmall};
  }
  const uint8_t* h = skb_transport_header(*skb);
  std::array<uint8_t, wire::kIcmpHeaderLen + 12> head{};
  std::copy(h, h + wire::kIcmpHeaderLen, head.begin());
  head[0] = t(IcmpType::TimestampReply);
  head[1] = 0;
  std::copy(skb->head + skb->data, skb->head + skb->data + 4, head.begin() + 8);
  const uint64_t ms = static_cast<uint64_t>(net_.cpu(0).now().ps() / 1'000'000'000) % 86'400'000u;
  wire::store_be32(head, 12, static_cast<uint32_t>(ms));
  wire::store_be32(head, 16, static_cast<uint32_t>(ms));
  icmp_reply(skb, head, {});
  return {};
}

// icmp_unreach: destination unreachable, source quench, time exceeded, parameter problem.
Icmp::Rx Icmp::icmp_unreach(SkBuff* skb) {
  if (!pskb_may_pull(*skb, wire::kIpv4MinHeaderLen)) {
    ++mib_.InErrors;
    return {Rx::Dropped, SkbDropReason::NotSpecified};
  }
  const uint8_t* ih = skb_transport_header(*skb);
  const uint8_t type = ih[0], code = ih[1];
  const IpHdr iph{skb->bytes()};
  if (iph.ihl() < 5) {  // mangled header
    ++mib_.InErrors;
    return {Rx::Dropped, SkbDropReason::IpInhdr};
  }
  uint32_t info = 0;
  switch (type) {
    case t(IcmpType::DestUnreachable):
      // ip_no_pmtu_disc 0: the next-hop MTU goes to the protocol (RFC 1191).
      if ((code & 15) == static_cast<uint8_t>(wire::IcmpUnreachable::FragmentationNeeded))
        info = wire::load_be16(std::span<const uint8_t>(ih, 8), 6);
      if (code > 15) return {};  // NR_ICMP_UNREACH
      break;
    case t(IcmpType::ParameterProblem): info = wire::load_be32(std::span<const uint8_t>(ih, 8), 4) >> 24; break;
    case t(IcmpType::TimeExceeded):
      ++mib_.InTimeExcdsMib;
      if (code == static_cast<uint8_t>(wire::IcmpTimeExceeded::Reassembly)) return {};
      break;
    default: break;
  }
  // RFC 1122: errors about a broadcast are bogus; 6.1 drops them only when the sysctl is 0.
  if (!net_.ipv4_sysctls().icmp_ignore_bogus_error_responses &&
      (iph.daddr().is_broadcast() || net_.route_output(iph.daddr()).type == RouteType::Broadcast))
    return {};
  return icmp_socket_deliver(skb, info);
}

// icmp_redirect: handed to the protocol as an error (6.1 updates its route cache there; the
// model keeps no cache and changes no route).
Icmp::Rx Icmp::icmp_redirect(SkBuff* skb) {
  if (skb->len < wire::kIpv4MinHeaderLen) {
    ++mib_.InErrors;
    return {Rx::Dropped, SkbDropReason::PktTooSmall};
  }
  const uint8_t* ih = skb_transport_header(*skb);
  return icmp_socket_deliver(skb, wire::load_be32(std::span<const uint8_t>(ih, 8), 4));
}

// icmp_socket_deliver: the quoted header and 8 bytes of its payload must be there (RFC 792),
// then the quoted protocol's err_handler (ICMP's icmp_err -> ping_err; raw sockets: none here).
Icmp::Rx Icmp::icmp_socket_deliver(SkBuff* skb, uint32_t info) {
  const IpHdr iph{skb->bytes()};
  const uint32_t hlen = uint32_t{iph.ihl()} * 4;
  if (!pskb_may_pull(*skb, hlen + 8)) {
    ++mib_.InErrors;
    return {};  // 6.1 returns, and icmp_rcv consumes the skb
  }
  const uint8_t proto = iph.protocol();
  if (proto == kIpprotoIcmp) {
    // icmp_err: an error about an echo reply we sent is for PMTU/redirect bookkeeping only.
    const uint8_t quoted_type = skb->bytes()[hlen];
    if (quoted_type != t(IcmpType::EchoReply) && ping_->ping_err(skb, static_cast<int>(hlen), info))
      return {Rx::Taken};
    return {};
  }
  const ErrHandler& h = err_handlers_[proto];
  if (h.fn != nullptr && h.fn(h.ctx, skb, info)) return {Rx::Taken};
  return {};
}

bool Icmp::global_allow(Cpu& cpu, uint8_t type, uint8_t code) {
  const Ipv4Sysctls& s = net_.ipv4_sysctls();
  if (icmpv4_mask_allow(s.icmp_ratemask, type, code)) return true;
  if (icmp_global_allow(global_, static_cast<uint32_t>(jiffies(cpu.now())),
                        static_cast<uint32_t>(s.icmp_msgs_per_sec), static_cast<uint32_t>(s.icmp_msgs_burst), rng_))
    return true;
  ++mib_.RateLimitGlobal;
  return false;
}

const InetPeers& Icmp::peers() const { return net_.inet_peers(); }

bool Icmp::xrlim_allow(Cpu& cpu, Ipv4Addr daddr, RouteType rt_type, uint8_t type, uint8_t code) {
  const Ipv4Sysctls& s = net_.ipv4_sysctls();
  if (icmpv4_mask_allow(s.icmp_ratemask, type, code)) return true;
  if (rt_type == RouteType::Local) return true;  // no rate limit on loopback: a local route leaves through lo
  const uint64_t now = jiffies(cpu.now());
  InetPeer& peer = net_.inet_peers().getpeer(daddr, now);
  if (inet_peer_xrlim_allow(&peer, now, msecs_to_jiffies(static_cast<uint64_t>(std::max(s.icmp_ratelimit_ms, 0)))))
    return true;
  ++mib_.RateLimitHost;
  return false;
}

// icmp_reply (6.1): the global limit, then the route back, then the peer's limit, then out.
// IP options are not echoed (the model sends none; ip_options_echo is not built).
void Icmp::icmp_reply(const SkBuff* req, std::span<const uint8_t> head, std::span<const uint8_t> data) {
  const uint8_t type = head[0], code = head[1];
  Cpu& cpu = net_.cpu(0);
  if (!global_allow(cpu, type, code)) return;
  const IpHdr iph{req->network_bytes()};
  const Ipv4Addr daddr = iph.saddr();
  // fib_compute_spec_dst: the address the request was sent to if it is ours, else (a broadcast)
  // the receiving device's address.
  Ipv4Addr saddr = iph.daddr();
  if (!net_.is_local_addr(saddr)) saddr = req->dev != nullptr ? net_.dev_addr4(net_.ifindex_of(*req->dev)) : Ipv4Addr{};
  const NetStack::RouteOut rt = net_.route_output(daddr);
  if (rt.err != 0) return;
  if (!xrlim_allow(cpu, daddr, rt.type, type, code)) return;
  // The ICMP socket has IP_PMTUDISC_DONT: no DF, so IP picks an id (ip_select_ident).
  push_reply(cpu, saddr, daddr, iph.tos(), false, head, data);
}

bool Icmp::push_reply(Cpu& cpu, Ipv4Addr saddr, Ipv4Addr daddr, uint8_t tos, bool df, std::span<const uint8_t> head,
                      std::span<const uint8_t> body) {
  const uint32_t len = static_cast<uint32_t>(head.size() + body.size());
  SkBuff* skb = net_.alloc_skb(cpu, len);
  if (skb == nullptr) {
    ++mib_.OutErrors;  // ip_append_data failed
    return false;
  }
  std::span<uint8_t> out = skb->bytes();
  std::copy(head.begin(), head.end(), out.begin());
  std::copy(body.begin(), body.end(), out.begin() + static_cast<std::ptrdiff_t>(head.size()));
  wire::IcmpPacketMut::checked(out, wire::ChecksumCheck::Skip)->fill_checksum();
  icmp_out_count(mib_, head[0]);  // __ip_make_skb counts every ICMP message it builds
  NetStack::IpSend p;
  p.saddr = saddr;
  p.daddr = daddr;
  p.protocol = kIpprotoIcmp;
  p.tos = tos;
  p.df = df;
  net_.ip_send(cpu, skb, p);  // icmp_push_reply ignores what ip_push_pending_frames returns
  return true;
}

// __icmp_send (6.1), RFC 1122 3.2.2: never about an ICMP error, a broadcast/multicast, a
// fragment other than the first; then the global limit BEFORE the route and the per-destination
// limit (6.1's order; later kernels check the global one last).
IcmpSendVerdict Icmp::icmp_send(Cpu& cpu, const SkBuff& in, uint8_t type, uint8_t code, uint32_t info) {
  const std::span<const uint8_t> nb = in.network_bytes();
  if (!skb_network_header_was_set(in) || nb.size() < wire::kIpv4MinHeaderLen) return IcmpSendVerdict::NoHeader;
  const IpHdr iph{nb};
  if (in.pkt_type != PktType::Host) return IcmpSendVerdict::NotHost;  // no replies to link-layer bcast/mcast
  if (in.rt_type == kRtnBroadcast || in.rt_type == kRtnMulticast) return IcmpSendVerdict::BcastMcast;
  if ((iph.frag_off() & wire::kIpv4FragOffsetMask) != 0) return IcmpSendVerdict::Fragment;  // only fragment 0
  if (type <= wire::kIcmpLinuxMaxType && icmp_type_is_error(type) && iph.protocol() == kIpprotoIcmp) {
    // skb_header_pointer to the inner type; any unknown type is assumed to be an error.
    const std::size_t off = std::size_t{iph.ihl()} * 4;
    if (off >= nb.size()) return IcmpSendVerdict::AboutError;
    const uint8_t inner = nb[off];
    if (inner > wire::kIcmpLinuxMaxType || icmp_type_is_error(inner)) return IcmpSendVerdict::AboutError;
  }
  // RFC 1122 3.2.2: not to a source that names no single host. In 6.1 such datagrams never get
  // here (ip_route_input drops martian sources); kept so a caller's mistake cannot send one.
  const Ipv4Addr src = iph.saddr();
  if (src.is_unspecified() || src.is_broadcast() || src.is_multicast()) return IcmpSendVerdict::BadSource;
  // The global limit, unless the packet came in on a loopback device (6.1: skb_in->dev has
  // IFF_LOOPBACK); the peer limit below still applies unless the answer leaves through lo.
  if (!(in.dev != nullptr && in.dev->loopback) && !global_allow(cpu, type, code))
    return IcmpSendVerdict::RateLimitGlobal;
  cpu.charge(cpu.costs().icmp);

  // The source: the original's destination if it was ours (RTCF_LOCAL), else the route's
  // (or the inbound device's with icmp_errors_use_inbound_ifaddr).
  Ipv4Addr saddr{};
  if (in.rt_type == kRtnLocal || net_.is_local_addr(iph.daddr())) {
    saddr = iph.daddr();
  } else if (net_.ipv4_sysctls().icmp_errors_use_inbound_ifaddr && in.dev != nullptr) {
    saddr = net_.dev_addr4(net_.ifindex_of(*in.dev));
  }
  const uint8_t tos = icmp_type_is_error(type) ? static_cast<uint8_t>((iph.tos() & kIptosTosMask) | kIptosPrecInternetcontrol)
                                               : iph.tos();
  const NetStack::RouteOut rt = net_.route_output(src);  // icmp_route_lookup
  if (rt.err != 0) return IcmpSendVerdict::NoRoute;
  if (!xrlim_allow(cpu, src, rt.type, type, code)) return IcmpSendVerdict::RateLimitHost;

  // "RFC says return as much as we can without exceeding 576 bytes."
  const NetDevice* odev = net_.dev_by_index(rt.oif);
  int room = odev != nullptr ? static_cast<int>(odev->mtu) : 576;
  if (room > 576) room = 576;
  room -= static_cast<int>(wire::kIpv4MinHeaderLen);  // no IP options echoed
  room -= static_cast<int>(wire::kIcmpHeaderLen);
  if (room <= static_cast<int>(wire::kIpv4MinHeaderLen)) return IcmpSendVerdict::TinyMtu;
  std::size_t data_len = nb.size();  // skb_in->len - skb_network_offset(skb_in)
  if (data_len > static_cast<std::size_t>(room)) data_len = static_cast<std::size_t>(room);
  if (saddr.is_unspecified()) saddr = rt.saddr;
  if (saddr.is_unspecified()) saddr = kInaddrDummy;

  std::array<uint8_t, wire::kIcmpHeaderLen> head{};
  head[0] = type;
  head[1] = code;
  wire::store_be32(head, 4, info);  // icmph.un.gateway = info
  // The ICMP socket sends with IP_PMTUDISC_DONT: no DF.
  return push_reply(cpu, saddr, src, tos, false, head, nb.first(data_len)) ? IcmpSendVerdict::Sent
                                                                           : IcmpSendVerdict::NoBuffer;
}

}  // namespace vnic::stack
