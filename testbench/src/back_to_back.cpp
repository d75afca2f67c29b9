// BackToBack platform: elaboration, run loop, conservation accounting and the text report.
#include "vnic/tb/back_to_back.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <span>
#include <stdexcept>

#include "vnic/rtl/rtl_desc_cache.hpp"

namespace vnic::tb {

using model::regs::Stat;

namespace {
constexpr uint64_t kMemBase = 0x1'0000'0000ull;  // host DRAM above 4 GiB: 64-bit DMA addresses

uint64_t mem_size_for(const TestHostConfig& h) {
  return (uint64_t{h.tx_ring} * tx_buf_size(h) + uint64_t{h.rx_ring} * h.rx_buf +
          uint64_t{h.tx_ring + h.rx_ring} * 16) + (1u << 20);
}

// Driver hosts: rings, RX buffers (2 KiB at the default MTU) and the skb pool's buffers, which are
// taken as needed: at most one per TX descriptor and pktgen burst beyond what is in flight.
// Room for the largest rings (4096, ethtool -G may grow them) with jumbo buffers, and the skbs
// in flight. It costs only what the run touches: host memory pages are zeroed lazily.
uint64_t mem_size_for_driver(const TestHostConfig& h, const DriverSide& d) {
  (void)h;
  const uint64_t big_buf = stack::SkbPool::kLargeBuf + 64;
  const uint64_t skbs = std::min<uint64_t>(d.skb_pool, 2 * 4096 + 2 * uint64_t{d.pktgen_burst} + 1024);
  return 2 * 4096 * big_buf + 2 * 4096 * 16 + skbs * big_buf + (8u << 20);
}

// Sum of the counters `which`, read through get(Stat).
template <class Get>
int64_t sum_of(std::span<const Stat> which, Get get) {
  uint64_t n = 0;
  for (Stat st : which) n += get(st);
  return static_cast<int64_t>(n);
}

DriverHostConfig driver_config(const Scenario& s, const HostSide& side, const char* ifname) {
  const TestHostConfig& h = side.host;
  if (!h.refill_rx || h.rx_ctrl != 0x4u) {
    throw std::runtime_error(fmt::format(
        "{}: refill = false, promisc, rx-fcs and rx-all need scenario.hosts = \"direct\" (the driver's rx-mode "
        "and features are not built yet)", ifname));
  }
  DriverHostConfig c;
  c.drv.ifname = ifname;
  c.drv.rx_ring = h.rx_ring;
  c.drv.tx_ring = h.tx_ring;
  if (side.coalesce_given) {
    c.drv.coalesce = stack::EthtoolCoalesce{h.coalesce.rx_usecs, h.coalesce.rx_frames, h.coalesce.tx_usecs,
                                            h.coalesce.tx_frames};
  }
  c.drv.napi_weight = s.driver.napi_weight;
  c.drv.rx_handoff = s.driver.rx_handoff == "netif_rx" ? driver::RxHandoff::NetifRx : driver::RxHandoff::ReceiveSkb;
  c.costs = s.driver.costs;
  c.sysctl = s.driver.sysctl;
  c.skb_pool = s.driver.skb_pool;
  c.drv.bql = s.driver.bql;
  c.drv.watchdog_timeo = s.driver.watchdog;
  c.mtu = s.driver.mtu;
  c.cpus = s.driver.cpus;
  c.gen.pattern = h.pattern;
  c.gen.count = h.count;
  c.gen.burst = s.driver.pktgen_burst;
  c.gen.interval = h.interval;
  c.gen.start = h.start;
  return c;
}
}  // namespace

BackToBack::BackToBack(const Scenario& s) : s_(s) {
  hw::init_time();
  q_ = std::make_unique<hw::EventQueue>("events");
  q_->set_quantum(static_cast<uint64_t>(s_.quantum.ps()));
  const bool drv = driver_hosts();
  mem_a_ = std::make_unique<HostMemory>("mem_a", kMemBase,
                                        drv ? mem_size_for_driver(s_.a.host, s_.driver) : mem_size_for(s_.a.host));
  mem_b_ = std::make_unique<HostMemory>("mem_b", kMemBase,
                                        drv ? mem_size_for_driver(s_.b.host, s_.driver) : mem_size_for(s_.b.host));
  if (s_.ring == "rtl") s_.nic.desc_cache_factory = &rtl::make_rtl_desc_cache;
  if (s_.ring == "rtl-broken") s_.nic.desc_cache_factory = &rtl::make_broken_rtl_desc_cache;
  hw::NicConfig ca = s_.nic;
  ca.perm_mac = s_.a.mac;
  hw::NicConfig cb = s_.nic;
  cb.perm_mac = s_.b.mac;
  if (!drv) ca.reset_ns = cb.reset_ns = 0;  // the test host does not wait for RESET_DONE
  nic_a_ = std::make_unique<hw::Nic>("nic_a", *q_, ca);
  nic_b_ = std::make_unique<hw::Nic>("nic_b", *q_, cb);

  TestHostConfig ha = s_.a.host;
  ha.pattern.seed = s_.seed * 2 + 0;
  ha.pattern.src = s_.a.mac;
  ha.pattern.dst = s_.b.mac;
  TestHostConfig hb = s_.b.host;
  hb.pattern.seed = s_.seed * 2 + 1;
  hb.pattern.src = s_.b.mac;
  hb.pattern.dst = s_.a.mac;
  if (drv) {
    HostSide sa = s_.a, sb = s_.b;
    sa.host = ha;
    sb.host = hb;
    dh_a_ = std::make_unique<DriverHost>("host_a", *q_, *mem_a_, driver_config(s_, sa, "eth0"), "0000:01:00.0");
    dh_b_ = std::make_unique<DriverHost>("host_b", *q_, *mem_b_, driver_config(s_, sb, "eth0"), "0000:01:00.0");
    dh_a_->expect(hb.pattern);
    dh_b_->expect(ha.pattern);
    dh_a_->connect(*nic_a_, TestHost::kBar0Base);
    dh_b_->connect(*nic_b_, TestHost::kBar0Base);
  } else {
    host_a_ = std::make_unique<TestHost>("host_a", *q_, *mem_a_, ha);
    host_b_ = std::make_unique<TestHost>("host_b", *q_, *mem_b_, hb);
    host_a_->expect(hb.pattern);
    host_b_->expect(ha.pattern);
    host_a_->connect(*nic_a_);
    host_b_->connect(*nic_b_);
  }
  mem_a_->set_iommu(s_.a.iommu);  // after binding: it withdraws DMI through the sockets
  mem_b_->set_iommu(s_.b.iommu);

  EthLinkConfig lc;
  lc.rate = s_.link_rate;
  lc.propagation = s_.propagation;
  lc.faults = s_.faults;
  lc.seed = s_.seed;
  link_ = std::make_unique<EthLink>("link", *q_, lc);
  if (!s_.pcap.empty()) link_->capture_to(s_.pcap);
  if (!s_.trace.empty()) {
    std::string err;
    if (!trace_.open(s_.trace, s_.trace_limit, &err)) throw std::runtime_error(err);
    nic_a_->set_trace(&trace_, 0);
    nic_b_->set_trace(&trace_, uint64_t{1} << 32);  // frame ids tell the sender apart
    if (drv) {  // the hosts' packet ids, carried through their NICs by the side band
      dh_a_->set_trace(&trace_, 0);
      dh_b_->set_trace(&trace_, uint64_t{1} << 32);
    }
  }
  if (s_.journey_every > 0) {
    if (!drv) throw std::runtime_error("--journey follows packets through the driver hosts (hosts = \"driver\")");
    journey_ = std::make_unique<JourneyRecorder>(JourneyConfig{s_.journey_every, s_.journey_from},
                                                 s_.trace.empty() ? nullptr : &trace_);
    journey_->pair("nic_a", "host_a");
    journey_->pair("nic_b", "host_b");
    dh_a_->set_trace(journey_.get(), 0);
    dh_b_->set_trace(journey_.get(), uint64_t{1} << 32);
  }
  nic_a_->attach(link_.get(), 0);
  nic_b_->attach(link_.get(), 1);
}

BackToBack::~BackToBack() = default;

void BackToBack::run() {
  if (driver_hosts()) {
    dh_a_->bring_up();
    dh_b_->bring_up();
  } else {
    host_a_->bring_up();
    host_b_->bring_up();
  }
  if (s_.stop_after.ps() > 0) {
    sc_core::sc_start(hw::from_ps(static_cast<uint64_t>(s_.stop_after.ps())));
  } else {
    sc_core::sc_start();
  }
  finish_run();
}

void BackToBack::run(const std::function<void()>& tick, uint64_t slice_ps) {
  if (driver_hosts()) {
    dh_a_->bring_up();
    dh_b_->bring_up();
  } else {
    host_a_->bring_up();
    host_b_->bring_up();
  }
  const uint64_t stop = static_cast<uint64_t>(s_.stop_after.ps());
  for (;;) {
    const uint64_t now = hw::to_ps(sc_core::sc_time_stamp());
    if (stop > 0) {
      if (now >= stop) break;
      sc_core::sc_start(hw::from_ps(std::min(slice_ps, stop - now)));
    } else {
      // Ends, as a plain sc_start() does, at the last activity rather than at the slice's end.
      sc_core::sc_start(hw::from_ps(slice_ps), sc_core::SC_EXIT_ON_STARVATION);
      if (!sc_core::sc_pending_activity()) break;
    }
    tick();
  }
  finish_run();
}

void BackToBack::finish_run() {
  end_ps_ = q_->now_ps();
  if (driver_hosts()) {
    // ethtool -S reads the device's counters through MMIO: let those reads run.
    dh_a_->refresh_stats();
    dh_b_->refresh_stats();
    sc_core::sc_start(sc_core::sc_time(1, sc_core::SC_MS));
  } else {
    // Whatever the NIC completed after the last interrupt is still collected.
    host_a_->service();
    host_b_->service();
  }
  trace_.close();
}

uint64_t BackToBack::delivered(int i) {
  return driver_hosts() ? dhost(i).checker().stats().frames : host(i).stats().rx_frames;
}

bool BackToBack::rx_clean(int i) {
  if (driver_hosts()) {
    const auto& c = dhost(i).checker().stats();
    return c.bad_bytes == 0 && c.out_of_order == 0;
  }
  const auto& h = host(i).stats();
  return h.rx_bad_bytes == 0 && h.rx_out_of_order == 0;
}

int64_t BackToBack::unaccounted(int i, std::string* detail) {
  return driver_hosts() ? unaccounted_driver(i, detail) : unaccounted_direct(i, detail);
}

std::vector<BackToBack::ConservationTerm> BackToBack::conservation_terms(int i) {
  std::vector<ConservationTerm> t;
  if (driver_hosts()) {
    unaccounted_driver(i, nullptr, &t);
  } else {
    unaccounted_direct(i, nullptr, &t);
  }
  return t;
}

int64_t BackToBack::unaccounted_driver(int i, std::string* detail, std::vector<ConservationTerm>* terms) {
  DriverHost& tx = dhost(i);
  DriverHost& rx = dhost(1 - i);
  // The device's counters as the drivers read them (ethtool -S), not the registers now.
  const auto txn = [&](Stat st) { return tx.driver().hw_stat(static_cast<unsigned>(st)); };
  const auto rxn = [&](Stat st) { return rx.driver().hw_stat(static_cast<unsigned>(st)); };
  using D = driver::DrvStat;
  const auto& ls = link_->stats(static_cast<unsigned>(i));
  const int64_t sent = static_cast<int64_t>(tx.pktgen().stats().sent);
  const int64_t drv_tx_drops = static_cast<int64_t>(tx.driver().stat(D::tx_queue_0_map_errors) +
                                                    tx.driver().stat(D::tx_queue_0_flushed));
  // A frame whose data fetch was refused (tx_dma_errors) stays in the ring, never written back:
  // the driver's flush at the recovering reset counts it, so the device's count is left out here.
  const int64_t tx_drops = sum_of(model::regs::kTxDropStats, txn) - static_cast<int64_t>(txn(Stat::tx_dma_errors));
  const int64_t link_drops = static_cast<int64_t>(ls.dropped_fault + ls.dropped_link_down);
  const int64_t rx_drops = sum_of(model::regs::kRxDropStats, rxn);
  const auto& d = rx.driver();
  const int64_t drv_rx_drops = static_cast<int64_t>(d.stat(D::rx_queue_0_errors) + d.stat(D::rx_queue_0_alloc_failed) +
                                                    d.stat(D::rx_queue_0_flushed));
  const auto sn = rx.softnet_total();
  const int64_t stack_drops = static_cast<int64_t>(sn.dropped + sn.rx_nohandler);
  const int64_t delivered = static_cast<int64_t>(rx.checker().stats().frames);
  const int64_t left = sent - drv_tx_drops - tx_drops - link_drops - rx_drops - drv_rx_drops - stack_drops - delivered;
  if (detail) {
    *detail = fmt::format(
        "sent {} = delivered {} + driver tx drops {} + nic tx drops {} + link drops {} + nic rx drops {} + "
        "driver rx drops {} + softnet drops {} (+ {} unaccounted)",
        sent, delivered, drv_tx_drops, tx_drops, link_drops, rx_drops, drv_rx_drops, stack_drops, left);
  }
  if (terms) {
    *terms = {{"sent", sent},
              {"delivered", delivered},
              {"driver_tx_drops", drv_tx_drops},
              {"nic_tx_drops", tx_drops},
              {"link_drops", link_drops},
              {"nic_rx_drops", rx_drops},
              {"driver_rx_drops", drv_rx_drops},
              {"softnet_drops", stack_drops},
              {"unaccounted", left}};
  }
  return left;
}

int64_t BackToBack::unaccounted_direct(int i, std::string* detail, std::vector<ConservationTerm>* terms) {
  TestHost& tx = host(i);
  TestHost& rx = host(1 - i);
  const auto txn = [&](Stat st) { return nic(i).stat(st); };
  const auto rxn = [&](Stat st) { return nic(1 - i).stat(st); };
  const auto& ls = link_->stats(static_cast<unsigned>(i));
  const int64_t sent = static_cast<int64_t>(tx.stats().tx_posted);
  const int64_t tx_drops = sum_of(model::regs::kTxDropStats, txn);
  const int64_t link_drops = static_cast<int64_t>(ls.dropped_fault + ls.dropped_link_down);
  const int64_t rx_drops = sum_of(model::regs::kRxDropStats, rxn);
  const int64_t delivered = static_cast<int64_t>(rx.stats().rx_frames);
  const int64_t left = sent - tx_drops - link_drops - rx_drops - delivered;
  if (detail) {
    *detail = fmt::format("sent {} = delivered {} + tx drops {} + link drops {} + rx drops {} (+ {} unaccounted)",
                          sent, delivered, tx_drops, link_drops, rx_drops, left);
  }
  if (terms) {
    *terms = {{"sent", sent},           {"delivered", delivered}, {"nic_tx_drops", tx_drops},
              {"link_drops", link_drops}, {"nic_rx_drops", rx_drops}, {"unaccounted", left}};
  }
  return left;
}

std::string ethtool_stats(hw::Nic& nic) {
  std::string s = "NIC statistics:\n";
  for (unsigned i = 0; i < model::regs::kNumStats; ++i) {
    s += fmt::format("     {}: {}\n", model::regs::kStatInfo[i].name, nic.stat(static_cast<Stat>(i)));
  }
  return s;
}

std::string BackToBack::conservation_line(int i) {
  std::string detail;
  const int64_t left = unaccounted(i, &detail);
  return fmt::format("conservation {}->{}: {} [{}]\n\n", i == 0 ? 'a' : 'b', i == 0 ? 'b' : 'a', detail,
                     left == 0 ? "ok" : "MISMATCH");
}

std::string BackToBack::link_report() {
  std::string s;
  for (unsigned d = 0; d < 2; ++d) {
    const auto& ls = link_->stats(d);
    s += fmt::format("link {}: frames {} bytes {} dropped_fault {} dropped_link_down {} corrupted {} "
                     "tx_overlap_errors {}\n",
                     d == 0 ? "a->b" : "b->a", ls.frames, ls.bytes, ls.dropped_fault, ls.dropped_link_down,
                     ls.corrupted, ls.tx_overlap_errors);
  }
  return s;
}

std::vector<BackToBack::ReportView> BackToBack::host_views(int i) {
  std::vector<ReportView> v;
  std::string conservation = conservation_line(i);
  conservation.pop_back();  // the report's blank line after it is not part of the view
  if (!driver_hosts()) {
    const auto& hs = host(i).stats();
    v.push_back({"ethtool-S.txt", fmt::format("ethtool -S {}", i == 0 ? "eth_a" : "eth_b"), ethtool_stats(nic(i))});
    v.push_back({"host.txt", "",
                 fmt::format("host: tx_posted {} tx_completed {} rx_frames {} rx_ok {} rx_bad_bytes {} "
                             "rx_out_of_order {} rx_gap_frames {} rx_err_flagged {} irqs {}\n",
                             hs.tx_posted, hs.tx_completed, hs.rx_frames, hs.rx_ok, hs.rx_bad_bytes,
                             hs.rx_out_of_order, hs.rx_gap_frames, hs.rx_err_flagged, hs.irqs)});
    v.push_back({"conservation.txt", "", conservation});
    return v;
  }
  DriverHost& h = dhost(i);
  const std::string& ifname = h.driver().name;
  const auto& g = h.pktgen().stats();
  const auto& k = h.checker().stats();
  std::string dmesg;
  for (const auto& line : h.driver().log()) dmesg += line + "\n";
  v.push_back({"ethtool.txt", fmt::format("ethtool {}", ifname), h.ethtool_link()});
  v.push_back({"ethtool-c.txt", fmt::format("ethtool -c {}", ifname), h.ethtool_c()});
  v.push_back({"ethtool-g.txt", fmt::format("ethtool -g {}", ifname), h.ethtool_g()});
  v.push_back({"ethtool-S.txt", fmt::format("ethtool -S {}", ifname), h.ethtool_s()});
  v.push_back({"byte_queue_limits.txt",
               fmt::format("grep . /sys/class/net/{}/queues/tx-0/byte_queue_limits/{{limit,inflight,limit_max}}",
                           ifname),
               h.bql_sysfs()});
  v.push_back({"softnet_stat", "cat /proc/net/softnet_stat", h.softnet_stat()});
  v.push_back({"cpu.txt", "", h.cpu_usage(end_ps_)});
  v.push_back({"pktgen.txt", "",
               fmt::format("pktgen: sent {} busy {} queue_waits {} alloc_waits {}\n", g.sent, g.busy, g.queue_waits,
                           g.alloc_waits)});
  v.push_back({"rx_checker.txt", "",
               fmt::format("rx checker: frames {} ok {} bad_bytes {} out_of_order {} gap_frames {}\n", k.frames,
                           k.ok, k.bad_bytes, k.out_of_order, k.gap_frames)});
  v.push_back({"dmesg.txt", "dmesg", dmesg});
  v.push_back({"conservation.txt", "", conservation});
  return v;
}

std::string BackToBack::report_driver() {
  std::string s;
  const double sim_s = static_cast<double>(end_ps_) / 1e12;
  s += fmt::format("scenario: {}  seed: {}  link: {} Gb/s  hosts: driver  simulated time: {:.6f} s\n\n", s_.name,
                   s_.seed, s_.link_rate.gbps_f(), sim_s);
  for (int i = 0; i < 2; ++i) {
    DriverHost& h = dhost(i);
    const char c = i == 0 ? 'a' : 'b';
    s += fmt::format("== host {} ({} at {}, {} {}) ==\n", c, nic(i).name(), h.bus().bus_info(), h.driver().name,
                     h.driver().dev_addr.str());
    for (const auto& view : host_views(i)) {
      if (!view.command.empty()) s += fmt::format("[host {}]$ {}\n", c, view.command);
      s += view.text;
    }
    s += "\n";
  }
  s += link_report();
  return s;
}

std::string BackToBack::report() {
  if (driver_hosts()) return report_driver();
  std::string s;
  const double sim_s = static_cast<double>(q_->now_ps()) / 1e12;
  s += fmt::format("scenario: {}  seed: {}  link: {} Gb/s  simulated time: {:.6f} s\n\n", s_.name, s_.seed,
                   s_.link_rate.gbps_f(), sim_s);
  for (int i = 0; i < 2; ++i) {
    s += fmt::format("== host {} ({}, {}) ==\n", i == 0 ? 'a' : 'b', nic(i).name(),
                     (i == 0 ? s_.a.mac : s_.b.mac).str());
    for (const auto& view : host_views(i)) {
      if (!view.command.empty()) s += fmt::format("$ {}\n", view.command);
      s += view.text;
    }
    s += "\n";
  }
  s += link_report();
  return s;
}

}  // namespace vnic::tb
