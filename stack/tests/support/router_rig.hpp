// RouterRig: a NetStack with two devices and forwarding on, its neighbours resolved:
//   10.0.1.2 (kMacB) -- eth0 10.0.1.1 [router] eth1 10.0.2.1 -- 10.0.2.2 (kMacC)
// and datagram builders for the forwarding, netfilter and fragment tests.
#pragma once

#include <span>
#include <vector>

#include "support/net_rig.hpp"
#include "vnic/stack/icmp.hpp"
#include "vnic/stack/wire/ipv4.hpp"

namespace vnic::stack::testing {

inline const model::MacAddr kMacC{{0x02, 0, 0, 0, 0, 0x0c}};  // the host behind eth1
inline const model::MacAddr kMacR1{{0x02, 0, 0, 0, 0, 0x1a}};  // the router's eth1

inline NetStackConfig forwarding() {
  NetStackConfig c;
  c.ipv4.ip_forward = true;
  return c;
}

struct RouterRig : NetRig {
  CaptureNetDevice dev1;
  int ifindex1 = 0;
  Icmp icmp{*net};
  explicit RouterRig(NetStackConfig cfg = forwarding()) : NetRig(cfg, "10.0.1.1/24") {
    dev1.name = "eth1";
    dev1.dev_addr = kMacR1;
    ifindex1 = net->register_netdev(dev1);
    dev1.up = true;
    dev1.carrier = true;
    dev1.netif_tx_start_queue();
    net->netdev_up(ifindex1);
    net->ip_addr_add(ifindex1, cidr("10.0.2.1/24"));
    net->neigh().neigh_add(dev, ip4("10.0.1.2"), kMacB, kNudPermanent);
    net->neigh().neigh_add(dev1, ip4("10.0.2.2"), kMacC, kNudPermanent);
  }
  // A datagram from 10.0.1.2 arriving on eth0.
  void arrive(const std::vector<uint8_t>& dgram, uint64_t id = 7) {
    receive(frame(0x0800, dgram, id));
    cpu.run();
  }
  // A UDP datagram (checksum 0: none) from 10.0.1.2:sport to dst:dport, `payload` bytes of 0xAB.
  static std::vector<uint8_t> udp(const char* dst, std::size_t payload = 32, uint8_t ttl = 64, bool df = false,
                                  uint8_t tos = 0, uint16_t sport = 1000, uint16_t dport = 9) {
    wire::Ipv4Repr r;
    r.src = ip4("10.0.1.2");
    r.dst = ip4(dst);
    r.protocol = wire::IpProtocol::Udp;
    r.ttl = ttl;
    r.tos = tos;
    r.dont_fragment = df;
    r.ident = 0x1234;
    r.payload_len = static_cast<uint16_t>(8 + payload);
    std::vector<uint8_t> v(r.total_len(), 0xAB);
    r.emit(v);
    const std::size_t u = r.header_len();
    wire::store_be16(v, u, sport);
    wire::store_be16(v, u + 2, dport);
    wire::store_be16(v, u + 4, static_cast<uint16_t>(8 + payload));
    wire::store_be16(v, u + 6, 0);
    return v;
  }
  // The IPv4 datagram of a captured frame.
  static std::span<const uint8_t> ip_of(const std::vector<uint8_t>& frame) {
    return std::span<const uint8_t>(frame).subspan(14);
  }
};

}  // namespace vnic::stack::testing
