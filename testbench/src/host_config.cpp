// The host/NIC/link config structs: IPv4 addresses, prefixes and routes as `ip` writes them.
#include "vnic/tb/host_config.hpp"

#include <fmt/format.h>

#include <charconv>
#include <sstream>

namespace vnic::tb {

namespace {

// A decimal number in [0, max] that is the whole of `text`.
std::optional<uint32_t> decimal(std::string_view text, uint32_t max) {
  if (text.empty() || text.size() > 10) return std::nullopt;
  uint64_t v = 0;
  for (char ch : text) {
    if (ch < '0' || ch > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(ch - '0');
  }
  if (v > max) return std::nullopt;
  return static_cast<uint32_t>(v);
}

}  // namespace

std::optional<uint32_t> parse_ipv4(std::string_view text) {
  uint32_t addr = 0;
  for (int i = 0; i < 4; ++i) {
    const auto dot = text.find('.');
    if ((i < 3) != (dot != std::string_view::npos)) return std::nullopt;
    const std::string_view part = i < 3 ? text.substr(0, dot) : text;
    if (part.size() > 1 && part[0] == '0') return std::nullopt;  // no octal-looking parts
    const auto v = decimal(part, 255);
    if (!v) return std::nullopt;
    addr = addr << 8 | *v;
    if (i < 3) text = text.substr(dot + 1);
  }
  return addr;
}

std::string ipv4_str(uint32_t a) { return fmt::format("{}.{}.{}.{}", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255); }

std::optional<Ipv4Cidr> Ipv4Cidr::parse(std::string_view text) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const auto a = parse_ipv4(text.substr(0, slash));
  const auto len = decimal(text.substr(slash + 1), 32);
  if (!a || !len) return std::nullopt;
  return Ipv4Cidr{*a, static_cast<uint8_t>(*len)};
}

std::string Ipv4Cidr::str() const { return fmt::format("{}/{}", ipv4_str(addr), prefix); }

std::optional<RouteConfig> parse_route(std::string_view text, std::string* why) {
  const auto fail = [&](const std::string& w) -> std::optional<RouteConfig> {
    if (why) *why = w;
    return std::nullopt;
  };
  std::vector<std::string> words;
  {
    std::istringstream in{std::string(text)};
    for (std::string w; in >> w;) words.push_back(w);
  }
  if (words.empty()) return fail("empty (expected like \"10.0.2.0/24 via 10.0.1.2 dev eth1\" or \"default via 10.0.0.2\")");
  RouteConfig r;
  r.text = std::string(text);
  if (words[0] == "default") {
    r.dst = Ipv4Cidr{0, 0};
  } else if (const auto d = Ipv4Cidr::parse(words[0])) {
    if ((d->addr & ~d->netmask()) != 0) {
      return fail(fmt::format("{} has host bits set (the kernel's \"Invalid prefix for given prefix length\"); "
                              "the network is {}",
                              words[0], Ipv4Cidr{d->addr & d->netmask(), d->prefix}.str()));
    }
    r.dst = *d;
  } else if (const auto h = parse_ipv4(words[0])) {
    r.dst = Ipv4Cidr{*h, 32};  // ip route takes a bare address as a /32
  } else {
    return fail(fmt::format("'{}' is not a destination (default, or a prefix like 10.0.2.0/24)", words[0]));
  }
  for (std::size_t i = 1; i < words.size(); i += 2) {
    const std::string& k = words[i];
    if (i + 1 >= words.size()) return fail(fmt::format("'{}' needs a value", k));
    const std::string& v = words[i + 1];
    const auto once = [&](bool set) { return set ? fail(fmt::format("'{}' is given twice", k)) : std::nullopt; };
    if (k == "via") {
      if (r.via) return once(true);
      const auto a = parse_ipv4(v);
      if (!a) return fail(fmt::format("via {}: not an IPv4 address", v));
      r.via = *a;
    } else if (k == "dev") {
      if (!r.dev.empty()) return once(true);
      r.dev = v;
    } else if (k == "metric") {
      if (r.metric) return once(true);
      const auto m = decimal(v, UINT32_MAX);
      if (!m) return fail(fmt::format("metric {}: not a number 0..4294967295", v));
      r.metric = *m;
    } else if (k == "src") {
      if (r.src) return once(true);
      const auto a = parse_ipv4(v);
      if (!a) return fail(fmt::format("src {}: not an IPv4 address", v));
      r.src = *a;
    } else {
      return fail(fmt::format("'{}' is not one of via, dev, metric, src", k));
    }
  }
  if (!r.via && r.dev.empty()) return fail("needs a gateway (via) or a device (dev)");
  return r;
}

const NicSide* HostConfig::nic(std::string_view ifname) const {
  for (const auto& n : nics) {
    if (n.ifname == ifname) return &n;
  }
  return nullptr;
}

NicSide* HostConfig::nic(std::string_view ifname) {
  return const_cast<NicSide*>(static_cast<const HostConfig*>(this)->nic(ifname));
}

}  // namespace vnic::tb

namespace vnic::tb {

std::string SwitchConfig::port_pcap(unsigned k) const {
  if (pcap.empty()) return {};
  const auto slash = pcap.find_last_of('/');
  const auto dot = pcap.rfind('.');
  const bool ext = dot != std::string::npos && (slash == std::string::npos || dot > slash);
  return ext ? pcap.substr(0, dot) + "-p" + std::to_string(k) + pcap.substr(dot)
             : pcap + "-p" + std::to_string(k) + ".pcap";
}

}  // namespace vnic::tb
