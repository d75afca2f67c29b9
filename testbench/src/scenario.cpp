// Scenario parsing (toml++) with errors that name the file, key and reason.
#include "vnic/tb/scenario.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace vnic::tb {

std::string_view default_scenario_toml() {
  return R"(# vnic default scenario: two NICs back to back over 10 Gb/s, traffic both ways.
[scenario]
name = "default"
seed = 1
quantum_ns = 10000     # how far the event queue may run ahead of SystemC time (no effect on results)
hosts = "driver"       # "driver": driver model + softnet + pktgen on a simulated CPU; "direct": test host

[link]
speed = "10G"          # 1G, 10G, 25G, 40G, 100G
propagation_ns = 5     # about 1 m of cable
ber = 0.0              # bit error rate (per bit)
drop_rate = 0.0        # probability a frame is lost on the wire
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

[sysctl]               # net.core, Linux 6.1 defaults (HZ=250)
netdev_budget = 300
netdev_budget_usecs = 8000
dev_weight = 64
netdev_max_backlog = 1000

[driver]
napi_weight = 64                 # NAPI_POLL_WEIGHT
rx_handoff = "netif_receive_skb" # or "netif_rx" (through the per-CPU backlog)
pktgen_burst = 32                # packets per xmit_more batch
skb_pool = 16384                 # skbs that may exist at once per host
bql = true                       # byte queue limits on the TX queue
watchdog_ms = 5000               # TX watchdog timeout (dev->watchdog_timeo)
mtu = 1500

[host.a]
mac = "02:00:00:00:00:0a"
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

[host.b]
mac = "02:00:00:00:00:0b"
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
)"},
};

}  // namespace

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

