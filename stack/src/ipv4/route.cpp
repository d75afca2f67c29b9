// Output route lookup (net/ipv4/route.c ip_route_output_key_hash_rcu, Linux 6.1) for one
// namespace: the FIB's answer turned into an output device, next hop and source address.
#include "../core/net_priv.hpp"

namespace vnic::stack {

NetStack::RouteOut NetStack::route_output(wire::Ipv4Addr daddr, int oif) const {
  RouteOut r;
  // A bound device that is not ours: -ENODEV (dev_get_by_index_rcu failed).
  if (oif != 0 && dev_entry(oif) == nullptr) {
    r.err = -kENODEV;
    return r;
  }
  // The limited broadcast (and link-local multicast) out of a bound device needs no route.
  if (oif != 0 && (daddr.is_broadcast() || daddr.is_multicast())) {
    r.oif = oif;
    r.saddr = dev_addr4(oif);  // inet_select_addr(dev, 0, RT_SCOPE_LINK)
    r.next_hop = daddr;
    r.type = daddr.is_broadcast() ? RouteType::Broadcast : RouteType::Unicast;
    return r;
  }
  const Fib::Lookup l = fib_.lookup(daddr);
  if (l.err != 0) {
    r.err = l.err;
    return r;
  }
  const FibRoute& rt = *l.res.route;
  r.type = rt.type;
  if (rt.type == RouteType::Local) {
    // ip_route_output_key_hash_rcu's RTN_LOCAL: out through the loopback device (dev_out =
    // net->loopback_dev), the source the route's prefsrc or else the destination itself.
    r.oif = kLoopbackIfindex;
    r.saddr = rt.prefsrc.is_unspecified() ? daddr : rt.prefsrc;
    r.next_hop = daddr;
    return r;
  }
  if (oif != 0 && rt.dev != oif) {
    // The model's FIB has no per-device lookup: a bound device the route does not use has no
    // route (Linux would try the device's connected routes first).
    r.err = -kENETUNREACH;
    return r;
  }
  r.oif = rt.dev;
  r.next_hop = l.res.next_hop;
  r.saddr = rt.prefsrc.is_unspecified() ? dev_addr4(rt.dev) : rt.prefsrc;  // fib_result_prefsrc
  // __mkroute_output: the limited broadcast is RTN_BROADCAST whatever route carried it.
  if (daddr.is_broadcast()) r.type = RouteType::Broadcast;
  return r;
}

}  // namespace vnic::stack
