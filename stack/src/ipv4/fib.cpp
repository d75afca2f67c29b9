// The FIB: longest prefix match over the local and main tables (net/ipv4/fib_trie.c's result,
// not its data structure: a host holds a handful of routes), the routes of an address
// (fib_add_ifaddr), and `ip route` output as iproute2 prints it.
#include "vnic/stack/fib.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace vnic::stack {

namespace {

bool before(const FibRoute& a, const FibRoute& b) {
  if (a.table != b.table) return a.table < b.table;  // local first
  if (a.dst.prefix_len != b.dst.prefix_len) return a.dst.prefix_len > b.dst.prefix_len;
  return a.metric < b.metric;
}

bool same_key(const FibRoute& a, const FibRoute& b) {
  return a.table == b.table && a.dst.network() == b.dst.network() && a.dst.prefix_len == b.dst.prefix_len &&
         a.metric == b.metric;
}

const char* type_name(RouteType t) {
  switch (t) {
    case RouteType::Unicast: return "unicast";
    case RouteType::Local: return "local";
    case RouteType::Broadcast: return "broadcast";
    case RouteType::Blackhole: return "blackhole";
    case RouteType::Unreachable: return "unreachable";
    case RouteType::Prohibit: return "prohibit";
  }
  return "?";
}

}  // namespace

int Fib::add(const FibRoute& r) {
  FibRoute n = r;
  n.dst = n.dst.network();  // the kernel refuses host bits set; we store the network
  for (const FibRoute& e : routes_) {
    if (same_key(e, n)) return -kEEXIST;
  }
  // Inserted after every route that sorts before or equal: equal keys keep the order added.
  const auto it = std::upper_bound(routes_.begin(), routes_.end(), n, before);
  routes_.insert(it, n);
  return 0;
}

int Fib::del(const Ipv4Cidr& dst, std::optional<uint32_t> metric, RouteTable table) {
  const Ipv4Cidr net = dst.network();
  for (auto it = routes_.begin(); it != routes_.end(); ++it) {
    if (it->table == table && it->dst.network() == net && it->dst.prefix_len == net.prefix_len &&
        (!metric || it->metric == *metric)) {
      routes_.erase(it);
      return 0;
    }
  }
  return -kESRCH;
}

void Fib::add_address(int dev, const Ipv4Cidr& addr, bool loopback) {
  FibRoute local;
  local.dst = Ipv4Cidr{addr.addr, 32};
  local.dev = dev;
  local.prefsrc = addr.addr;
  local.type = RouteType::Local;
  local.proto = RouteProto::Kernel;
  local.scope = RouteScope::Host;
  local.table = RouteTable::Local;
  add(local);
  if (addr.prefix_len < 31) {
    if (const auto bcast = addr.broadcast()) {
      FibRoute b = local;
      b.dst = Ipv4Cidr{*bcast, 32};
      b.type = RouteType::Broadcast;
      b.scope = RouteScope::Link;
      add(b);
    }
  }
  if (addr.prefix_len < 32) {
    FibRoute conn;
    conn.dst = addr.network();
    conn.dev = dev;
    conn.prefsrc = addr.addr;
    conn.proto = RouteProto::Kernel;
    conn.scope = RouteScope::Link;
    if (loopback) {
      conn.type = RouteType::Local;
      conn.scope = RouteScope::Host;
      conn.table = RouteTable::Local;
    }
    add(conn);
  }
}

void Fib::del_address(int dev, const Ipv4Cidr& addr) {
  std::erase_if(routes_, [&](const FibRoute& r) {
    return r.dev == dev && r.proto == RouteProto::Kernel && r.prefsrc == addr.addr;
  });
}

void Fib::flush_dev(int dev) {
  std::erase_if(routes_, [dev](const FibRoute& r) { return r.dev == dev; });
}

Fib::Lookup Fib::lookup(Ipv4Addr dst) const {
  // The vector is in lookup order: the first route that contains dst wins.
  for (const FibRoute& r : routes_) {
    if (!r.dst.contains(dst)) continue;
    switch (r.type) {
      case RouteType::Unreachable: return {-kEHOSTUNREACH, {&r, {}}};
      case RouteType::Prohibit: return {-kEACCES, {&r, {}}};
      case RouteType::Blackhole: return {-22 /* EINVAL */, {&r, {}}};
      default: break;
    }
    return {0, {&r, r.gateway.is_unspecified() ? dst : r.gateway}};
  }
  return {-kENETUNREACH, {}};
}

std::string Fib::format(const FibRoute& r, const std::vector<std::string>& names, bool local) const {
  // iproute2's print_route: [type] dst [via gw] dev X [proto P] [scope S] [src A] [metric M],
  // each followed by a space. Unicast has no type word; "default" stands for 0.0.0.0/0; a /32
  // prints without its length.
  std::string s;
  if (r.type != RouteType::Unicast) s += fmt::format("{} ", type_name(r.type));
  if (r.dst.prefix_len == 0) {
    s += "default ";
  } else if (r.dst.prefix_len == 32) {
    s += r.dst.addr.str() + " ";
  } else {
    s += r.dst.str() + " ";
  }
  if (!r.gateway.is_unspecified()) s += fmt::format("via {} ", r.gateway.str());
  if (r.dev >= 0) {
    const std::string name =
        static_cast<std::size_t>(r.dev) < names.size() ? names[static_cast<std::size_t>(r.dev)] : fmt::format("if{}", r.dev);
    s += fmt::format("dev {} ", name);
  }
  if (local) s += "table local ";
  if (r.proto == RouteProto::Kernel) s += "proto kernel ";
  if (r.proto == RouteProto::Static) s += "proto static ";
  if (r.scope == RouteScope::Link) s += "scope link ";
  if (r.scope == RouteScope::Host) s += "scope host ";
  if (!r.prefsrc.is_unspecified()) s += fmt::format("src {} ", r.prefsrc.str());
  if (r.metric != 0) s += fmt::format("metric {} ", r.metric);
  s += "\n";
  return s;
}

std::string Fib::ip_route(const std::vector<std::string>& names) const {
  // iproute2 lists in the kernel's dump order: the trie walk, by prefix value; we sort the same
  // way (destination, then prefix length, then metric), which puts "default" first.
  std::vector<const FibRoute*> main;
  for (const FibRoute& r : routes_) {
    if (r.table == RouteTable::Main) main.push_back(&r);
  }
  std::stable_sort(main.begin(), main.end(), [](const FibRoute* a, const FibRoute* b) {
    if (a->dst.addr.to_u32() != b->dst.addr.to_u32()) return a->dst.addr.to_u32() < b->dst.addr.to_u32();
    if (a->dst.prefix_len != b->dst.prefix_len) return a->dst.prefix_len < b->dst.prefix_len;
    return a->metric < b->metric;
  });
  std::string s;
  for (const FibRoute* r : main) s += format(*r, names, false);
  return s;
}

std::string Fib::ip_route_local(const std::vector<std::string>& names) const {
  std::vector<const FibRoute*> local;
  for (const FibRoute& r : routes_) {
    if (r.table == RouteTable::Local) local.push_back(&r);
  }
  std::stable_sort(local.begin(), local.end(), [](const FibRoute* a, const FibRoute* b) {
    return a->dst.addr.to_u32() < b->dst.addr.to_u32();
  });
  std::string s;
  for (const FibRoute* r : local) s += format(*r, names, true);
  return s;
}

}  // namespace vnic::stack