void parse_host(Ctx& c, const toml::table& t, std::string_view name, HostSide& h) {
  check_keys(c, t, name,
             {"mac", "tx", "rx", "rx_buf", "rx-usecs", "rx-frames", "tx-usecs", "tx-frames", "frames", "min_len",
              "max_len", "interval_ns", "refill", "promisc", "rx-fcs", "rx-all", "start_ns", "iommu"});
  get_bool(c, t, name, "iommu", h.iommu);
  std::string mac;
  get_string(c, t, name, "mac", mac);
  if (!mac.empty()) {
    const auto m = model::MacAddr::parse(mac);
    if (!m) {
      c.fail(fmt::format("{}.mac", name), fmt::format("'{}' is not a MAC address like 02:00:00:00:00:01", mac));
    } else if (m->is_multicast()) {
      c.fail(fmt::format("{}.mac", name), "a station address must be unicast");
    } else {
      h.mac = *m;
    }
  }
  auto& hc = h.host;
  get_int(c, t, name, "tx", hc.tx_ring, 8, 4096);
  get_int(c, t, name, "rx", hc.rx_ring, 8, 4096);
  for (auto [key, v] : {std::pair{"tx", hc.tx_ring}, std::pair{"rx", hc.rx_ring}}) {
    if ((v & (v - 1)) != 0) c.fail(fmt::format("{}.{}", name, key), fmt::format("{} is not a power of two", v));
  }
  get_int(c, t, name, "rx_buf", hc.rx_buf, 64, 16384);
  for (const char* k : {"rx-usecs", "rx-frames", "tx-usecs", "tx-frames"}) h.coalesce_given |= t.contains(k);
  get_int(c, t, name, "rx-usecs", hc.coalesce.rx_usecs, 0, 65535);
  get_int(c, t, name, "rx-frames", hc.coalesce.rx_frames, 0, 65535);
  get_int(c, t, name, "tx-usecs", hc.coalesce.tx_usecs, 0, 65535);
  get_int(c, t, name, "tx-frames", hc.coalesce.tx_frames, 0, 65535);
  get_int(c, t, name, "frames", hc.count, 0, int64_t{1} << 40);
  get_int(c, t, name, "min_len", hc.pattern.min_len, 60, 9014);
  get_int(c, t, name, "max_len", hc.pattern.max_len, 60, 9014);
  if (hc.pattern.max_len < hc.pattern.min_len) c.fail(fmt::format("{}.max_len", name), "is below min_len");
  int64_t interval_ns = 0;
  get_int(c, t, name, "interval_ns", interval_ns, 0, int64_t{1} << 40);
  hc.interval = model::Duration::ns(interval_ns);
  int64_t start_ns = 1000;
  get_int(c, t, name, "start_ns", start_ns, 0, int64_t{1} << 40);
  hc.start = model::Duration::ns(start_ns);
  get_bool(c, t, name, "refill", hc.refill_rx);
  bool promisc = false, rx_fcs = false, rx_all = false;
  get_bool(c, t, name, "promisc", promisc);
  get_bool(c, t, name, "rx-fcs", rx_fcs);
  get_bool(c, t, name, "rx-all", rx_all);
  hc.rx_ctrl = 0x4u | (promisc ? 0x1u : 0u) | (rx_fcs ? 0x8u : 0u) | (rx_all ? 0x10u : 0u);
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

std::optional<Scenario> parse_table(const toml::table& root, Ctx& c) {
  Scenario s;
  s.a.mac = *model::MacAddr::parse("02:00:00:00:00:0a");
  s.b.mac = *model::MacAddr::parse("02:00:00:00:00:0b");
  check_keys(c, root, "", {"scenario", "link", "pcie", "nic", "host", "cpu", "sysctl", "driver"});
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
  if (const auto* t = sub(c, root, "link")) {
    check_keys(c, *t, "link", {"speed", "propagation_ns", "ber", "drop_rate", "pcap"});
    std::string speed = "10G";
    get_string(c, *t, "link", "speed", speed);
    static const std::pair<std::string_view, uint64_t> kSpeeds[] = {
        {"1G", 1}, {"10G", 10}, {"25G", 25}, {"40G", 40}, {"100G", 100}};
    bool found = false;
    for (auto [n, g] : kSpeeds) {
      if (speed == n) {
        s.link_rate = model::BitRate::gbps(g);
        found = true;
      }
    }
    if (!found) c.fail("link.speed", fmt::format("'{}' is not one of 1G, 10G, 25G, 40G, 100G", speed));
    int64_t prop = 5;
    get_int(c, *t, "link", "propagation_ns", prop, 0, 1000'000'000);
    s.propagation = model::Duration::ns(prop);
    get_double(c, *t, "link", "ber", s.faults.bit_error_rate, 0.0, 0.5);
    get_double(c, *t, "link", "drop_rate", s.faults.drop_probability, 0.0, 1.0);
    get_string(c, *t, "link", "pcap", s.pcap);
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
        {"dev_queue_xmit_ns", &k.dev_queue_xmit}, {"qdisc_ns", &k.qdisc}};
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
  if (const auto* t = sub(c, root, "sysctl")) {
    check_keys(c, *t, "sysctl", {"netdev_budget", "netdev_budget_usecs", "dev_weight", "netdev_max_backlog"});
    auto& y = s.driver.sysctl;
    get_int(c, *t, "sysctl", "netdev_budget", y.netdev_budget, 1, 1'000'000);
    get_int(c, *t, "sysctl", "netdev_budget_usecs", y.netdev_budget_usecs, 1, 100'000'000);
    get_int(c, *t, "sysctl", "dev_weight", y.dev_weight, 1, 1'000'000);
    get_int(c, *t, "sysctl", "netdev_max_backlog", y.netdev_max_backlog, 1, 10'000'000);
  }
  if (const auto* t = sub(c, root, "driver")) {
    check_keys(c, *t, "driver",
               {"napi_weight", "rx_handoff", "pktgen_burst", "skb_pool", "bql", "watchdog_ms", "mtu"});
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
  }
  if (const auto* t = sub(c, root, "host")) {
    check_keys(c, *t, "host", {"a", "b"});
    if (const auto* h = sub(c, *t, "a")) parse_host(c, *h, "host.a", s.a);
    if (const auto* h = sub(c, *t, "b")) parse_host(c, *h, "host.b", s.b);
  }
  if (s.a.mac == s.b.mac) c.fail("host.b.mac", "must differ from host.a.mac");
  if (!c.ok) return std::nullopt;
  s.faults.seed = s.seed;
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
