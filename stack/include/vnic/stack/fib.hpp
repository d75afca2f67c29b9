// The IPv4 forwarding information base (net/ipv4/fib_*.c): the local and main tables, longest
// prefix match, route types and metrics, the routes an address brings with it, and `ip route`
// output. A host's routing for part 1a of the protocol stack (docs/stack.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vnic/stack/wire/ipv4.hpp"

namespace vnic::stack {

using wire::Ipv4Addr;
using wire::Ipv4Cidr;

// RTN_*: what a matching route does with the packet.
enum class RouteType : uint8_t { Unicast, Local, Broadcast, Blackhole, Unreachable, Prohibit };
// RTPROT_*: who made it.
enum class RouteProto : uint8_t { Kernel, Boot, Static };
// RT_SCOPE_*: how far its destination is.
enum class RouteScope : uint8_t { Universe, Link, Host };
// RT_TABLE_LOCAL (255) is looked up before RT_TABLE_MAIN (254), as fib_lookup does without rules.
enum class RouteTable : uint8_t { Local, Main };

struct FibRoute {
  Ipv4Cidr dst{};
  Ipv4Addr gateway{};  // unspecified: the destination is on the link
  int dev = -1;        // device index (-1 for types that have none: blackhole, unreachable, prohibit)
  Ipv4Addr prefsrc{};  // the source address to prefer (unspecified: none)
  uint32_t metric = 0;
  RouteType type = RouteType::Unicast;
  RouteProto proto = RouteProto::Boot;  // `ip route add` without "proto": boot
  RouteScope scope = RouteScope::Universe;
  RouteTable table = RouteTable::Main;
};

// What a lookup found: the route, and the next hop to resolve (the gateway, or the destination
// itself when it is on the link).
struct FibResult {
  const FibRoute* route = nullptr;
  Ipv4Addr next_hop{};
};

// Errors as negative errno values, as the kernel returns them.
inline constexpr int kENETUNREACH = 101, kEHOSTUNREACH = 113, kEACCES = 13, kEEXIST = 17, kESRCH = 3;

class Fib {
 public:
  // `ip route add`: 0, or -EEXIST for the same destination, metric and table twice
  // (fib_table_insert without NLM_F_REPLACE).
  int add(const FibRoute& r);
  // `ip route del` of a destination (and metric, if given): 0 or -ESRCH.
  int del(const Ipv4Cidr& dst, std::optional<uint32_t> metric = std::nullopt, RouteTable table = RouteTable::Main);
  // An address on a device (fib_add_ifaddr): a local route for the address itself (table
  // local, scope host), the broadcast routes for the subnet's broadcast address (table local,
  // scope link), and the connected route for its prefix (table main, proto kernel, scope
  // link, src the address), unless the prefix is /32.
  // `loopback`: the device is IFF_LOOPBACK, whose prefix route is a local one in the local table
  // (fib_add_ifaddr: RTN_LOCAL, scope host: every address of 127.0.0.0/8 is ours).
  void add_address(int dev, const Ipv4Cidr& addr, bool loopback = false);
  // The routes an address brought, removed (fib_del_ifaddr).
  void del_address(int dev, const Ipv4Cidr& addr);
  // Every route of a device (it went down).
  void flush_dev(int dev);
  // fib_lookup: the local table, then the main table; the longest prefix, then the lowest
  // metric; -ENETUNREACH when nothing matches; a matching unreachable/prohibit/blackhole route
  // gives -EHOSTUNREACH / -EACCES / -EINVAL (blackhole: the packet is dropped quietly).
  struct Lookup {
    int err = 0;
    FibResult res{};
  };
  Lookup lookup(Ipv4Addr dst) const;
  const std::vector<FibRoute>& routes() const { return routes_; }
  // `ip route show` (the main table) as iproute2 prints it; `names[dev]` names the devices.
  std::string ip_route(const std::vector<std::string>& names) const;
  // `ip route show table local`.
  std::string ip_route_local(const std::vector<std::string>& names) const;

 private:
  std::string format(const FibRoute& r, const std::vector<std::string>& names, bool local) const;
  std::vector<FibRoute> routes_;  // kept sorted: table, then longest prefix, then metric, then order added
};

}  // namespace vnic::stack
