// BackToBack platform: elaboration, run loop, conservation accounting and the text report.
#include "vnic/tb/back_to_back.hpp"

#include <fmt/format.h>

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
}  // namespace

BackToBack::BackToBack(const Scenario& s) : s_(s) {
  hw::init_time();
  q_ = std::make_unique<hw::EventQueue>("events");
  q_->set_quantum(static_cast<uint64_t>(s_.quantum.ps()));
  mem_a_ = std::make_unique<HostMemory>("mem_a", kMemBase, mem_size_for(s_.a.host));
  mem_b_ = std::make_unique<HostMemory>("mem_b", kMemBase, mem_size_for(s_.b.host));
  if (s_.ring == "rtl") s_.nic.desc_cache_factory = &rtl::make_rtl_desc_cache;
  if (s_.ring == "rtl-broken") s_.nic.desc_cache_factory = &rtl::make_broken_rtl_desc_cache;
  hw::NicConfig ca = s_.nic;
  ca.perm_mac = s_.a.mac;
  hw::NicConfig cb = s_.nic;
  cb.perm_mac = s_.b.mac;
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
  host_a_ = std::make_unique<TestHost>("host_a", *q_, *mem_a_, ha);
  host_b_ = std::make_unique<TestHost>("host_b", *q_, *mem_b_, hb);
  host_a_->expect(hb.pattern);
  host_b_->expect(ha.pattern);
  host_a_->connect(*nic_a_);
  host_b_->connect(*nic_b_);
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
  }
  nic_a_->attach(link_.get(), 0);
  nic_b_->attach(link_.get(), 1);
}

BackToBack::~BackToBack() = default;

void BackToBack::run() {
  host_a_->bring_up();
  host_b_->bring_up();
  if (s_.stop_after.ps() > 0) {
    sc_core::sc_start(hw::from_ps(static_cast<uint64_t>(s_.stop_after.ps())));
  } else {
    sc_core::sc_start();
  }
  // Whatever the NIC completed after the last interrupt is still collected.
  host_a_->service();
  host_b_->service();
  trace_.close();
}

int64_t BackToBack::unaccounted(int i, std::string* detail) {
  TestHost& tx = host(i);
  TestHost& rx = host(1 - i);
  hw::Nic& txn = nic(i);
  hw::Nic& rxn = nic(1 - i);
  const auto& ls = link_->stats(static_cast<unsigned>(i));
  const int64_t sent = static_cast<int64_t>(tx.stats().tx_posted);
  const int64_t tx_drops = static_cast<int64_t>(txn.stat(Stat::tx_desc_errors) + txn.stat(Stat::tx_dma_errors) +
                                                txn.stat(Stat::tx_dropped_link_down));
  const int64_t link_drops = static_cast<int64_t>(ls.dropped_fault + ls.dropped_link_down);
  const int64_t rx_drops = static_cast<int64_t>(
      rxn.stat(Stat::rx_crc_errors) + rxn.stat(Stat::rx_length_errors) + rxn.stat(Stat::rx_filtered) +
      rxn.stat(Stat::rx_missed_errors) + rxn.stat(Stat::rx_dma_errors) + rxn.stat(Stat::rx_dropped_disabled));
  const int64_t delivered = static_cast<int64_t>(rx.stats().rx_frames);
  const int64_t left = sent - tx_drops - link_drops - rx_drops - delivered;
  if (detail) {
    *detail = fmt::format("sent {} = delivered {} + tx drops {} + link drops {} + rx drops {} (+ {} unaccounted)",
                          sent, delivered, tx_drops, link_drops, rx_drops, left);
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

std::string BackToBack::report() {
  std::string s;
  const double sim_s = static_cast<double>(q_->now_ps()) / 1e12;
  s += fmt::format("scenario: {}  seed: {}  link: {} Gb/s  simulated time: {:.6f} s\n\n", s_.name, s_.seed,
                   s_.link_rate.gbps_f(), sim_s);
  for (int i = 0; i < 2; ++i) {
    hw::Nic& n = nic(i);
    TestHost& h = host(i);
    const auto& hs = h.stats();
    s += fmt::format("== host {} ({}, {}) ==\n", i == 0 ? 'a' : 'b', n.name(),
                     (i == 0 ? s_.a.mac : s_.b.mac).str());
    s += fmt::format("$ ethtool -S {}\n", i == 0 ? "eth_a" : "eth_b");
    s += ethtool_stats(n);
    s += fmt::format("host: tx_posted {} tx_completed {} rx_frames {} rx_ok {} rx_bad_bytes {} "
                     "rx_out_of_order {} rx_gap_frames {} rx_err_flagged {} irqs {}\n",
                     hs.tx_posted, hs.tx_completed, hs.rx_frames, hs.rx_ok, hs.rx_bad_bytes, hs.rx_out_of_order,
                     hs.rx_gap_frames, hs.rx_err_flagged, hs.irqs);
    std::string detail;
    const int64_t left = unaccounted(i, &detail);
    s += fmt::format("conservation {}->{}: {} [{}]\n\n", i == 0 ? 'a' : 'b', i == 0 ? 'b' : 'a', detail,
                     left == 0 ? "ok" : "MISMATCH");
  }
  for (unsigned d = 0; d < 2; ++d) {
    const auto& ls = link_->stats(d);
    s += fmt::format("link {}: frames {} bytes {} dropped_fault {} dropped_link_down {} corrupted {} "
                     "tx_overlap_errors {}\n",
                     d == 0 ? "a->b" : "b->a", ls.frames, ls.bytes, ls.dropped_fault, ls.dropped_link_down,
                     ls.corrupted, ls.tx_overlap_errors);
  }
  return s;
}

}  // namespace vnic::tb
