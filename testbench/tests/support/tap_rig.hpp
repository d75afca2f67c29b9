// TapPeerRig: one simulated host (NIC, driver model and its protocol stack, as the platform builds
// a driver host) on side 0 of an EthLink whose side 1 is a TapPort, the TAP moved into a
// throw-away network namespace: the host's kernel there is the simulated host's peer. Also
// now_ps and snmp_row for the tests that run it.
#pragma once

#include <systemc>

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "netns.hpp"
#include "vnic/hw/event_queue.hpp"
#include "vnic/hw/nic.hpp"
#include "vnic/tb/driver_host.hpp"
#include "vnic/tb/eth_link.hpp"
#include "vnic/tb/host_memory.hpp"
#include "vnic/tb/tap_port.hpp"

namespace vnic::tb::test {

struct TapPeerConfig {
  model::MacAddr host_mac{{0x02, 0x76, 0x6e, 0x00, 0x00, 0x02}};  // the simulated host's NIC
  std::string host_cidr = "10.77.0.2/24";
  std::string ns_mac = "02:76:6e:00:00:01";  // the TAP in the namespace (the kernel's side)
  std::string ns_cidr = "10.77.0.1/24";
  DriverHostConfig host{};  // nics[0].address is set from host_cidr
  TapPortConfig tap{};      // ifname is picked by the rig
  EthLinkConfig link{};
};

struct TapPeerRig {
  static constexpr uint64_t kMemBase = 0x1'0000'0000ull;  // as the platform places host DRAM

  // The platform's sizing for one NIC (mem_size_driver): pages are zeroed lazily, so only what
  // the run touches costs anything.
  static uint64_t mem_size(const DriverHostConfig& c) {
    const uint64_t big_buf = stack::SkbPool::kLargeBuf + 64;
    const uint64_t skbs = std::min<uint64_t>(c.skb_pool, 2 * 4096 + 2 * 32 + 1024);
    return 2 * 4096 * big_buf + 2 * 4096 * 16 + skbs * big_buf + (8u << 20);
  }

  static DriverHostConfig host_config(const TapPeerConfig& c) {
    DriverHostConfig h = c.host;
    const auto cidr = stack::Ipv4Cidr::parse(c.host_cidr);
    if (!cidr) throw std::invalid_argument("not an address/prefix: " + c.host_cidr);
    h.nics.at(0).address = *cidr;
    return h;
  }
  static hw::NicConfig nic_config(const TapPeerConfig& c) {
    hw::NicConfig n;
    n.perm_mac = c.host_mac;
    return n;
  }
  static TapPortConfig tap_config(TapPortConfig t, const std::string& ifname) {
    t.ifname = ifname;
    return t;
  }

  NetNs ns;  // first, so it is torn down last (after the port closed the TAP)
  std::string ifname = NetNs::unique_ifname();
  hw::EventQueue q{"events"};
  HostMemory mem;
  hw::Nic nic;
  DriverHost host;
  EthLink link;
  TapPort port;

  explicit TapPeerRig(const TapPeerConfig& c)
      : mem("mem_a", kMemBase, mem_size(c.host)),
        nic("nic_a", q, nic_config(c)),
        host("host_a", q, mem, host_config(c), "a"),
        link("link", q, c.link),
        port(q, link, 1, tap_config(c.tap, ifname)) {  // opens (so creates) the TAP in the root namespace
    host.connect(nic);
    nic.attach(&link, 0);
    ns.adopt_tap(ifname, c.ns_mac, c.ns_cidr);
  }
};

// SystemC's time now, in picoseconds.
inline uint64_t now_ps() { return hw::to_ps(sc_core::sc_time_stamp()); }

// One row pair of /proc/net/snmp ("Icmp: InMsgs ...\nIcmp: 12 ...") as name -> value; empty if
// the prefix is not there.
inline std::map<std::string, uint64_t> snmp_row(const std::string& text, const std::string& prefix) {
  std::istringstream in(text);
  std::string line;
  std::vector<std::string> names;
  std::map<std::string, uint64_t> row;
  const std::string head = prefix + ":";
  while (std::getline(in, line)) {
    if (line.rfind(head, 0) != 0) continue;
    std::istringstream words(line.substr(head.size()));
    std::vector<std::string> w;
    std::string x;
    while (words >> x) w.push_back(x);
    if (names.empty()) {
      names = w;
      continue;
    }
    for (std::size_t i = 0; i < names.size() && i < w.size(); ++i) row[names[i]] = std::stoull(w[i]);
    break;
  }
  return row;
}

}  // namespace vnic::tb::test
